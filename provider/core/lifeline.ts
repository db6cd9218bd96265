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
 * `pulumi up` or `refresh` reads what it did. Every Graph request passes {@link engineGate} first: it checks the
 * parent at once, and waits while a closed connection to the engine is being checked.
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

/** A watch on the engine: {@link EngineWatch.gate} before each Graph request, {@link EngineWatch.stop} to end it. */
export interface EngineWatch {
  /**
   * Resolves when a request may start: at once while the engine is there, after the check when the connection to
   * it just closed; never once it is gone. Checks the parent process first, synchronously.
   */
  gate(): Promise<void>;
  stop(): void;
}

/** Watches for the loss of the engine. Its timer and connection do not keep the process alive. */
export function watchEngine(options: WatchOptions): EngineWatch {
  let stopped = false;
  let gone = false;
  const never = new Promise<void>(() => undefined);
  const lost = (reason: string | undefined) => {
    if (!reason || stopped) return;
    gone = true;
    stop();
    options.onLost(reason);
  };
  const startPpid = process.ppid;
  const checkParent = () => lost(engineLostBecause({ kind: "parent", startPpid, ppid: process.ppid }));
  const timer = setInterval(checkParent, options.parentPollInMs ?? 500);
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
  // Set while a closed connection is being checked: requests wait for the verdict.
  let checking: Promise<void> | undefined;
  const connect = () => {
    if (stopped || !options.engineAddress) return;
    const current = http2.connect(`http://${options.engineAddress}`);
    session = current;
    current.unref();
    current.once("connect", () => (seenAlive = true));
    // A new connection answers whether the engine is there: refused, it is gone; connected, watch it again.
    current.once("close", () => {
      if (stopped || !seenAlive) return; // an address that never answered is not watched
      checking = new Promise<void>((resolve) => {
        const probe = http2.connect(`http://${options.engineAddress}`);
        probe.unref();
        probe.once("connect", () => {
          probe.close();
          checking = undefined;
          resolve();
          setTimeout(connect, 1_000).unref();
        });
        probe.once("error", (e: NodeJS.ErrnoException) => {
          const reconnect = e.code === "ECONNREFUSED" ? "refused" : "failed";
          lost(engineLostBecause({ kind: "channel", reconnect, seenAlive }));
          if (stopped) return;
          checking = undefined;
          resolve();
          setTimeout(connect, 1_000).unref();
        });
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
  return {
    gate: async () => {
      checkParent();
      if (checking) await checking;
      if (gone) await never;
    },
    stop,
  };
}

/**
 * In a provider process: exits when the engine is gone. The reason goes to stderr once, if it still can.
 * Does nothing outside a provider process (`engineAddress` undefined).
 */
export function exitWithEngine(engineAddress: string | undefined): void {
  if (!engineAddress || watch) return;
  watch = watchEngine({
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

let watch: EngineWatch | undefined;

/**
 * What a Graph request awaits before it is sent: in a provider process whose engine is watched, that the engine
 * is there (see {@link EngineWatch.gate}); elsewhere nothing.
 */
export function engineGate(): Promise<void> | undefined {
  if (cancelled) return Promise.reject(cancelled);
  return watch?.gate();
}

let cancelled: Error | undefined;

/**
 * The engine cancelled the deployment (the plugin's `Cancel`, sent on a second Ctrl-C): from now on no Graph
 * request is sent, and each operation ends with this error, recording what the calls made so far did.
 */
export function cancelRequests(): void {
  cancelled ??= new Error(
    "the Pulumi engine cancelled the operation: no further Graph request was sent. Run pulumi refresh, then pulumi up, to finish it",
  );
}
