import { strict as assert } from "node:assert";
import {
  afterAccepted,
  afterQuietWindow,
  afterThrottle,
  intuneAppLimits,
  Pacer,
  pacingDelayInMs,
  startBudget,
  type Budget,
  type Sent,
} from "../provider/graph/pacer";
import { PartnersApi } from "../provider/graph/partners";
import { clientFor, tokensFor, useEmulator } from "./support/emulator";

const WINDOW = 1_000;
const allowed = { writes: 3, requests: 5 };
/** Requests answered at these times (undefined: still in flight), sent 40 ms before. */
const answered = (writes: (number | undefined)[], reads: (number | undefined)[] = []) => [
  ...writes.map((answeredAtMs) => ({ sentAtMs: (answeredAtMs ?? 500) - 40, answeredAtMs, write: true })),
  ...reads.map((answeredAtMs) => ({ sentAtMs: (answeredAtMs ?? 500) - 40, answeredAtMs, write: false })),
];

describe("pacingDelayInMs", () => {
  const table: [string, Sent[], boolean, number][] = [
    ["sends at once under both budgets", answered([0, 10]), true, 0],
    [
      "holds a write until the oldest answer of the write budget is a window old",
      answered([0, 10, 20]),
      true,
      1_000 - 500,
    ],
    ["lets a read through past the write budget", answered([0, 10, 20]), false, 0],
    [
      "holds a read while the window holds the request budget",
      answered([], [100, 200, 300, 400, 450]),
      false,
      100 + 1_000 - 500,
    ],
    ["counts answers, not sends, in any order", answered([20, 0, 10, -600]), true, 1_000 - 500],
    ["forgets requests answered a window ago", answered([-800, -600, -500]), true, 0],
    [
      "holds a write while the budget is in flight: its requests may not have arrived yet",
      answered([undefined, undefined, undefined]),
      true,
      Infinity,
    ],
    [
      "waits for the answer that frees the budget first, in flight last",
      answered([undefined, 0, undefined, 100]),
      true,
      100 + 1_000 - 500,
    ],
  ];
  for (const [name, sent, write, expected] of table) {
    it(name, () => assert.equal(pacingDelayInMs(sent, write, 500, WINDOW, allowed), expected));
  }

  it("uses Intune's documented per-app limits by default", () => {
    assert.deepEqual(intuneAppLimits, { windowMs: 20_000, writes: 100, requests: 1000 });
  });
});

describe("adapting the budget (slow start, then decrease to Graph's limit and probe by doubling steps)", () => {
  it("starts at 60 % of the documented budget, in slow start", () => {
    assert.deepEqual(startBudget(100, 7), { allowed: 60, step: 1, changedAtMs: 7, slowStart: true });
  });

  it("doubles in slow start once Graph accepted a whole budget's worth in the window, up to the documented budget", () => {
    const start = startBudget(100, 0);
    assert.equal(afterAccepted(start, 59, 100, 5), start, "not yet");
    assert.deepEqual(afterAccepted(start, 60, 100, 5), { allowed: 100, step: 1, changedAtMs: 5 });
    assert.deepEqual(afterAccepted({ allowed: 20, step: 1, changedAtMs: 0, slowStart: true }, 20, 100, 5), {
      allowed: 40,
      step: 1,
      changedAtMs: 5,
      slowStart: true,
    });
    const settled = { allowed: 45, step: 1, changedAtMs: 0 };
    assert.equal(afterAccepted(settled, 45, 100, 5), settled, "after a 429, only quiet windows raise it");
  });

  it("raises the budget to what Graph accepted when answers sent before a 429 arrive after it", () => {
    const lowered = { allowed: 44, step: 1, changedAtMs: 0 };
    assert.deepEqual(afterAccepted(lowered, 47, 100, 5, true), { allowed: 47, step: 1, changedAtMs: 0 });
    assert.equal(afterAccepted(lowered, 47, 100, 5, false), lowered, "not from requests sent after it");
  });

  it("goes to what the window accepted when Graph throttles, by at most half", () => {
    const at60 = { allowed: 60, step: 8, changedAtMs: 0 };
    assert.deepEqual(afterThrottle(at60, 50, 7), { allowed: 50, step: 1, changedAtMs: 7 });
    assert.deepEqual(
      afterThrottle(at60, 1, 7),
      { allowed: 30, step: 1, changedAtMs: 7 },
      "a lone 429 in a quiet window halves the budget, no more",
    );
    assert.deepEqual(afterThrottle(at60, 75, 7), { allowed: 60, step: 1, changedAtMs: 7 }, "never up");
    assert.deepEqual(
      afterThrottle({ allowed: 1, step: 1, changedAtMs: 0 }, 0, 7),
      { allowed: 1, step: 1, changedAtMs: 7 },
      "never below one",
    );
  });

  const table: [string, Budget, Budget][] = [
    [
      "probes one request above the last limit after a quiet window",
      { allowed: 50, step: 1, changedAtMs: 0 },
      { allowed: 51, step: 2, changedAtMs: 9 },
    ],
    [
      "doubles the step with each quiet window",
      { allowed: 57, step: 8, changedAtMs: 0 },
      { allowed: 65, step: 16, changedAtMs: 9 },
    ],
    [
      "never goes above the documented budget",
      { allowed: 95, step: 16, changedAtMs: 0 },
      { allowed: 100, step: 32, changedAtMs: 9 },
    ],
  ];
  for (const [name, before, after] of table)
    it(name, () => assert.deepEqual(afterQuietWindow(before, 100, 9), after));
});

describe("Pacer", () => {
  it("starts at 60 % of the documented budget", () => {
    assert.deepEqual(new Pacer({ windowMs: 20_000, writes: 100, requests: 1000 }).allowed, {
      writes: 60,
      requests: 600,
    });
  });

  it("spreads a burst of writes over the window from their answers, first come first served, and lets reads pass", async () => {
    const pacer = new Pacer({ windowMs: 200, writes: 3, requests: 100 }); // 2 writes, then 3 once both are accepted
    const order: string[] = [];
    const sentAt: Record<string, number> = {};
    const answeredAt: Record<string, number> = {};
    const send = async (name: string, write: boolean) => {
      const ticket = await pacer.acquire(write);
      order.push(name);
      sentAt[name] = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 30)); // the round trip
      pacer.settle(ticket, false);
      answeredAt[name] = Date.now();
    };
    await Promise.all([...[1, 2, 3, 4].map((n) => send(`w${n}`, true)), send("r", false)]);
    assert.deepEqual(
      order.filter((o) => o.startsWith("w")),
      ["w1", "w2", "w3", "w4"],
    );
    assert.ok(order.indexOf("r") < order.indexOf("w3"), "the read did not queue behind held writes");
    const firstWriteAnswer = Math.min(answeredAt.w1, answeredAt.w2);
    assert.ok(sentAt.w3 - sentAt.w1 < 150, "the third went once the first two were accepted (slow start)");
    assert.ok(
      sentAt.w4 >= firstWriteAnswer + 200,
      "the fourth write waited a window from the first write's answer",
    );
    assert.ok(sentAt.w4 - sentAt.w1 < 400, `and no longer: ${sentAt.w4 - sentAt.w1} ms`);
  });

  it("forgets a request whose ticket was never settled two windows after it was sent", async () => {
    let now = 0;
    const pacer = new Pacer({ windowMs: WINDOW, writes: 2, requests: 100 }, undefined, () => now); // 1 write
    await pacer.acquire(true); // never settled: its request's fate is unknown
    const next = pacer.acquire(true);
    now = 2 * WINDOW;
    assert.equal((await next).sentAtMs, 2 * WINDOW);
  });

  it("lowers its write budget once per throttle event, to what Graph accepted, then recovers", async () => {
    let now = 0;
    const events: string[] = [];
    const pacer = new Pacer(
      { windowMs: WINDOW, writes: 20, requests: 1000 }, // starts at 12 writes per window
      (e) => events.push(e.kind),
      () => now,
    );
    const tickets = await Promise.all(Array.from({ length: 12 }, () => pacer.acquire(true)));
    tickets.slice(0, 9).forEach((t) => pacer.settle(t, false));
    tickets.slice(9).forEach((t) => pacer.settle(t, true)); // three 429s, one event
    assert.deepEqual(pacer.allowed, { writes: 9, requests: 600 }, "the nine Graph accepted");
    assert.equal(pacer.stats.throttleEvents, 1);
    assert.deepEqual(events, ["decreased"]);
    now = WINDOW + 1; // a window after the answers: the old requests no longer count
    pacer.settle(await pacer.acquire(true), false);
    assert.equal(pacer.allowed.writes, 10, "a quiet window adds one");
    now += 3 * WINDOW;
    pacer.settle(await pacer.acquire(true), false);
    assert.equal(pacer.allowed.writes, 20, "then two, four, eight: up to the documented 20");
  });

  it("raises the budget again as answers to requests sent before a 429 arrive after it", async () => {
    const pacer = new Pacer({ windowMs: WINDOW, writes: 20, requests: 1000 }, undefined, () => 0); // 12 writes
    const tickets = await Promise.all(Array.from({ length: 12 }, () => pacer.acquire(true)));
    tickets.slice(9).forEach((t) => pacer.settle(t, true)); // the 429s overtake the accepted answers
    assert.equal(pacer.allowed.writes, 6, "nothing accepted yet: halved, no more");
    tickets.slice(0, 9).forEach((t) => pacer.settle(t, false));
    assert.equal(pacer.allowed.writes, 9, "the nine Graph accepted");
  });

  it("lowers the request budget, not the write budget, for a throttled read", async () => {
    const pacer = new Pacer({ windowMs: WINDOW, writes: 100, requests: 1000 }, undefined, () => 0);
    const [read, ...others] = await Promise.all(Array.from({ length: 5 }, () => pacer.acquire(false)));
    others.forEach((t) => pacer.settle(t, false));
    pacer.settle(read, true);
    assert.deepEqual(pacer.allowed, { writes: 60, requests: 300 }, "a lone 429 halves the budget, no more");
  });
});

describe("adaptive pacing against a tenant stricter than documented", function () {
  this.timeout(60_000);
  // The tenant allows 5 writes per second; the pacer is told Intune's documented shape at 10.
  const emu = useEmulator({
    onboardingDelayMs: null,
    throttle: { windowMs: 1_000, appWrites: 5, tenantWrites: 10, appAll: 100, tenantAll: 200 },
  });

  it("learns the rate Graph grants: 40 writes at once complete with few 429s", async () => {
    const tenantId = emu().newTenant();
    const pacer = new Pacer({ windowMs: 1_000, writes: 10, requests: 100 });
    const { client } = clientFor(emu(), {
      pacer,
      tokens: tokensFor(emu(), { tenantId }),
      retry: { retryDelayInMs: 100, maxRetryDelayInMs: 1_000 },
    });
    const api = new PartnersApi(client, "beta");
    const partner = emu().tenant(tenantId).seed({ displayName: "Paced" });
    emu().clearLog();
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) => api.update(partner.id, { displayName: `Paced ${i}` })),
    );
    assert.deepEqual(
      results.filter((r) => r.status === "rejected"),
      [],
    );
    const throttled = emu().requests.filter((r) => r.status === 429).length;
    assert.ok(throttled <= 10, `${throttled} of ${emu().requests.length} answers were 429`);
    assert.ok(pacer.allowed.writes <= 6, `the budget is ${pacer.allowed.writes} writes per window`);
  });
});

describe("Pacer slow start", () => {
  it("lets waiting requests through as soon as the budget doubles, not a window later", async () => {
    const pacer = new Pacer({ windowMs: 10_000, writes: 10, requests: 100 }); // starts at 6 writes per window
    const started = Date.now();
    const first = await Promise.all(Array.from({ length: 6 }, () => pacer.acquire(true)));
    const rest = Promise.all(Array.from({ length: 4 }, () => pacer.acquire(true)));
    first.forEach((t) => pacer.settle(t, false)); // Graph accepted all six: the budget doubles to ten
    await rest;
    assert.ok(Date.now() - started < 1_000, `the rest waited ${Date.now() - started} ms`);
    assert.equal(pacer.allowed.writes, 10);
  });
});
