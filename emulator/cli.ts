/**
 * `npm run emulator [-- options]`: starts the Graph + Entra emulator and prints the environment to export.
 * `npm run emulator -- --help` lists every option.
 */
import { parseArgs } from "node:util";
import { alternatives, defaultTenantId, profiles, startEmulator, type EmulatorOptions } from "./index";

/** The command-line flag of each unconfirmed alternative, with what it makes the emulator do. */
const SWITCHES: Record<(typeof alternatives)[number], [flag: string, help: string]> = {
  rewriteOnboardingUrl: [
    "rewrite-onboarding-url",
    "the service writes its own onboardingUrl at beginOnboarding",
  ],
  ignorePatch: ["ignore-patch", "PATCH is answered 204 but not applied"],
  refuseCreateDelete: ["refuse-create-delete", "POST and DELETE of partners are refused (405)"],
  throttleWithoutRetryAfter: ["throttle-without-retry-after", "429 answers carry no Retry-After"],
  appOnlyOnboardingForbidden: [
    "app-only-onboarding-forbidden",
    "beginOnboarding with an app-only token is refused (403)",
  ],
  configurationPermission: [
    "configuration-permission",
    "DeviceManagementConfiguration.ReadWrite.All is accepted as an alternative permission",
  ],
};

const HELP = `npm run emulator -- [options]

Starts a Graph + Entra emulator on loopback and prints the environment to export.

  --profile optimistic|realistic   optimistic (default): an onboarded "TeamViewer Connector" to adopt in the
                                   default tenant, onboarding that confirms itself after --onboarding-delay-ms.
                                   realistic: every tenant holds Intune's own "TeamViewer Connector", not
                                   onboarded; onboarding waits until a person confirms it (see below) and
                                   expires after --onboarding-expiry-ms.
  --graph-port N                   Graph's port (default: a free one)
  --login-port N                   Entra's port (default: a free one)
  --onboarding-delay-ms N          optimistic: how long until a partner confirms onboarding by itself (5000)
  --onboarding-expiry-ms N         how long a pending onboarding request lasts (900000)
  --read-lag-ms N                  how long a created partner stays invisible to reads (0)
  --no-throttle                    do not enforce Intune's request limits
  --no-teamviewer                  optimistic: start with an empty tenant
  --log-requests                   print one line per Graph request: method, path, status (never a token)
Switches for what a real tenant may do (unconfirmed; off unless given):
${Object.values(SWITCHES)
  .map(([flag, help]) => `  --${flag.padEnd(30)} ${help}`)
  .join("\n")}
  --help                           this text

Confirm a pending onboarding by hand, as an administrator signing in at TeamViewer would:
  curl -X POST <INTUNE_GRAPH_ENDPOINT>/_emulator/tenants/<tenant>/partners/<partner id>/confirm`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      profile: { type: "string", default: "optimistic" },
      "graph-port": { type: "string", default: "0" },
      "login-port": { type: "string", default: "0" },
      "onboarding-delay-ms": { type: "string", default: "5000" },
      "onboarding-expiry-ms": { type: "string", default: "900000" },
      "read-lag-ms": { type: "string", default: "0" },
      "no-throttle": { type: "boolean", default: false },
      "no-teamviewer": { type: "boolean", default: false },
      "log-requests": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
      ...Object.fromEntries(Object.values(SWITCHES).map(([flag]) => [flag, { type: "boolean" as const }])),
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const profile = values.profile as EmulatorOptions["profile"];
  if (!profiles.includes(profile!)) throw new Error(`--profile must be one of ${profiles.join(", ")}`);
  const realistic = profile === "realistic";
  const emulator = await startEmulator({
    profile,
    graphPort: Number(values["graph-port"]),
    loginPort: Number(values["login-port"]),
    onboardingDelayMs: realistic ? null : Number(values["onboarding-delay-ms"]),
    onboardingExpiryMs: Number(values["onboarding-expiry-ms"]),
    readLagMs: Number(values["read-lag-ms"]),
    throttle: values["no-throttle"] ? false : undefined,
    seedTeamViewer: !realistic && !values["no-teamviewer"],
    logRequests: values["log-requests"] ? (line) => console.log(line) : undefined,
    ...Object.fromEntries(
      alternatives.map((a) => [a, (values as Record<string, unknown>)[SWITCHES[a][0]] === true]),
    ),
  });
  const lines = Object.entries(emulator.env()).map(([k, v]) => `export ${k}=${v}`);
  const on = alternatives.filter((a) => emulator.behaviour[a]).map((a) => `--${SWITCHES[a][0]}`);
  console.log(
    `# Intune remote assistance emulator (${emulator.profile}${on.length > 0 ? `, ${on.join(" ")}` : ""}): Graph ${emulator.graphEndpoint}, Entra ${emulator.authorityHost}`,
  );
  console.log("# Export these in the shell that runs pulumi (Ctrl-C stops the emulator):");
  console.log(lines.join("\n"));
  if (realistic) {
    const row = emulator.intuneRow(defaultTenantId)!;
    console.log(
      `# Intune's own row: '${row.displayName}' (${row.id}), ${row.status}. After a pulumi up connects it,`,
    );
    console.log(
      `# confirm the onboarding as the administrator would: curl -X POST ${emulator.confirmUrl(defaultTenantId, row.id)}`,
    );
  }
  const stop = () => void emulator.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
