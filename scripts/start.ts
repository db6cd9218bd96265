/**
 * `npm start`: the example a real tenant needs (adopt its TeamViewer connector) against the emulator's realistic
 * profile, end to end with the Pulumi CLI: `pulumi up` adopts Intune's own row by name and begins onboarding;
 * the administrator's confirmation at TeamViewer is played by the emulator's confirm URL; `pulumi refresh`
 * sees it onboarded; `pulumi destroy` disconnects it and leaves it in the tenant.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { startEmulator } from "../emulator";

const root = resolve(__dirname, "..", "..");
/** Where npm start installs the Pulumi CLI when it is not on PATH. */
const CLI_ROOT = join(root, ".pulumi-cli");

const MANUAL = `Install it by hand, then run npm start again:
  curl -fsSL https://get.pulumi.com | sh        (Linux, macOS)
  brew install pulumi/tap/pulumi                (macOS)
  winget install pulumi                         (Windows)
See https://www.pulumi.com/docs/install/. The tests (npm test) do not need it.`;

/** The Pulumi CLI: on PATH, installed here before, or installed now into .pulumi-cli with the Automation API. */
async function pulumiCli(): Promise<string> {
  if (spawnSync("pulumi", ["version"], { stdio: "ignore" }).status === 0) return "pulumi";
  const local = join(CLI_ROOT, "bin", "pulumi");
  if (existsSync(local)) return local;
  console.log(
    `The Pulumi CLI is not on PATH: installing it into ${CLI_ROOT} (from https://get.pulumi.com)...`,
  );
  const { PulumiCommand } = await import("@pulumi/pulumi/automation");
  try {
    return (await PulumiCommand.install({ root: CLI_ROOT })).command;
  } catch (e) {
    throw new Error(
      `The Pulumi CLI is not on PATH, and installing it failed: ${(e as Error).message} (the installer is ` +
        `https://get.pulumi.com/install.sh, which downloads from https://get.pulumi.com/releases). ${MANUAL}`,
    );
  }
}

/** Runs a pulumi command; asynchronously, so that the emulator in this process can answer it. */
function run(cli: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  console.log(`\n$ pulumi ${args.join(" ")}`);
  const child = spawn(cli, args, { cwd: root, env, stdio: "inherit" });
  return new Promise((ok, fail) =>
    child.on("close", (code) =>
      code === 0 ? ok() : fail(new Error(`pulumi ${args[0]} failed (exit ${code})`)),
    ),
  );
}

async function main(): Promise<number> {
  const cli = await pulumiCli();
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
    await run(cli, ["stack", "select", "--create", "emulator"], env);
    await run(cli, ["config", "set", "protect", "false"], env); // the demo destroys what it adopted
    await run(cli, ["up", "--yes", "--refresh"], env);
    await run(cli, ["stack", "output", "--json"], env);
    console.log(
      `\nThe administrator completes onboarding at TeamViewer (the emulator: POST ${emulator.confirmUrl(tenantId, row.id)})`,
    );
    emulator.tenant(tenantId).confirmOnboarding(row.id);
    await run(cli, ["refresh", "--yes"], env);
    await run(cli, ["stack", "output", "onboardingStatus"], env);
    emulator.clearLog();
    await run(cli, ["destroy", "--yes"], env);
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
