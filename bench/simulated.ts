/**
 * The pacer against the emulator's limit shapes in simulated time. N partners each go through their life's
 * Graph requests as the provider's host makes them (one duplicate check for the tenant, shared; then each
 * partner created: POST, read-back, beginOnboarding; disconnected; destroyed: a disconnect and the DELETE), all
 * at once or each a little after the one before (as the engine registers them); each attempt goes through a real
 * {@link Pacer} and is counted by the emulator's real {@link Throttle}, and a 429 is retried after its
 * `Retry-After`, as `GraphClient` does. The clock is virtual, so a run of minutes takes a fraction of a second:
 * for tuning the pacer, and for the regression test of its bound under every shape. The bench's real runs
 * (through the provider's host, over HTTPS, against the emulator) are what the figures in BENCHMARKS.md come from.
 */
import { Throttle, type ThrottleLimits } from "../emulator/throttle";
import { intuneAppLimits, Pacer, type PacingClock, type PacingLimits } from "../provider/graph/pacer";
import { throttleBoundInMs } from "./scale";

/** A clock whose time moves only from one timer to the next. */
export class VirtualClock implements PacingClock {
  private nowMs = 0;
  private seq = 0;
  private timers: { atMs: number; seq: number; fn: () => void }[] = [];

  now(): number {
    return this.nowMs;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const timer = { atMs: this.nowMs + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => void (this.timers = this.timers.filter((t) => t !== timer));
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => void this.setTimer(resolve, ms));
  }

  /** Runs timers in order until `work` settles; what it resolved to. */
  async run<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    void work.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (;;) {
      // Every promise chain that can move at this instant moves before time does.
      await new Promise((resolve) => setImmediate(resolve));
      if (settled) return work;
      if (this.timers.length === 0) throw new Error("the simulation is stuck: nothing waits on a timer");
      const next = this.timers.reduce((a, b) =>
        b.atMs < a.atMs || (b.atMs === a.atMs && b.seq < a.seq) ? b : a,
      );
      this.timers = this.timers.filter((t) => t !== next);
      this.nowMs = Math.max(this.nowMs, next.atMs);
      next.fn();
    }
  }
}

/** A partner's life as Graph requests after the tenant's shared duplicate check, in order: `true` a write. */
const LIFE: readonly boolean[] = [true, false, true, true, true, true];

/** The share of legs that stall, when the simulation has stalls. */
export const STALLED_SHARE = 0.05;

/** What one simulated run did. */
export interface SimulatedRun {
  wallInMs: number;
  boundInMs: number;
  requests: number;
  throttled: number;
  /** Requests given up after the client's retries (8; 3 unpaced). */
  failures: number;
  /** Per admitted request, when Graph counted it (and per admitted write); per 429, when. */
  admittedAtMs: number[];
  admittedWritesAtMs: number[];
  throttledAtMs: number[];
}

/**
 * `partners` lives at once against `limits` (its phases included), the pacer configured with `documented`.
 * Latency each way is spread over `latencyInMs` (default 2–12 ms, the emulator's on loopback) by a seeded
 * sequence, so that runs repeat; with `stallInMs`, one leg in {@link STALLED_SHARE} takes up to that much longer
 * (a busy machine: the bench's rows side by side on 2 cores).
 */
export async function simulate(
  limits: ThrottleLimits,
  partners: number,
  options: {
    documented?: PacingLimits;
    /** `false`: no pacer, each 429 retried after its `Retry-After` at most 3 times (the Graph JS SDK's default). */
    paced?: boolean;
    seed?: number;
    latencyInMs?: readonly [number, number];
    stallInMs?: number;
    /** Graph's own time on a request it accepted, spread over this range: after it counted it, before it answers. */
    processingInMs?: readonly [number, number];
    /** Each life starts this long after the one before (the engine registers resources one after another). */
    staggerInMs?: number;
  } = {},
): Promise<SimulatedRun> {
  const clock = new VirtualClock();
  const pacer =
    (options.paced ?? true) ? new Pacer(options.documented ?? intuneAppLimits, undefined, clock) : undefined;
  const throttle = new Throttle(limits);
  let seed = options.seed ?? 1;
  const [fastest, slowest] = options.latencyInMs ?? [2, 12];
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % 1_000;
  const latencyInMs = () => {
    const inMs = fastest + ((slowest - fastest) * next()) / 1_000;
    if (!options.stallInMs || next() >= STALLED_SHARE * 1_000) return inMs;
    return inMs + (options.stallInMs * next()) / 1_000;
  };
  const [quickest, longest] = options.processingInMs ?? [0, 0];
  const processingInMs = () => (longest > 0 ? quickest + ((longest - quickest) * next()) / 1_000 : 0);
  const run: SimulatedRun = {
    wallInMs: 0,
    boundInMs: 0,
    requests: 0,
    throttled: 0,
    failures: 0,
    admittedAtMs: [],
    admittedWritesAtMs: [],
    throttledAtMs: [],
  };
  /** One request, retried as GraphClient retries a 429; false when given up. */
  const request = async (write: boolean): Promise<boolean> => {
    for (let retries = 0; ; retries++) {
      const ticket = await pacer?.acquire(write);
      await clock.sleep(latencyInMs());
      const waitMs = throttle.admit("tenant", "app", write, clock.now());
      run.requests++;
      if (waitMs === 0) {
        run.admittedAtMs.push(clock.now());
        if (write) run.admittedWritesAtMs.push(clock.now());
      } else {
        run.throttled++;
        run.throttledAtMs.push(clock.now());
      }
      // A 429 comes from the throttle in front of the service, at once; Graph works only on what it accepted.
      await clock.sleep((waitMs === 0 ? processingInMs() : 0) + latencyInMs());
      const retryAfterInMs = waitMs === 0 ? undefined : Math.ceil(waitMs);
      if (ticket) pacer?.settle(ticket, { throttled: waitMs > 0, retryAfterInMs });
      if (waitMs === 0) return true;
      if (retries >= (pacer ? 8 : 3)) return false;
      await clock.sleep(retryAfterInMs!);
    }
  };
  const duplicateCheck = request(false);
  await clock.run(
    Promise.all(
      Array.from({ length: partners }, async (_, i) => {
        if (options.staggerInMs) await clock.sleep(i * options.staggerInMs);
        if (!(await duplicateCheck)) {
          run.failures++;
          return;
        }
        for (const write of LIFE) {
          if (!(await request(write))) {
            run.failures++;
            return;
          }
        }
      }),
    ),
  );
  run.wallInMs = clock.now();
  run.boundInMs = throttleBoundInMs(run.admittedWritesAtMs.length, run.admittedAtMs.length, limits);
  return run;
}
