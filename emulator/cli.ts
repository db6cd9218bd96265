/**
 * `npm run emulator [-- --graph-port N --login-port N --onboarding-delay-ms N --no-throttle --no-teamviewer]`:
 * starts the Graph + Entra emulator and prints the environment to export.
 */
import { parseArgs } from "node:util";
import { startEmulator } from "./index";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "graph-port": { type: "string", default: "0" },
      "login-port": { type: "string", default: "0" },
      "onboarding-delay-ms": { type: "string", default: "5000" },
      "read-lag-ms": { type: "string", default: "0" },
      "no-throttle": { type: "boolean", default: false },
      "no-teamviewer": { type: "boolean", default: false },
    },
  });
  const emulator = await startEmulator({
    graphPort: Number(values["graph-port"]),
    loginPort: Number(values["login-port"]),
    onboardingDelayMs: Number(values["onboarding-delay-ms"]),
    readLagMs: Number(values["read-lag-ms"]),
    throttle: values["no-throttle"] ? false : undefined,
    seedTeamViewer: !values["no-teamviewer"],
  });
  const lines = Object.entries(emulator.env()).map(([k, v]) => `export ${k}=${v}`);
  console.log(
    `# Intune remote assistance emulator: Graph ${emulator.graphEndpoint}, Entra ${emulator.authorityHost}`,
  );
  console.log("# Export these in the shell that runs pulumi (Ctrl-C stops the emulator):");
  console.log(lines.join("\n"));
  const stop = () => void emulator.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
