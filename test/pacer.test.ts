import { strict as assert } from "node:assert";
import {
  afterAccepted,
  afterQuietWindow,
  afterThrottle,
  intuneAppLimits,
  marginInMs,
  Pacer,
  pacingDelayInMs,
  startBudget,
  type Budget,
} from "../provider/graph/pacer";
import { PartnersApi } from "../provider/graph/partners";
import { clientFor, tokensFor, useEmulator } from "./support/emulator";

const WINDOW = 1_000;
const MARGIN = 250; // max(250 ms, 2 % of the window)
const allowed = { writes: 3, requests: 5 };
const sends = (writes: number[], reads: number[] = []) =>
  [...writes.map((atMs) => ({ atMs, write: true })), ...reads.map((atMs) => ({ atMs, write: false }))].sort(
    (a, b) => a.atMs - b.atMs,
  );

describe("pacingDelayInMs", () => {
  const table: [string, ReturnType<typeof sends>, boolean, number][] = [
    ["sends at once under both budgets", sends([0, 10]), true, 0],
    ["holds a write while the window holds the write budget", sends([0, 10, 20]), true, MARGIN + 1_000 - 500],
    ["lets a read through past the write budget", sends([0, 10, 20]), false, 0],
    [
      "holds a read while the window holds the request budget",
      sends([], [100, 200, 300, 400, 450]),
      false,
      100 + 1_000 + MARGIN - 500,
    ],
    ["forgets sends older than the window and its margin", sends([-800, -790, -780]), true, 0],
  ];
  for (const [name, sent, write, expected] of table) {
    it(name, () => assert.equal(pacingDelayInMs(sent, write, 500, WINDOW, allowed), expected));
  }

  it("widens the window by the longest recent round trip, within 50 ms and 2 % of the window", () => {
    assert.equal(marginInMs(20_000, 5), 50);
    assert.equal(marginInMs(20_000, 180), 180);
    assert.equal(marginInMs(20_000, 3_000), 400);
    assert.equal(marginInMs(1_000, 3_000), 250);
  });

  it("uses Intune's documented per-app limits by default", () => {
    assert.deepEqual(intuneAppLimits, { windowMs: 20_000, writes: 100, requests: 1000 });
  });
});

describe("adapting the budget (slow start, then AIMD)", () => {
  it("starts at 60 % of the documented budget, in slow start", () => {
    assert.deepEqual(startBudget(100, 7), { allowed: 60, changedAtMs: 7, slowStart: true });
  });

  it("doubles in slow start once Graph accepted a whole budget's worth in the window, up to the documented budget", () => {
    const start = startBudget(100, 0);
    assert.equal(afterAccepted(start, 59, 100, 5), start, "not yet");
    assert.deepEqual(afterAccepted(start, 60, 100, 5), { allowed: 100, changedAtMs: 5 });
    assert.deepEqual(afterAccepted({ allowed: 20, changedAtMs: 0, slowStart: true }, 20, 100, 5), {
      allowed: 40,
      changedAtMs: 5,
      slowStart: true,
    });
    const settled = { allowed: 45, ceiling: 50, changedAtMs: 0 };
    assert.equal(afterAccepted(settled, 45, 100, 5), settled, "after a 429, only quiet windows raise it");
  });

  it("goes just under what the window accepted when Graph throttles", () => {
    const at60 = { allowed: 60, changedAtMs: 0 };
    assert.deepEqual(afterThrottle(at60, 50, 7), { allowed: 45, ceiling: 50, changedAtMs: 7 });
    assert.deepEqual(
      afterThrottle(at60, 1, 7),
      { allowed: 30, changedAtMs: 7 },
      "a lone 429 in a quiet window halves the budget, no more",
    );
    assert.deepEqual(
      afterThrottle({ allowed: 1, changedAtMs: 0 }, 0, 7),
      { allowed: 1, changedAtMs: 7 },
      "never below one",
    );
  });

  const table: [string, Budget, Budget][] = [
    [
      "halves the gap to the last ceiling after a quiet window",
      { allowed: 45, ceiling: 50, changedAtMs: 0 },
      { allowed: 48, ceiling: 50, changedAtMs: 9 },
    ],
    [
      "reaches the ceiling, then forgets it",
      { allowed: 49, ceiling: 50, changedAtMs: 0 },
      { allowed: 50, ceiling: undefined, changedAtMs: 9 },
    ],
    [
      "probes above it by a tenth of the documented budget",
      { allowed: 50, changedAtMs: 0 },
      { allowed: 60, ceiling: undefined, changedAtMs: 9 },
    ],
    [
      "never goes above the documented budget",
      { allowed: 95, changedAtMs: 0 },
      { allowed: 100, ceiling: undefined, changedAtMs: 9 },
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

  it("spreads a burst of writes over the window, first come first served, and lets reads pass", async () => {
    const pacer = new Pacer({ windowMs: 200, writes: 3, requests: 100 }); // starts at 2 writes per window
    const order: string[] = [];
    const started = Date.now();
    const waits = await Promise.all([
      ...[1, 2, 3, 4].map((n) => pacer.acquire(true).then((t) => (order.push(`w${n}`), t.waitedInMs))),
      pacer.acquire(false).then(() => (order.push("r"), 0)),
    ]);
    assert.deepEqual(
      order.filter((o) => o.startsWith("w")),
      ["w1", "w2", "w3", "w4"],
    );
    assert.ok(order.indexOf("r") < order.indexOf("w3"), "the read did not queue behind held writes");
    assert.ok(Date.now() - started >= 250, "the last writes waited for the window and its margin");
    assert.ok(waits[0] < 50 && waits[1] < 50 && waits[2] > 100, `waits ${waits}`);
  });

  it("lowers its write budget once per throttle event, to just under what Graph accepted, then recovers", async () => {
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
    assert.deepEqual(pacer.allowed, { writes: 8, requests: 600 }, "just under the nine Graph accepted");
    assert.equal(pacer.stats.throttleEvents, 1);
    assert.deepEqual(events, ["decreased"]);
    now = WINDOW + 300; // past the window and its margin: the old sends no longer count
    pacer.settle(await pacer.acquire(true), false);
    assert.equal(pacer.allowed.writes, 9, "a quiet window halves the gap to the nine");
    now += 3 * WINDOW;
    pacer.settle(await pacer.acquire(true), false);
    assert.equal(pacer.allowed.writes, 15, "then probes by a tenth of the documented budget per window");
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
