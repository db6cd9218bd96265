/**
 * Client-side pacing: Intune counts each app's requests per tenant in sliding windows and answers 429 past
 * the limit. One pacer per tenant, shared by every concurrent operation of the process, sends at the allowed
 * rate instead of learning it from 429s.
 */

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
 * How long to wait before one more request fits the limits, given the send times already in the window
 * (oldest first). The window is widened by a small margin, since Intune counts arrival, not departure. Pure.
 */
export function pacingDelayInMs(
  sent: { writes: readonly number[]; all: readonly number[] },
  write: boolean,
  nowMs: number,
  limits: PacingLimits,
): number {
  const windowMs = limits.windowMs + Math.max(250, limits.windowMs * 0.02);
  const wait = (times: readonly number[], limit: number) => {
    const inWindow = times.filter((t) => t > nowMs - windowMs);
    return inWindow.length < limit ? 0 : inWindow[inWindow.length - limit] + windowMs - nowMs;
  };
  return Math.max(wait(sent.all, limits.requests), write ? wait(sent.writes, limits.writes) : 0);
}

/** The pacer of one tenant. Writes and reads queue apart, each first come, first served. */
export class Pacer {
  private readonly sent = { writes: [] as number[], all: [] as number[] };
  private readonly queues = { write: Promise.resolve(), read: Promise.resolve() };
  /** Requests that waited, and the longest wait, for benchmarks. */
  readonly stats = { waited: 0, longestWaitInMs: 0 };

  constructor(
    private readonly limits: PacingLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves when one more request may be sent, and records it; the value is how long it waited. */
  acquire(write: boolean): Promise<number> {
    const key = write ? "write" : "read";
    const turn = this.queues[key].then(() => this.take(write));
    this.queues[key] = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  private async take(write: boolean): Promise<number> {
    const started = this.now();
    for (;;) {
      const delay = pacingDelayInMs(this.sent, write, this.now(), this.limits);
      if (delay <= 0) break;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
    const now = this.now();
    this.prune(now);
    this.sent.all.push(now);
    if (write) this.sent.writes.push(now);
    const waited = now - started;
    if (waited > 0) {
      this.stats.waited++;
      this.stats.longestWaitInMs = Math.max(this.stats.longestWaitInMs, waited);
    }
    return waited;
  }

  private prune(nowMs: number): void {
    const horizon = nowMs - 2 * this.limits.windowMs;
    for (const times of [this.sent.all, this.sent.writes]) {
      const keep = times.findIndex((t) => t > horizon);
      times.splice(0, keep === -1 ? times.length : keep);
    }
  }
}
