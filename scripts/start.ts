/**
 * `npm start`: the basic example against the emulator, end to end with the Pulumi CLI: starts the emulator,
 * `pulumi up` with a local file backend, shows the partner's state, then `pulumi destroy` (the disconnect).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { startEmulator } from "../emulator";

const root = resolve(__dirname, "..", "..");

const INSTALL = `The Pulumi CLI is not on PATH. Install it, then run npm start again:
  curl -fsSL https://get.pulumi.com | sh        (Linux, macOS)
  brew install pulumi/tap/pulumi                (macOS)
  winget install pulumi                         (Windows)
See https://www.pulumi.com/docs/install/. The tests (npm test) do not need it.`;

function pulumiAvailable(): boolean {
  const probe = spawnSync("pulumi", ["version"], { stdio: "ignore" });
  return probe.status === 0;
}

function run(args: string[], env: NodeJS.ProcessEnv): void {
  console.log(`\n$ pulumi ${args.join(" ")}`);
  const result = spawnSync("pulumi", args, { cwd: root, env, stdio: "inherit" });
  if (result.status !== 0) throw new Error(`pulumi ${args[0]} failed (exit ${result.status})`);
}

async function main(): Promise<number> {
  if (!pulumiAvailable()) {
    console.error(INSTALL);
    return 1;
  }
  const emulator = await startEmulator({ seedTeamViewer: true, onboardingDelayMs: 3_000 });
  const backend = join(root, ".pulumi-state");
  mkdirSync(backend, { recursive: true });
  const tenantId = emulator.env().AZURE_TENANT_ID;
  const env = {
    ...process.env,
    ...emulator.env(),
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "",
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };
  console.log(
    `Emulator: Graph ${emulator.graphEndpoint}, Entra ${emulator.authorityHost} (tenant ${tenantId})`,
  );
  try {
    run(["stack", "select", "--create", "emulator"], env);
    run(["up", "--yes", "--refresh"], env);
    run(["stack", "output", "--json"], env);
    console.log("\nThe emulator's view of the tenant:");
    for (const p of emulator.tenant(tenantId).all()) console.log(`  ${p.displayName} (${p.id}): ${p.status}`);
    emulator.clearLog();
    run(["destroy", "--yes"], env);
    console.log(`\nGraph calls made by the destroy: ${emulator.calls().join(", ")}`);
    return 0;
  } finally {
    await emulator.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
