/**
 * Throttled scale: N partners created across M tenants at once, as `pulumi up` with unbounded `--parallel`
 * drives them, against the emulator enforcing Intune's limits. Ours goes through the real dynamic-provider
 * host; the baseline is the Microsoft Graph JS SDK (default middleware, RetryHandler included) making the same
 * requests: one list per tenant, then POST, GET and beginOnboarding per partner.
 */
import { readFileSync } from "node:fs";
import { defaultClientId, defaultClientSecret, type Emulator } from "../emulator";
import { ProviderHost, programInputs, urnOf } from "../testing/engine";

export interface ScaleCase {
  partners: number;
  tenants: number;
}

export interface ScaleResult extends ScaleCase {
  who: "ours" | "Graph JS SDK";
  wallInMs: number;
  /** The throttle-bound minimum: requests ÷ allowed rate, for the busiest tenant. */
  boundInMs: number;
  requests: number;
  throttled: number;
  failures: number;
  tokenRequests: number;
  /** Peak resident memory of the process doing the work (the host for ours), in MiB; undefined off Linux. */
  peakMemoryInMiB?: number;
}

/** Per tenant: sending `writes` and `reads` at Intune's rate takes at least this long. */
export function throttleBoundInMs(
  writes: number,
  all: number,
  limits: { windowMs: number; appWrites: number; appAll: number },
): number {
  return Math.max((writes / limits.appWrites) * limits.windowMs, (all / limits.appAll) * limits.windowMs);
}

/** The target: within 1.3× of the throttle bound, 429s under 5 % of requests, no failures. */
export function meetsTarget(
  r: Pick<ScaleResult, "wallInMs" | "boundInMs" | "requests" | "throttled" | "failures">,
): boolean {
  return r.wallInMs <= 1.3 * r.boundInMs && r.throttled < 0.05 * r.requests && r.failures === 0;
}

function busiestBound(emulator: Emulator, tenants: string[], since: number): number {
  const limits = emulator.throttle?.limits;
  if (!limits) return 0;
  return Math.max(
    ...tenants.map((t) => {
      const mine = emulator.requests.slice(since).filter((r) => r.tenantId === t && r.status !== 429);
      return throttleBoundInMs(mine.filter((r) => r.method !== "GET").length, mine.length, limits);
    }),
  );
}

/** Runs `work` and measures what it sent to the emulator. */
async function measure(
  emulator: Emulator,
  tenants: string[],
  work: () => Promise<PromiseSettledResult<unknown>[]>,
): Promise<Omit<ScaleResult, keyof ScaleCase | "who">> {
  const since = emulator.requests.length;
  const tokensBefore = emulator.tokenRequests.length;
  const started = Date.now();
  const results = await work();
  const wallInMs = Date.now() - started;
  const requests = emulator.requests.slice(since);
  return {
    wallInMs,
    boundInMs: busiestBound(emulator, tenants, since),
    requests: requests.length,
    throttled: requests.filter((r) => r.status === 429).length,
    failures: results.filter((r) => r.status === "rejected").length,
    tokenRequests: emulator.tokenRequests.length - tokensBefore,
  };
}

/** Peak resident set size of a process, from /proc (Linux). */
export function peakMemoryInMiB(pid: number): number | undefined {
  try {
    const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kib === undefined ? undefined : Math.round(Number(kib) / 1024);
  } catch {
    return undefined;
  }
}

/** Creates the partners through one dynamic-provider host, all at once, as the engine would. */
export async function runOurs(emulator: Emulator, tenants: string[], c: ScaleCase): Promise<ScaleResult> {
  const limits = emulator.throttle?.limits;
  const host = await ProviderHost.start({ env: emulator.env() });
  try {
    // Pacing at the emulator's limits; off when the emulator does not throttle.
    await host.configure({
      "intune:rateWindowSeconds": String((limits?.windowMs ?? 20_000) / 1000),
      "intune:writesPerWindow": String(limits?.appWrites ?? 0),
      "intune:requestsPerWindow": String(limits?.appAll ?? 0),
      "intune:retryDeadlineSeconds": "3600",
    });
    const { __provider } = (await programInputs("scale", { displayName: "scale" })).inputs;
    const measured = await measure(emulator, tenants, () =>
      Promise.allSettled(
        Array.from({ length: c.partners }, async (_, i) => {
          const urn = urnOf(`scale-${i}`);
          const tenantId = tenants[i % tenants.length];
          const { inputs } = await host.check(urn, {}, { __provider, displayName: `ours-${i}`, tenantId });
          await host.create(urn, inputs);
        }),
      ),
    );
    return { ...c, who: "ours", ...measured, peakMemoryInMiB: peakMemoryInMiB(host.pid) };
  } finally {
    await host.stop();
  }
}

/** The same requests with the Microsoft Graph JS SDK and its default middleware, in this process. */
export async function runGraphSdk(emulator: Emulator, tenants: string[], c: ScaleCase): Promise<ScaleResult> {
  const { Client } =
    require("@microsoft/microsoft-graph-client") as typeof import("@microsoft/microsoft-graph-client");
  const { TokenCredentialAuthenticationProvider } =
    require("@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials") as typeof import("@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials");
  const { ClientSecretCredential } = require("@azure/identity") as typeof import("@azure/identity");
  const host = new URL(emulator.graphEndpoint);
  const clients = new Map(
    tenants.map((t) => {
      const credential = new ClientSecretCredential(t, defaultClientId, defaultClientSecret, {
        authorityHost: emulator.authorityHost,
        disableInstanceDiscovery: true,
      });
      const authProvider = new TokenCredentialAuthenticationProvider(credential, {
        scopes: [`${emulator.graphEndpoint}/.default`],
      });
      return [
        t,
        Client.initWithMiddleware({
          authProvider,
          baseUrl: `${emulator.graphEndpoint}/`,
          defaultVersion: "beta",
          customHosts: new Set([host.hostname]),
        }),
      ];
    }),
  );
  const path = "/deviceManagement/remoteAssistancePartners";
  const measured = await measure(emulator, tenants, () => {
    const lists = new Map(tenants.map((t) => [t, clients.get(t)!.api(path).get()]));
    return Promise.allSettled(
      Array.from({ length: c.partners }, async (_, i) => {
        const tenantId = tenants[i % tenants.length];
        const client = clients.get(tenantId)!;
        await lists.get(tenantId);
        const created = await client
          .api(path)
          .post({ "@odata.type": "#microsoft.graph.remoteAssistancePartner", displayName: `sdk-${i}` });
        await client.api(`${path}/${created.id}`).get();
        await client.api(`${path}/${created.id}/beginOnboarding`).post(undefined);
      }),
    );
  });
  return { ...c, who: "Graph JS SDK", ...measured };
}
