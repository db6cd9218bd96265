/**
 * Running a Pulumi CLI command the way `npx pulumi-intune-remote-assistance pulumi`, `npm start` and the
 * real-engine tests do: in the program's directory, with the program served by the Node.js language plugin where
 * the CLI has one (`pulumi-language-nodejs` beside it or on PATH), else inline (`inline.ts`) — the CLI built from
 * Go modules has none — and a Node.js policy pack run through a launcher where the CLI cannot run it itself.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { PACKAGE_ROOT } from "./pulumiCli";

const RUNS_PROGRAM = new Set(["up", "update", "preview", "refresh", "destroy"]);

/** Whether `pulumi <command>` runs the program (through the language runtime). */
export const runsProgram = (command: string | undefined): boolean => RUNS_PROGRAM.has(command ?? "");

/** Whether a Node.js language plugin is beside `cli` or on PATH. */
export function hasNodeLanguagePlugin(cli: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const dirs = [dirname(cli), ...(env.PATH ?? "").split(delimiter)].filter((d) => d && d !== ".");
  return dirs.some((d) => existsSync(join(d, "pulumi-language-nodejs")));
}

export interface PulumiRun {
  /** The CLI's exit code (a signal counts as 128 + its number, or 1). */
  code: number;
  stdout: string;
  stderr: string;
}

export interface PulumiRunOptions {
  /** The program's directory (its Pulumi.yaml, or the inline program's node_modules). */
  cwd: string;
  env: NodeJS.ProcessEnv;
  /**
   * The program file run inline when the CLI has no Node.js language plugin; `""` for a project the CLI runs
   * itself whatever plugins it has (`runtime: yaml`).
   */
  program: string;
  /** Streams output as it comes (`npm start`); otherwise it is only collected. */
  echo?: boolean;
  /** The CLI reads this process's terminal and writes to it (a user's command): no output is collected. */
  interactive?: boolean;
  /** Called with the process once it runs (to interrupt it). */
  onSpawn?: (pid: number) => void;
}

/** Runs `pulumi <args>` (program commands inline where needed); resolves its exit code and output. */
export function runPulumi(cli: string, args: string[], options: PulumiRunOptions): Promise<PulumiRun> {
  const full = hasNodeLanguagePlugin(cli, options.env);
  const inline = runsProgram(args[0]) && !full && options.program !== "";
  const cliArgs = full ? args : withPolicyPackLaunchers(args);
  const [command, commandArgs] = inline
    ? [
        process.execPath,
        [join(PACKAGE_ROOT, "bin", "provider", "inline.js"), options.program, cli, ...cliArgs],
      ]
    : [cli, cliArgs];
  // The plugins run `node`: this one (Node 22 under npm scripts), whatever else PATH holds.
  const path = [dirname(process.execPath), options.env.PATH ?? ""].join(delimiter);
  const child = spawn(command, commandArgs, {
    cwd: options.cwd,
    env: { PULUMI_SKIP_UPDATE_CHECK: "true", ...options.env, PATH: path },
    stdio: options.interactive ? "inherit" : ["ignore", "pipe", "pipe"],
  });
  options.onSpawn?.(child.pid!);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
    if (options.echo) process.stdout.write(d);
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
    if (options.echo) process.stderr.write(d);
  });
  return new Promise((ok) =>
    child.on("close", (code, signal) => ok({ code: code ?? (signal ? 128 : 1), stdout, stderr })),
  );
}

/**
 * The program file of the Pulumi project in `dir`, as the Node.js language plugin finds it: `main` of its
 * Pulumi.yaml (default the folder), and in a folder its package.json `main`, else `index.ts` or `index.js`;
 * `""` for a project of another runtime (`yaml`), which the CLI runs itself. Throws an error naming what is
 * missing.
 */
export function projectProgram(dir: string): string {
  const project = join(dir, "Pulumi.yaml");
  if (!existsSync(project))
    throw new Error(
      `No Pulumi.yaml in ${dir}: run this in your Pulumi project's folder (where pulumi new put it).`,
    );
  const text = readFileSync(project, "utf8");
  const runtime = /^runtime:\s*(?:\n\s+name:\s*)?['"]?(\w+)/m.exec(text)?.[1];
  if (runtime !== undefined && runtime !== "nodejs") return ""; // the CLI runs it with that runtime's host
  const main = /^main:\s*['"]?([^'"\n#]+?)['"]?\s*(#.*)?$/m.exec(text)?.[1] ?? ".";
  const target = resolve(dir, main);
  if (existsSync(target) && statSync(target).isFile()) return target;
  const manifest = join(target, "package.json");
  const fromManifest = existsSync(manifest)
    ? (JSON.parse(readFileSync(manifest, "utf8")) as { main?: string }).main
    : undefined;
  for (const candidate of [fromManifest, "index.ts", "index.js"]) {
    if (candidate && existsSync(join(target, candidate))) return join(target, candidate);
  }
  throw new Error(
    `The Pulumi project in ${dir} has no program: ${target} holds no index.ts or index.js (set main in Pulumi.yaml).`,
  );
}

/**
 * A launcher that runs the Node.js policy pack in folder `pack` as a binary analyzer plugin
 * (`--policy-pack <launcher>`): what the Node.js language plugin does for `--policy-pack <folder>`. Written to a
 * folder of its own under the system's temp folder; the pack's folder is not touched.
 */
export function policyPackLauncher(pack: string): string {
  const dir = mkdtempSync(join(tmpdir(), "intune-policy-pack-"));
  if (launchers.size === 0)
    process.once("exit", () => launchers.forEach((d) => rmSync(d, { recursive: true, force: true })));
  launchers.add(dir);
  const launcher = join(dir, "run-pack");
  writeFileSync(
    launcher,
    `#!/bin/sh
# Runs the policy pack in ${pack} as the Node.js language plugin would: @pulumi/pulumi's policy-pack runner.
cd ${JSON.stringify(resolve(pack))} || exit 1
script=$(node -e 'process.stdout.write(require.resolve("@pulumi/pulumi/cmd/run-policy-pack"))') || exit 1
exec node "$script" "$1" .
`,
    { mode: 0o755 },
  );
  return launcher;
}

const launchers = new Set<string>();

/** `args` with each `--policy-pack <folder>` of a Node.js policy pack replaced by its {@link policyPackLauncher}. */
export function withPolicyPackLaunchers(args: string[]): string[] {
  const isPack = (path: string) => existsSync(join(path, "PulumiPolicy.yaml"));
  return args.flatMap((arg, i) => {
    if (args[i - 1] === "--policy-pack" && isPack(arg)) return [policyPackLauncher(arg)];
    const inline = /^--policy-pack=(.+)$/.exec(arg);
    if (inline && isPack(inline[1])) return [`--policy-pack=${policyPackLauncher(inline[1])}`];
    return [arg];
  });
}
