/**
 * The real Pulumi engine: the CLI `npm run pulumi-cli` finds or builds, run on a program installed from the
 * packed tarball, with a file backend, a fresh `PULUMI_HOME`, a passphrase and no network. Programs run inline
 * (provider/inline.ts) where the CLI has no Node.js language plugin.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { strict as assert } from "node:assert";
import { join } from "node:path";
import type { Emulator } from "../../emulator";
import { findPulumiCli, type PulumiCli } from "../../provider/pulumiCli";
import { runPulumi, type PulumiRun } from "../../provider/runPulumi";
import { freshDir, installedProgram, LOCKED_SDK, PROGRAM_NAME } from "./installed";

/** The CLI the suite runs, or why it does not run. */
export function realCli(): { cli?: PulumiCli; why?: string } {
  const tried: string[] = [];
  const cli = findPulumiCli({ minimum: LOCKED_SDK, tried });
  return cli ? { cli } : { why: `no Pulumi CLI ${LOCKED_SDK} or later (${tried.join("; ")})` };
}

/**
 * Skips the test or suite `context` when `missing` says what it lacks (the CLI, the YAML host, Go), saying so in
 * one line; fails it instead where CI requires everything (`INTUNE_REQUIRE_PULUMI_CLI=1`).
 */
export function needs(context: Mocha.Context, missing: string | undefined): void {
  if (!missing) return;
  if (process.env.INTUNE_REQUIRE_PULUMI_CLI === "1")
    throw new Error(`INTUNE_REQUIRE_PULUMI_CLI=1, but ${missing}`);
  console.log(`    (not run: ${missing})`);
  context.skip();
}

/** The resource options a program may give. */
export interface Options {
  protect?: boolean;
  retainOnDelete?: boolean;
  ignoreChanges?: string[];
  deleteBeforeReplace?: boolean;
  import?: string;
  /** A YAML program's explicit provider, e.g. `${contoso}`. */
  provider?: string;
}

/** One resource of a program. */
export interface Decl {
  kind: "partner" | "settings";
  name: string;
  args: Record<string, unknown>;
  opts?: Options;
}

/** A JavaScript Pulumi program that declares `decls`, as someone else would write it, exporting each resource's id. */
export function programText(decls: Decl[]): string {
  const lines = [
    'const { RemoteAssistancePartner, RemoteAssistanceSettings } = require("pulumi-intune-remote-assistance");',
  ];
  decls.forEach((d, i) => {
    const cls = d.kind === "partner" ? "RemoteAssistancePartner" : "RemoteAssistanceSettings";
    lines.push(
      `const r${i} = new ${cls}(${JSON.stringify(d.name)}, ${JSON.stringify(d.args)}, ${JSON.stringify(d.opts ?? {})});`,
    );
  });
  lines.push(
    `module.exports = { ${decls.map((d, i) => `${JSON.stringify(d.name)}: r${i}.id`).join(", ")} };`,
  );
  return `${lines.join("\n")}\n`;
}

/** One stack of a program folder on one "machine" (PULUMI_HOME and environment). */
export class RealStack {
  readonly program: string;

  constructor(
    readonly cli: PulumiCli,
    readonly dir: string,
    readonly name: string,
    readonly env: NodeJS.ProcessEnv,
  ) {
    this.program = join(dir, `program-${name}.js`);
  }

  /** A new stack named `name` in the program installed at `sdk`, on a machine of its own with `env`. */
  static async create(
    cli: PulumiCli,
    name: string,
    env: Record<string, string>,
    options: { backend?: string; sdk?: string } = {},
  ): Promise<RealStack> {
    const dir = await installedProgram(options.sdk ?? LOCKED_SDK);
    const backend = options.backend ?? freshDir(`backend-${name}`);
    const stack = new RealStack(cli, dir, name, machineEnv(backend, env));
    await stack.ok("stack", "init"); // --stack names it
    return stack;
  }

  /** The same stack on another machine: another PULUMI_HOME and environment, the same backend. */
  onMachine(env: Record<string, string>): RealStack {
    const backend = this.env.PULUMI_BACKEND_URL!.replace(/^file:\/\//, "");
    return new RealStack(this.cli, this.dir, this.name, machineEnv(backend, env));
  }

  /** Writes the program the next command runs. */
  write(decls: Decl[]): this {
    writeFileSync(this.program, programText(decls));
    return this;
  }

  /** `pulumi <args> --stack <name> --non-interactive`, the program inline where needed. */
  run(args: string[], options: { onSpawn?: (pid: number) => void } = {}): Promise<PulumiRun> {
    return runPulumi(
      this.cli.path,
      [...args, "--stack", this.name, "--non-interactive", "--color", "never"],
      {
        cwd: this.dir,
        env: this.env,
        program: this.program,
        onSpawn: options.onSpawn,
      },
    );
  }

  /** Like {@link run}, failing with its output unless it exits 0. */
  async ok(...args: string[]): Promise<PulumiRun> {
    const result = await this.run(args);
    if (result.code !== 0)
      throw new Error(`pulumi ${args.join(" ")} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
    return result;
  }

  /**
   * The stack's resources of this package by name, as the file backend holds them (what `pulumi stack export`
   * prints, read without starting the CLI).
   */
  resources(): Record<string, ExportedResource> {
    const backend = this.env.PULUMI_BACKEND_URL!.replace(/^file:\/\//, "");
    const file = join(backend, ".pulumi", "stacks", PROGRAM_NAME, `${this.name}.json`);
    const checkpoint = JSON.parse(readFileSync(file, "utf8")) as {
      checkpoint: { latest?: { resources?: ExportedResource[] } };
    };
    return Object.fromEntries(
      (checkpoint.checkpoint.latest?.resources ?? [])
        .filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/intune:"))
        .map((r) => [r.urn.split("::").pop()!, r]),
    );
  }
}

/** A resource as `pulumi stack export` shows it. */
export interface ExportedResource {
  urn: string;
  type: string;
  id?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  protect?: boolean;
  delete?: boolean;
  pendingReplacement?: boolean;
}

/** The environment of one "machine": its own PULUMI_HOME, `backend`, a passphrase, no update check, and `env`. */
export function machineEnv(backend: string, env: Record<string, string>): NodeJS.ProcessEnv {
  const home = freshDir("pulumi-home");
  mkdirSync(backend, { recursive: true });
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(AZURE_|INTUNE_|PULUMI_)/.test(k)),
  );
  return {
    ...clean,
    ...env,
    PULUMI_HOME: home,
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_CONFIG_PASSPHRASE: "a passphrase for this test",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
}

/** A process and every process under it (Linux /proc), deepest last. */
export function processTree(pid: number): number[] {
  const children = readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
  return [pid, ...children.flatMap(processTree)];
}

/**
 * Kills a run's Automation API parent (the inline runner, `runner`) and its CLI with SIGKILL, as a CI runner
 * cancelled or the OOM killer would, and never the CLI's plugins: they are left to notice. Resolves the plugin
 * processes that were running then.
 */
export function killEngine(runner: number): number[] {
  const [, cli, ...plugins] = processTree(runner);
  for (const pid of [runner, cli]) process.kill(pid, "SIGKILL");
  return plugins;
}

/** Whether a process runs (a zombie waiting to be reaped does not). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/**
 * Runs `args` on `stack`, kills the CLI and its parent (never the plugins) once Graph holds the tenant's first
 * `method` request, then checks that no provider process is left within 10 s and that Graph heard nothing after
 * the kill, past its held answer. Resolves the tenant's calls, the one in flight included.
 */
export async function killedMidRequest(
  emulator: Emulator,
  stack: Pick<RealStack, "run">,
  args: string[],
  tenantId: string,
  method: string,
  kill: (pid: number) => number[] = killEngine,
): Promise<string[]> {
  let runner = 0;
  const killed = stack.run(args, { onSpawn: (pid) => (runner = pid) });
  const inFlight = () => emulator.requests.some((r) => r.tenantId === tenantId && r.method === method);
  for (let i = 0; i < 600 && !inFlight(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(inFlight(), `Graph received no ${method} from pulumi ${args[0]}`);
  const plugins = kill(runner);
  const killedAt = Date.now();
  const sent = emulator.calls({ tenantId });
  assert.notEqual((await killed).code, 0);
  assert.ok(plugins.length > 0, "the CLI had started its plugins");
  // Gone within 10 s, and past Graph's held answer (3 s), when an orphan would have gone on.
  while (plugins.some(isRunning) && Date.now() - killedAt < 10_000)
    await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, Math.max(0, killedAt + 4_500 - Date.now())));
  const left = plugins.filter(isRunning);
  for (const pid of left) process.kill(pid, "SIGKILL"); // not left to the next test either
  assert.deepEqual(left, [], "no plugin process 10 s after the kill");
  assert.deepEqual(emulator.calls({ tenantId }), sent, "nothing reached Graph after the kill");
  return sent;
}
