/**
 * `npm test`: every test file, in three mocha runs side by side so that the suites that mostly wait on other
 * processes (the Pulumi CLI, npm installs of the packed tarball, Go builds) overlap with the rest on 2 cores, then the
 * files that must run alone (see {@link ALONE}). Each run's output is printed whole, in order, once it
 * ends; the exit code is non-zero when any failed.
 * `node -r ts-node/register/transpile-only test/run.ts [files…]` runs only the files given, in one run.
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { REPO_ROOT } from "./support/repo";

/** The files that install the packed package or drive the real CLI: one process, sharing one install. */
const INSTALLING = ["realEngine", "installed"].map((n) => `test/${n}.test.ts`);

/**
 * The `intune` plugin through the real CLI (YAML projects), the SDKs (Go builds, a Go program), and the
 * documentation's and examples' programs: another, of about the same length.
 */
const PLUGIN = ["yaml", "sdk", "docs", "examples"].map((n) => `test/${n}.test.ts`);

/**
 * Run alone, after the rest: the file that moves this checkout's compiled `bin/` out of reach for a while
 * (nothing else may run then), and the pacing tests, whose timings want the machine to themselves.
 */
const ALONE = ["portability", "pacer", "throttle"].map((n) => `test/${n}.test.ts`);

const MOCHA = [
  "-r",
  "ts-node/register/transpile-only",
  "--extension",
  "ts",
  "--timeout",
  "30000",
  "--slow",
  "2000",
];

function mocha(files: string[]): Promise<{ code: number; output: string }> {
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, "node_modules", "mocha", "bin", "mocha.js"), "--no-config", ...MOCHA, ...files],
    {
      cwd: REPO_ROOT,
      env: process.env,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code: code ?? 1, output })));
}

async function main(argv: string[]): Promise<number> {
  if (argv.length > 0) {
    const only = await mocha(argv);
    process.stdout.write(only.output);
    return only.code;
  }
  const all = readdirSync(join(REPO_ROOT, "test"))
    .filter((f) => f.endsWith(".test.ts"))
    .map((f) => relative(REPO_ROOT, join(REPO_ROOT, "test", f)));
  const rest = all.filter((f) => ![...INSTALLING, ...PLUGIN, ...ALONE].includes(f));
  const runs = [INSTALLING, PLUGIN, rest].map((files) => ({ files, result: mocha(files) }));
  await Promise.all(runs.map((r) => r.result));
  runs.push({ files: ALONE, result: mocha(ALONE) });
  let failed = 0;
  for (const run of runs) {
    const { code, output } = await run.result;
    process.stdout.write(
      `\n# ${run.files.length} files: ${run.files.map((f) => f.slice(5, -8)).join(", ")}\n${output}`,
    );
    if (code !== 0) failed++;
  }
  return failed === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then((code) => process.exit(code));
