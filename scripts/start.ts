/**
 * `npm start`: the example a real tenant needs (adopt its TeamViewer connector) against the emulator's realistic
 * profile, end to end with the Pulumi CLI: `pulumi up` adopts Intune's own row by name and begins onboarding;
 * the administrator's confirmation at TeamViewer is played by the emulator's confirm URL; `pulumi refresh`
 * sees it onboarded; `pulumi destroy` disconnects it and leaves it in the tenant.
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
  const emulator = await startEmulator({ profile: "realistic" });
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
  const row = emulator.intuneRow(tenantId)!;
  console.log(
    `Emulator (realistic profile): Graph ${emulator.graphEndpoint}, Entra ${emulator.authorityHost}; tenant ` +
      `${tenantId} holds Intune's own '${row.displayName}' (${row.id}), ${row.status}`,
  );
  try {
    run(["stack", "select", "--create", "emulator"], env);
    run(["config", "set", "protect", "false"], env); // the demo destroys what it adopted
    run(["up", "--yes", "--refresh"], env);
    run(["stack", "output", "--json"], env);
    console.log(
      `\nThe administrator completes onboarding at TeamViewer (the emulator: POST ${emulator.confirmUrl(tenantId, row.id)})`,
    );
    emulator.tenant(tenantId).confirmOnboarding(row.id);
    run(["refresh", "--yes"], env);
    run(["stack", "output", "onboardingStatus"], env);
    emulator.clearLog();
    run(["destroy", "--yes"], env);
    console.log(`\nGraph calls made by the destroy: ${emulator.calls().join(", ")}`);
    const after = emulator.intuneRow(tenantId)!;
    console.log(`Intune's row is still there: '${after.displayName}' (${after.id}), ${after.status}`);
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
