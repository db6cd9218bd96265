/**
 * Plays the Pulumi engine's part: spawns `@pulumi/pulumi`'s dynamic-provider host, the process `pulumi up`
 * runs for a dynamic resource, and drives it over gRPC with the engine's sequence of calls. A fake engine
 * service receives the host's log lines, as the CLI would.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import type * as grpcTypes from "@grpc/grpc-js";
import type { Struct as StructType } from "google-protobuf/google/protobuf/struct_pb";
import * as pulumi from "@pulumi/pulumi";
import {
  REMOTE_ASSISTANCE_PARTNER_TYPE,
  RemoteAssistancePartner,
  RemoteAssistanceSettings,
  type RemoteAssistancePartnerArgs,
  type RemoteAssistanceSettingsArgs,
} from "../provider";

// gRPC and protobuf as @pulumi/pulumi's own stubs were generated against: the program's copies, not a second one.
const pulumiDir = dirname(require.resolve("@pulumi/pulumi/package.json"));
const fromPulumi = (id: string) => require(require.resolve(id, { paths: [pulumiDir] }));
const grpc = fromPulumi("@grpc/grpc-js") as typeof grpcTypes;
const { Struct } = fromPulumi("google-protobuf/google/protobuf/struct_pb") as { Struct: typeof StructType };
const { Empty } = fromPulumi("google-protobuf/google/protobuf/empty_pb");
const provrpc = require("@pulumi/pulumi/proto/provider_grpc_pb");
const provproto = require("@pulumi/pulumi/proto/provider_pb");
const engrpc = require("@pulumi/pulumi/proto/engine_grpc_pb");
const statusproto = require("@pulumi/pulumi/proto/status_pb");

/** The plugin's entry in the package (its npm bin `pulumi-resource-intune`). */
export const PLUGIN_BIN = "bin/provider/plugin/main.js";

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
      log: (call: { request: { getMessage(): string } }, callback: (e: null, r: unknown) => void) => {
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

  /** The log lines received so far once `count` lines have arrived: the host sends them without waiting. */
  async settled(count: number, timeoutInMs = 5_000): Promise<string[]> {
    const deadline = Date.now() + timeoutInMs;
    while (this.logs.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return [...this.logs];
  }

  stop(): void {
    this.server.forceShutdown();
  }
}

/** A stack config value set with `pulumi config set --secret`. */
export interface Secret {
  secret: string;
}

/** Marks a config value secret, as `pulumi config set --secret` does. */
export const secret = (value: string): Secret => ({ secret: value });

// How the engine marks a secret value on the wire (`specialSigKey`, `specialSecretSig` in @pulumi/pulumi).
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

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
  /**
   * Working directory of the host: the Pulumi program's directory, where `pulumi-intune-remote-assistance` is
   * installed. Default: this process's working directory.
   */
  cwd?: string;
  env?: Record<string, string>;
  engine?: FakeEngine;
  /**
   * Start the `intune` resource plugin (`pulumi-resource-intune`, the package's own, installed where `cwd` is)
   * instead of the dynamic-provider host; the calls are the same protocol.
   */
  plugin?: boolean;
}

/** One dynamic-provider host process and a gRPC client to it. */
export class ProviderHost {
  stderr = "";
  /** The host's exit code once it exits (`null` when a signal ended it). */
  readonly exited: Promise<number | null>;
  private constructor(
    private readonly child: ChildProcess,
    private readonly client: Record<
      string,
      (req: unknown, cb: (e: grpcTypes.ServiceError | null, r: never) => void) => void
    >,
    /** Whether this is the `intune` plugin rather than the dynamic-provider host. */
    readonly plugin = false,
  ) {
    this.exited = new Promise((resolve) =>
      child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", (code) => resolve(code)),
    );
  }

  static async start(options: HostOptions = {}): Promise<ProviderHost> {
    const paths = [options.cwd ?? process.cwd()];
    const entry = options.plugin
      ? join(dirname(require.resolve("pulumi-intune-remote-assistance/package.json", { paths })), PLUGIN_BIN)
      : require.resolve("@pulumi/pulumi/cmd/dynamic-provider", { paths });
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env))
      if (v !== undefined && !/^(AZURE_|INTUNE_|IDENTITY_)/.test(k)) env[k] = v;
    const child = spawn(process.execPath, [entry, options.engine?.address ?? "127.0.0.1:1"], {
      cwd: options.cwd ?? process.cwd(),
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
    const host = new ProviderHost(child, client, options.plugin ?? false);
    child.stderr!.on("data", (d: Buffer) => (host.stderr += d.toString()));
    host.stderr = stderr;
    return host;
  }

  /** The host process id (for memory readings). */
  get pid(): number {
    return this.child.pid!;
  }

  /** Closes the pipes the host writes its output to, as an engine that dies does (with {@link FakeEngine.stop}). */
  closePipes(): void {
    this.child.stdout!.destroy();
    this.child.stderr!.destroy();
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

  /**
   * Configure, as the engine sends it: the whole stack config, keys namespaced, values strings, secret values
   * (made with {@link secret}) wrapped as secrets for the host to unwrap.
   */
  async configure(config: Record<string, string | Secret>): Promise<void> {
    const args = Object.fromEntries(
      Object.entries(config).map(([k, v]) => [
        k,
        typeof v === "string" ? v : { [SECRET_SIG_KEY]: SECRET_SIG, value: v.secret },
      ]),
    );
    const req = new provproto.ConfigureRequest();
    if (this.plugin) {
      // A plugin's provider inputs are its own keys (`tenantId`); the namespaced ones come as variables.
      const own = Object.entries(args).filter(([k]) => k.startsWith("intune:"));
      req.setArgs(Struct.fromJavaScript(Object.fromEntries(own.map(([k, v]) => [k.slice(7), v])) as never));
      for (const [k, v] of Object.entries(config))
        req.getVariablesMap().set(k, typeof v === "string" ? v : v.secret);
      req.setAcceptsecrets(true);
    } else req.setArgs(Struct.fromJavaScript(args as never));
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
      getInputs(): StructType;
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
  ): Promise<{
    changes: "none" | "some" | "unknown";
    replaces: string[];
    deleteBeforeReplace: boolean;
    /** The plugin's detailed diff: property → ADD, DELETE, UPDATE or their _REPLACE forms. */
    detailedDiff?: Record<string, string>;
  }> {
    const req = new provproto.DiffRequest();
    req.setId(id);
    req.setUrn(urn);
    req.setOlds(struct(olds));
    req.setNews(struct(news));
    const res = await this.call<{
      getChanges(): number;
      getReplacesList(): string[];
      getDeletebeforereplace(): boolean;
      getHasdetaileddiff(): boolean;
      getDetaileddiffMap(): { forEach(f: (diff: { getKind(): number }, key: string) => void): void };
    }>("diff", req);
    const changes = { 0: "unknown", 1: "none", 2: "some" }[res.getChanges()] as "none" | "some" | "unknown";
    const kinds = Object.fromEntries(Object.entries(provproto.PropertyDiff.Kind).map(([k, v]) => [v, k]));
    let detailedDiff: Record<string, string> | undefined;
    if (res.getHasdetaileddiff()) {
      detailedDiff = {};
      res.getDetaileddiffMap().forEach((diff, key) => (detailedDiff![key] = kinds[diff.getKind()]));
    }
    return {
      changes,
      replaces: res.getReplacesList(),
      deleteBeforeReplace: res.getDeletebeforereplace(),
      detailedDiff,
    };
  }

  async create(
    urn: string,
    properties: Props,
    flags: { preview?: boolean } = {},
  ): Promise<{ id: string; properties: Props }> {
    const req = new provproto.CreateRequest();
    req.setUrn(urn);
    req.setProperties(struct(properties));
    req.setPreview(flags.preview ?? false);
    const res = await this.call<{ getId(): string; getProperties(): StructType }>("create", req);
    return { id: res.getId(), properties: res.getProperties().toJavaScript() as Props };
  }

  async read(
    id: string,
    urn: string,
    properties: Props,
    inputs: Props,
  ): Promise<{ id: string; properties: Props; inputs?: Props }> {
    const req = new provproto.ReadRequest();
    req.setId(id);
    req.setUrn(urn);
    req.setProperties(struct(properties));
    req.setInputs(struct(inputs));
    const res = await this.call<{
      getId(): string;
      getProperties(): StructType | undefined;
      getInputs(): StructType | undefined;
    }>("read", req);
    return {
      id: res.getId(),
      properties: (res.getProperties()?.toJavaScript() ?? {}) as Props,
      inputs: res.getInputs()?.toJavaScript() as Props | undefined,
    };
  }

  async update(
    id: string,
    urn: string,
    olds: Props,
    news: Props,
    flags: { preview?: boolean } = {},
  ): Promise<Props> {
    const req = new provproto.UpdateRequest();
    req.setPreview(flags.preview ?? false);
    req.setId(id);
    req.setUrn(urn);
    req.setOlds(struct(olds));
    req.setNews(struct(news));
    const res = await this.call<{ getProperties(): StructType }>("update", req);
    return res.getProperties().toJavaScript() as Props;
  }

  /** The plugin's schema (GetSchema), parsed. */
  async getSchema(): Promise<Props> {
    const res = await this.call<{ getSchema(): string }>("getSchema", new provproto.GetSchemaRequest());
    return JSON.parse(res.getSchema()) as Props;
  }

  /** CheckConfig of a provider's inputs (its own keys, `tenantId`): the failures by property. */
  async checkConfig(news: Props): Promise<{ property: string; reason: string }[]> {
    const req = new provproto.CheckRequest();
    req.setUrn("urn:pulumi:dev::intune::pulumi:providers:intune::default");
    req.setOlds(struct({}));
    req.setNews(struct(news));
    const res = await this.call<{ getFailuresList(): { getProperty(): string; getReason(): string }[] }>(
      "checkConfig",
      req,
    );
    return res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() }));
  }

  /** DiffConfig of a provider's old and new inputs. */
  async diffConfig(
    olds: Props,
    news: Props,
  ): Promise<{ changes: string; replaces: string[]; diffs: string[] }> {
    const req = new provproto.DiffRequest();
    req.setUrn("urn:pulumi:dev::intune::pulumi:providers:intune::default");
    req.setOlds(struct(olds));
    req.setOldInputs(struct(olds));
    req.setNews(struct(news));
    const res = await this.call<{
      getChanges(): number;
      getReplacesList(): string[];
      getDiffsList(): string[];
    }>("diffConfig", req);
    const changes = { 0: "unknown", 1: "none", 2: "some" }[res.getChanges()]!;
    return { changes, replaces: res.getReplacesList(), diffs: res.getDiffsList() };
  }

  /** Invoke of a function by its token. */
  async invoke(tok: string, args: Props): Promise<Props> {
    const req = new provproto.InvokeRequest();
    req.setTok(tok);
    req.setArgs(struct(args));
    const res = await this.call<{ getReturn(): StructType }>("invoke", req);
    return res.getReturn().toJavaScript() as Props;
  }

  /** Cancel, as the engine sends it on a second Ctrl-C. */
  async cancel(): Promise<void> {
    await this.call("cancel", new Empty());
  }

  async delete(id: string, urn: string, properties: Props): Promise<void> {
    const req = new provproto.DeleteRequest();
    req.setId(id);
    req.setUrn(urn);
    req.setProperties(struct(properties));
    await this.call("delete", req);
  }
}

function struct(props: Props): StructType {
  return Struct.fromJavaScript(JSON.parse(JSON.stringify(props)));
}

function initFailure(error: grpcTypes.ServiceError): ProviderCallError["initFailed"] {
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

/** The URN the engine gives a resource named `name` of type `type` (default: a RemoteAssistancePartner). */
export function urnOf(name: string, type: string = REMOTE_ASSISTANCE_PARTNER_TYPE): string {
  return `urn:pulumi:dev::intune::${type}::${name}`;
}

/**
 * The inputs the real SDK registers for `new RemoteAssistancePartner(name, args)`, `__provider` included: the
 * resource is constructed under `pulumi.runtime.setMocks`, which records what `pulumi up` would send.
 */
export function programInputs(
  name: string,
  args: RemoteAssistancePartnerArgs,
): Promise<{ type: string; inputs: Props }> {
  return registered(name, () => new RemoteAssistancePartner(name, args));
}

/** The inputs the real SDK registers for `new RemoteAssistanceSettings(name, args)`, `__provider` included. */
export function settingsInputs(
  name: string,
  args: RemoteAssistanceSettingsArgs,
): Promise<{ type: string; inputs: Props }> {
  return registered(name, () => new RemoteAssistanceSettings(name, args));
}

async function registered(
  name: string,
  construct: () => pulumi.CustomResource,
): Promise<{ type: string; inputs: Props }> {
  const seen = new Map<string, { type: string; inputs: Props }>();
  await pulumi.runtime.setMocks(
    {
      newResource: (a) => {
        seen.set(a.name, { type: a.type, inputs: a.inputs });
        return { id: `${a.name}-id`, state: a.inputs };
      },
      call: () => ({}),
    },
    "intune",
    "dev",
  );
  // The SDK reports a resource it cannot register (its provider cannot be serialized, say) as an unhandled
  // rejection, and its URN never resolves: that rejection is this registration's failure.
  let fail: (e: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  process.on("unhandledRejection", fail);
  try {
    const resource = construct();
    await Promise.race([new Promise((ok) => resource.urn.apply(ok)), failed]);
  } catch (e) {
    throw new Error(`the SDK could not register ${name}: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  } finally {
    process.off("unhandledRejection", fail);
  }
  const result = seen.get(name);
  if (!result) throw new Error(`the SDK registered no resource ${name}`);
  return result;
}

/** The resource options the engine acts on. */
export interface ResourceOptions {
  /** Refuse Delete and replacement. */
  protect?: boolean;
  /** Drop the resource from state without calling Delete. */
  retainOnDelete?: boolean;
  /** Inputs whose old values replace the program's before Check and Diff. */
  ignoreChanges?: string[];
  /** Overrides the provider's choice of replacement order. */
  deleteBeforeReplace?: boolean;
}

/** One resource in the simulated state file. */
export interface StateEntry {
  urn: string;
  id: string;
  inputs: Props;
  outputs: Props;
  /** The reasons of an ErrorResourceInitFailed: the next `up` updates the resource even without a diff. */
  initErrors?: string[];
  /** Deleted by a delete-before-replace whose create has not succeeded yet. */
  pendingReplacement?: boolean;
  options?: ResourceOptions;
}

export type UpOutcome = "create" | "update" | "replace" | "same";

/**
 * The engine's step sequences (pulumi/pulumi `step_generator.go`, `step.go`) for one stack of
 * RemoteAssistancePartners on one host, with the state kept in memory, checked against the Pulumi CLI by
 * test/realEngine.test.ts (each sequence played through both must make the same Graph calls):
 * - `up`: `ignoreChanges` applied to the program's inputs, Check, Diff, then Create, Update, or a replacement:
 *   create-before-delete by default (the old resource is deleted after the new one exists), delete-before-replace
 *   when the provider or the `deleteBeforeReplace` option asks (a failed create leaves the old resource in state
 *   pending replacement, and every later `up` emits only the create again). A replacement's Check is run again
 *   without old inputs. A resource with init errors is updated even when Diff reports no change.
 * - `refresh`: Read, then Diff of the state's inputs against the refreshed outputs; pending replacements are skipped.
 *   `pulumi refresh --yes` and `pulumi up --refresh --yes` make two such passes (their preview's, then their own).
 * - `preview`: Check and Diff (with `--refresh`, one refresh pass), no state written.
 * - `destroy`: Delete; `protect` refuses, `retainOnDelete` only forgets, a pending replacement is only forgotten.
 */
export class Stack {
  readonly state = new Map<string, StateEntry>();
  /** Old resources of create-before-delete replacements whose delete has not run yet. */
  readonly pendingDeletes: StateEntry[] = [];

  /** A stack of resources of `type` (default: RemoteAssistancePartner) on `host`. */
  constructor(
    public host: ProviderHost,
    readonly type: string = REMOTE_ASSISTANCE_PARTNER_TYPE,
  ) {}

  /**
   * `pulumi up` for the declared resources (name → program inputs with `__provider`); deletes the undeclared.
   * With `refresh` (`--refresh`), first the refresh `pulumi up --refresh --yes` makes: its preview's pass and its
   * own (see {@link refresh}). The preview `pulumi up --yes` makes first calls only Check and Diff, which make no
   * Graph call: it is not played.
   */
  async up(
    declared: Record<string, Props>,
    options: Record<string, ResourceOptions> = {},
    flags: { refresh?: boolean } = {},
  ): Promise<void> {
    if (flags.refresh) await this.refresh();
    for (const [name, news] of Object.entries(declared)) await this.upOne(name, news, options[name]);
    for (const [name, entry] of [...this.state]) {
      if (!(name in declared)) {
        await this.deleteEntry(entry);
        this.state.delete(name);
      }
    }
    await this.deletePending();
  }

  /** The steps `pulumi up` takes for one declared resource; what it did. */
  async upOne(name: string, programInputs: Props, options: ResourceOptions = {}): Promise<UpOutcome> {
    const urn = urnOf(name, this.type);
    let old = this.state.get(name);
    if (old && old.urn !== urn) {
      // Another type token is another resource: the engine creates the new one and deletes the old one.
      this.pendingDeletes.push(old);
      this.state.delete(name);
      old = undefined;
    }
    const news = old
      ? ignoringChanges(programInputs, old.inputs, options.ignoreChanges ?? [])
      : programInputs;
    const inputs = await this.checked(urn, old?.inputs ?? {}, news);
    if (!old) {
      await this.createEntry(name, urn, inputs, options);
      await this.deletePending();
      return "create";
    }
    const diff = await this.host.diff(old.id, urn, old.outputs, inputs);
    if (old.pendingReplacement || (diff.changes !== "none" && diff.replaces.length > 0)) {
      await this.replace(name, old, urn, programInputs, options, diff.deleteBeforeReplace);
      return "replace";
    }
    if (diff.changes === "none" && !old.initErrors) {
      this.state.set(name, { ...old, inputs, options });
      return "same";
    }
    try {
      const outputs = await this.host.update(old.id, urn, old.outputs, inputs);
      this.state.set(name, { urn, id: old.id, inputs, outputs, options });
    } catch (e) {
      // ErrorResourceInitFailed from Update: the engine records what the provider says the resource now is.
      if (e instanceof ProviderCallError && e.initFailed) {
        const { properties, reasons } = e.initFailed;
        this.state.set(name, { urn, id: old.id, inputs, outputs: properties, initErrors: reasons, options });
      }
      throw e;
    }
    return "update";
  }

  private async replace(
    name: string,
    old: StateEntry,
    urn: string,
    programInputs: Props,
    options: ResourceOptions,
    providerWantsDeleteFirst: boolean,
  ): Promise<void> {
    if (options.protect && old.options?.protect) {
      throw new ProviderCallError(
        `unable to replace resource "${urn}" as it is currently marked for protection`,
      );
    }
    // A replacement's defaults are computed afresh: Check without the old inputs.
    const inputs = await this.checked(urn, {}, programInputs);
    if (options.deleteBeforeReplace ?? providerWantsDeleteFirst) {
      if (!old.pendingReplacement) {
        await this.deleteEntry(old, true);
        this.state.set(name, { ...old, pendingReplacement: true });
      }
      await this.createEntry(name, urn, inputs, options);
      return;
    }
    await this.createEntry(name, urn, inputs, options, old);
    await this.deleteEntry(old, true);
    this.pendingDeletes.splice(this.pendingDeletes.indexOf(old), 1);
  }

  private async checked(urn: string, olds: Props, news: Props): Promise<Props> {
    const { inputs, failures } = await this.host.check(urn, olds, news);
    if (failures.length > 0)
      throw new ProviderCallError(
        `check failed: ${failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`,
      );
    return inputs;
  }

  /** Create; with `replacing`, the old resource is pending deletion from the moment the new one exists. */
  private async createEntry(
    name: string,
    urn: string,
    inputs: Props,
    options: ResourceOptions,
    replacing?: StateEntry,
  ): Promise<void> {
    try {
      const { id, properties } = await this.host.create(urn, inputs);
      if (replacing) this.pendingDeletes.push(replacing);
      this.state.set(name, { urn, id, inputs, outputs: properties, options });
    } catch (e) {
      // ErrorResourceInitFailed: the engine keeps the resource in state, then reports the failure.
      if (e instanceof ProviderCallError && e.initFailed) {
        if (replacing) this.pendingDeletes.push(replacing);
        const { id, properties, reasons } = e.initFailed;
        this.state.set(name, { urn, id, inputs, outputs: properties, initErrors: reasons, options });
      }
      throw e;
    }
  }

  /**
   * Delete as the engine does it: `protect` refuses (but for a replacement, where it was checked before),
   * `retainOnDelete` and a pending replacement only forget.
   */
  private async deleteEntry(entry: StateEntry, replacing = false): Promise<void> {
    if (entry.options?.protect && !replacing) {
      throw new ProviderCallError(`resource "${entry.urn}" cannot be deleted because it is protected`);
    }
    if (entry.pendingReplacement || entry.options?.retainOnDelete) return;
    await this.host.delete(entry.id, entry.urn, entry.outputs);
  }

  private async deletePending(): Promise<void> {
    while (this.pendingDeletes.length > 0) {
      await this.deleteEntry(this.pendingDeletes[0], true);
      this.pendingDeletes.shift();
    }
  }

  /**
   * `pulumi preview`: Check and Diff only, no change made; the names of the resources that would change. With
   * `refresh` (`--refresh`), one refresh pass first, whose state is not kept either (the drifted count as
   * changing). With `--expect-no-changes`, a non-empty answer fails the command.
   */
  async preview(
    declared: Record<string, Props>,
    options: Record<string, ResourceOptions> = {},
    flags: { refresh?: boolean } = {},
  ): Promise<string[]> {
    const saved = new Map(this.state);
    try {
      const drifted = flags.refresh ? await this.refreshPass() : [];
      const changing: string[] = [];
      for (const [name, programInputs] of Object.entries(declared)) {
        const old = this.state.get(name);
        const news = old
          ? ignoringChanges(programInputs, old.inputs, options[name]?.ignoreChanges ?? [])
          : programInputs;
        const inputs = await this.checked(urnOf(name, this.type), old?.inputs ?? {}, news);
        if (
          !old ||
          old.pendingReplacement ||
          old.initErrors ||
          (await this.host.diff(old.id, old.urn, old.outputs, inputs)).changes !== "none"
        )
          changing.push(name);
      }
      const removed = [...this.state.keys()].filter((name) => !(name in declared));
      return [...new Set([...drifted, ...changing, ...removed])];
    } finally {
      this.state.clear();
      for (const [name, entry] of saved) this.state.set(name, entry);
    }
  }

  /**
   * `pulumi refresh --yes`: the preview's pass, whose state is not kept, then the refresh pass; each Reads every
   * resource (an empty id drops it from state) and Diffs the state's inputs against what was read, as the
   * engine does to show drift. So a refresh reads each resource twice, as the CLI does; `skipPreview`
   * (`--skip-preview`) makes the one pass. Resolves the names whose (last) refresh shows drift: what makes
   * `pulumi preview --refresh --expect-no-changes` fail before the program is even compared.
   */
  async refresh(flags: { skipPreview?: boolean } = {}): Promise<string[]> {
    if (!flags.skipPreview) {
      const saved = new Map(this.state);
      try {
        await this.refreshPass();
      } finally {
        this.state.clear();
        for (const [name, entry] of saved) this.state.set(name, entry);
      }
    }
    return this.refreshPass();
  }

  /** One refresh pass: Read, then Diff, of every resource but those pending replacement. */
  private async refreshPass(): Promise<string[]> {
    const drifted: string[] = [];
    for (const [name, entry] of [...this.state]) {
      if (entry.pendingReplacement) continue;
      const { id, properties } = await this.host.read(entry.id, entry.urn, entry.outputs, entry.inputs);
      if (id === "") {
        this.state.delete(name);
        drifted.push(name);
        continue;
      }
      this.state.set(name, { ...entry, id, outputs: properties });
      if ((await this.host.diff(id, entry.urn, properties, entry.inputs)).changes !== "none")
        drifted.push(name);
    }
    return drifted;
  }

  /** `pulumi destroy`: Delete every resource. */
  async destroy(): Promise<void> {
    await this.deletePending();
    for (const [name, entry] of [...this.state]) {
      await this.deleteEntry(entry);
      this.state.delete(name);
    }
  }
}

/** The program's inputs with each `ignoreChanges` property set back to its old value (or removed, as it was). */
function ignoringChanges(news: Props, oldInputs: Props, ignoreChanges: string[]): Props {
  const result = { ...news };
  for (const key of ignoreChanges) {
    if (key in oldInputs) result[key] = oldInputs[key];
    else delete result[key];
  }
  return result;
}
