#!/usr/bin/env node
/**
 * `npx pulumi-intune-remote-assistance partners`: lists a tenant's remote assistance partners with the settings
 * and credentials the provider uses, so that nobody needs Graph Explorer to find what to adopt.
 */
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { configure, partnersFor, tenantOf } from "./core/runtime";
import { apiVersions, type ApiVersion } from "./graph/client";
import type { Partner } from "./graph/partners";
import { describePartners } from "./partner/create";

const USAGE = `npx pulumi-intune-remote-assistance partners [options]

Lists a tenant's remote assistance partners (id, state, name, onboarding URL), with the settings and
credentials the provider uses: the AZURE_* and INTUNE_* environment, and with --stack the stack's intune:*
config (read with the Pulumi CLI, secrets included).

  --tenant T          the tenant (GUID or domain); default intune:tenantId, else AZURE_TENANT_ID
  --stack S           read the intune:* config of stack S of the Pulumi project in this directory
  --api-version V     beta (default) or v1.0
  --json              the partners as JSON
  --help              this text`;

/** The intune:* config of a stack, read with `pulumi config --json --show-secrets`. */
function stackConfig(stack: string): Record<string, string> {
  const result = spawnSync("pulumi", ["config", "--json", "--show-secrets", "--stack", stack], {
    encoding: "utf8",
  });
  if (result.error || result.status !== 0) {
    throw new Error(
      `Could not read the config of stack ${stack} with the Pulumi CLI (${result.error?.message ?? result.stderr.trim()}). ` +
        "Run this in the Pulumi project's directory, or export the AZURE_* variables instead of --stack.",
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

/** Runs the command; resolves the exit code. Output and errors go to `out` and `err`. */
export async function main(
  argv: string[],
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tenant: { type: "string" },
      stack: { type: "string" },
      "api-version": { type: "string", default: "beta" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help || positionals[0] !== "partners") {
    (values.help ? out : err)(USAGE);
    return values.help ? 0 : 2;
  }
  const apiVersion = values["api-version"] as ApiVersion;
  if (!apiVersions.includes(apiVersion)) {
    err(`--api-version must be one of ${apiVersions.join(", ")}`);
    return 2;
  }
  try {
    const config = values.stack ? stackConfig(values.stack) : {};
    configure({ config: { get: (key: string) => config[key], require: (key: string) => config[key] } });
    const tenantId = tenantOf(values.tenant);
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
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
