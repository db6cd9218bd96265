/** Intune's request limits for remote assistance, per sliding window. */
export interface ThrottleLimits {
  windowMs: number;
  /** POST, PUT, PATCH, DELETE per tenant, all apps. */
  tenantWrites: number;
  /** POST, PUT, PATCH, DELETE per app per tenant. */
  appWrites: number;
  /** Any request per tenant, all apps. */
  tenantAll: number;
  /** Any request per app per tenant. */
  appAll: number;
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
 * Sliding-window counters. `admit` either records the request and returns 0, or returns how many ms until the
 * window would admit it (the request is then not counted).
 */
export class Throttle {
  private readonly windows = new Map<string, number[]>();

  constructor(readonly limits: ThrottleLimits) {}

  admit(tenantId: string, appId: string, write: boolean, nowMs = Date.now()): number {
    const l = this.limits;
    const keys: [string, number][] = [
      [`all|${tenantId}`, l.tenantAll],
      [`all|${tenantId}|${appId}`, l.appAll],
    ];
    if (write) keys.push([`write|${tenantId}`, l.tenantWrites], [`write|${tenantId}|${appId}`, l.appWrites]);
    let waitMs = 0;
    for (const [key, limit] of keys) {
      const times = this.prune(key, nowMs);
      if (times.length >= limit) waitMs = Math.max(waitMs, times[times.length - limit] + l.windowMs - nowMs);
    }
    if (waitMs > 0) return waitMs;
    for (const [key] of keys) this.windows.get(key)!.push(nowMs);
    return 0;
  }

  private prune(key: string, nowMs: number): number[] {
    const times = this.windows.get(key) ?? [];
    const from = times.findIndex((t) => t > nowMs - this.limits.windowMs);
    const kept = from === -1 ? [] : times.slice(from);
    this.windows.set(key, kept);
    return kept;
  }
}
