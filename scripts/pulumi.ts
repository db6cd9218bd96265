/**
 * Running a Pulumi CLI command the way `npm start` and the real-engine tests do: in the program's directory,
 * with the program served by the Node.js language plugin where the CLI has one (`pulumi-language-nodejs` beside
 * it or on PATH), else inline (scripts/inline.ts) — the CLI built here from Go modules has none.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { PACKAGE_ROOT } from "../provider/pulumiCli";

/** Commands whose program the language runtime runs. */
const RUNS_PROGRAM = new Set(["up", "update", "preview", "refresh", "destroy"]);

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
  /** The program file run inline when the CLI has no Node.js language plugin. */
  program: string;
  /** Streams output as it comes (`npm start`); otherwise it is only collected. */
  echo?: boolean;
  /** Called with the process once it runs (to interrupt it). */
  onSpawn?: (pid: number) => void;
}

/** Runs `pulumi <args>` (program commands inline where needed); resolves its exit code and output. */
export function runPulumi(cli: string, args: string[], options: PulumiRunOptions): Promise<PulumiRun> {
  const inline = RUNS_PROGRAM.has(args[0]) && !hasNodeLanguagePlugin(cli, options.env);
  const [command, commandArgs] = inline
    ? [process.execPath, [join(PACKAGE_ROOT, "bin", "scripts", "inline.js"), options.program, cli, ...args]]
    : [cli, args];
  // The plugins run `node`: this one (Node 22 under npm scripts), whatever else PATH holds.
  const path = [dirname(process.execPath), options.env.PATH ?? ""].join(delimiter);
  const child = spawn(command, commandArgs, {
    cwd: options.cwd,
    env: { PULUMI_SKIP_UPDATE_CHECK: "true", ...options.env, PATH: path },
    stdio: ["ignore", "pipe", "pipe"],
  });
  options.onSpawn?.(child.pid!);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
    if (options.echo) process.stdout.write(d);
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
    if (options.echo) process.stderr.write(d);
  });
  return new Promise((ok) =>
    child.on("close", (code, signal) => ok({ code: code ?? (signal ? 128 : 1), stdout, stderr })),
  );
}
