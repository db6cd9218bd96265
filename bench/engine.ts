/**
 * The real Pulumi engine's own cost: the CLI built from its Go modules (cold and cached), `npm start` end to end,
 * and N partners created and destroyed through the CLI beside the same through the harness (testing/engine.ts,
 * which drives the same dynamic-provider host without the engine) and through the `intune` plugin.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { startEmulator } from "../emulator";
import { PACKAGE_ROOT, type PulumiCli } from "../provider/pulumiCli";
import { runPulumi } from "../provider/runPulumi";
import { buildPluginArchive } from "../scripts/plugin-archive";
import { goBuildArgs } from "../scripts/pulumi-cli";
import { ProviderHost, Stack, programInputs, type Props } from "../testing/engine";

const timed = async <T>(fn: () => Promise<T> | T): Promise<{ result: T; ms: number }> => {
  const started = performance.now();
  const result = await fn();
  return { result, ms: performance.now() - started };
};

/** Wall time of a command, in ms; throws with its output unless it exits 0. */
function command(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): number {
  const started = performance.now();
  const result = spawnSync(cmd, args, { encoding: "utf8", ...options });
  if (result.status !== 0)
    throw new Error(`${cmd} ${args.join(" ")} failed: ${result.stderr}${result.stdout}`);
  return performance.now() - started;
}

/** The CLI's build with Go: cold (empty module and build caches) and with the caches a first build left. */
export function cliBuildTimes(version: string): { coldInMs: number; cachedInMs: number; foundInMs: number } {
  const scratch = mkdtempSync(join(tmpdir(), "intune-bench-go-"));
  const build = (env: NodeJS.ProcessEnv) =>
    command("go", goBuildArgs(version, join(scratch, "pulumi")), {
      cwd: join(PACKAGE_ROOT, "tools", "pulumi-cli"),
      env: { ...process.env, ...env },
    });
  try {
    const caches = {
      GOMODCACHE: join(scratch, "mod"),
      GOCACHE: join(scratch, "cache"),
      GOFLAGS: "-modcacherw",
    };
    const coldInMs = build(caches);
    const cachedInMs = build(caches);
    const foundInMs = command(process.execPath, [join(PACKAGE_ROOT, "bin", "scripts", "pulumi-cli.js")]);
    return { coldInMs, cachedInMs, foundInMs };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** `npm start` (the compiled script) from start to exit 0, in ms. */
export function npmStartInMs(cli: PulumiCli): number {
  return command(process.execPath, [join(PACKAGE_ROOT, "bin", "scripts", "start.js")], {
    env: { ...process.env, PATH: `${join(cli.path, "..")}:${process.env.PATH}` },
  });
}

/** A side's times, and the bytes of state per partner after its `up`. */
export interface EngineSide {
  upInMs: number;
  destroyInMs: number;
  stateBytesPerPartner?: number;
}

/**
 * `partners` partners created by one `pulumi up --yes`, then destroyed, through the CLI (a Node.js program, the
 * dynamic provider) and through the harness; and, where the CLI has the YAML host, by a YAML program through the
 * `intune` plugin with the same CLI.
 */
export async function engineCost(
  cli: PulumiCli,
  partners: number,
): Promise<{ cli: EngineSide; harness: EngineSide; plugin?: EngineSide }> {
  const emulator = await startEmulator({ onboardingDelayMs: null, throttle: false });
  // Inside the checkout, so that the program resolves this package and @pulumi/pulumi as an installed one does.
  const dir = join(PACKAGE_ROOT, ".scratch", "bench-engine");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "state"), { recursive: true });
  const home = mkdtempSync(join(tmpdir(), "intune-bench-home-"));
  try {
    const names = Array.from({ length: partners }, (_, i) => `p${i}`);
    writeFileSync(join(dir, "Pulumi.yaml"), "name: bench-engine\nruntime: nodejs\n");
    writeFileSync(
      join(dir, "index.js"),
      `const { RemoteAssistancePartner } = require("pulumi-intune-remote-assistance");\n` +
        `for (const name of ${JSON.stringify(names)}) new RemoteAssistancePartner(name, { displayName: "Bench " + name });\n`,
    );
    const tenantId = emulator.newTenant();
    const env = {
      ...process.env,
      ...emulator.env({ tenantId }),
      PULUMI_BACKEND_URL: `file://${join(dir, "state")}`,
      PULUMI_HOME: home,
      PULUMI_CONFIG_PASSPHRASE: "bench",
    };
    const pulumi = async (...args: string[]) => {
      const result = await runPulumi(cli.path, [...args, "--non-interactive", "--stack", "bench"], {
        cwd: dir,
        env,
        program: join(dir, "index.js"),
      });
      if (result.code !== 0)
        throw new Error(`pulumi ${args.join(" ")} failed: ${result.stdout}${result.stderr}`);
    };
    await pulumi("stack", "init");
    // The provider's pacing off: what is measured is the engine's cost, not Intune's budget.
    await pulumi("config", "set", "intune:writesPerWindow", "0");
    const cliUp = await timed(() => pulumi("up", "--yes"));
    const dynamicBytes = stateBytesPerPartner(join(dir, "state"), "bench-engine", "bench", partners);
    const cliDestroy = await timed(() => pulumi("destroy", "--yes"));
    const plugin = existsSync(join(dirname(cli.path), "pulumi-language-yaml"))
      ? await yamlCost(cli, names, emulator, home)
      : undefined;

    const harnessTenant = emulator.newTenant();
    const host = await ProviderHost.start({ env: emulator.env({ tenantId: harnessTenant }) });
    try {
      await host.configure({ "intune:writesPerWindow": "0" });
      const stack = new Stack(host);
      const declared: Record<string, Props> = {};
      for (const name of names)
        declared[name] = (await programInputs(name, { displayName: `Bench ${name}` })).inputs;
      const up = await timed(() => stack.up(declared));
      const destroy = await timed(() => stack.destroy());
      return {
        cli: { upInMs: cliUp.ms, destroyInMs: cliDestroy.ms, stateBytesPerPartner: dynamicBytes },
        harness: { upInMs: up.ms, destroyInMs: destroy.ms },
        plugin,
      };
    } finally {
      await host.stop();
    }
  } finally {
    await emulator.close();
    rmSync(home, { recursive: true, force: true });
  }
}

/** The same partners by a YAML program with the same CLI, through the `intune` plugin of this checkout. */
async function yamlCost(
  cli: PulumiCli,
  names: string[],
  emulator: Awaited<ReturnType<typeof startEmulator>>,
  home: string,
): Promise<EngineSide> {
  const dir = join(PACKAGE_ROOT, ".scratch", "bench-yaml");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "state"), { recursive: true });
  const resources = Object.fromEntries(
    names.map((name) => [
      name,
      { type: "intune:RemoteAssistancePartner", properties: { displayName: `Bench ${name}` } },
    ]),
  );
  writeFileSync(join(dir, "Pulumi.yaml"), JSON.stringify({ name: "bench-yaml", runtime: "yaml", resources }));
  const env = {
    ...process.env,
    ...emulator.env({ tenantId: emulator.newTenant() }),
    PATH: [join(PACKAGE_ROOT, "node_modules", ".bin"), dirname(cli.path), process.env.PATH].join(delimiter),
    PULUMI_BACKEND_URL: `file://${join(dir, "state")}`,
    PULUMI_HOME: home,
    PULUMI_CONFIG_PASSPHRASE: "bench",
  };
  const pulumi = async (...args: string[]) => {
    const result = await runPulumi(cli.path, [...args, "--non-interactive", "--stack", "bench"], {
      cwd: dir,
      env,
      program: "",
    });
    if (result.code !== 0)
      throw new Error(`pulumi ${args.join(" ")} failed: ${result.stdout}${result.stderr}`);
  };
  await pulumi("stack", "init");
  await pulumi("config", "set", "intune:writesPerWindow", "0");
  const up = await timed(() => pulumi("up", "--yes"));
  const bytes = stateBytesPerPartner(join(dir, "state"), "bench-yaml", "bench", names.length);
  const destroy = await timed(() => pulumi("destroy", "--yes"));
  return { upInMs: up.ms, destroyInMs: destroy.ms, stateBytesPerPartner: bytes };
}

/** The bytes of the checkpoint's partner resources, per partner (as the file backend stores them). */
function stateBytesPerPartner(backend: string, project: string, stack: string, partners: number): number {
  const file = join(backend, ".pulumi", "stacks", project, `${stack}.json`);
  const checkpoint = JSON.parse(readFileSync(file, "utf8")) as {
    checkpoint: { latest: { resources: { type: string }[] } };
  };
  const ours = checkpoint.checkpoint.latest.resources.filter((r) => /RemoteAssistancePartner$/.test(r.type));
  if (ours.length !== partners) throw new Error(`${file} holds ${ours.length} partners, not ${partners}`);
  return Math.round(ours.reduce((sum, r) => sum + Buffer.byteLength(JSON.stringify(r)), 0) / partners);
}

/** The plugin's single executable (`npm run plugin-archive`, built into a scratch folder): spawn to gRPC port, in ms. */
export async function seaStartInMs(): Promise<number> {
  const dist = mkdtempSync(join(tmpdir(), "intune-bench-sea-"));
  try {
    const archive = await buildPluginArchive(dist);
    spawnSync("tar", ["-xzf", archive, "-C", dist]);
    const started = performance.now();
    const child = spawn(join(dist, "pulumi-resource-intune"), ["127.0.0.1:1"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.once("data", () => resolve());
      child.once("exit", (code) => reject(new Error(`the executable exited with ${code}`)));
    });
    const ms = performance.now() - started;
    child.kill();
    return Math.round(ms);
  } finally {
    rmSync(dist, { recursive: true, force: true });
  }
}
