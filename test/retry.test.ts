import { strict as assert } from "node:assert";
import {
  backoffDelayInMs,
  decideRetry,
  defaultRetryOptions,
  parseRetryAfterInMs,
  type AttemptOutcome,
  type RetryContext,
  type RetryDecision,
} from "../provider/graph/retry";

const ctx = (over: Partial<RetryContext> = {}): RetryContext => ({
  retriesSoFar: 0,
  idempotent: true,
  remainingInMs: 300_000,
  random: 1,
  ...over,
});

describe("decideRetry", () => {
  const table: [string, AttemptOutcome, Partial<RetryContext>, RetryDecision][] = [
    [
      "retries a 429 after its Retry-After exactly",
      { kind: "status", status: 429, retryAfterInMs: 2128 },
      {},
      { action: "retry", delayInMs: 2128, because: "HTTP 429" },
    ],
    [
      "retries a 503 with backoff when there is no Retry-After",
      { kind: "status", status: 503 },
      {},
      { action: "retry", delayInMs: 1000, because: "HTTP 503" },
    ],
    [
      "retries a 504",
      { kind: "status", status: 504 },
      { retriesSoFar: 2 },
      { action: "retry", delayInMs: 4000, because: "HTTP 504" },
    ],
    [
      "retries a 502",
      { kind: "status", status: 502 },
      {},
      { action: "retry", delayInMs: 1000, because: "HTTP 502" },
    ],
    [
      "retries an idempotent request answered 500 with backoff",
      { kind: "status", status: 500 },
      { retriesSoFar: 1 },
      { action: "retry", delayInMs: 2000, because: "HTTP 500" },
    ],
    [
      "retries a 408 and other 5xx as Azure's pipeline does",
      { kind: "status", status: 408 },
      {},
      { action: "retry", delayInMs: 1000, because: "HTTP 408" },
    ],
    [
      "gives up on a server error after three retries: a lasting 500 is a failure to report",
      { kind: "status", status: 500 },
      { retriesSoFar: 3 },
      { action: "fail", reason: "retriesExhausted" },
    ],
    ["does not retry a 501", { kind: "status", status: 501 }, {}, { action: "fail", reason: "notTransient" }],
    ["does not retry a 505", { kind: "status", status: 505 }, {}, { action: "fail", reason: "notTransient" }],
    [
      "does not re-send a create answered 500: it may have been carried out",
      { kind: "status", status: 500 },
      { idempotent: false },
      { action: "fail", reason: "notIdempotent" },
    ],
    ["does not retry a 400", { kind: "status", status: 400 }, {}, { action: "fail", reason: "notTransient" }],
    ["does not retry a 403", { kind: "status", status: 403 }, {}, { action: "fail", reason: "notTransient" }],
    ["does not retry a 404", { kind: "status", status: 404 }, {}, { action: "fail", reason: "notTransient" }],
    ["does not retry a 409", { kind: "status", status: 409 }, {}, { action: "fail", reason: "notTransient" }],
    [
      "retries a dropped connection of an idempotent request",
      { kind: "connectionLost" },
      {},
      { action: "retry", delayInMs: 1000, because: "a dropped connection" },
    ],
    [
      "retries a timeout of an idempotent request",
      { kind: "timeout" },
      {},
      { action: "retry", delayInMs: 1000, because: "a timeout" },
    ],
    [
      "retries an unreadable body of an idempotent request",
      { kind: "unreadable" },
      {},
      { action: "retry", delayInMs: 1000, because: "an unreadable response body" },
    ],
    [
      "retries a create that was throttled (never acted on)",
      { kind: "status", status: 429, retryAfterInMs: 500 },
      { idempotent: false },
      { action: "retry", delayInMs: 500, because: "HTTP 429" },
    ],
    [
      "retries a create that never reached the server",
      { kind: "notSent" },
      { idempotent: false },
      { action: "retry", delayInMs: 1000, because: "no connection" },
    ],
    [
      "retries a refused connection a few times only, as a server error",
      { kind: "notSent" },
      { retriesSoFar: 3 },
      { action: "fail", reason: "retriesExhausted" },
    ],
    [
      "does not re-send a create whose connection dropped",
      { kind: "connectionLost" },
      { idempotent: false },
      { action: "fail", reason: "notIdempotent" },
    ],
    [
      "does not re-send a create that timed out",
      { kind: "timeout" },
      { idempotent: false },
      { action: "fail", reason: "notIdempotent" },
    ],
    [
      "does not re-send a create answered 503",
      { kind: "status", status: 503 },
      { idempotent: false },
      { action: "fail", reason: "notIdempotent" },
    ],
    [
      "does not re-send a create whose body was unreadable",
      { kind: "unreadable" },
      { idempotent: false },
      { action: "fail", reason: "notIdempotent" },
    ],
    [
      "gives up after maxRetries",
      { kind: "status", status: 503 },
      { retriesSoFar: 8 },
      { action: "fail", reason: "retriesExhausted" },
    ],
    [
      "fails at once when Retry-After exceeds the time left",
      { kind: "status", status: 429, retryAfterInMs: 120_000 },
      { remainingInMs: 60_000 },
      { action: "fail", reason: "deadline", delayInMs: 120_000 },
    ],
    [
      "fails at once when the backoff exceeds the time left",
      { kind: "status", status: 503 },
      { retriesSoFar: 3, remainingInMs: 5_000 },
      { action: "fail", reason: "deadline", delayInMs: 8000 },
    ],
    [
      "honours Retry-After 0",
      { kind: "status", status: 429, retryAfterInMs: 0 },
      {},
      { action: "retry", delayInMs: 0, because: "HTTP 429" },
    ],
  ];
  for (const [name, outcome, over, expected] of table) {
    it(name, () => assert.deepEqual(decideRetry(outcome, ctx(over)), expected));
  }
});

describe("backoffDelayInMs", () => {
  const options = defaultRetryOptions;
  it("doubles from 1 s per retry", () => {
    assert.deepEqual(
      [0, 1, 2, 3].map((n) => backoffDelayInMs(n, 1, options)),
      [1000, 2000, 4000, 8000],
    );
  });
  it("is capped at 64 s", () => assert.equal(backoffDelayInMs(20, 1, options), 64_000));
  it("spreads each delay over 50–100 % with the jitter input", () => {
    assert.equal(backoffDelayInMs(2, 0, options), 2000);
    assert.equal(backoffDelayInMs(2, 0.5, options), 3000);
  });
});

describe("parseRetryAfterInMs", () => {
  const now = Date.parse("2026-11-28T12:00:00Z");
  const headers = (h: Record<string, string>) => (name: string) => h[name] ?? null;
  const table: [string, Record<string, string>, number | undefined][] = [
    ["reads whole seconds", { "retry-after": "7" }, 7000],
    ["reads fractional seconds", { "retry-after": "2.128" }, 2128],
    ["reads an HTTP date", { "retry-after": "Sat, 28 Nov 2026 12:00:05 GMT" }, 5000],
    ["turns a past HTTP date into 0", { "retry-after": "Sat, 28 Nov 2026 11:59:00 GMT" }, 0],
    ["prefers retry-after-ms", { "retry-after-ms": "250", "retry-after": "9" }, 250],
    ["reads x-ms-retry-after-ms", { "x-ms-retry-after-ms": "1500" }, 1500],
    ["ignores a malformed value so that backoff applies", { "retry-after": "soon" }, undefined],
    ["ignores a negative value", { "retry-after": "-3" }, undefined],
    ["is undefined without the header", {}, undefined],
  ];
  for (const [name, h, expected] of table) {
    it(name, () => assert.equal(parseRetryAfterInMs(headers(h), now), expected));
  }
});
