/**
 * The package as users get it: this checkout packed (`npm pack`, once per test process) and installed from the
 * tarball into fresh program folders, with the `@pulumi/pulumi` of a chosen version beside it.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
    // One folder per test process: the side-by-side runs of npm test each pack their own.
    const dir = join(REPO_ROOT, ".scratch", `packed-${process.pid}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const result = await run("npm", ["pack", "--pack-destination", dir, "--ignore-scripts"], REPO_ROOT);
    if (result.status !== 0) throw new Error(`npm pack failed: ${result.output}`);
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
    return join(
      dir,
      readdirSync(dir).find((f) => f.endsWith(".tgz"))!,
    );
  })();
  return packed;
}

const made = new Set<string>();
process.on("exit", () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder for a program, removed when this process exits. */
export function freshDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `intune-${prefix}-`));
  made.add(dir);
  return dir;
}

const programs = new Map<string, Promise<string>>();

/** The project name of the programs {@link installedProgram} makes (its package and its Pulumi.yaml). */
export const PROGRAM_NAME = "someone-elses-program";

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
          name: PROGRAM_NAME,
          private: true,
          dependencies: { "@pulumi/pulumi": sdk, "pulumi-intune-remote-assistance": `file:${tarball}` },
        }),
      );
      writeFileSync(join(dir, "Pulumi.yaml"), `name: ${PROGRAM_NAME}\nruntime: nodejs\n`);
      const installed = await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], dir);
      if (installed.status !== 0) throw new Error(`npm install in ${dir} failed: ${installed.output}`);
      return dir;
    })();
    programs.set(sdk, program);
  }
  return program;
}

/** A resource a program registered: what `pulumi up` would send for it, `__provider` included. */
export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

const REGISTER = `const { resolve } = require("node:path");
const pulumi = require(require.resolve("@pulumi/pulumi", { paths: [process.cwd()] }));
const [program, project, config] = [process.argv[2], process.argv[3], JSON.parse(process.argv[4])];
const registered = [];
let fail;
const failed = new Promise((_, reject) => (fail = reject));
process.on("unhandledRejection", (e) => fail(e));
const settle = (v) =>
  pulumi.Output.isInstance(v) ? new Promise((ok) => v.apply(ok))
  : Array.isArray(v) ? Promise.all(v.map(settle))
  : v && typeof v === "object" ? Promise.all(Object.values(v).map(settle))
  : v;
(async () => {
  await pulumi.runtime.setMocks({
    newResource: (a) => (registered.push({ type: a.type, name: a.name, inputs: a.inputs }), { id: a.name + "-id", state: a.inputs }),
    call: () => ({}),
  }, project, "dev");
  pulumi.runtime.setAllConfig(config);
  const loaded = require(resolve(program));
  await Promise.race([settle(typeof loaded === "function" ? await loaded() : loaded), failed]);
  process.stdout.write(JSON.stringify(registered));
})().catch((e) => { process.stderr.write(String((e && e.message) || e)); process.exit(1); });
`;

/**
 * Runs `program` (TypeScript or JavaScript, in `dir`) in a process of its own with the SDK installed in `dir`
 * under mocks, with `config` as its stack config: what it registers. A module exporting a function (an inline
 * program) is called.
 */
export async function registerProgram(
  dir: string,
  program: string,
  project: string,
  config: Record<string, string> = {},
): Promise<Registered[]> {
  writeFileSync(join(dir, ".register.js"), REGISTER);
  const tsNode = join(REPO_ROOT, "node_modules", "ts-node", "register", "transpile-only");
  const result = await run(
    process.execPath,
    ["-r", tsNode, ".register.js", program, project, JSON.stringify(config)],
    dir,
    {
      ...process.env,
      TS_NODE_COMPILER_OPTIONS: JSON.stringify({
        module: "commonjs",
        target: "ES2022",
        esModuleInterop: true,
      }),
    },
  );
  if (result.status !== 0) throw new Error(`${program} did not register: ${result.output}`);
  return JSON.parse(result.stdout) as Registered[];
}

/** A copy of this checkout's `examples/<name>` with its own `npm install <tarball>`, as a user copies one out. */
export async function copiedExample(name: string): Promise<string> {
  const dir = freshDir(`example-${name}`);
  cpSync(join(REPO_ROOT, "examples", name), dir, { recursive: true });
  const installed = await run(
    "npm",
    ["install", await packedTarball(), "--no-audit", "--no-fund", "--prefer-offline"],
    dir,
  );
  if (installed.status !== 0)
    throw new Error(`npm install in a copy of examples/${name} failed: ${installed.output}`);
  return dir;
}

let policyPack: Promise<string> | undefined;

/** The policy pack the installed package ships, copied out and installed as docs/policy.md says; once. */
export function installedPolicyPack(): Promise<string> {
  policyPack ??= (async () => {
    const dir = await installedProgram(LOCKED_SDK);
    const pack = join(freshDir("policy"), "policy");
    cpSync(join(dir, "node_modules", "pulumi-intune-remote-assistance", "policy"), pack, { recursive: true });
    const installed = await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], pack);
    if (installed.status !== 0) throw new Error(`npm install in the policy pack failed: ${installed.output}`);
    return pack;
  })();
  return policyPack;
}
