#!/usr/bin/env node
/**
 * `npx pulumi-intune-remote-assistance <command>`: `partners` lists a tenant's remote assistance partners with the
 * settings and credentials the provider uses, so that nobody needs Graph Explorer to find what to adopt;
 * `emulator` starts the Graph + Entra emulator this package is tested with.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { configure, partnersFor, settings } from "./core/runtime";
import { apiVersions, type ApiVersion } from "./graph/client";
import type { Partner } from "./graph/partners";
import { toPluginState, type ExportedStack, type Migration } from "./migrate";
import { describePartners } from "./partner/create";
import { cliPlaces, findPulumiCli } from "./pulumiCli";
import { hasNodeLanguagePlugin, projectProgram, runPulumi, runsProgram } from "./runPulumi";

const COMMANDS = `npx pulumi-intune-remote-assistance <command> [options]

  partners    list a tenant's remote assistance partners: what to adopt, by name or id
  pulumi      run a Pulumi CLI command (up, preview, refresh, destroy, …) on the project in this folder, with
              a CLI that has no Node.js language plugin too (the one npm run pulumi-cli builds from Go)
  migrate-to-plugin
              move a stack's dynamic RemoteAssistancePartner and RemoteAssistanceSettings resources to the
              intune plugin's, in its state only: no Graph call
  emulator    start the Graph + Entra emulator on loopback, for tests and demos (no tenant needed)

Run a command with --help for its options.`;

const PULUMI_USAGE = `npx pulumi-intune-remote-assistance pulumi <command> [pulumi's own arguments]

Runs the Pulumi CLI (found on PATH, in a checkout's .pulumi-cli or in ~/.pulumi, as npm start finds it) on the
Pulumi project in this folder. Where the CLI has a Node.js language plugin, this is plain pulumi. Where it has
none (a CLI built from its Go modules), up, preview, refresh and destroy run the project's program inline, in
this process, as the Automation API runs inline programs, and --policy-pack <folder> runs a Node.js policy pack
through a launcher: the engine, the plugins and the state are the CLI's.

  npx pulumi-intune-remote-assistance pulumi stack init dev
  npx pulumi-intune-remote-assistance pulumi up --policy-pack ./policy --policy-pack-config policy/config.json`;

const USAGE = `npx pulumi-intune-remote-assistance partners [options]

Lists a tenant's remote assistance partners (id, state, name, onboarding URL), with the settings and
credentials the provider uses: the AZURE_* and INTUNE_* environment, and with --stack the stack's intune:*
config (read with the Pulumi CLI, secrets included).

  --tenant T          the tenant (GUID or domain); default intune:tenantId, else AZURE_TENANT_ID
  --stack S           read the intune:* config of stack S of the Pulumi project in this directory
  --api-version V     beta (default) or v1.0
  --json              the partners as JSON
  --help              this text`;

/**
 * The intune:* config of a stack, read with `pulumi config --json --show-secrets` by the CLI found where
 * `npm start` finds one.
 */
function stackConfig(stack: string): Record<string, string> {
  const cli = findPulumiCli();
  if (!cli) {
    throw new Error(
      `Reading the config of stack ${stack} needs the Pulumi CLI, and none was found (looked ${cliPlaces()}). ` +
        "Install it (https://www.pulumi.com/docs/install/), or pass --tenant and export the AZURE_* variables instead of --stack.",
    );
  }
  const result = spawnSync(cli.path, ["config", "--json", "--show-secrets", "--stack", stack], {
    encoding: "utf8",
    env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
  });
  if (result.error || result.status !== 0) {
    throw new Error(
      `The Pulumi CLI (${cli.path}) could not read the config of stack ${stack} in ${process.cwd()}: ` +
        `${result.error?.message ?? result.stderr.trim()}. Run this in the stack's project folder (where its ` +
        "Pulumi.yaml is), logged in to its backend, or pass --tenant and export the AZURE_* variables instead.",
    );
  }
  const parsed = JSON.parse(result.stdout) as Record<string, { value?: unknown }>;
  return Object.fromEntries(
    Object.entries(parsed)
      .filter(([key, entry]) => key.startsWith("intune:") && entry.value !== undefined)
      .map(([key, entry]) => [key, String(entry.value)]),
  );
}

function table(partners: Partner[]): string {
  const rows = [
    ["ID", "STATUS", "NAME", "ONBOARDING URL"],
    ...partners.map((p) => [p.id, p.onboardingStatus, p.displayName ?? "", p.onboardingUrl ?? "(none)"]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => `  ${r.map((cell, i) => cell.padEnd(widths[i])).join("  ")}`.trimEnd()).join("\n");
}

/** Runs a command; resolves the exit code. Output and errors go to `out` and `err`. */
export async function main(
  argv: string[],
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error,
): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "partners") return partners(rest, out, err);
  if (command === "pulumi") return pulumi(rest, out, err);
  if (command === "migrate-to-plugin") return migrate(rest, out, err);
  if (command === "emulator") {
    const emulator = require("../emulator/cli") as typeof import("../emulator/cli");
    return emulator.main(rest, out, err);
  }
  const help = command === "--help" || command === "-h";
  (help ? out : err)(
    command === undefined || help ? COMMANDS : `Unknown command '${command}'.\n\n${COMMANDS}`,
  );
  return help ? 0 : 2;
}

const MIGRATE_USAGE = `npx pulumi-intune-remote-assistance migrate-to-plugin --stack S [--yes]

Moves the stack's RemoteAssistancePartner and RemoteAssistanceSettings resources (the dynamic provider) to the
intune plugin's (intune:index:RemoteAssistancePartner, …Settings) by rewriting its state: the same ids, inputs
and outputs (what the stack created or adopted, Remote Help's original values), no Graph call. Run it in the
project's folder after its program declares the plugin's resources under the same names (YAML, or the
@pulumi-intune-remote-assistance/intune SDK); the project keeps its name.

Without --yes it says what it would move. With --yes it saves the state to
.intune-migrate-<stack>-<time>.json, imports the new one, and runs pulumi preview --expect-no-changes: when the
program would change anything, it imports the saved state back and says so. Nothing is ever sent to Graph.`;

/** `migrate-to-plugin`: the stack's dynamic intune resources moved to the plugin, in its state only. */
async function migrate(
  argv: string[],
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { stack: { type: "string" }, yes: { type: "boolean" }, help: { type: "boolean" } },
  });
  if (values.help || !values.stack) {
    (values.help ? out : err)(MIGRATE_USAGE);
    return values.help ? 0 : 2;
  }
  const cli = findPulumiCli();
  if (!cli) {
    err(`No Pulumi CLI found (looked ${cliPlaces()}): install it, or in a checkout run npm run pulumi-cli.`);
    return 1;
  }
  const stack = values.stack;
  const pulumiIn = (args: string[]) =>
    runPulumi(cli.path, [...args, "--stack", stack, "--non-interactive"], {
      cwd: process.cwd(),
      env: process.env,
      program: hasNodeLanguagePlugin(cli.path) ? "" : projectProgramOrNone(),
    });
  const saved = join(process.cwd(), `.intune-migrate-${stack}-${Date.now()}.json`);
  const exported = await pulumiIn(["stack", "export", "--file", saved]);
  if (exported.code !== 0) return fail(err, `pulumi stack export failed: ${exported.stderr.trim()}`);
  let migration: Migration;
  try {
    migration = toPluginState(JSON.parse(readFileSync(saved, "utf8")) as ExportedStack);
  } catch (e) {
    rmSync(saved, { force: true });
    return fail(err, (e as Error).message);
  }
  const moves = Object.entries(migration.moved);
  if (moves.length === 0) {
    rmSync(saved, { force: true });
    out(
      `Stack ${stack} holds no RemoteAssistancePartner or RemoteAssistanceSettings of the dynamic provider: nothing to move.`,
    );
    return 0;
  }
  for (const [from, to] of moves) out(`${values.yes ? "moving" : "would move"} ${from}\n        to ${to}`);
  if (!values.yes) {
    rmSync(saved, { force: true });
    out("Nothing was changed. Run again with --yes to move them (no Graph call is made).");
    return 0;
  }
  const next = `${saved.slice(0, -".json".length)}.plugin.json`;
  writeFileSync(next, JSON.stringify(migration.state, null, 2));
  const imported = await pulumiIn(["stack", "import", "--file", next]);
  rmSync(next, { force: true });
  if (imported.code !== 0)
    return fail(err, `pulumi stack import failed (the state is as it was): ${imported.stderr.trim()}`);
  const preview = await pulumiIn(["preview", "--expect-no-changes"]);
  if (preview.code !== 0) {
    const restored = await pulumiIn(["stack", "import", "--file", saved]);
    return fail(
      err,
      `pulumi preview would change the stack after the move, so the state was put back${restored.code === 0 ? "" : ` (that failed too: import ${saved} with pulumi stack import)`}: ` +
        "declare the plugin's resources under the same names as the dynamic ones, with the same inputs, then run this again.\n" +
        preview.stdout.trim(),
    );
  }
  out(`Moved ${moves.length} resource(s); pulumi preview shows no change. The state before is in ${saved}.`);
  return 0;
}

function fail(err: (line: string) => void, message: string): number {
  err(message);
  return 1;
}

/** The project's Node.js program to run inline, or "" (a YAML project, or no program found). */
function projectProgramOrNone(): string {
  try {
    return projectProgram(process.cwd());
  } catch {
    return "";
  }
}

/** `pulumi`: the Pulumi CLI on the project in this folder, its program inline where the CLI cannot run it. */
async function pulumi(
  argv: string[],
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h") {
    (argv.length === 0 ? err : out)(PULUMI_USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  const cli = findPulumiCli();
  if (!cli) {
    err(
      `No Pulumi CLI found (looked ${cliPlaces()}). Install it (https://www.pulumi.com/docs/install/: ` +
        "curl -fsSL https://get.pulumi.com | sh), or in a checkout of this project run npm run pulumi-cli.",
    );
    return 1;
  }
  let program = "";
  if (!hasNodeLanguagePlugin(cli.path)) {
    try {
      program = projectProgram(process.cwd());
    } catch (e) {
      if (runsProgram(argv[0])) {
        err((e as Error).message);
        return 1;
      }
    }
  }
  const result = await runPulumi(cli.path, argv, {
    cwd: process.cwd(),
    env: process.env,
    program,
    interactive: true,
  });
  return result.code;
}

/** `partners`: lists a tenant's partners. */
async function partners(
  argv: string[],
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        tenant: { type: "string" },
        stack: { type: "string" },
        "api-version": { type: "string", default: "beta" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    });
  } catch (e) {
    err(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const apiVersion = values["api-version"] as ApiVersion;
  if (!apiVersions.includes(apiVersion)) {
    err(`--api-version must be one of ${apiVersions.join(", ")}`);
    return 2;
  }
  try {
    const config = values.stack ? stackConfig(values.stack) : {};
    configure({ config: { get: (key: string) => config[key], require: (key: string) => config[key] } });
    const tenantId = values.tenant ?? settings().tenantId;
    if (!tenantId) {
      err(
        "No tenant: pass --tenant <tenant GUID or domain>, or --stack <stack> whose config has intune:tenantId, " +
          "or export AZURE_TENANT_ID.",
      );
      return 1;
    }
    const partners = await partnersFor(tenantId, apiVersion).list();
    if (values.json) {
      out(JSON.stringify(partners, null, 2));
      return 0;
    }
    if (partners.length === 0) {
      out(
        `Tenant ${tenantId} has no remote assistance partners: a RemoteAssistancePartner without adopt creates one.`,
      );
      return 0;
    }
    out(`Remote assistance partners in tenant ${tenantId} (${apiVersion}):`);
    out(table(partners));
    out(
      `To manage one: adopt: true with its displayName, or partnerId with its id (${describePartners(partners.slice(0, 1))}: ` +
        `partnerId: "${partners[0].id}").`,
    );
    return 0;
  } catch (e) {
    err(e instanceof Error ? e.message : String(e));
    return 1;
  }
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  main(argv).then((code) => {
    // The emulator serves until it is stopped (Ctrl-C); every other command is done.
    if (code !== 0 || argv[0] !== "emulator") process.exit(code);
  });
}
