/**
 * Throttled scale: N partners created across M tenants at once, as `pulumi up` with unbounded `--parallel`
 * drives them, against the emulator enforcing Intune's limits. Ours goes through the real dynamic-provider
 * host; the baseline is the Microsoft Graph JS SDK (default middleware, RetryHandler included) making the same
 * requests: one list per tenant, then POST, GET and beginOnboarding per partner.
 */
import { readFileSync } from "node:fs";
import { defaultClientId, defaultClientSecret, type Emulator } from "../emulator";
import type { LimitPhase } from "../emulator/throttle";
import { ProviderCallError, ProviderHost, programInputs, urnOf } from "../testing/engine";

export interface ScaleCase {
  partners: number;
  tenants: number;
}

/** What a tenant grants one app, per window: the rate the throttle bound is computed from. */
export interface Granted {
  windowMs: number;
  appWrites: number;
  appAll: number;
  /** The limit's phases, when it changes during the run. */
  phases?: readonly LimitPhase[];
}

export interface ScaleResult extends ScaleCase {
  who: "ours" | "Graph JS SDK";
  wallInMs: number;
  /**
   * From the first Graph request to the end: the wall time without what comes before any request (for ours, the
   * engine's Check and Create calls reaching the host over gRPC, which a program calling Graph directly does not
   * make). The pacing is compared on this.
   */
  graphSpanInMs: number;
  /** The throttle-bound minimum: requests ÷ allowed rate, for the busiest tenant. */
  boundInMs: number;
  requests: number;
  throttled: number;
  failures: number;
  /** Partners in the tenants that the caller does not know of (no id came back for them). */
  orphans: number;
  tokenRequests: number;
  /** Peak resident memory of the process doing the work (the host for ours), in MiB; undefined off Linux. */
  peakMemoryInMiB?: number;
  /** Each request Graph answered, from the first: when, and whether with a 429. */
  timeline: { atMs: number; write: boolean; throttled: boolean }[];
}

/**
 * Whether ours was no slower than the SDK from first request to end, where the SDK completed (no failures, no
 * orphans): the comparison of the two ways of meeting throttling. Pure.
 */
export function comparedWithSdk(
  ours: Pick<ScaleResult, "graphSpanInMs">,
  theirs: Pick<ScaleResult, "graphSpanInMs" | "failures" | "orphans">,
): "yes" | "no" | "SDK failed" {
  if (theirs.failures > 0 || theirs.orphans > 0) return "SDK failed";
  return ours.graphSpanInMs <= theirs.graphSpanInMs ? "yes" : "no";
}

/**
 * The most writes Graph accepted in any `windowMs` of a run's timeline (by their answers): where the SDK goes
 * past Intune's documented budget (100 per 20 s), the pacer, which never does, cannot match its time. Pure.
 */
export function mostWritesInWindow(timeline: ScaleResult["timeline"], windowMs: number): number {
  const atMs = timeline.filter((t) => t.write && !t.throttled).map((t) => t.atMs);
  return mostInWindow(
    atMs.sort((a, b) => a - b),
    windowMs,
  );
}

/** The most of `atMs` (in order) within any `windowMs`. Pure. */
export function mostInWindow(atMs: readonly number[], windowMs: number): number {
  let most = 0;
  for (let first = 0, last = 0; last < atMs.length; last++) {
    while (atMs[last] - atMs[first] >= windowMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

/** The run of median time from first request (the lower middle of an even count), whole. Pure. */
export function medianRun<T extends Pick<ScaleResult, "graphSpanInMs">>(runs: readonly T[]): T {
  const sorted = [...runs].sort((a, b) => a.graphSpanInMs - b.graphSpanInMs);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/**
 * Per tenant: sending `writes` and `all` requests at the rate the tenant grants takes at least this long, the
 * rate following the limits' phases (times from the first request). Pure.
 */
export function throttleBoundInMs(
  writes: number,
  all: number,
  limits: { windowMs: number; appWrites: number; appAll: number; phases?: readonly LimitPhase[] },
): number {
  return Math.max(
    timeToSendInMs(writes, limits.appWrites / limits.windowMs, limits.phases),
    timeToSendInMs(all, limits.appAll / limits.windowMs, limits.phases),
  );
}

/** How long `count` requests take at `perMs`, scaled by each phase's share from its start. Pure. */
export function timeToSendInMs(count: number, perMs: number, phases: readonly LimitPhase[] = []): number {
  const starts = [{ fromMs: 0, share: 1 }, ...phases].sort((a, b) => a.fromMs - b.fromMs);
  let left = count;
  for (let i = 0; i < starts.length; i++) {
    const rate = perMs * starts[i].share;
    const end = starts[i + 1]?.fromMs ?? Infinity;
    const canSend = rate * (end - starts[i].fromMs);
    if (canSend >= left) return starts[i].fromMs + left / rate;
    left -= canSend;
  }
  return Infinity;
}

/**
 * The targets: no failures and no orphans; within 1.3× of the throttle bound and 429s under 5 % of requests
 * where the limit is the documented one, within 1.5× and under 10 % where it is not known to the client.
 */
export function meetsTarget(
  r: Pick<ScaleResult, "wallInMs" | "boundInMs" | "requests" | "throttled" | "failures" | "orphans">,
  limitKnown = true,
): boolean {
  const [ratio, share] = limitKnown ? [1.3, 0.05] : [1.5, 0.1];
  return (
    r.wallInMs <= ratio * r.boundInMs &&
    r.throttled < share * r.requests &&
    r.failures === 0 &&
    r.orphans === 0
  );
}

function busiestBound(emulator: Emulator, tenants: string[], since: number, granted?: Granted): number {
  const limits = granted ?? emulator.throttle?.limits;
  if (!limits) return 0;
  return Math.max(
    ...tenants.map((t) => {
      const mine = emulator.requests.slice(since).filter((r) => r.tenantId === t && r.status !== 429);
      return throttleBoundInMs(mine.filter((r) => r.method !== "GET").length, mine.length, limits);
    }),
  );
}

/** Runs `work` (which records the id of each partner it knows of) and measures what it sent to the emulator. */
async function measure(
  emulator: Emulator,
  tenants: string[],
  granted: Granted | undefined,
  work: (known: Set<string>) => Promise<PromiseSettledResult<unknown>[]>,
): Promise<Omit<ScaleResult, keyof ScaleCase | "who">> {
  const since = emulator.requests.length;
  const tokensBefore = emulator.tokenRequests.length;
  const known = new Set<string>();
  const started = Date.now();
  const results = await work(known);
  const wallInMs = Date.now() - started;
  const requests = emulator.requests.slice(since);
  return {
    wallInMs,
    graphSpanInMs: wallInMs - Math.max(0, (requests[0]?.atMs ?? started) - started),
    boundInMs: busiestBound(emulator, tenants, since, granted),
    requests: requests.length,
    throttled: requests.filter((r) => r.status === 429).length,
    failures: results.filter((r) => r.status === "rejected").length,
    orphans: tenants.flatMap((t) => emulator.tenant(t).all()).filter((p) => !known.has(p.id)).length,
    tokenRequests: emulator.tokenRequests.length - tokensBefore,
    timeline: requests.map((r) => ({
      atMs: r.atMs - requests[0].atMs,
      write: r.method !== "GET",
      throttled: r.status === 429,
    })),
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

/** How a run is set up: what the tenant grants, and what the client is told. */
export interface RunSetup {
  /**
   * Each partner's whole life instead of its create: created, disconnected (`connected: false`), destroyed, as a
   * busy tenant's stacks do.
   */
  lifecycle?: boolean;
  /** The rate the throttle bound is computed from; default the emulator's per-app limits. */
  granted?: Granted;
  /** Intune's documented budget as our provider is configured with it (the window compressed, if so). */
  documented?: { windowMs: number; writes: number; requests: number };
}

/** Creates the partners through one dynamic-provider host, all at once, as the engine would. */
export async function runOurs(
  emulator: Emulator,
  tenants: string[],
  c: ScaleCase,
  setup: RunSetup = {},
): Promise<ScaleResult> {
  const host = await ProviderHost.start({ env: emulator.env() });
  try {
    // Pacing at Intune's documented budget, whatever the emulator enforces: the provider is not told.
    const documented = setup.documented;
    await host.configure({
      "intune:rateWindowSeconds": String((documented?.windowMs ?? 20_000) / 1000),
      "intune:writesPerWindow": String(documented?.writes ?? 0),
      "intune:requestsPerWindow": String(documented?.requests ?? 0),
      "intune:retryDeadlineSeconds": "3600",
    });
    const { __provider } = (await programInputs("scale", { displayName: "scale" })).inputs;
    // Warm, as the Graph JS SDK is in this process: the provider and its libraries loaded, by one operation in
    // a tenant of its own. Each measured tenant still costs its token and connection, as for the SDK. The cold
    // start a real `pulumi up` pays once is in the cold-start table.
    await host.delete("warm-up", urnOf("warm-up"), {
      __provider,
      tenantId: emulator.newTenant(),
      apiVersion: "beta",
      deleteOnDestroy: false,
    });
    const measured = await measure(emulator, tenants, setup.granted, (known) =>
      Promise.allSettled(
        Array.from({ length: c.partners }, async (_, i) => {
          const urn = urnOf(`scale-${i}`);
          const tenantId = tenants[i % tenants.length];
          const { inputs } = await host.check(urn, {}, { __provider, displayName: `ours-${i}`, tenantId });
          let created: { id: string; properties: Record<string, unknown> };
          try {
            created = await host.create(urn, inputs);
            known.add(created.id);
          } catch (e) {
            // ErrorResourceInitFailed: the partner is in state, known to the engine.
            if (e instanceof ProviderCallError && e.initFailed) known.add(e.initFailed.id);
            throw e;
          }
          if (!setup.lifecycle) return;
          const disconnected = await host.update(created.id, urn, created.properties, {
            ...inputs,
            connected: false,
          });
          await host.delete(created.id, urn, disconnected);
          known.delete(created.id);
        }),
      ),
    );
    return { ...c, who: "ours", ...measured, peakMemoryInMiB: peakMemoryInMiB(host.pid) };
  } finally {
    await host.stop();
  }
}

/** The same requests with the Microsoft Graph JS SDK and its default middleware, in this process. */
export async function runGraphSdk(
  emulator: Emulator,
  tenants: string[],
  c: ScaleCase,
  setup: RunSetup = {},
): Promise<ScaleResult> {
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
  const measured = await measure(emulator, tenants, setup.granted, (known) => {
    const lists = new Map(tenants.map((t) => [t, clients.get(t)!.api(path).get()]));
    return Promise.allSettled(
      Array.from({ length: c.partners }, async (_, i) => {
        const tenantId = tenants[i % tenants.length];
        const client = clients.get(tenantId)!;
        await lists.get(tenantId);
        const created = await client
          .api(path)
          .post({ "@odata.type": "#microsoft.graph.remoteAssistancePartner", displayName: `sdk-${i}` });
        known.add(created.id);
        await client.api(`${path}/${created.id}`).get();
        await client.api(`${path}/${created.id}/beginOnboarding`).post(undefined);
        if (!setup.lifecycle) return;
        // As ours: connected: false (a disconnect), then destroy (a disconnect and the DELETE).
        await client.api(`${path}/${created.id}/disconnect`).post(undefined);
        await client.api(`${path}/${created.id}/disconnect`).post(undefined);
        await client.api(`${path}/${created.id}`).delete();
        known.delete(created.id);
      }),
    );
  });
  return { ...c, who: "Graph JS SDK", ...measured };
}
