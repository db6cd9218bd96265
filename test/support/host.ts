/**
 * Plays the Pulumi engine's part: spawns `@pulumi/pulumi`'s dynamic-provider host, the process `pulumi up`
 * runs for a dynamic resource, and drives it over gRPC with the engine's sequence of calls. A fake engine
 * service receives the host's log lines, as the CLI would.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import * as pulumi from "@pulumi/pulumi";
import {
  REMOTE_ASSISTANCE_PARTNER_TYPE,
  RemoteAssistancePartner,
  type RemoteAssistancePartnerArgs,
} from "../../provider";

const provrpc = require("@pulumi/pulumi/proto/provider_grpc_pb");
const provproto = require("@pulumi/pulumi/proto/provider_pb");
const engrpc = require("@pulumi/pulumi/proto/engine_grpc_pb");
const statusproto = require("@pulumi/pulumi/proto/status_pb");

export const REPO_ROOT = resolve(__dirname, "..", "..");

// A host outlives a test process that dies, and then spins on its closed stderr: never leave one behind.
const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});
export type Props = Record<string, unknown>;

/** A stand-in for the engine's gRPC service: records what the host logs. */
export class FakeEngine {
  readonly logs: string[] = [];
  private readonly server = new grpc.Server();
  address = "";

  async start(): Promise<void> {
    this.server.addService(engrpc.EngineService, {
      log: (call: { request: { getMessage(): string } }, callback: (e: null, r: Empty) => void) => {
        this.logs.push(call.request.getMessage());
        callback(null, new Empty());
      },
    });
    const port = await new Promise<number>((ok, fail) =>
      this.server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? fail(e) : ok(p),
      ),
    );
    this.address = `127.0.0.1:${port}`;
  }

  stop(): void {
    this.server.forceShutdown();
  }
}

/** A failed provider call as the engine sees it; `initFailed` when the host sent ErrorResourceInitFailed. */
export class ProviderCallError extends Error {
  constructor(
    message: string,
    readonly initFailed?: { id: string; properties: Props; reasons: string[] },
  ) {
    super(message);
  }
}

export interface HostOptions {
  /** Working directory of the host: the Pulumi program's directory. Default: the repository root. */
  cwd?: string;
  env?: Record<string, string>;
  engine?: FakeEngine;
}

/** One dynamic-provider host process and a gRPC client to it. */
export class ProviderHost {
  stderr = "";
  private constructor(
    private readonly child: ChildProcess,
    private readonly client: Record<
      string,
      (req: unknown, cb: (e: grpc.ServiceError | null, r: never) => void) => void
    >,
  ) {}

  static async start(options: HostOptions = {}): Promise<ProviderHost> {
    const entry = require.resolve("@pulumi/pulumi/cmd/dynamic-provider", {
      paths: [options.cwd ?? REPO_ROOT],
    });
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env))
      if (v !== undefined && !/^(AZURE_|INTUNE_|IDENTITY_)/.test(k)) env[k] = v;
    const child = spawn(process.execPath, [entry, options.engine?.address ?? "127.0.0.1:1"], {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    running.add(child);
    child.once("exit", () => running.delete(child));
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const port = await new Promise<string>((ok, fail) => {
      let out = "";
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const line = out.split("\n")[0];
        if (out.includes("\n")) ok(line.trim());
      });
      child.once("exit", (code) => fail(new Error(`the host exited with ${code}: ${stderr}`)));
    });
    const client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const host = new ProviderHost(child, client);
    child.stderr!.on("data", (d: Buffer) => (host.stderr += d.toString()));
    host.stderr = stderr;
    return host;
  }

  /** The host process id (for memory readings). */
  get pid(): number {
    return this.child.pid!;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.kill();
    await exited;
  }

  private call<T>(method: string, request: unknown): Promise<T> {
    return new Promise((ok, fail) =>
      this.client[method](request, (error, response) => {
        if (!error) return ok(response as T);
        fail(new ProviderCallError(error.details || error.message, initFailure(error)));
      }),
    );
  }

  async configure(config: Record<string, string>): Promise<void> {
    const req = new provproto.ConfigureRequest();
    req.setArgs(Struct.fromJavaScript(config as never));
    await this.call("configure", req);
  }

  async check(
    urn: string,
    olds: Props,
    news: Props,
  ): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }> {
    const req = new provproto.CheckRequest();
    req.setUrn(urn);
    req.setOlds(struct(olds));
    req.setNews(struct(news));
    const res = await this.call<{
      getInputs(): Struct;
      getFailuresList(): { getProperty(): string; getReason(): string }[];
    }>("check", req);
    return {
      inputs: res.getInputs().toJavaScript() as Props,
      failures: res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
    };
  }

  async diff(
    id: string,
    urn: string,
    olds: Props,
    news: Props,
  ): Promise<{ changes: "none" | "some" | "unknown"; replaces: string[]; deleteBeforeReplace: boolean }> {
    const req = new provproto.DiffRequest();
    req.setId(id);
    req.setUrn(urn);
    req.setOlds(struct(olds));
    req.setNews(struct(news));
    const res = await this.call<{
      getChanges(): number;
      getReplacesList(): string[];
      getDeletebeforereplace(): boolean;
    }>("diff", req);
    const changes = { 0: "unknown", 1: "none", 2: "some" }[res.getChanges()] as "none" | "some" | "unknown";
    return { changes, replaces: res.getReplacesList(), deleteBeforeReplace: res.getDeletebeforereplace() };
  }

  async create(urn: string, properties: Props): Promise<{ id: string; properties: Props }> {
    const req = new provproto.CreateRequest();
    req.setUrn(urn);
    req.setProperties(struct(properties));
    const res = await this.call<{ getId(): string; getProperties(): Struct }>("create", req);
    return { id: res.getId(), properties: res.getProperties().toJavaScript() as Props };
  }

  async read(
    id: string,
    urn: string,
    properties: Props,
    inputs: Props,
  ): Promise<{ id: string; properties: Props }> {
    const req = new provproto.ReadRequest();
    req.setId(id);
    req.setUrn(urn);
    req.setProperties(struct(properties));
    req.setInputs(struct(inputs));
    const res = await this.call<{ getId(): string; getProperties(): Struct | undefined }>("read", req);
    return { id: res.getId(), properties: (res.getProperties()?.toJavaScript() ?? {}) as Props };
  }

  async update(id: string, urn: string, olds: Props, news: Props): Promise<Props> {
    const req = new provproto.UpdateRequest();
    req.setId(id);
    req.setUrn(urn);
    req.setOlds(struct(olds));
    req.setNews(struct(news));
    const res = await this.call<{ getProperties(): Struct }>("update", req);
    return res.getProperties().toJavaScript() as Props;
  }

  async delete(id: string, urn: string, properties: Props): Promise<void> {
    const req = new provproto.DeleteRequest();
    req.setId(id);
    req.setUrn(urn);
    req.setProperties(struct(properties));
    await this.call("delete", req);
  }
}

function struct(props: Props): Struct {
  return Struct.fromJavaScript(JSON.parse(JSON.stringify(props)));
}

function initFailure(error: grpc.ServiceError): ProviderCallError["initFailed"] {
  const bin = error.metadata?.get("grpc-status-details-bin")?.[0];
  if (!bin) return undefined;
  const status = statusproto.Status.deserializeBinary(new Uint8Array(bin as Buffer));
  const any = status.getDetailsList()[0];
  const detail = provproto.ErrorResourceInitFailed.deserializeBinary(any.getValue_asU8());
  return {
    id: detail.getId(),
    properties: detail.getProperties().toJavaScript(),
    reasons: detail.getReasonsList(),
  };
}

/** Starts one dynamic-provider host for a `describe` block, on `env()` when it starts, and stops it after. */
export function useHost(env: () => Record<string, string>): () => ProviderHost {
  let host: ProviderHost | undefined;
  before(async () => (host = await ProviderHost.start({ env: env() })));
  after(() => host?.stop());
  return () => {
    if (!host) throw new Error("the host is not started");
    return host;
  };
}

/** The URN the engine gives a RemoteAssistancePartner named `name`. */
export function urnOf(name: string): string {
  return `urn:pulumi:dev::intune::${REMOTE_ASSISTANCE_PARTNER_TYPE}::${name}`;
}

/**
 * The inputs the real SDK registers for `new RemoteAssistancePartner(name, args)`, `__provider` included: the
 * resource is constructed under `pulumi.runtime.setMocks`, which records what `pulumi up` would send.
 */
export async function programInputs(
  name: string,
  args: RemoteAssistancePartnerArgs,
): Promise<{ type: string; inputs: Props }> {
  const registered = new Map<string, { type: string; inputs: Props }>();
  await pulumi.runtime.setMocks(
    {
      newResource: (a) => {
        registered.set(a.name, { type: a.type, inputs: a.inputs });
        return { id: `${a.name}-id`, state: a.inputs };
      },
      call: () => ({}),
    },
    "intune",
    "dev",
  );
  const resource = new RemoteAssistancePartner(name, args);
  await new Promise((ok) => resource.urn.apply(ok));
  const result = registered.get(name);
  if (!result) throw new Error(`the SDK registered no resource ${name}`);
  return result;
}

/** One resource in the simulated state file. */
export interface StateEntry {
  urn: string;
  id: string;
  inputs: Props;
  outputs: Props;
}

/**
 * The engine's step sequences for one stack of RemoteAssistancePartners on one host: `up` (Check → Diff →
 * Create/Update/replace), `refresh` (Read) and `destroy` (Delete), with the state kept in memory.
 */
export class Stack {
  readonly state = new Map<string, StateEntry>();

  constructor(public host: ProviderHost) {}

  /** `pulumi up` for the declared resources (name → program inputs with `__provider`); deletes the undeclared. */
  async up(declared: Record<string, Props>): Promise<void> {
    for (const [name, news] of Object.entries(declared)) await this.upOne(name, news);
    for (const [name, entry] of [...this.state]) {
      if (!(name in declared)) {
        await this.host.delete(entry.id, entry.urn, entry.outputs);
        this.state.delete(name);
      }
    }
  }

  async upOne(name: string, programInputs: Props): Promise<"create" | "update" | "replace" | "same"> {
    const urn = urnOf(name);
    const old = this.state.get(name);
    const { inputs, failures } = await this.host.check(urn, old?.inputs ?? {}, programInputs);
    if (failures.length > 0)
      throw new ProviderCallError(
        `check failed: ${failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`,
      );
    if (!old) {
      await this.createEntry(name, urn, inputs);
      return "create";
    }
    const diff = await this.host.diff(old.id, urn, old.outputs, inputs);
    if (diff.replaces.length > 0) {
      if (diff.deleteBeforeReplace) {
        await this.host.delete(old.id, urn, old.outputs);
        this.state.delete(name);
        await this.createEntry(name, urn, inputs);
      } else {
        await this.createEntry(name, urn, inputs);
        await this.host.delete(old.id, urn, old.outputs);
      }
      return "replace";
    }
    if (diff.changes === "none") return "same";
    const outputs = await this.host.update(old.id, urn, old.outputs, inputs);
    this.state.set(name, { ...old, inputs, outputs });
    return "update";
  }

  private async createEntry(name: string, urn: string, inputs: Props): Promise<void> {
    try {
      const { id, properties } = await this.host.create(urn, inputs);
      this.state.set(name, { urn, id, inputs, outputs: properties });
    } catch (e) {
      // ErrorResourceInitFailed: the engine keeps the resource in state, then reports the failure.
      if (e instanceof ProviderCallError && e.initFailed) {
        this.state.set(name, { urn, id: e.initFailed.id, inputs, outputs: e.initFailed.properties });
      }
      throw e;
    }
  }

  /**
   * `pulumi preview`: Check and Diff only, no change made; the names of the resources that would change.
   * With `--expect-no-changes`, a non-empty answer fails the command.
   */
  async preview(declared: Record<string, Props>): Promise<string[]> {
    const changing: string[] = [];
    for (const [name, news] of Object.entries(declared)) {
      const old = this.state.get(name);
      const { inputs } = await this.host.check(urnOf(name), old?.inputs ?? {}, news);
      if (!old || (await this.host.diff(old.id, old.urn, old.outputs, inputs)).changes !== "none")
        changing.push(name);
    }
    return [...changing, ...[...this.state.keys()].filter((name) => !(name in declared))];
  }

  /** `pulumi refresh`: Read every resource; an empty id drops it from state. */
  async refresh(): Promise<void> {
    for (const [name, entry] of [...this.state]) {
      const { id, properties } = await this.host.read(entry.id, entry.urn, entry.outputs, entry.inputs);
      if (id === "") this.state.delete(name);
      else this.state.set(name, { ...entry, id, outputs: properties });
    }
  }

  /** `pulumi destroy`: Delete every resource. */
  async destroy(): Promise<void> {
    for (const [name, entry] of [...this.state]) {
      await this.host.delete(entry.id, entry.urn, entry.outputs);
      this.state.delete(name);
    }
  }
}
