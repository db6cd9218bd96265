/**
 * Pure retry decisions: given what one attempt produced, retry after how long, or give up. No I/O, no clock,
 * no randomness of their own, so that they are table-tested; the loop in `client.ts` carries them out.
 */

/** Bounds of the retry loop. */
export interface RetryOptions {
  /** Retries after the first attempt. Default 8. */
  maxRetries: number;
  /** First exponential backoff delay when Graph gives no `Retry-After`. Default 1 s. */
  retryDelayInMs: number;
  /** Cap of one exponential backoff delay. Default 64 s. */
  maxRetryDelayInMs: number;
  /** Time one request may take, all attempts and waits included. Default 5 min. */
  deadlineInMs: number;
}

export const defaultRetryOptions: RetryOptions = {
  maxRetries: 8,
  retryDelayInMs: 1_000,
  maxRetryDelayInMs: 64_000,
  deadlineInMs: 300_000,
};

/** What one attempt produced, as far as retrying is concerned. */
export type AttemptOutcome =
  /** An HTTP answer; `retryAfterInMs` from its headers when it carried one. */
  | { kind: "status"; status: number; retryAfterInMs?: number }
  /** A success status whose body could not be read as JSON (truncated or garbled). */
  | { kind: "unreadable" }
  /** The request never reached the server (connection refused, name not resolved). */
  | { kind: "notSent" }
  /** The connection broke after the request was sent: the server may have acted on it. */
  | { kind: "connectionLost" }
  /** No answer within the per-attempt timeout: the server may have acted on it. */
  | { kind: "timeout" };

export interface RetryContext {
  /** Retries already made for this request. */
  retriesSoFar: number;
  /** Whether sending the request twice has the same effect as once. A create (POST) is not. */
  idempotent: boolean;
  /** Time left before the request's deadline. */
  remainingInMs: number;
  /** A number in [0, 1) that spreads backoff delays (jitter). */
  random: number;
}

export type RetryDecision =
  | { action: "retry"; delayInMs: number; because: string }
  | { action: "fail"; reason: "notTransient" | "notIdempotent" | "retriesExhausted" }
  /** Graph (or the backoff) asks for a wait that the deadline does not leave. */
  | { action: "fail"; reason: "deadline"; delayInMs: number };

/** Statuses Graph documents as transient: throttling and unavailability (plus 502, a gateway). */
const THROTTLE_STATUSES = new Set([429, 502, 503, 504]);

/**
 * Server errors worth a few retries of an idempotent request, as Azure's own pipeline retries them
 * (`@azure/core-rest-pipeline`: 408 and every 5xx but 501 and 505): Intune's 500 ("An internal server error
 * has occurred - Operation ID …") is commonly transient.
 */
export function isServerError(status: number): boolean {
  return (
    (status === 408 || (status >= 500 && status <= 599 && status !== 501 && status !== 505)) &&
    !THROTTLE_STATUSES.has(status)
  );
}

/**
 * Retries of a server error or of a refused connection: a few, since a 500 that lasts is a real failure to
 * report, and an endpoint that refuses connections (a wrong `intune:graphEndpoint`, nothing listening) is not
 * waited out for minutes; a refusal that is transient passes within them.
 */
export const SERVER_ERROR_RETRIES = 3;

/** Decides whether to retry an attempt, and after how long. */
export function decideRetry(
  outcome: AttemptOutcome,
  ctx: RetryContext,
  options: RetryOptions = defaultRetryOptions,
): RetryDecision {
  const because = describe(outcome);
  if (because === undefined) return { action: "fail", reason: "notTransient" };
  // A throttled request was refused before Intune acted on it, and one never sent did nothing: both are safe
  // to send again even when not idempotent. Anything else may have been carried out.
  const safeToRepeat =
    ctx.idempotent || outcome.kind === "notSent" || (outcome.kind === "status" && outcome.status === 429);
  if (!safeToRepeat) return { action: "fail", reason: "notIdempotent" };
  const few = outcome.kind === "notSent" || (outcome.kind === "status" && isServerError(outcome.status));
  const maxRetries = few ? Math.min(options.maxRetries, SERVER_ERROR_RETRIES) : options.maxRetries;
  if (ctx.retriesSoFar >= maxRetries) return { action: "fail", reason: "retriesExhausted" };
  const retryAfterInMs = outcome.kind === "status" ? outcome.retryAfterInMs : undefined;
  const delayInMs = retryAfterInMs ?? backoffDelayInMs(ctx.retriesSoFar, ctx.random, options);
  if (delayInMs > ctx.remainingInMs) return { action: "fail", reason: "deadline", delayInMs };
  return { action: "retry", delayInMs, because };
}

function describe(outcome: AttemptOutcome): string | undefined {
  switch (outcome.kind) {
    case "status":
      return THROTTLE_STATUSES.has(outcome.status) || isServerError(outcome.status)
        ? `HTTP ${outcome.status}`
        : undefined;
    case "unreadable":
      return "an unreadable response body";
    case "notSent":
      return "no connection";
    case "connectionLost":
      return "a dropped connection";
    case "timeout":
      return "a timeout";
  }
}

/** Exponential backoff: `retryDelayInMs · 2^retriesSoFar`, capped, then randomised to 50–100 %. */
export function backoffDelayInMs(retriesSoFar: number, random: number, options: RetryOptions): number {
  const exponential = Math.min(options.maxRetryDelayInMs, options.retryDelayInMs * 2 ** retriesSoFar);
  return Math.round(exponential * (0.5 + random / 2));
}

/**
 * The wait a response asks for, in every form Graph and Azure use: `retry-after-ms` / `x-ms-retry-after-ms`
 * (milliseconds), `Retry-After` as seconds (fractional allowed, e.g. `2.128`) or as an HTTP date (a past date
 * means 0). `undefined` when absent or malformed, so that the caller falls back to backoff.
 */
export function parseRetryAfterInMs(
  header: (name: string) => string | null,
  nowInMs: number,
): number | undefined {
  for (const name of ["retry-after-ms", "x-ms-retry-after-ms"]) {
    const ms = parseNonNegativeNumber(header(name));
    if (ms !== undefined) return Math.ceil(ms);
  }
  const value = header("retry-after")?.trim();
  if (!value) return undefined;
  const seconds = parseNonNegativeNumber(value);
  if (seconds !== undefined) return Math.ceil(seconds * 1000);
  if (!/[a-z]/i.test(value)) return undefined;
  const dateInMs = Date.parse(value);
  return Number.isNaN(dateInMs) ? undefined : Math.max(0, dateInMs - nowInMs);
}

function parseNonNegativeNumber(value: string | null): number | undefined {
  if (value === null || !/^\s*\d+(\.\d+)?\s*$/.test(value)) return undefined;
  return Number(value);
}
