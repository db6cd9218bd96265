/**
 * `npm start`: the example a real tenant needs (adopt its TeamViewer connector) against the emulator's realistic
 * profile, end to end with the real Pulumi CLI: `pulumi up` adopts Intune's own row by name and begins
 * onboarding; the administrator's confirmation at TeamViewer is played by the emulator's confirm URL;
 * `pulumi refresh` sees it onboarded; `pulumi destroy` disconnects it and leaves it in the tenant. The CLI is
 * found or made as `npm run pulumi-cli` does; a file backend in `.pulumi-state/` holds the stack `emulator`.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmulator } from "../emulator";
import { PACKAGE_ROOT as root } from "../provider/pulumiCli";
import { runPulumi } from "../provider/runPulumi";
import { cliKind, pulumiCli } from "./pulumi-cli";

const program = join(root, "examples", "adopt-teamviewer", "index.ts");

async function main(): Promise<number> {
  const cli = await pulumiCli();
  console.log(`Pulumi CLI ${cli.version} (${cli.source}): ${cli.path}`);
  console.log(cliKind(cli.path));
  const emulator = await startEmulator({ profile: "realistic" });
  const backend = join(root, ".pulumi-state");
  rmSync(backend, { recursive: true, force: true }); // the emulator's tenant is new on every run
  mkdirSync(backend, { recursive: true });
  const home = mkdtempSync(join(tmpdir(), "intune-start-pulumi-home-"));
  const tenantId = emulator.env().AZURE_TENANT_ID;
  const env = {
    ...process.env,
    ...emulator.env(),
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_HOME: home,
    PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "",
  };
  const run = async (...args: string[]) => {
    console.log(`\n$ pulumi ${args.join(" ")}`);
    const result = await runPulumi(cli.path, [...args, "--non-interactive"], {
      cwd: root,
      env,
      program,
      echo: true,
    });
    if (result.code !== 0) throw new Error(`pulumi ${args[0]} failed (exit ${result.code})`);
  };
  const row = emulator.intuneRow(tenantId)!;
  console.log(
    `Emulator (realistic profile): Graph ${emulator.graphEndpoint}, Entra ${emulator.authorityHost}; tenant ` +
      `${tenantId} holds Intune's own '${row.displayName}' (${row.id}), ${row.status}`,
  );
  try {
    await run("stack", "select", "--create", "emulator");
    await run("config", "set", "protect", "false"); // the demo destroys what it adopted
    await run("up", "--yes", "--refresh");
    await run("stack", "output", "--json");
    console.log(
      `\nThe administrator completes onboarding at TeamViewer (the emulator: POST ${emulator.confirmUrl(tenantId, row.id)})`,
    );
    emulator.tenant(tenantId).confirmOnboarding(row.id);
    await run("refresh", "--yes", "--run-program"); // the program updates the stack outputs too
    await run("stack", "output", "onboardingStatus");
    emulator.clearLog();
    await run("destroy", "--yes");
    console.log(`\nGraph calls made by the destroy: ${emulator.calls().join(", ")}`);
    const after = emulator.intuneRow(tenantId)!;
    console.log(`Intune's row is still there: '${after.displayName}' (${after.id}), ${after.status}`);
    return 0;
  } finally {
    await emulator.close();
    rmSync(home, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
