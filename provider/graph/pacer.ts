/**
 * Client-side pacing: Intune limits each app's requests per tenant ("per 20 seconds", by a window or a bucket of
 * a shape nobody has confirmed) and answers 429 past the limit. One pacer per tenant, shared by every concurrent
 * operation of the process, decides when a request is sent; `Retry-After` still rules each retry.
 *
 * Two rules, each per kind of request (writes, and all requests):
 * - a cap: never more than Intune's documented budget in any window of the documented length (a request counts
 *   from its send until a window after its answer: Graph counted it on arrival);
 * - a rate: a token bucket. Until the first 429 it probes: it holds a tenth of the budget, and grows by rounds,
 *   each 1.5 times the last and released once Graph accepted all of the last, up to the whole budget (a gentle
 *   slow start), so that what fits the documented window goes at once. The first 429 shows the limit is tighter,
 *   or shorter, than documented: the bucket then fills at the rate Graph was seen to grant (what it accepted
 *   over the time it took, `Retry-After` included), times β, and holds one second of it, so that no short
 *   window sees a burst; it grows back as CUBIC grows a congestion window (slowly near the rate of the last 429,
 *   quickly far from it), as the AWS SDKs' adaptive retry does with a measured send rate. Never above the
 *   documented rate.
 */

/** How often a waiting request checks whether it may go meanwhile (an answer also wakes it). */
const RECHECK_IN_MS = 100;

/** Requests one app may send to one tenant per window. */
export interface PacingLimits {
  windowMs: number;
  /** POST, PUT, PATCH, DELETE. Intune: 100 per 20 s per app per tenant. */
  writes: number;
  /** Any request. Intune: 1000 per 20 s per app per tenant. */
  requests: number;
}

/** Intune's documented per-app, per-tenant limits for remote assistance. */
export const intuneAppLimits: PacingLimits = { windowMs: 20_000, writes: 100, requests: 1000 };

/** What the bucket holds at first, as a share of the documented budget (then it grows by rounds). */
export const START_BURST_SHARE = 0.1;
/** While probing, each round is this many times the last. */
export const PROBE_GROWTH = 1.5;
/** A throttle event sets the rate to this share of the rate Graph granted (multiplicative decrease). */
export const BETA = 0.7;
/** Once paced, the bucket holds this much of its rate: small enough that no short window sees a burst. */
export const PACED_BURST_IN_MS = 1_000;
/** CUBIC's growth: the rate is back at the last granted rate this long after the decrease. */
export const CUBIC_RECOVERY_IN_MS = 5_000;
/** How fast CUBIC probes above the rate Graph last granted (10 % more a recovery time after reaching it). */
export const CUBIC_PROBE = 0.1;
/** The shortest span a granted rate is measured over. */
export const MIN_ESTIMATE_IN_MS = 1_000;

/** The token bucket of one kind of request. Rates are per second. */
export interface RateState {
  /** `probing` until the first throttle event (the bucket grows by rounds), then `paced`. */
  phase: "probing" | "paced";
  rate: number;
  capacity: number;
  tokens: number;
  refilledAtMs: number;
  /** Probing: requests accepted since the capacity last grew, and how much it grew by then (the round). */
  accepted: number;
  round?: number;
  /** Paced: the rate Graph granted at the last throttle event (CUBIC's W_max), and when it happened. */
  grantedRate: number;
  throttledAtMs: number;
  /** Nothing of the kind goes before this: the `Retry-After` of the last 429 (Graph takes nothing until then). */
  pausedUntilMs: number;
}

/** The bucket a tenant's pacing starts with, for a documented budget of `perWindow` per `windowMs`. Pure. */
export function startRate(perWindow: number, windowMs: number, nowMs: number): RateState {
  const capacity = Math.max(1, Math.ceil(perWindow * START_BURST_SHARE));
  return {
    phase: "probing",
    rate: (perWindow * 1000) / windowMs,
    capacity,
    tokens: capacity,
    refilledAtMs: nowMs,
    accepted: 0,
    grantedRate: 0,
    throttledAtMs: -Infinity,
    pausedUntilMs: -Infinity,
  };
}

/** The bucket refilled at its rate up to `nowMs`. Pure. */
export function refilled(s: RateState, nowMs: number): RateState {
  if (nowMs <= s.refilledAtMs) return s;
  const tokens = Math.min(s.capacity, s.tokens + ((nowMs - s.refilledAtMs) * s.rate) / 1000);
  return { ...s, tokens, refilledAtMs: nowMs };
}

/** How long until the bucket holds a token and no `Retry-After` holds the kind back. Pure. */
export function rateDelayInMs(s: RateState, nowMs: number): number {
  const refill = s.tokens >= 1 ? 0 : Math.ceil(((1 - s.tokens) * 1000) / s.rate);
  return Math.max(refill, s.pausedUntilMs - nowMs);
}

/**
 * After Graph accepted a request, `acceptedInWindow` of its kind now in the documented window. Probing: once the
 * whole last round was accepted, the bucket grows by a round {@link PROBE_GROWTH} times larger (its new room usable
 * at once), and once the documented budget was accepted within a window, Graph grants it all: the bucket holds the
 * whole budget.
 * Paced: the rate follows CUBIC from the last throttle event ({@link cubicRate}); never above the documented
 * rate. Pure.
 */
export function afterAccepted(
  s: RateState,
  documented: { perWindow: number; rate: number },
  nowMs: number,
  acceptedInWindow = 0,
): RateState {
  if (s.phase === "probing") {
    // As TCP's slow start: a round goes at once, and the next one, PROBE_GROWTH times larger, once Graph accepted
    // all of it. Each round past the limit Graph grants is answered with 429s: the growth is gentle.
    const accepted = s.accepted + 1;
    const round = s.round ?? s.capacity;
    if (s.capacity >= documented.perWindow) return { ...s, accepted };
    if (accepted < round && acceptedInWindow < documented.perWindow) return { ...s, accepted };
    const capacity =
      acceptedInWindow >= documented.perWindow
        ? documented.perWindow
        : Math.min(documented.perWindow, s.capacity + round * PROBE_GROWTH);
    return {
      ...s,
      capacity,
      tokens: s.tokens + capacity - s.capacity,
      accepted: 0,
      round: capacity - s.capacity,
    };
  }
  const rate = Math.min(documented.rate, cubicRate(s.grantedRate, nowMs - s.throttledAtMs));
  return { ...s, rate, capacity: Math.max(1, (rate * PACED_BURST_IN_MS) / 1000) };
}

/**
 * CUBIC's rate `t` ms after a decrease from `granted`: `granted · (1 + c · x³)`, `x = (t − K)/K`. Below the
 * granted rate (x < 0) c = 1 − β, so the curve starts at the decreased rate; above it, c = {@link CUBIC_PROBE},
 * gentler: past the rate Graph last granted, each probe is a 429. Pure.
 */
export function cubicRate(granted: number, sinceInMs: number): number {
  const x = (sinceInMs - CUBIC_RECOVERY_IN_MS) / CUBIC_RECOVERY_IN_MS;
  return granted * (1 + x ** 3 * (x < 0 ? 1 - BETA : CUBIC_PROBE));
}

/**
 * After the first 429 of a throttle event: Graph granted `grantedRate` (see {@link grantedRateOf}); the bucket
 * fills at β of it, holds a second of it, and is emptied (the requests that drew the 429 were too many); and
 * nothing of the kind goes until `Retry-After` has passed. Pure.
 */
export function afterThrottle(
  s: RateState,
  grantedRate: number,
  nowMs: number,
  retryAfterInMs = 0,
): RateState {
  const granted = Math.max(0.01, grantedRate);
  const rate = granted * BETA;
  return {
    ...s,
    phase: "paced",
    rate,
    capacity: Math.max(1, (rate * PACED_BURST_IN_MS) / 1000),
    tokens: 0,
    refilledAtMs: nowMs,
    accepted: 0,
    grantedRate: granted,
    throttledAtMs: nowMs,
    pausedUntilMs: Math.max(s.pausedUntilMs, nowMs + retryAfterInMs),
  };
}

/** After a 429 of an event already met (sent before its decrease): only its `Retry-After` holds the kind. Pure. */
export function afterLateThrottle(s: RateState, nowMs: number, retryAfterInMs = 0): RateState {
  return { ...s, pausedUntilMs: Math.max(s.pausedUntilMs, nowMs + retryAfterInMs) };
}

/**
 * The rate Graph granted, seen from the requests it accepted (their answer times) in the last window: their
 * count over the time from the first of them, plus the `Retry-After` Graph asks for (it takes nothing more until
 * then), over at least a second. Whatever the shape of Graph's limit, while the client sends at least as fast as
 * Graph accepts, this is the rate it grants. Pure.
 */
export function grantedRateOf(
  acceptedAtMs: readonly number[],
  nowMs: number,
  windowMs: number,
  retryAfterInMs = 0,
): number {
  const inWindow = acceptedAtMs.filter((at) => at > nowMs - windowMs && at <= nowMs);
  if (inWindow.length === 0) return 0;
  const span = nowMs - Math.min(...inWindow) + retryAfterInMs;
  return (inWindow.length * 1000) / Math.max(MIN_ESTIMATE_IN_MS, span);
}

/**
 * One request in the window. Intune counts a request when it arrives, which is before its answer does: a
 * request answered at `answeredAtMs` has left Graph's window by `answeredAtMs + window`, whatever the network's
 * latency. One without an answer yet (`answeredAtMs` undefined) is in the window for as long as it is in flight.
 */
export interface Sent {
  sentAtMs: number;
  answeredAtMs?: number;
  write: boolean;
}

/**
 * How long to wait before one more request fits the documented budgets, given the requests in the window;
 * `Infinity` while the budget is all in flight (an answer changes that). Pure.
 */
export function pacingDelayInMs(
  sent: readonly Sent[],
  write: boolean,
  nowMs: number,
  windowMs: number,
  allowed: { writes: number; requests: number },
): number {
  const leavesAt = (s: Sent) => (s.answeredAtMs === undefined ? Infinity : s.answeredAtMs + windowMs);
  const wait = (inWindow: readonly Sent[], limit: number) => {
    const leaving = inWindow
      .map(leavesAt)
      .filter((at) => at > nowMs)
      .sort((a, b) => a - b);
    return leaving.length < limit ? 0 : leaving[leaving.length - limit] - nowMs;
  };
  return Math.max(
    wait(sent, allowed.requests),
    write
      ? wait(
          sent.filter((s) => s.write),
          allowed.writes,
        )
      : 0,
  );
}

/** A request the pacer let through; hand it back to {@link Pacer.settle} with what Graph answered. */
export interface PacingTicket {
  readonly write: boolean;
  readonly sentAtMs: number;
  /** How long the request waited for its turn. */
  readonly waitedInMs: number;
}

/** What Graph answered to a paced request. */
export interface PacingAnswer {
  throttled: boolean;
  /** Its `Retry-After`, when a 429 carried one. */
  retryAfterInMs?: number;
}

/** What a pacer tells the person running `pulumi up` about. */
export type PacingEvent =
  | { kind: "waited"; waitedInMs: number; allowed: { writes: number; requests: number } }
  | { kind: "decreased"; write: boolean; allowed: number; accepted: number };

type Kind = "writes" | "requests";

/** Time as the pacer reads it and waits on it: the system's, or a simulation's. */
export interface PacingClock {
  now(): number;
  /** Calls `fn` after `ms`; the returned function cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

/** The system clock. */
export const systemClock: PacingClock = {
  now: Date.now,
  setTimer(fn, ms) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

/** The pacer of one tenant. Writes and reads queue apart, each first come, first served. */
export class Pacer {
  private sent: Sent[] = [];
  /** Which request in the window each ticket stands for. */
  private readonly entries = new WeakMap<PacingTicket, Sent>();
  private readonly queues = { write: Promise.resolve(), read: Promise.resolve() };
  /** Requests waiting for their turn, woken early by an answer. */
  private readonly wakers = new Set<() => void>();
  private readonly state: Record<Kind, RateState>;
  /** Throttle events met (a decrease each). */
  readonly stats = { throttleEvents: 0 };

  constructor(
    readonly limits: PacingLimits,
    private readonly onEvent: (event: PacingEvent) => void = () => undefined,
    private readonly clock: PacingClock = systemClock,
  ) {
    const now = () => clock.now();
    this.state = {
      writes: startRate(limits.writes, limits.windowMs, now()),
      requests: startRate(limits.requests, limits.windowMs, now()),
    };
  }

  /** The rates now, as requests per documented window. */
  get allowed(): { writes: number; requests: number } {
    const perWindow = (s: RateState) => Math.round((s.rate * this.limits.windowMs) / 1000);
    return { writes: perWindow(this.state.writes), requests: perWindow(this.state.requests) };
  }

  /** Resolves when one more request may be sent, and records it. */
  acquire(write: boolean): Promise<PacingTicket> {
    const key = write ? "write" : "read";
    const turn = this.queues[key].then(() => this.take(write));
    this.queues[key] = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  /**
   * What Graph answered to a request the pacer let through (every ticket is settled once, whatever happened to
   * its request). A 429 did not count against Graph's limit, so it leaves the window; the first 429 of a
   * throttle event (a request sent after the last one) paces its kind at the rate Graph was seen to grant.
   */
  settle(ticket: PacingTicket, answer: PacingAnswer): void {
    const entry = this.entries.get(ticket);
    this.entries.delete(ticket);
    const now = this.clock.now();
    for (const wake of this.wakers) wake();
    this.wakers.clear();
    const kinds: Kind[] = ticket.write ? ["writes", "requests"] : ["requests"];
    if (!answer.throttled) {
      if (entry) entry.answeredAtMs = now;
      const documented = (kind: Kind) => ({
        perWindow: this.limits[kind],
        rate: (this.limits[kind] * 1000) / this.limits.windowMs,
      });
      const acceptedInWindow = (kind: Kind) =>
        this.sent.filter(
          (s) =>
            s.answeredAtMs !== undefined &&
            s.answeredAtMs > now - this.limits.windowMs &&
            (kind === "requests" || s.write),
        ).length;
      for (const kind of kinds)
        this.state[kind] = afterAccepted(this.state[kind], documented(kind), now, acceptedInWindow(kind));
      return;
    }
    if (entry && this.sent.includes(entry)) this.sent.splice(this.sent.indexOf(entry), 1);
    // A write's 429 is blamed on the write limit, a read's on the limit of all requests.
    const kind: Kind = ticket.write ? "writes" : "requests";
    const retryAfterInMs = answer.retryAfterInMs ?? 0;
    if (ticket.sentAtMs <= this.state[kind].throttledAtMs) {
      // Sent before the last decrease: the same event.
      this.state[kind] = afterLateThrottle(this.state[kind], now, retryAfterInMs);
      return;
    }
    const acceptedAtMs = this.sent
      .filter((s) => s.answeredAtMs !== undefined && (kind === "requests" || s.write))
      .map((s) => s.answeredAtMs!);
    const granted = grantedRateOf(acceptedAtMs, now, this.limits.windowMs, retryAfterInMs);
    // Nothing accepted in a window: no measure of the rate; halve it.
    const next = granted > 0 ? granted : this.state[kind].rate / 2;
    this.state[kind] = afterThrottle(this.state[kind], next, now, retryAfterInMs);
    this.stats.throttleEvents++;
    this.onEvent({
      kind: "decreased",
      write: ticket.write,
      allowed: this.allowed[kind],
      accepted: acceptedAtMs.filter((at) => at > now - this.limits.windowMs).length,
    });
  }

  private async take(write: boolean): Promise<PacingTicket> {
    const started = this.clock.now();
    const kinds: Kind[] = write ? ["writes", "requests"] : ["requests"];
    for (;;) {
      const now = this.clock.now();
      this.prune(now);
      for (const kind of kinds) this.state[kind] = refilled(this.state[kind], now);
      const delay = Math.max(
        pacingDelayInMs(this.sent, write, now, this.limits.windowMs, this.limits),
        ...kinds.map((kind) => rateDelayInMs(this.state[kind], now)),
      );
      if (delay <= 0) break;
      // Short steps: the bucket may grow meanwhile (an answer), and this request with it.
      await this.pause(Math.min(delay, RECHECK_IN_MS));
    }
    const now = this.clock.now();
    for (const kind of kinds) this.state[kind] = { ...this.state[kind], tokens: this.state[kind].tokens - 1 };
    const entry: Sent = { sentAtMs: now, write };
    this.sent.push(entry);
    const waitedInMs = now - started;
    if (waitedInMs > 0) this.onEvent({ kind: "waited", waitedInMs, allowed: this.allowed });
    const ticket: PacingTicket = { write, sentAtMs: now, waitedInMs };
    this.entries.set(ticket, entry);
    return ticket;
  }

  /** Sleeps `ms`, or until the next answer arrives. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.clock.setTimer(() => {
        this.wakers.delete(wake);
        resolve();
      }, ms);
      const wake = () => {
        cancel();
        resolve();
      };
      this.wakers.add(wake);
    });
  }

  /**
   * Forgets requests that left the window, and requests never answered (a ticket that was never settled) two
   * windows after they were sent.
   */
  private prune(nowMs: number): void {
    const windowMs = this.limits.windowMs;
    this.sent = this.sent.filter(({ sentAtMs, answeredAtMs }) =>
      answeredAtMs === undefined ? sentAtMs > nowMs - 2 * windowMs : answeredAtMs > nowMs - windowMs,
    );
  }
}
