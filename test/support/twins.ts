/**
 * Sequences played twice: through the real Pulumi engine (the CLI) and through the harness (`testing/engine.ts`),
 * each in a tenant of its own, so that both can be held to the same Graph calls, step by step, and the same
 * final state.
 */
import type { Emulator } from "../../emulator";
import {
  ProviderCallError,
  ProviderHost,
  Stack,
  programInputs,
  settingsInputs,
  type Props,
  type ResourceOptions,
} from "../../testing/engine";
import { REMOTE_ASSISTANCE_SETTINGS_TYPE } from "../../provider";
import type { Decl, RealStack } from "./realEngine";

/** What a step did: whether the command succeeded, and its message when not. */
export interface Outcome {
  ok: boolean;
  message?: string;
}

/** A resource of the state as both engines can show it. */
export interface StateOf {
  id: string;
  outputs: Props;
  pendingReplacement?: boolean;
}

/** One side of a twin: the commands a sequence uses. */
export interface Engine {
  up(decls: Decl[], flags?: { refresh?: boolean }): Promise<Outcome>;
  preview(decls: Decl[], flags: { refresh?: boolean; expectNoChanges?: boolean }): Promise<Outcome>;
  refresh(): Promise<Outcome>;
  destroy(): Promise<Outcome>;
  state(): Promise<Record<string, StateOf>>;
}

/** What {@link CliEngine} drives: a stack of a program, Node.js (RealStack) or YAML (YamlStack). */
export type CliStack = Pick<RealStack, "run" | "resources"> & { write(decls: Decl[]): unknown };

/**
 * The real engine: a stack run with the CLI, of a Node.js program installed from the tarball (the dynamic
 * provider) or of a YAML program (the `intune` plugin).
 */
export class CliEngine implements Engine {
  constructor(public stack: CliStack) {}

  private async run(args: string[]): Promise<Outcome> {
    const result = await this.stack.run(args);
    return result.code === 0 ? { ok: true } : { ok: false, message: `${result.stdout}\n${result.stderr}` };
  }
  up(decls: Decl[], flags: { refresh?: boolean } = {}) {
    this.stack.write(decls);
    return this.run(["up", "--yes", ...(flags.refresh ? ["--refresh"] : [])]);
  }
  preview(decls: Decl[], flags: { refresh?: boolean; expectNoChanges?: boolean }) {
    this.stack.write(decls);
    return this.run([
      "preview",
      ...(flags.refresh ? ["--refresh"] : []),
      ...(flags.expectNoChanges ? ["--expect-no-changes"] : []),
    ]);
  }
  refresh() {
    return this.run(["refresh", "--yes"]);
  }
  destroy() {
    return this.run(["destroy", "--yes"]);
  }
  async state(): Promise<Record<string, StateOf>> {
    const resources = this.stack.resources();
    return Object.fromEntries(
      Object.entries(resources)
        .filter(([, r]) => !r.delete)
        .map(([name, r]) => [
          name,
          {
            id: r.id ?? "",
            outputs: r.outputs ?? {},
            ...(r.pendingReplacement ? { pendingReplacement: true } : {}),
          },
        ]),
    );
  }
}

/** The harness: `Stack`s of each resource type on one host, the state in memory. */
export class HarnessEngine implements Engine {
  readonly partners: Stack;
  readonly settings: Stack;

  constructor(public host: ProviderHost) {
    this.partners = new Stack(host);
    this.settings = new Stack(host, REMOTE_ASSISTANCE_SETTINGS_TYPE);
  }

  /** The same state on another host (another machine). */
  onHost(host: ProviderHost): this {
    this.host = host;
    this.partners.host = host;
    this.settings.host = host;
    return this;
  }

  private async declared(decls: Decl[], kind: Decl["kind"]) {
    const chosen = decls.filter((d) => d.kind === kind);
    const inputs: Record<string, Props> = {};
    const options: Record<string, ResourceOptions> = {};
    for (const d of chosen) {
      inputs[d.name] = (
        d.kind === "partner" ? await programInputs(d.name, d.args) : await settingsInputs(d.name, d.args)
      ).inputs;
      options[d.name] = d.opts ?? {};
    }
    return { inputs, options };
  }

  private async attempt(fn: () => Promise<unknown>): Promise<Outcome> {
    try {
      await fn();
      return { ok: true };
    } catch (e) {
      if (!(e instanceof ProviderCallError)) throw e;
      return { ok: false, message: e.message };
    }
  }

  up(decls: Decl[], flags: { refresh?: boolean } = {}) {
    return this.attempt(async () => {
      if (flags.refresh) await this.refreshBoth();
      const partners = await this.declared(decls, "partner");
      const settings = await this.declared(decls, "settings");
      await this.partners.up(partners.inputs, partners.options);
      await this.settings.up(settings.inputs, settings.options);
    });
  }
  preview(decls: Decl[], flags: { refresh?: boolean; expectNoChanges?: boolean }) {
    return this.attempt(async () => {
      const partners = await this.declared(decls, "partner");
      const settings = await this.declared(decls, "settings");
      const changing = [
        ...(await this.partners.preview(partners.inputs, partners.options, flags)),
        ...(await this.settings.preview(settings.inputs, settings.options, flags)),
      ];
      if (flags.expectNoChanges && changing.length > 0)
        throw new ProviderCallError(`no changes were expected, but ${changing.join(", ")} would change`);
    });
  }
  /** `pulumi refresh --yes` of both types: the engine refreshes all resources in each of its two passes. */
  private async refreshBoth() {
    const saved = [new Map(this.partners.state), new Map(this.settings.state)];
    await this.partners.refresh({ skipPreview: true });
    await this.settings.refresh({ skipPreview: true });
    [this.partners, this.settings].forEach((stack, i) => {
      stack.state.clear();
      for (const [k, v] of saved[i]) stack.state.set(k, v);
    });
    await this.partners.refresh({ skipPreview: true });
    await this.settings.refresh({ skipPreview: true });
  }
  refresh() {
    return this.attempt(() => this.refreshBoth());
  }
  destroy() {
    return this.attempt(async () => {
      await this.partners.destroy();
      await this.settings.destroy();
    });
  }
  async state(): Promise<Record<string, StateOf>> {
    return Object.fromEntries(
      [...this.partners.state, ...this.settings.state].map(([name, e]) => [
        name,
        { id: e.id, outputs: e.outputs, ...(e.pendingReplacement ? { pendingReplacement: true } : {}) },
      ]),
    );
  }
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * Names the partner ids of one tenant: the seeded ones by the name given, the others `new1`, `new2`… in the
 * order they first appear; and the tenant as `T`. What makes two tenants' calls and states comparable.
 */
export class Labels {
  private readonly names = new Map<string, string>();
  private created = 0;

  constructor(
    private readonly tenantId: string,
    seeded: Record<string, string>,
  ) {
    for (const [label, id] of Object.entries(seeded)) this.names.set(id.toLowerCase(), label);
  }

  label(text: string): string {
    return text.replace(UUID, (id) => {
      if (id.toLowerCase() === this.tenantId.toLowerCase()) return "T";
      let name = this.names.get(id.toLowerCase());
      if (!name) this.names.set(id.toLowerCase(), (name = `new${++this.created}`));
      return name;
    });
  }

  /** The Graph calls made in the tenant since the log was cleared, labelled. */
  calls(emulator: Emulator): string[] {
    return emulator.calls({ tenantId: this.tenantId }).map((c) => this.label(c));
  }

  /** A state, labelled, without what differs between two runs by nature (times, the provider's text). */
  state(state: Record<string, StateOf>): Record<string, unknown> {
    const volatile = new Set([
      "__provider",
      "lastConnectionDateTime",
      "onboardingRequestExpiryDateTime",
      "instance",
    ]);
    return Object.fromEntries(
      Object.entries(state).map(([name, s]) => [
        name,
        JSON.parse(
          this.label(
            JSON.stringify({
              ...s,
              outputs: Object.fromEntries(Object.entries(s.outputs).filter(([k]) => !volatile.has(k))),
            }),
          ),
        ),
      ]),
    );
  }
}
