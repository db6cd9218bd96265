/**
 * The chaos soak: seeded random sequences of up / refresh / destroy over many resources in several tenants,
 * through the real dynamic-provider host, with random Graph faults. After every step the invariants are
 * checked against the emulator's own store (no HTTP, so no fault can hide a violation).
 */
import type { Emulator, Fault } from "../emulator";
import { seededRandom } from "../emulator";
import { ENGINE_LOST_EXIT_CODE } from "../provider/core/lifeline";
import { FakeEngine, programInputs, ProviderHost, Stack, type Props } from "../testing/engine";

export interface SoakOptions {
  seed: number;
  steps: number;
  resources: number;
  tenants: number;
  /** Share of Graph requests that get a fault. */
  faultRate: number;
  /**
   * Operations at once, as `pulumi up --parallel`. With 1 the run replays exactly from its seed; with more,
   * the order in which requests meet the seeded faults varies between runs.
   */
  parallel: number;
  /**
   * Share of steps in which the engine is lost after a few of the step's Graph requests (its address and pipes
   * closed): the host must exit and Graph hear nothing more; the next step starts a host of a new engine and
   * first does what the README tells a user (adopt by `partnerId` what an interrupted create made, refresh what
   * was in flight). Default 0 (and no draw from the seed, so that earlier seeds replay as before).
   */
  engineLossRate?: number;
}

export interface SoakReport extends SoakOptions {
  /** Provider operations the engine asked for (create, update, read, delete). */
  operations: number;
  /** Of those, how many failed (permanent faults, or transient ones beyond the retry budget). */
  failedOperations: number;
  /** The failures' messages, by step and resource. */
  failures: string[];
  graphRequests: number;
  faultsInjected: number;
  /** Steps in which the engine was lost. */
  engineLosses: number;
  violations: string[];
  seconds: number;
}

/** Faults the soak draws from: mostly transient, some permanent (500, 409) so that failures happen too. */
export const soakFaults: Fault[] = [
  { kind: "status", status: 429, retryAfter: "0.2" },
  { kind: "status", status: 429 },
  { kind: "status", status: 502 },
  { kind: "status", status: 503, body: "text" },
  { kind: "status", status: 504 },
  { kind: "drop", when: "beforeCommit" },
  { kind: "drop", when: "afterCommit" },
  { kind: "slow", delayMs: 1_200 },
  { kind: "malformed" },
  { kind: "status", status: 401, code: "InvalidAuthenticationToken" },
  { kind: "status", status: 500, body: "intune" },
  { kind: "status", status: 409 },
];

interface Desired {
  present: boolean;
  tenantId: string;
  displayName: string;
  connected: boolean;
}

/** Runs a soak on `emulator` with one host; `newTenant` makes a tenant where the emulator's default app is consented. */
export async function runSoak(
  emulator: Emulator,
  newTenant: () => string,
  options: SoakOptions,
): Promise<SoakReport> {
  const started = Date.now();
  const random = seededRandom(options.seed);
  const tenants = Array.from({ length: options.tenants }, newTenant);
  const startHost = async () => {
    const engine = new FakeEngine();
    await engine.start();
    const host = await ProviderHost.start({ env: emulator.env(), engine });
    // Pacing on, its window compressed: the chaos answers 429 at random, each lowering the budget for a window.
    await host.configure({
      "intune:consistencyWindowSeconds": "1",
      "intune:requestTimeoutSeconds": "0.5",
      "intune:rateWindowSeconds": "2",
    });
    return { engine, host };
  };
  let { engine, host } = await startHost();
  const stack = new Stack(host);
  // The SDK serializes the same provider for every resource: take it once from a real registration.
  const { __provider } = (await programInputs("soak", { displayName: "soak" })).inputs;
  const desired: Desired[] = Array.from({ length: options.resources }, (_, i) => ({
    present: true,
    tenantId: tenants[i % tenants.length],
    displayName: `soak-${options.seed}-${i}`,
    connected: random() < 0.7,
  }));
  // What the last successful up of each resource promised about the live partner.
  const promised = new Map<string, { id: string; connected: boolean }>();
  const requestsBefore = emulator.requests.length;
  const faultsBefore = emulator.faults.injected;
  let operations = 0;
  const failures: string[] = [];
  const violations: string[] = [];
  let step = 0;
  let engineLosses = 0;
  const inFlight = new Set<string>();
  // What an engine lost mid-step left uncertain: creates Graph may have made, and entries it may have changed.
  let uncertain = new Set<string>();
  // Set from the engine's loss until the next host starts. An operation this driver starts on the dead host in
  // that time (a real engine starts none) may still reach Graph before the host sees the loss: it is uncertain too.
  let engineGone = false;
  const attempt = async (name: string, fn: () => Promise<void>) => {
    operations++;
    inFlight.add(name);
    if (engineGone) uncertain.add(name);
    try {
      await fn();
    } catch (e) {
      failures.push(`step ${step} ${name}: ${(e as Error).message}`);
    } finally {
      inFlight.delete(name);
    }
  };
  /** After an interrupted run, as the README says: adopt what a create made, refresh what was in flight. */
  const recover = async () => {
    for (const name of uncertain) {
      const d = desired[Number(name.slice(1))];
      const entry = stack.state.get(name);
      if (entry) {
        await attempt(name, async () => {
          const { id, properties } = await host.read(entry.id, entry.urn, entry.outputs, entry.inputs);
          if (id === "") stack.state.delete(name);
          else stack.state.set(name, { ...entry, outputs: properties });
        });
        continue;
      }
      const made = emulator
        .tenant(d.tenantId)
        .all()
        .find((p) => p.displayName === d.displayName && !promisedIds().has(p.id));
      if (!made) continue;
      await attempt(name, async () => {
        // The program adopts it from now on, as the README tells the user.
        adoptedAfterLoss.set(name, made.id);
        await stack.upOne(name, inputsOf(name, d));
        promised.set(name, { id: made.id, connected: d.connected });
      });
    }
    uncertain = new Set();
  };
  /** The program's inputs of a resource: adopted by id after an interrupted create made it. */
  const adoptedAfterLoss = new Map<string, string>();
  const inputsOf = (name: string, d: Desired): Props => ({
    __provider,
    displayName: d.displayName,
    tenantId: d.tenantId,
    connected: d.connected,
    ...(adoptedAfterLoss.has(name) ? { partnerId: adoptedAfterLoss.get(name), deleteOnDestroy: true } : {}),
  });
  const promisedIds = () => new Set([...stack.state.values()].map((e) => e.id));

  let stopWatch = () => undefined as void;
  let lostAtMs = 0;
  const uncertainOf = (names: Set<string>) => ({
    names,
    displayNames: new Set([...names].map((n) => desired[Number(n.slice(1))].displayName)),
  });
  /** The host must exit within 5 s and Graph hear nothing more, past the slowest held answer. */
  const afterLoss = async (lost: ProviderHost, lostAt: number): Promise<string[]> => {
    const found: string[] = [];
    const code = await Promise.race([lost.exited, sleep(5_000).then(() => "running" as const)]);
    if (code !== ENGINE_LOST_EXIT_CODE)
      found.push(
        `the host ${code === "running" ? "still runs" : `exited ${code}`} 5 s after its engine was lost`,
      );
    if (code === "running") await lost.stop();
    await sleep(1_500);
    // What the host sent before it saw the loss (a few milliseconds) was on the wire; nothing may come later.
    const late = emulator.requests
      .slice(lostAt)
      .filter((r) => tenants.includes(r.tenantId ?? "") && r.atMs - lostAtMs > SEEN_WITHIN_MS);
    if (late.length > 0)
      found.push(
        `Graph received ${late.map((r) => `${r.method} ${r.path} ${r.atMs - lostAtMs} ms`).join(", ")} after the engine was lost`,
      );
    return found;
  };
  try {
    for (; step < options.steps; step++) {
      if (uncertain.size > 0) await recover();
      const action = random() < 0.6 ? "up" : random() < 0.75 ? "refresh" : "destroy";
      const losesEngine = (options.engineLossRate ?? 0) > 0 && random() < options.engineLossRate!;
      let lostAt: number | undefined;
      if (losesEngine) {
        const after = emulator.requests.length + 1 + Math.floor(random() * 6);
        const watch = setInterval(() => {
          if (emulator.requests.length < after) return;
          clearInterval(watch);
          lostAt = emulator.requests.length;
          lostAtMs = Date.now();
          uncertain = new Set(inFlight);
          engineGone = true;
          engine.stop();
          host.closePipes();
        }, 5);
        watch.unref();
        stopWatch = () => clearInterval(watch);
      }
      emulator.faults.setChaos({
        rate: options.faultRate,
        seed: options.seed * 1000 + step,
        faults: soakFaults,
      });
      if (action === "up") {
        for (const d of desired) {
          const r = random();
          if (r < 0.25) d.connected = !d.connected;
          else if (r < 0.35) d.displayName = `${d.displayName.split("~")[0]}~${step}`;
          else if (r < 0.45) d.present = !d.present;
        }
        await forEachLimit(
          desired.map((d, i) => [d, i] as const),
          options.parallel,
          async ([d, i]) => {
            const name = `r${i}`;
            if (d.present) {
              await attempt(name, async () => {
                await stack.upOne(name, inputsOf(name, d));
                const entry = stack.state.get(name)!;
                promised.set(name, { id: entry.id, connected: d.connected });
              });
            } else if (stack.state.has(name)) {
              const entry = stack.state.get(name)!;
              await attempt(name, async () => {
                await host.delete(entry.id, entry.urn, entry.outputs);
                stack.state.delete(name);
                promised.delete(name);
                adoptedAfterLoss.delete(name);
              });
            }
          },
        );
      } else if (action === "refresh") {
        await forEachLimit([...stack.state], options.parallel, ([name, entry]) =>
          attempt(name, async () => {
            const { id, properties } = await host.read(entry.id, entry.urn, entry.outputs, entry.inputs);
            if (id === "") stack.state.delete(name);
            else stack.state.set(name, { ...entry, outputs: properties });
          }),
        );
      } else {
        await forEachLimit([...stack.state], options.parallel, ([name, entry]) =>
          attempt(name, async () => {
            await host.delete(entry.id, entry.urn, entry.outputs);
            stack.state.delete(name);
            promised.delete(name);
            adoptedAfterLoss.delete(name);
          }),
        );
        for (const d of desired) d.present = true; // the next up creates them again
      }
      stopWatch();
      emulator.faults.setChaos(undefined);
      if (lostAt !== undefined) {
        engineLosses++;
        violations.push(...(await afterLoss(host, lostAt)).map((v) => `step ${step} (${action}): ${v}`));
        ({ engine, host } = await startHost());
        stack.host = host;
        engineGone = false;
      }
      violations.push(
        ...checkInvariants(emulator, tenants, stack, promised, uncertainOf(uncertain)).map(
          (v) => `step ${step} (${action}): ${v}`,
        ),
      );
    }
  } finally {
    emulator.faults.setChaos(undefined);
    // Leave nothing behind for the next run: a clean destroy without faults.
    stopWatch();
    if (uncertain.size > 0) await recover();
    for (const [, entry] of stack.state)
      await host.delete(entry.id, entry.urn, entry.outputs).catch(() => undefined);
    await host.stop();
    engine.stop();
  }
  return {
    ...options,
    operations,
    failedOperations: failures.length,
    failures,
    graphRequests: emulator.requests.length - requestsBefore,
    faultsInjected: emulator.faults.injected - faultsBefore,
    engineLosses,
    violations,
    seconds: Math.round((Date.now() - started) / 1000),
  };
}

/**
 * No duplicate partner; no orphan (every partner is in state, so destroyed ones are gone); state agrees with
 * the emulator (every state entry exists); nothing is connected that the last successful up disconnected.
 */
export function checkInvariants(
  emulator: Emulator,
  tenants: string[],
  stack: Stack,
  promised: Map<string, { id: string; connected: boolean }>,
  uncertain: { names: Set<string>; displayNames: Set<string> } = {
    names: new Set(),
    displayNames: new Set(),
  },
): string[] {
  const violations: string[] = [];
  const live = new Map(
    tenants.flatMap((t) =>
      emulator
        .tenant(t)
        .all()
        .map((p) => [p.id, p] as const),
    ),
  );
  const inState = new Set([...stack.state.values()].map((e) => e.id));
  for (const t of tenants) {
    const names = emulator
      .tenant(t)
      .all()
      .map((p) => (p.displayName ?? "").toLowerCase());
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) violations.push(`duplicate partner '${dup}' in tenant ${t}`);
  }
  // An engine lost mid-step leaves these for the next step's recovery, as a killed pulumi up leaves them.
  for (const [id, p] of live)
    if (!inState.has(id) && !uncertain.displayNames.has(p.displayName ?? ""))
      violations.push(`orphan partner ${id} ('${p.displayName}')`);
  for (const [name, entry] of stack.state)
    if (!live.has(entry.id) && !uncertain.names.has(name))
      violations.push(`state holds ${name} (${entry.id}), which Graph does not`);
  for (const [name, promise] of promised) {
    const p = live.get(promise.id);
    if (promise.connected || !p || stack.state.get(name)?.id !== promise.id || uncertain.names.has(name))
      continue;
    if (p.status !== "notOnboarded")
      violations.push(`${name} is ${p.status} although the last successful up disconnected it`);
  }
  return violations;
}

/**
 * How soon a host must see its engine's loss (its connection to the engine closing): a request sent before
 * that was already on its way; from then on its requests wait for the verdict, and none is sent once the
 * engine is gone. Measured: a few milliseconds, 75 at most with 8 operations at once on a loaded machine.
 */
const SEEN_WITHIN_MS = 250;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `fn` over `items`, at most `limit` at once, in order when `limit` is 1. */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
