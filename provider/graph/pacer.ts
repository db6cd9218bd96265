/**
 * Client-side pacing: Intune counts each app's requests per tenant in sliding windows and answers 429 past
 * the limit. One pacer per tenant, shared by every concurrent operation of the process, decides what is sent
 * at all; `Retry-After` still rules each retry. It starts below Intune's documented budget and learns the rate
 * Graph actually grants (other apps share the tenant's budget, limits change): additive-increase /
 * multiplicative-decrease on the per-window budget, never above the documented one.
 */

/** How often a waiting request checks whether the budget let it through meanwhile. */
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

/**
 * A tenant's pacing starts at this share of the documented budget (the documented per-app budget assumes the
 * app is alone in the tenant, and a first burst far above what the tenant grants is answered with as many
 * 429s), and doubles each time Graph has accepted a whole budget's worth in the window (slow start), up to
 * the documented budget or the first 429.
 */
export const START_SHARE = 0.6;
/** A throttle event sets the budget to this share of what the window had accepted: just under the limit... */
export const DECREASE_FACTOR = 0.9;
/** ...but not below this share of the budget before it (multiplicative decrease). */
export const HALVING_FLOOR = 0.5;
/** Above the last estimate, each quiet window probes for more by this share of the documented budget. */
export const PROBE_SHARE = 0.1;

/**
 * What the pacer allows per window for one kind of request (writes, or all requests). `ceiling` is the limit
 * Graph showed at the last throttle event (the requests it had accepted in the window); below it the budget
 * recovers fast, above it slowly. `changedAtMs` is when the budget last changed.
 */
export interface Budget {
  allowed: number;
  ceiling?: number;
  changedAtMs: number;
  /** Until the first 429: the budget doubles each time the window has accepted all of it. */
  slowStart?: boolean;
}

/** The budget a tenant's pacing starts with. Pure. */
export function startBudget(documented: number, nowMs: number): Budget {
  return { allowed: Math.max(1, Math.round(documented * START_SHARE)), changedAtMs: nowMs, slowStart: true };
}

/** In slow start, after Graph accepted `acceptedInWindow` requests of the kind in the window. Pure. */
export function afterAccepted(
  budget: Budget,
  acceptedInWindow: number,
  documented: number,
  nowMs: number,
): Budget {
  if (!budget.slowStart || acceptedInWindow < budget.allowed) return budget;
  const allowed = Math.min(documented, budget.allowed * 2);
  return { allowed, changedAtMs: nowMs, ...(allowed < documented ? { slowStart: true } : {}) };
}

/**
 * After a 429 (the first of a throttle event): Graph accepted `acceptedInWindow` requests of this kind in the
 * window, the best estimate of the limit it grants now, and the budget goes just under it; but one event never
 * takes more than half the budget (a lone 429 in a quiet window, from other apps' load or a hiccup, says little
 * about the rate). Pure.
 */
export function afterThrottle(budget: Budget, acceptedInWindow: number, nowMs: number): Budget {
  const allowed = Math.max(
    1,
    Math.floor(acceptedInWindow * DECREASE_FACTOR),
    Math.floor(budget.allowed * HALVING_FLOOR),
  );
  return acceptedInWindow > allowed
    ? { allowed, ceiling: acceptedInWindow, changedAtMs: nowMs }
    : { allowed, changedAtMs: nowMs };
}

/**
 * After a window without a throttle event: below the last ceiling, halve the gap to it; at or above it, probe
 * by {@link PROBE_SHARE} of the documented budget; never above the documented budget. Pure.
 */
export function afterQuietWindow(budget: Budget, documented: number, nowMs: number): Budget {
  const { allowed, ceiling } = budget;
  const next =
    ceiling !== undefined && allowed < ceiling
      ? allowed + Math.max(1, Math.ceil((ceiling - allowed) / 2))
      : allowed + Math.max(1, Math.round(documented * PROBE_SHARE));
  const capped = Math.min(documented, next);
  return {
    allowed: capped,
    ceiling: ceiling !== undefined && capped < ceiling ? ceiling : undefined,
    changedAtMs: nowMs,
    ...(budget.slowStart && capped < documented ? { slowStart: true } : {}),
  };
}

/** One send recorded in the window: `accepted` once an answer other than 429 arrived. */
interface Sent {
  atMs: number;
  write: boolean;
  accepted: boolean;
}

/**
 * The margin by which the window is widened, since Intune counts a request when it arrives, not when it was
 * sent: the longest round trip seen lately (what a request's arrival may lag its send by, and more), at least
 * 50 ms and at most 2 % of the window (250 ms for short windows). Pure.
 */
export function marginInMs(windowMs: number, longestRoundTripInMs: number): number {
  return Math.min(Math.max(250, windowMs * 0.02), Math.max(50, longestRoundTripInMs));
}

/**
 * How long to wait before one more request fits the budgets, given the sends in the window (oldest first)
 * and the window's margin ({@link marginInMs}). Pure.
 */
export function pacingDelayInMs(
  sent: readonly { atMs: number; write: boolean }[],
  write: boolean,
  nowMs: number,
  windowMs: number,
  allowed: { writes: number; requests: number },
  marginMs = Math.max(250, windowMs * 0.02),
): number {
  const span = windowMs + marginMs;
  const inWindow = sent.filter((s) => s.atMs > nowMs - span);
  const wait = (times: number[], limit: number) =>
    times.length < limit ? 0 : times[times.length - limit] + span - nowMs;
  const all = wait(
    inWindow.map((s) => s.atMs),
    allowed.requests,
  );
  const writes = write
    ? wait(
        inWindow.filter((s) => s.write).map((s) => s.atMs),
        allowed.writes,
      )
    : 0;
  return Math.max(all, writes);
}

/** A request the pacer let through; hand it back to {@link Pacer.settle} with what Graph answered. */
export interface PacingTicket {
  readonly write: boolean;
  readonly sentAtMs: number;
  /** How long the request waited for its turn. */
  readonly waitedInMs: number;
}

/** What a pacer tells the person running `pulumi up` about. */
export type PacingEvent =
  | { kind: "waited"; waitedInMs: number; allowed: { writes: number; requests: number } }
  | { kind: "decreased"; write: boolean; allowed: number; accepted: number };

/** The pacer of one tenant. Writes and reads queue apart, each first come, first served. */
export class Pacer {
  private readonly sent: Sent[] = [];
  private readonly queues = { write: Promise.resolve(), read: Promise.resolve() };
  private writes: Budget;
  private requests: Budget;
  private readonly lastThrottleAtMs = { writes: -Infinity, requests: -Infinity };
  /** The round trips of the latest answers, for the window's margin. */
  private readonly roundTripsInMs: number[] = [];
  /** Requests that waited, the longest wait, and throttle events, for benchmarks. */
  readonly stats = { waited: 0, longestWaitInMs: 0, throttleEvents: 0 };

  constructor(
    readonly limits: PacingLimits,
    private readonly onEvent: (event: PacingEvent) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.writes = startBudget(limits.writes, now());
    this.requests = startBudget(limits.requests, now());
  }

  /** The budgets per window now. */
  get allowed(): { writes: number; requests: number } {
    return { writes: this.writes.allowed, requests: this.requests.allowed };
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
   * What Graph answered to a request the pacer let through. A 429 did not count against Graph's limit, so it
   * leaves the window; the first 429 of a throttle event (one sent after the last decrease) lowers the budget
   * of its kind to just under what the window had accepted.
   */
  settle(ticket: PacingTicket, throttled: boolean): void {
    const index = this.sent.findIndex(
      (s) => s.atMs === ticket.sentAtMs && s.write === ticket.write && !s.accepted,
    );
    const now = this.now();
    this.roundTripsInMs.push(now - ticket.sentAtMs);
    if (this.roundTripsInMs.length > 100) this.roundTripsInMs.shift();
    const accepted = (write: boolean) =>
      this.sent.filter((s) => s.accepted && s.atMs > now - this.limits.windowMs && (!write || s.write))
        .length;
    if (!throttled) {
      if (index >= 0) this.sent[index].accepted = true;
      if (ticket.write) this.writes = afterAccepted(this.writes, accepted(true), this.limits.writes, now);
      this.requests = afterAccepted(this.requests, accepted(false), this.limits.requests, now);
      return;
    }
    if (index >= 0) this.sent.splice(index, 1);
    const kind = ticket.write ? "writes" : "requests";
    if (ticket.sentAtMs <= this.lastThrottleAtMs[kind]) return; // sent before the last decrease: the same event
    this.lastThrottleAtMs[kind] = now;
    const next = afterThrottle(ticket.write ? this.writes : this.requests, accepted(ticket.write), now);
    if (ticket.write) this.writes = next;
    else this.requests = next;
    this.stats.throttleEvents++;
    this.onEvent({
      kind: "decreased",
      write: ticket.write,
      allowed: next.allowed,
      accepted: accepted(ticket.write),
    });
  }

  private async take(write: boolean): Promise<PacingTicket> {
    const started = this.now();
    for (;;) {
      this.recover(this.now());
      const margin = marginInMs(this.limits.windowMs, Math.max(0, ...this.roundTripsInMs));
      const delay = pacingDelayInMs(this.sent, write, this.now(), this.limits.windowMs, this.allowed, margin);
      if (delay <= 0) break;
      // Short steps: the budget may grow meanwhile (slow start, a quiet window), and this request with it.
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, RECHECK_IN_MS)));
    }
    const now = this.now();
    this.prune(now);
    this.sent.push({ atMs: now, write, accepted: false });
    const waitedInMs = now - started;
    if (waitedInMs > 0) {
      this.stats.waited++;
      this.stats.longestWaitInMs = Math.max(this.stats.longestWaitInMs, waitedInMs);
      this.onEvent({ kind: "waited", waitedInMs, allowed: this.allowed });
    }
    return { write, sentAtMs: now, waitedInMs };
  }

  /** Applies {@link afterQuietWindow} once for each whole window since a budget last changed. */
  private recover(nowMs: number): void {
    const windowMs = this.limits.windowMs;
    for (
      let i = 0;
      i < 20 && nowMs - this.writes.changedAtMs >= windowMs && this.writes.allowed < this.limits.writes;
      i++
    )
      this.writes = afterQuietWindow(this.writes, this.limits.writes, this.writes.changedAtMs + windowMs);
    for (
      let i = 0;
      i < 20 && nowMs - this.requests.changedAtMs >= windowMs && this.requests.allowed < this.limits.requests;
      i++
    )
      this.requests = afterQuietWindow(
        this.requests,
        this.limits.requests,
        this.requests.changedAtMs + windowMs,
      );
  }

  private prune(nowMs: number): void {
    const horizon = nowMs - 2 * this.limits.windowMs;
    const keep = this.sent.findIndex((s) => s.atMs > horizon);
    this.sent.splice(0, keep === -1 ? this.sent.length : keep);
  }
}
