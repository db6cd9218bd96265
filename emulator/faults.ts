/** A failure the emulator can put in place of (or around) a Graph answer. */
export type Fault =
  /** An error status. `retryAfter` is sent verbatim as `Retry-After`; `body` picks the error shape. */
  | {
      kind: "status";
      status: number;
      retryAfter?: string;
      retryAfterMs?: number;
      body?: "graph" | "intune" | "text" | "empty";
      code?: string;
    }
  /** The connection is destroyed, before the request is acted on or after it was committed. */
  | { kind: "drop"; when: "beforeCommit" | "afterCommit" }
  /** The request is committed, and the answer comes after `delayMs`. */
  | { kind: "slow"; delayMs: number }
  /** The request is committed, and the success answer's body is truncated JSON. */
  | { kind: "malformed" };

/** Which requests a fault applies to. Unset fields match everything. */
export interface FaultMatch {
  method?: string;
  /** A substring of, or a pattern for, the path below the API version. */
  path?: string | RegExp;
  tenantId?: string;
}

interface Rule {
  match: FaultMatch;
  fault: Fault;
  remaining: number;
}

/** Faults that apply to the next matching requests, then expire; plus optional seeded random faults. */
export class FaultPlan {
  private rules: Rule[] = [];
  private chaos?: { rate: number; faults: Fault[]; random: () => number; match: FaultMatch };
  /** Faults injected so far. */
  injected = 0;

  /** Applies `fault` to the next `times` requests matching `match` (default: once). */
  add(fault: Fault, match: FaultMatch = {}, times = 1): void {
    this.rules.push({ match, fault, remaining: times });
  }

  /** Applies a random fault from `faults` to each matching request with probability `rate`, seeded. */
  setChaos(options: { rate: number; seed: number; faults: Fault[]; match?: FaultMatch } | undefined): void {
    this.chaos = options && {
      rate: options.rate,
      faults: options.faults,
      random: seededRandom(options.seed),
      match: options.match ?? {},
    };
  }

  clear(): void {
    this.rules = [];
    this.chaos = undefined;
  }

  /** The fault for this request, if any; consumes one use of a rule. */
  take(method: string, path: string, tenantId: string | undefined): Fault | undefined {
    const rule = this.rules.find((r) => r.remaining > 0 && matches(r.match, method, path, tenantId));
    if (rule) {
      rule.remaining--;
      this.rules = this.rules.filter((r) => r.remaining > 0);
      this.injected++;
      return rule.fault;
    }
    const chaos = this.chaos;
    if (chaos && matches(chaos.match, method, path, tenantId) && chaos.random() < chaos.rate) {
      this.injected++;
      return chaos.faults[Math.floor(chaos.random() * chaos.faults.length)];
    }
    return undefined;
  }
}

function matches(m: FaultMatch, method: string, path: string, tenantId: string | undefined): boolean {
  if (m.method && m.method.toUpperCase() !== method) return false;
  if (m.tenantId && m.tenantId !== tenantId) return false;
  if (m.path instanceof RegExp) return m.path.test(path);
  return m.path === undefined || path.includes(m.path);
}

/** mulberry32: a small, fast, seeded PRNG so that a chaos run replays from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
