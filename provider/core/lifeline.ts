/**
 * A provider process lives only as long as its engine. The engine starts a plugin in a process group of its own,
 * so a CLI killed with SIGKILL (a CI runner cancelled, the OOM killer) leaves the plugin behind: it would go on
 * with the operation it was carrying out, writing to Graph what no state records, and `@pulumi/pulumi`'s
 * dynamic-provider host then loops on its closed stderr. Three signs tell that the engine is gone:
 *
 * - the parent process is gone: the process was re-parented;
 * - the connection to the engine's gRPC address closed, and a new one is refused;
 * - a write to stdout or stderr failed (EPIPE: the engine read those pipes).
 *
 * On the first of them the process exits at once with {@link ENGINE_LOST_EXIT_CODE}: it starts no further Graph
 * request, answers nothing more, and retries nothing. A request already on the wire is left to Graph; the next
 * `pulumi up` or `refresh` reads what it did.
 */
import { writeSync } from "node:fs";
import * as http2 from "node:http2";

/** The exit code of a provider process that lost its engine (EX_UNAVAILABLE). */
export const ENGINE_LOST_EXIT_CODE = 69;

/** What a provider process sees of its engine. */
export type EngineSign =
  | { kind: "parent"; startPpid: number; ppid: number }
  | { kind: "channel"; reconnect: "connected" | "refused" | "failed"; seenAlive: boolean }
  | { kind: "output"; stream: "stdout" | "stderr"; code?: string };

/**
 * Why a sign means the engine is gone, or `undefined` when it does not. Pure. A channel that never connected
 * proves nothing (a harness may pass an address that serves nothing); the parent and the pipes suffice then.
 */
export function engineLostBecause(sign: EngineSign): string | undefined {
  switch (sign.kind) {
    case "parent":
      return sign.ppid !== sign.startPpid && sign.startPpid > 1
        ? `its parent process ${sign.startPpid} is gone (re-parented to ${sign.ppid})`
        : undefined;
    case "channel":
      return sign.seenAlive && sign.reconnect === "refused"
        ? "the engine's gRPC address closed and refuses connections"
        : undefined;
    case "output":
      return `writing to its ${sign.stream} failed${sign.code ? ` (${sign.code})` : ""}`;
  }
}

export interface WatchOptions {
  /** The engine's gRPC address (`127.0.0.1:port`), the plugin's first argument; none: parent and pipes only. */
  engineAddress?: string;
  /** Called once, with the reason, when the engine is gone. */
  onLost(reason: string): void;
  /** How often the parent process is checked. Default 500 ms. */
  parentPollInMs?: number;
}

/**
 * Watches for the loss of the engine; returns a function that stops watching. Its timer and connection do not
 * keep the process alive.
 */
export function watchEngine(options: WatchOptions): () => void {
  let stopped = false;
  const lost = (reason: string | undefined) => {
    if (!reason || stopped) return;
    stop();
    options.onLost(reason);
  };
  const startPpid = process.ppid;
  const timer = setInterval(
    () => lost(engineLostBecause({ kind: "parent", startPpid, ppid: process.ppid })),
    options.parentPollInMs ?? 500,
  );
  timer.unref();
  // An error event on a pipe also keeps it from becoming an uncaughtException, which the SDK's host would log
  // to that same pipe, raising another: the loop that spins a core.
  const onOutput = (stream: "stdout" | "stderr") => (e: NodeJS.ErrnoException) =>
    lost(engineLostBecause({ kind: "output", stream, code: e.code }));
  const outputs = [
    [process.stdout, onOutput("stdout")],
    [process.stderr, onOutput("stderr")],
  ] as const;
  for (const [stream, listener] of outputs) stream.on("error", listener);
  let session: http2.ClientHttp2Session | undefined;
  let seenAlive = false;
  const connect = () => {
    if (stopped || !options.engineAddress) return;
    const current = http2.connect(`http://${options.engineAddress}`);
    session = current;
    current.unref();
    current.once("connect", () => (seenAlive = true));
    // A new connection answers whether the engine is there: refused, it is gone; connected, watch it again.
    current.once("close", () => {
      if (stopped) return;
      const probe = http2.connect(`http://${options.engineAddress}`);
      probe.unref();
      probe.once("connect", () => {
        probe.close();
        setTimeout(connect, 1_000).unref();
      });
      probe.once("error", (e: NodeJS.ErrnoException) => {
        const reconnect = e.code === "ECONNREFUSED" ? "refused" : "failed";
        lost(engineLostBecause({ kind: "channel", reconnect, seenAlive }));
        // An address that never answered is not watched again: the parent and the pipes still are.
        if (!stopped && seenAlive) setTimeout(connect, 1_000).unref();
      });
    });
    current.on("error", () => undefined); // its close follows
  };
  connect();
  function stop() {
    stopped = true;
    clearInterval(timer);
    session?.destroy();
    for (const [stream, listener] of outputs) stream.off("error", listener);
    // Later pipe errors stay handled: nothing may write them to a closed pipe again.
    for (const [stream] of outputs) stream.on("error", () => undefined);
  }
  return stop;
}

/**
 * In a provider process: exits when the engine is gone. The reason goes to stderr once, if it still can.
 * Does nothing outside a provider process (`engineAddress` undefined).
 */
export function exitWithEngine(engineAddress: string | undefined): void {
  if (!engineAddress || watching) return;
  watching = true;
  watchEngine({
    engineAddress,
    onLost: (reason) => {
      try {
        writeSync(2, `intune: the Pulumi engine is gone (${reason}); this provider process exits\n`);
      } catch {
        // the pipe is closed: nobody reads it
      }
      process.exit(ENGINE_LOST_EXIT_CODE);
    },
  });
}

let watching = false;
