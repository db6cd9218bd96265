/**
 * YAML programs (`runtime: yaml`) run by the real CLI in project mode, with the YAML language host
 * `npm run pulumi-cli` builds and the `intune` plugin as users get it: `pulumi-resource-intune` on PATH from
 * the packed package installed with npm.
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { stringify } from "yaml";
import type { PulumiCli } from "../../provider/pulumiCli";
import { runPulumi, type PulumiRun } from "../../provider/runPulumi";
import { freshDir, installedProgram, LOCKED_SDK } from "./installed";
import { machineEnv, type Decl, type ExportedResource } from "./realEngine";

/** Why YAML projects cannot run with `cli`, or `undefined` when they can. */
export function yamlUnavailable(cli: PulumiCli | undefined, why: string | undefined): string | undefined {
  if (!cli) return why;
  const dirs = [dirname(cli.path), ...(process.env.PATH ?? "").split(delimiter)];
  return dirs.some((d) => d && existsSync(join(d, "pulumi-language-yaml")))
    ? undefined
    : `no pulumi-language-yaml beside ${cli.path} or on PATH (npm run pulumi-cli builds it)`;
}

/** The YAML type of a declaration's resource. */
const TYPES = { partner: "intune:RemoteAssistancePartner", settings: "intune:RemoteAssistanceSettings" };

/** A YAML program declaring `decls` (and `extra` top-level sections: explicit providers, outputs). */
export function yamlText(project: string, decls: Decl[], extra: Record<string, unknown> = {}): string {
  const resources: Record<string, unknown> = { ...((extra.resources as object) ?? {}) };
  for (const d of decls) {
    resources[d.name] = {
      type: TYPES[d.kind],
      properties: d.args,
      ...(d.opts && Object.keys(d.opts).length > 0 ? { options: d.opts } : {}),
    };
  }
  return stringify({ name: project, runtime: "yaml", ...extra, resources });
}

/** The folder whose `.bin` holds `pulumi-resource-intune`: the packed package installed as a user installs it. */
export async function pluginBin(): Promise<string> {
  return join(await installedProgram(LOCKED_SDK), "node_modules", ".bin");
}

/** One stack of a YAML project on one "machine" (PULUMI_HOME and environment): what CliEngine drives. */
export class YamlStack {
  constructor(
    readonly cli: PulumiCli,
    readonly dir: string,
    readonly name: string,
    readonly env: NodeJS.ProcessEnv,
    readonly project = "someone-elses-yaml",
  ) {}

  /** A new stack of a YAML project of its own, on a machine with `env` and the plugin on PATH. */
  static async create(
    cli: PulumiCli,
    name: string,
    env: Record<string, string>,
    options: { project?: string; program?: string } = {},
  ): Promise<YamlStack> {
    const machine = await yamlMachine(cli, freshDir("backend"), env);
    const stack = new YamlStack(cli, freshDir(`yaml-${name}`), name, machine, options.project);
    if (options.program) cpSync(options.program, stack.dir, { recursive: true });
    else stack.write([]);
    const init = await stack.run(["stack", "init"]);
    if (init.code !== 0) throw new Error(`pulumi stack init: ${init.stderr}`);
    return stack;
  }

  /** The same stack on another machine: another PULUMI_HOME and environment, the same backend. */
  async onMachine(env: Record<string, string>): Promise<YamlStack> {
    const backend = this.env.PULUMI_BACKEND_URL!.replace(/^file:\/\//, "");
    return new YamlStack(
      this.cli,
      this.dir,
      this.name,
      await yamlMachine(this.cli, backend, env),
      this.project,
    );
  }

  /** Writes the program (Pulumi.yaml) the next command runs. */
  write(decls: Decl[], extra: Record<string, unknown> = {}): this {
    writeFileSync(join(this.dir, "Pulumi.yaml"), yamlText(this.project, decls, extra));
    return this;
  }

  run(args: string[], options: { onSpawn?: (pid: number) => void } = {}): Promise<PulumiRun> {
    return runPulumi(
      this.cli.path,
      [...args, "--stack", this.name, "--non-interactive", "--color", "never"],
      {
        cwd: this.dir,
        env: this.env,
        program: "",
        onSpawn: options.onSpawn,
      },
    );
  }

  async ok(...args: string[]): Promise<PulumiRun> {
    const result = await this.run(args);
    if (result.code !== 0)
      throw new Error(`pulumi ${args.join(" ")} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
    return result;
  }

  /** The stack's resources of the `intune` package by name, as the file backend holds them. */
  resources(): Record<string, ExportedResource> {
    const backend = this.env.PULUMI_BACKEND_URL!.replace(/^file:\/\//, "");
    const file = join(backend, ".pulumi", "stacks", this.project, `${this.name}.json`);
    if (!existsSync(file)) return {};
    const checkpoint = JSON.parse(readFileSync(file, "utf8")) as {
      checkpoint: { latest?: { resources?: ExportedResource[] } };
    };
    return Object.fromEntries(
      (checkpoint.checkpoint.latest?.resources ?? [])
        .filter((r) => r.type.startsWith("intune:index:"))
        .map((r) => [r.urn.split("::").pop()!, r]),
    );
  }
}

/** A machine's environment with the CLI's directory (the YAML host) and the installed plugin on PATH. */
async function yamlMachine(
  cli: PulumiCli,
  backend: string,
  env: Record<string, string>,
): Promise<NodeJS.ProcessEnv> {
  const machine = machineEnv(backend, env);
  return { ...machine, PATH: [await pluginBin(), dirname(cli.path), machine.PATH].join(delimiter) };
}
