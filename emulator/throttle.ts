/**
 * Intune's request limits for remote assistance. The documented numbers are per 20 s; how Graph counts them
 * (a sliding window, fixed windows, a token bucket), and whether a rejected request counts too, is unconfirmed:
 * each is a shape here.
 */
export interface ThrottleLimits {
  /** The window the limits below are counted in; for a token bucket, what they are a rate over. */
  windowMs: number;
  /** POST, PUT, PATCH, DELETE per tenant, all apps. */
  tenantWrites: number;
  /** POST, PUT, PATCH, DELETE per app per tenant. */
  appWrites: number;
  /** Any request per tenant, all apps. */
  tenantAll: number;
  /** Any request per app per tenant. */
  appAll: number;
  /** How requests are counted. Default: a sliding window. */
  shape?: LimitShape;
  /** Whether a request answered 429 counts against the limit as well. Default false. */
  countRejected?: boolean;
  /**
   * One limit for every request: reads count against the write limit too. The all-requests limits (`tenantAll`,
   * `appAll`) are then that limit, and writes are not counted apart. Default false.
   */
  everyRequest?: boolean;
  /**
   * Limits that change during the run (another app of the tenant starting and stopping): from `fromMs` after the
   * first request, every limit at `share` of itself (at least one request).
   */
  phases?: readonly LimitPhase[];
}

/** From `fromMs` after the first request, every limit at `share` of itself. */
export interface LimitPhase {
  fromMs: number;
  share: number;
}

/**
 * How a limit counts:
 * - `sliding`: no window of `windowMs` holds more than the limit;
 * - `fixed`: windows of `windowMs` one after another, from the first request (`anchor: "first"`) or aligned to
 *   the clock (`"clock"`), each admitting the limit;
 * - `bucket`: a token bucket filled at the limit per `windowMs`, holding `burstMs` of that rate.
 */
export type LimitShape =
  { kind: "sliding" } | { kind: "fixed"; anchor: "first" | "clock" } | { kind: "bucket"; burstMs: number };

/** The shapes by the names the emulator's flags use. */
export const limitShapes = ["sliding", "fixed-first", "fixed-clock", "bucket"] as const;
export type LimitShapeName = (typeof limitShapes)[number];

/** A shape by its flag name. */
export function limitShape(name: LimitShapeName, burstMs = 1_000): LimitShape {
  switch (name) {
    case "sliding":
      return { kind: "sliding" };
    case "fixed-first":
      return { kind: "fixed", anchor: "first" };
    case "fixed-clock":
      return { kind: "fixed", anchor: "clock" };
    case "bucket":
      return { kind: "bucket", burstMs };
  }
}

/** The documented limits (Microsoft Graph throttling guidance, Intune remote assistance service). */
export const intuneLimits: ThrottleLimits = {
  windowMs: 20_000,
  tenantWrites: 200,
  appWrites: 100,
  tenantAll: 2000,
  appAll: 1000,
};

/**
 * Limits at `share` of the documented rates, counted in windows of `windowMs` (a 2 s window at half the
 * documented rate admits 5 writes per app), in `shape`. Each limit is at least one request. `everyRequest`:
 * reads count against the write limit too (one limit for all requests, at the documented write rate's share).
 */
export function limitsAt(
  share: number,
  windowMs: number,
  shape: LimitShape = { kind: "sliding" },
  countRejected = false,
  everyRequest = false,
): ThrottleLimits {
  const per = (documented: number) =>
    Math.max(1, Math.round((documented * share * windowMs) / intuneLimits.windowMs));
  return {
    windowMs,
    tenantWrites: per(intuneLimits.tenantWrites),
    appWrites: per(intuneLimits.appWrites),
    tenantAll: per(everyRequest ? intuneLimits.tenantWrites : intuneLimits.tenantAll),
    appAll: per(everyRequest ? intuneLimits.appWrites : intuneLimits.appAll),
    shape,
    countRejected,
    ...(everyRequest ? { everyRequest } : {}),
  };
}

/** The share of its limits `limits` enforces `sinceFirstMs` after the first request. Pure. */
export function shareAt(limits: Pick<ThrottleLimits, "phases">, sinceFirstMs: number): number {
  let share = 1;
  for (const phase of limits.phases ?? []) if (sinceFirstMs >= phase.fromMs) share = phase.share;
  return share;
}

/** One limit's count of one key (a tenant, or an app in a tenant; writes, or all requests). */
interface Counter {
  /** How long until one more request fits under `limit`, in ms (0: it fits now). */
  waitInMs(nowMs: number, limit: number): number;
  record(nowMs: number, limit: number): void;
}

/**
 * Counters per tenant and app. `admit` either records the request and returns 0, or returns how many ms until
 * it would be admitted (the request then counts only with `countRejected`).
 */
export class Throttle {
  private readonly counters = new Map<string, Counter>();
  private firstAtMs?: number;

  constructor(readonly limits: ThrottleLimits) {}

  admit(tenantId: string, appId: string, write: boolean, nowMs = Date.now()): number {
    const l = this.limits;
    this.firstAtMs ??= nowMs;
    const share = shareAt(l, nowMs - this.firstAtMs);
    const keys: [string, number][] = [
      [`all|${tenantId}`, l.tenantAll],
      [`all|${tenantId}|${appId}`, l.appAll],
    ];
    if (write && !l.everyRequest)
      keys.push([`write|${tenantId}`, l.tenantWrites], [`write|${tenantId}|${appId}`, l.appWrites]);
    const counters = keys.map(([key, limit]) => ({
      counter: this.counter(key),
      limit: Math.max(1, Math.round(limit * share)),
    }));
    const waitMs = Math.max(0, ...counters.map(({ counter, limit }) => counter.waitInMs(nowMs, limit)));
    if (waitMs === 0 || l.countRejected)
      for (const { counter, limit } of counters) counter.record(nowMs, limit);
    return waitMs;
  }

  private counter(key: string): Counter {
    let counter = this.counters.get(key);
    if (!counter) this.counters.set(key, (counter = newCounter(this.limits)));
    return counter;
  }
}

function newCounter(limits: ThrottleLimits): Counter {
  const { windowMs } = limits;
  const shape = limits.shape ?? { kind: "sliding" };
  switch (shape.kind) {
    case "sliding": {
      let times: number[] = [];
      return {
        waitInMs(nowMs, limit) {
          times = times.filter((t) => t > nowMs - windowMs);
          return times.length < limit ? 0 : times[times.length - limit] + windowMs - nowMs;
        },
        record: (nowMs) => void times.push(nowMs),
      };
    }
    case "fixed": {
      let start: number | undefined;
      let current = -Infinity;
      let count = 0;
      /** Moves to the window `nowMs` is in, counting from 0 when it is a new one. */
      const roll = (nowMs: number) => {
        start ??= shape.anchor === "clock" ? 0 : nowMs;
        const windowStart = start + Math.floor((nowMs - start) / windowMs) * windowMs;
        if (windowStart !== current) [current, count] = [windowStart, 0];
      };
      return {
        waitInMs(nowMs, limit) {
          roll(nowMs);
          return count < limit ? 0 : current + windowMs - nowMs;
        },
        record(nowMs) {
          roll(nowMs);
          count++;
        },
      };
    }
    case "bucket": {
      let tokens: number | undefined;
      let lastMs: number | undefined;
      /** Refilled at the limit's rate up to `burstMs` of it (a bucket starts full). */
      const refill = (nowMs: number, limit: number) => {
        const perMs = limit / windowMs;
        const capacity = Math.max(1, perMs * shape.burstMs);
        tokens = Math.min(capacity, (tokens ?? capacity) + (nowMs - (lastMs ?? nowMs)) * perMs);
        lastMs = Math.max(lastMs ?? nowMs, nowMs);
        return perMs;
      };
      return {
        waitInMs(nowMs, limit) {
          const perMs = refill(nowMs, limit);
          return tokens! >= 1 ? 0 : Math.ceil((1 - tokens!) / perMs);
        },
        record(nowMs, limit) {
          refill(nowMs, limit);
          tokens! -= 1;
        },
      };
    }
  }
}
