/**
 * `npx pulumi-intune-remote-assistance emulator [options]` (or `npm run emulator -- [options]` in a checkout):
 * starts the Graph + Entra emulator and prints the environment to export. `--help` lists every option.
 */
import { parseArgs } from "node:util";
import { alternatives, defaultTenantId, profiles, startEmulator, type EmulatorOptions } from "./index";
import { intuneLimits, limitShape, limitShapes, limitsAt, type LimitShapeName } from "./throttle";

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

const HELP = `npx pulumi-intune-remote-assistance emulator [options]

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
  --processing-ms A-B              how long Graph works on each request it admits before answering, spread
                                   between A and B ms (0-0); a 429 comes at once
  --no-throttle                    do not enforce Intune's request limits
  --limit-shape S                  how the limits count (how Graph counts is unconfirmed): sliding (default: no
                                   window holds more than the limit), fixed-first (fixed windows from the first
                                   request), fixed-clock (fixed windows aligned to the clock), bucket (a token
                                   bucket filled at the limit's rate)
  --limit-window-ms N              the window the limits are counted in (20000, as documented)
  --limit-share X                  the limits' rate as a share of the documented one (1)
  --bucket-burst-ms N              bucket: how much of the rate it holds (1000: a second's worth)
  --count-rejected                 a request answered 429 counts against the limit too
  --no-teamviewer                  optimistic: start with an empty tenant
  --log-requests                   print one line per Graph request: method, path, status (never a token)
Switches for what a real tenant may do (unconfirmed; off unless given):
${Object.values(SWITCHES)
  .map(([flag, help]) => `  --${flag.padEnd(30)} ${help}`)
  .join("\n")}
  --help                           this text

Confirm a pending onboarding by hand, as an administrator signing in at TeamViewer would:
  curl -X POST <INTUNE_GRAPH_ENDPOINT>/_emulator/tenants/<tenant>/partners/<partner id>/confirm`;

/** Runs the emulator until SIGINT or SIGTERM; resolves 0 once it listens, or the exit code of a bad start. */
export async function main(
  argv: string[],
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        profile: { type: "string", default: "optimistic" },
        "graph-port": { type: "string", default: "0" },
        "login-port": { type: "string", default: "0" },
        "onboarding-delay-ms": { type: "string", default: "5000" },
        "onboarding-expiry-ms": { type: "string", default: "900000" },
        "read-lag-ms": { type: "string", default: "0" },
        "processing-ms": { type: "string", default: "0-0" },
        "no-throttle": { type: "boolean", default: false },
        "limit-shape": { type: "string", default: "sliding" },
        "limit-window-ms": { type: "string", default: String(intuneLimits.windowMs) },
        "limit-share": { type: "string", default: "1" },
        "bucket-burst-ms": { type: "string", default: "1000" },
        "count-rejected": { type: "boolean", default: false },
        "no-teamviewer": { type: "boolean", default: false },
        "log-requests": { type: "boolean", default: false },
        help: { type: "boolean", default: false },
        ...Object.fromEntries(Object.values(SWITCHES).map(([flag]) => [flag, { type: "boolean" as const }])),
      },
    });
  } catch (e) {
    err(`${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    out(HELP);
    return 0;
  }
  const profile = values.profile as EmulatorOptions["profile"];
  if (!profiles.includes(profile!)) {
    err(`--profile must be one of ${profiles.join(", ")}`);
    return 2;
  }
  const realistic = profile === "realistic";
  const shape = values["limit-shape"] as LimitShapeName;
  if (!limitShapes.includes(shape)) {
    err(`--limit-shape must be one of ${limitShapes.join(", ")}`);
    return 2;
  }
  const processingMs = msRange(values["processing-ms"]);
  if (!processingMs) {
    err(`--processing-ms must be a range of milliseconds A-B with 0 <= A <= B, such as 50-400`);
    return 2;
  }
  const emulator = await startEmulator({
    profile,
    graphPort: Number(values["graph-port"]),
    loginPort: Number(values["login-port"]),
    onboardingDelayMs: realistic ? null : Number(values["onboarding-delay-ms"]),
    onboardingExpiryMs: Number(values["onboarding-expiry-ms"]),
    readLagMs: Number(values["read-lag-ms"]),
    processingMs,
    throttle: values["no-throttle"]
      ? false
      : limitsAt(
          Number(values["limit-share"]),
          Number(values["limit-window-ms"]),
          limitShape(shape, Number(values["bucket-burst-ms"])),
          values["count-rejected"],
        ),
    seedTeamViewer: !realistic && !values["no-teamviewer"],
    logRequests: values["log-requests"] ? (line) => out(line) : undefined,
    ...Object.fromEntries(
      alternatives.map((a) => [a, (values as Record<string, unknown>)[SWITCHES[a][0]] === true]),
    ),
  });
  const lines = Object.entries(emulator.env()).map(([k, v]) => `export ${k}=${v}`);
  const on = alternatives.filter((a) => emulator.behaviour[a]).map((a) => `--${SWITCHES[a][0]}`);
  out(
    `# Intune remote assistance emulator (${emulator.profile}${on.length > 0 ? `, ${on.join(" ")}` : ""}): Graph ${emulator.graphEndpoint}, Entra ${emulator.authorityHost}`,
  );
  out("# Export these in the shell that runs pulumi (Ctrl-C stops the emulator):");
  out(lines.join("\n"));
  if (realistic) {
    const row = emulator.intuneRow(defaultTenantId)!;
    out(
      `# Intune's own row: '${row.displayName}' (${row.id}), ${row.status}. After a pulumi up connects it,`,
    );
    out(
      `# confirm the onboarding as the administrator would: curl -X POST ${emulator.confirmUrl(defaultTenantId, row.id)}`,
    );
  }
  const stop = () => void emulator.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => code !== 0 && process.exit(code),
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}

/** `A-B` as milliseconds `[A, B]`, with 0 <= A <= B; undefined otherwise. */
export function msRange(text: string): [number, number] | undefined {
  const match = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(text.trim());
  if (!match) return undefined;
  const [quickest, longest] = [Number(match[1]), Number(match[2])];
  return quickest <= longest ? [quickest, longest] : undefined;
}
