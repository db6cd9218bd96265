/**
 * The package as users get it: this checkout packed (`npm pack`, once per test process) and installed from the
 * tarball into fresh program folders, with the `@pulumi/pulumi` of a chosen version beside it.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./repo";

/** The `@pulumi/pulumi` package-lock.json holds. */
export const LOCKED_SDK = (
  JSON.parse(readFileSync(join(REPO_ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, { version: string }>;
  }
).packages["node_modules/@pulumi/pulumi"].version;

/** The lowest `@pulumi/pulumi` the package's peer range allows. */
export const LOWEST_SDK = /(\d+\.\d+\.\d+)/.exec(
  (
    JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
      peerDependencies: Record<string, string>;
    }
  ).peerDependencies["@pulumi/pulumi"],
)![1];

/** Runs a command asynchronously (an emulator in this process must answer); resolves its code and output. */
export function run(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ status: number | null; output: string; stdout: string }> {
  const child = spawn(command, args, { cwd, env });
  let output = "";
  let stdout = "";
  child.stdout.on("data", (d: Buffer) => ((output += d.toString()), (stdout += d.toString())));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  return new Promise((ok) => child.on("close", (status) => ok({ status, output, stdout })));
}

let packed: Promise<string> | undefined;

/** This checkout as `npm pack` makes it (its compiled `bin/` as `npm test` built it), once per process. */
export function packedTarball(): Promise<string> {
  packed ??= (async () => {
    const dir = join(REPO_ROOT, ".scratch", "packed");
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const result = await run("npm", ["pack", "--pack-destination", dir, "--ignore-scripts"], REPO_ROOT);
    if (result.status !== 0) throw new Error(`npm pack failed: ${result.output}`);
    return join(
      dir,
      readdirSync(dir).find((f) => f.endsWith(".tgz"))!,
    );
  })();
  return packed;
}

/** A fresh folder for a program, removed when this process exits. */
export function freshDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `intune-${prefix}-`));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const programs = new Map<string, Promise<string>>();

/**
 * A Pulumi program folder (Pulumi.yaml, package.json) with the packed package and `@pulumi/pulumi@sdk` installed
 * from the tarball and the registry, as a user's `npm install` makes it; one per version and process, shared.
 */
export function installedProgram(sdk: string): Promise<string> {
  let program = programs.get(sdk);
  if (!program) {
    program = (async () => {
      const tarball = await packedTarball();
      const dir = freshDir(`program-${sdk}`);
      writeFileSync(
        join(dir, "package.json"),
        JSON.stringify({
          name: "someone-elses-program",
          private: true,
          dependencies: { "@pulumi/pulumi": sdk, "pulumi-intune-remote-assistance": `file:${tarball}` },
        }),
      );
      writeFileSync(join(dir, "Pulumi.yaml"), "name: someone-elses-program\nruntime: nodejs\n");
      const installed = await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], dir);
      if (installed.status !== 0) throw new Error(`npm install in ${dir} failed: ${installed.output}`);
      return dir;
    })();
    programs.set(sdk, program);
  }
  return program;
}
