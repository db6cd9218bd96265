/**
 * The real Pulumi engine's own cost: the CLI built from its Go modules (cold and cached), `npm start` end to end,
 * and N partners created and destroyed through the CLI beside the same through the harness (testing/engine.ts,
 * which drives the same dynamic-provider host without the engine).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmulator } from "../emulator";
import { PACKAGE_ROOT, type PulumiCli } from "../provider/pulumiCli";
import { runPulumi } from "../provider/runPulumi";
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

/** `partners` partners created by one `pulumi up --yes`, then destroyed, through the CLI and through the harness. */
export async function engineCost(
  cli: PulumiCli,
  partners: number,
): Promise<{
  cli: { upInMs: number; destroyInMs: number };
  harness: { upInMs: number; destroyInMs: number };
}> {
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
    const cliDestroy = await timed(() => pulumi("destroy", "--yes"));

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
        cli: { upInMs: cliUp.ms, destroyInMs: cliDestroy.ms },
        harness: { upInMs: up.ms, destroyInMs: destroy.ms },
      };
    } finally {
      await host.stop();
    }
  } finally {
    await emulator.close();
    rmSync(home, { recursive: true, force: true });
  }
}
