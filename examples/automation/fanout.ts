// One stack per tenant, fanned out with bounded concurrency through the Automation API (needs the Pulumi CLI).
// In this folder, after npm install:
//
//   npx ts-node fanout.ts tenants.json 4
//
// tenants.json: [{ "tenantId": "contoso.onmicrosoft.com", "connected": true }, …]. Each stack runs
// `up --refresh` with the tenant in its config, so one tenant's failure leaves the others untouched, and each
// tenant's drift is repaired on every run. Credentials come from the environment (one multi-tenant app).
import { readFileSync } from "node:fs";
import { LocalWorkspace, type PulumiFn, type UpResult } from "@pulumi/pulumi/automation";
import { RemoteAssistancePartner } from "pulumi-intune-remote-assistance";

export interface Tenant {
  tenantId: string;
  /** Adopt this partner by id; without it, the tenant's partner named `displayName` is adopted. */
  partnerId?: string;
  /** Default "TeamViewer Connector", the name Intune most likely gives its own row. */
  displayName?: string;
  connected?: boolean;
}

export interface FanOutResult {
  tenantId: string;
  ok: boolean;
  summary: string;
}

/** The Pulumi program of one tenant's stack. */
export function tenantProgram(tenant: Tenant): PulumiFn {
  return async () => {
    // The tenant's own connector, adopted (never created): by id, or by Intune's name for it.
    const connector = new RemoteAssistancePartner("teamviewer", {
      tenantId: tenant.tenantId,
      ...(tenant.partnerId
        ? { partnerId: tenant.partnerId }
        : { adopt: true, displayName: tenant.displayName ?? "TeamViewer Connector" }),
      connected: tenant.connected ?? true,
    });
    return { partnerId: connector.partnerId, onboardingStatus: connector.onboardingStatus };
  };
}

/**
 * `pulumi up --refresh` of one tenant's stack, created on first use. The workspace is this folder (its
 * Pulumi.yaml; the stacks' settings files are written here): the engine starts the provider's process in it,
 * where `npm install` put this package. A temp folder, the Automation API's default, has no node_modules.
 */
export async function upTenant(tenant: Tenant, workDir = __dirname): Promise<UpResult> {
  const stack = await LocalWorkspace.createOrSelectStack(
    {
      projectName: "intune-fanout",
      stackName: `tenant-${tenant.tenantId.replace(/[^A-Za-z0-9-]/g, "-")}`,
      program: tenantProgram(tenant),
    },
    { workDir },
  );
  await stack.setConfig("intune:tenantId", { value: tenant.tenantId });
  return stack.up({
    refresh: true,
    color: "never",
    onOutput: (line) => process.stdout.write(`[${tenant.tenantId}] ${line}`),
  });
}

/** Runs `run` for every tenant, at most `concurrency` at once; a failure is reported, not thrown. */
export async function fanOut(
  tenants: Tenant[],
  concurrency: number,
  run: (tenant: Tenant) => Promise<{ summary: { result?: string } }> = upTenant,
): Promise<FanOutResult[]> {
  const results: FanOutResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tenants.length) {
      const tenant = tenants[next++];
      try {
        const { summary } = await run(tenant);
        results.push({ tenantId: tenant.tenantId, ok: true, summary: summary.result ?? "succeeded" });
      } catch (e) {
        results.push({
          tenantId: tenant.tenantId,
          ok: false,
          summary: e instanceof Error ? e.message : String(e),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, tenants.length)) }, worker));
  return results;
}

if (require.main === module) {
  const [file, concurrency = "4"] = process.argv.slice(2);
  const tenants = JSON.parse(readFileSync(file, "utf8")) as Tenant[];
  fanOut(tenants, Number(concurrency)).then((results) => {
    for (const r of results) console.log(`${r.ok ? "ok  " : "FAIL"} ${r.tenantId}: ${r.summary}`);
    process.exit(results.every((r) => r.ok) ? 0 : 1);
  });
}
