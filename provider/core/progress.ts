import { shared } from "./shared";

/** Receives progress lines meant for the person running `pulumi up`. */
export type Reporter = (message: string) => void;

let reporter: Reporter | undefined;

/** Replaces where progress lines go (tests); `undefined` restores the default. */
export function setReporter(r: Reporter | undefined): void {
  reporter = r;
}

/**
 * Tells the person running `pulumi up` about a long wait (throttling, onboarding, consistency). Inside the
 * dynamic-provider host, lines go to the engine's log, which the CLI shows; elsewhere to stderr.
 */
export function report(message: string): void {
  const line = `intune: ${message}`;
  if (reporter) return reporter(line);
  const engine = engineLog();
  if (engine) engine(line);
  else process.stderr.write(`${line}\n`);
}

let engine: Reporter | null | undefined;
let engineAddress: string | undefined;

/** In a provider process this package serves itself (the plugin): where its engine listens, for the log. */
export function logToEngine(address: string): void {
  engineAddress = address;
  engine = undefined;
}

/** The engine address the dynamic-provider host was started with (`node …/dynamic-provider <address>`). */
export function hostEngineAddress(argv: readonly string[]): string | undefined {
  return /[\\/]cmd[\\/]dynamic-provider([\\/]index(\.js)?)?$/.test(argv[1] ?? "") ? argv[2] : undefined;
}

function engineLog(): Reporter | null {
  if (engine !== undefined) return engine;
  const address = engineAddress ?? hostEngineAddress(process.argv);
  if (!address) return (engine = null);
  const grpc = shared<typeof import("@grpc/grpc-js")>("@grpc/grpc-js", () => require("@grpc/grpc-js"));
  const { EngineClient } = require("@pulumi/pulumi/proto/engine_grpc_pb");
  const proto = require("@pulumi/pulumi/proto/engine_pb");
  const client = new EngineClient(address, grpc.credentials.createInsecure());
  engine = (message) => {
    const request = new proto.LogRequest();
    request.setSeverity(proto.LogSeverity.INFO);
    request.setMessage(message);
    request.setUrn("");
    request.setEphemeral(false);
    client.log(request, (error: Error | null) => {
      if (error) process.stderr.write(`${message}\n`);
    });
  };
  return engine;
}
