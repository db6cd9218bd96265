/**
 * Client-side pacing: Intune counts each app's requests per tenant in sliding windows and answers 429 past
 * the limit. One pacer per tenant, shared by every concurrent operation of the process, decides what is sent
 * at all; `Retry-After` still rules each retry. It starts below Intune's documented budget and learns the rate
 * Graph actually grants (other apps share the tenant's budget, limits change): a 429 sets the per-window budget
 * to what Graph had accepted in the window (at most halving it), and each quiet window probes upward by a step
 * that doubles, gentle near the limit Graph last showed and quick far from it (as CUBIC grows a congestion
 * window); never above the documented budget.
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
/** One throttle event never takes the budget below this share of what it was (multiplicative decrease). */
export const HALVING_FLOOR = 0.5;

/**
 * What the pacer allows per window for one kind of request (writes, or all requests). `step` is what the next
 * quiet window adds: it starts at one request after a throttle event and doubles with each quiet window, so that
 * the budget probes gently near the limit Graph last showed and quickly far from it. `changedAtMs` is when the
 * budget last changed.
 */
export interface Budget {
  allowed: number;
  step: number;
  changedAtMs: number;
  /** Until the first 429: the budget doubles each time the window has accepted all of it. */
  slowStart?: boolean;
}

/** The budget a tenant's pacing starts with. Pure. */
export function startBudget(documented: number, nowMs: number): Budget {
  return {
    allowed: Math.max(1, Math.round(documented * START_SHARE)),
    step: 1,
    changedAtMs: nowMs,
    slowStart: true,
  };
}

/**
 * After Graph accepted a request of the kind, `acceptedInWindow` of them now in the window. In slow start, the
 * budget doubles once the window has accepted all of it. A request sent before the last throttle event (`late`:
 * its answer came after the 429 that lowered the budget) shows Graph granted at least this many. Pure.
 */
export function afterAccepted(
  budget: Budget,
  acceptedInWindow: number,
  documented: number,
  nowMs: number,
  late = false,
): Budget {
  if (late && acceptedInWindow > budget.allowed)
    return { ...budget, allowed: Math.min(documented, acceptedInWindow) };
  if (!budget.slowStart || acceptedInWindow < budget.allowed) return budget;
  const allowed = Math.min(documented, budget.allowed * 2);
  return { allowed, step: 1, changedAtMs: nowMs, ...(allowed < documented ? { slowStart: true } : {}) };
}

/**
 * After a 429 (the first of a throttle event): Graph accepted `acceptedInWindow` requests of this kind in the
 * window, the best estimate of the limit it grants now, and the budget goes to it (the pacer's window ends a
 * window after each answer, later than Graph's, so a budget at Graph's limit draws no 429); but one event never
 * takes more than half the budget (a lone 429 in a quiet window, from other apps' load or a hiccup, says little
 * about the rate). Pure.
 */
export function afterThrottle(budget: Budget, acceptedInWindow: number, nowMs: number): Budget {
  const allowed = Math.min(
    budget.allowed,
    Math.max(1, acceptedInWindow, Math.floor(budget.allowed * HALVING_FLOOR)),
  );
  return { allowed, step: 1, changedAtMs: nowMs };
}

/**
 * After a window without a throttle event: one step up, and the next step twice as long; never above the
 * documented budget. Pure.
 */
export function afterQuietWindow(budget: Budget, documented: number, nowMs: number): Budget {
  const allowed = Math.min(documented, budget.allowed + budget.step);
  return {
    allowed,
    step: budget.step * 2,
    changedAtMs: nowMs,
    ...(budget.slowStart && allowed < documented ? { slowStart: true } : {}),
  };
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
 * How long to wait before one more request fits the budgets, given the requests in the window; `Infinity`
 * while the budget is all in flight (an answer changes that). Pure.
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

/** What a pacer tells the person running `pulumi up` about. */
export type PacingEvent =
  | { kind: "waited"; waitedInMs: number; allowed: { writes: number; requests: number } }
  | { kind: "decreased"; write: boolean; allowed: number; accepted: number };

/** The pacer of one tenant. Writes and reads queue apart, each first come, first served. */
export class Pacer {
  private sent: Sent[] = [];
  /** Which request in the window each ticket stands for. */
  private readonly entries = new WeakMap<PacingTicket, Sent>();
  private readonly queues = { write: Promise.resolve(), read: Promise.resolve() };
  /** Requests waiting for their turn, woken early by an answer. */
  private readonly wakers = new Set<() => void>();
  private writes: Budget;
  private requests: Budget;
  private readonly lastThrottleAtMs = { writes: -Infinity, requests: -Infinity };
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
   * What Graph answered to a request the pacer let through (every ticket is settled once, whatever happened to
   * its request). A 429 did not count against Graph's limit, so it leaves the window; the first 429 of a
   * throttle event (one sent after the last decrease) lowers the budget of its kind to just under what the
   * window had accepted.
   */
  settle(ticket: PacingTicket, throttled: boolean): void {
    const entry = this.entries.get(ticket);
    this.entries.delete(ticket);
    const now = this.now();
    const accepted = (write: boolean) =>
      this.sent.filter(
        (s) =>
          s.answeredAtMs !== undefined && s.answeredAtMs > now - this.limits.windowMs && (!write || s.write),
      ).length;
    for (const wake of this.wakers) wake();
    this.wakers.clear();
    if (!throttled) {
      if (entry) entry.answeredAtMs = now;
      const late = (kind: "writes" | "requests") => ticket.sentAtMs <= this.lastThrottleAtMs[kind];
      if (ticket.write)
        this.writes = afterAccepted(this.writes, accepted(true), this.limits.writes, now, late("writes"));
      this.requests = afterAccepted(
        this.requests,
        accepted(false),
        this.limits.requests,
        now,
        late("requests"),
      );
      return;
    }
    if (entry && this.sent.includes(entry)) this.sent.splice(this.sent.indexOf(entry), 1);
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
      const delay = pacingDelayInMs(this.sent, write, this.now(), this.limits.windowMs, this.allowed);
      if (delay <= 0) break;
      // Short steps: the budget may grow meanwhile (slow start, a quiet window), and this request with it.
      await this.pause(Math.min(delay, RECHECK_IN_MS));
    }
    const now = this.now();
    this.prune(now);
    const entry: Sent = { sentAtMs: now, write };
    this.sent.push(entry);
    const waitedInMs = now - started;
    if (waitedInMs > 0) {
      this.stats.waited++;
      this.stats.longestWaitInMs = Math.max(this.stats.longestWaitInMs, waitedInMs);
      this.onEvent({ kind: "waited", waitedInMs, allowed: this.allowed });
    }
    const ticket: PacingTicket = { write, sentAtMs: now, waitedInMs };
    this.entries.set(ticket, entry);
    return ticket;
  }

  /** Sleeps `ms`, or until the next answer arrives. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakers.delete(wake);
        resolve();
      }, ms);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.wakers.add(wake);
    });
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
