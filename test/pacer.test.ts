import { strict as assert } from "node:assert";
import {
  afterAccepted,
  afterLateThrottle,
  afterThrottle,
  BETA,
  CUBIC_RECOVERY_IN_MS,
  cubicRate,
  grantedRateOf,
  intuneAppLimits,
  Pacer,
  pacingDelayInMs,
  rateDelayInMs,
  refilled,
  startRate,
  systemClock,
  type PacingEvent,
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

describe("the rate of one kind of request (pure)", () => {
  const documented = { perWindow: 100, rate: 5 };

  it("starts probing: a tenth of the documented budget in the bucket, filled at the documented rate", () => {
    const s = startRate(100, 20_000, 7);
    assert.deepEqual([s.phase, s.capacity, s.tokens, s.rate, s.refilledAtMs], ["probing", 10, 10, 5, 7]);
  });

  it("refills at its rate up to its capacity, and says how long until a token", () => {
    const s = { ...startRate(100, 20_000, 0), tokens: 0 };
    assert.equal(refilled(s, 100).tokens, 0.5);
    assert.equal(refilled(s, 60_000).tokens, 10, "never above its capacity");
    assert.equal(rateDelayInMs(s, 0), 200);
    assert.equal(rateDelayInMs({ ...s, tokens: 1, pausedUntilMs: 900 }, 100), 800, "a Retry-After holds it");
  });

  it("grows the bucket while probing by rounds, each 1.5 times the last, released once the last was all accepted", () => {
    let s = startRate(100, 20_000, 0);
    for (let i = 1; i < 10; i++) s = afterAccepted(s, documented, 0, i);
    assert.equal(s.capacity, 10, "not yet");
    s = afterAccepted(s, documented, 0, 10); // the first round (the bucket's 10) all accepted
    assert.deepEqual([s.capacity, s.tokens, s.accepted, s.round], [25, 25, 0, 15]);
    for (let i = 11; i < 25; i++) s = afterAccepted(s, documented, 0, i);
    assert.equal(s.capacity, 25);
    s = afterAccepted(s, documented, 0, 25);
    assert.deepEqual([s.capacity, s.round], [47.5, 22.5]);
  });

  it("holds the whole documented budget once Graph accepted it within a window", () => {
    const s = afterAccepted({ ...startRate(100, 20_000, 0), capacity: 40, tokens: 0 }, documented, 0, 100);
    assert.deepEqual([s.capacity, s.tokens, s.phase], [100, 60, "probing"]);
  });

  it("paces at β of the rate Graph granted after a throttle event, holding a second of it, paused by Retry-After", () => {
    const s = afterThrottle(startRate(100, 20_000, 0), 2.5, 1_000, 1_500);
    assert.deepEqual(
      [s.phase, s.rate, s.capacity, s.tokens, s.grantedRate, s.throttledAtMs, s.pausedUntilMs],
      ["paced", 2.5 * BETA, 2.5 * BETA, 0, 2.5, 1_000, 2_500],
    );
  });

  it("grows back by CUBIC: β of the granted rate at once, the granted rate after the recovery time, gently above", () => {
    assert.equal(cubicRate(10, 0), 10 * BETA);
    assert.equal(cubicRate(10, CUBIC_RECOVERY_IN_MS), 10);
    assert.ok(
      Math.abs(cubicRate(10, 2 * CUBIC_RECOVERY_IN_MS) - 11) < 1e-9,
      "10 % above after as long again",
    );
    const paced = afterThrottle(startRate(100, 20_000, 0), 2.5, 0);
    assert.equal(afterAccepted(paced, documented, CUBIC_RECOVERY_IN_MS).rate, 2.5);
    assert.equal(
      afterAccepted(paced, documented, 100 * CUBIC_RECOVERY_IN_MS).rate,
      5,
      "never above the documented rate",
    );
  });

  it("a 429 of an event already met only extends the pause", () => {
    const s = afterThrottle(startRate(100, 20_000, 0), 2.5, 0, 100);
    assert.deepEqual(afterLateThrottle(s, 50, 400), { ...s, pausedUntilMs: 450 });
  });

  const estimates: [string, number[], number, number, number][] = [
    [
      "fixed 2 s windows of 5: a burst of 5, then Retry-After to the window's end",
      [10, 20, 30, 40, 50],
      60,
      1_940,
      2.5,
    ],
    [
      "a sliding 20 s window of 50, with Retry-After until its oldest leaves",
      Array.from({ length: 50 }, (_, i) => i * 4),
      200,
      19_800,
      2.5,
    ],
    [
      "steady answers over 8 s of a 20 s window: their rate",
      Array.from({ length: 20 }, (_, i) => 1_000 + i * 400),
      9_000,
      0,
      2.5,
    ],
    ["a burst with no Retry-After: over at least a second", [10, 20, 30], 40, 0, 3],
    ["nothing accepted in the window: no measure", [-30_000], 0, 0, 0],
  ];
  for (const [name, accepted, now, retryAfter, expected] of estimates)
    it(`measures the rate Graph grants: ${name}`, () =>
      assert.ok(
        Math.abs(grantedRateOf(accepted, now, 20_000, retryAfter) - expected) <= 0.02 * expected,
        String(grantedRateOf(accepted, now, 20_000, retryAfter)),
      ));
});

describe("Pacer", () => {
  it("starts with a tenth of the budget to send at once, at the documented rate", () => {
    assert.deepEqual(new Pacer({ windowMs: 20_000, writes: 100, requests: 1000 }).allowed, {
      writes: 100,
      requests: 1000,
    });
  });

  it("releases growing rounds as Graph accepts them, then holds to the window, first come first served, and lets reads pass", async () => {
    const pacer = new Pacer({ windowMs: 400, writes: 8, requests: 100 }); // a bucket of 1 write, growing by rounds
    const order: string[] = [];
    const sentAt: Record<string, number> = {};
    const answeredAt: number[] = [];
    const send = async (name: string, write: boolean) => {
      const ticket = await pacer.acquire(write);
      order.push(name);
      sentAt[name] = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 20)); // the round trip
      if (write) answeredAt.push(Date.now()); // before settle: the pacer counts the window from its own clock
      pacer.settle(ticket, { throttled: false });
    };
    const names = Array.from({ length: 9 }, (_, i) => `w${i + 1}`);
    await Promise.all([...names.map((n) => send(n, true)), send("r", false)]);
    assert.deepEqual(
      order.filter((o) => o.startsWith("w")),
      names,
    );
    assert.ok(order.indexOf("r") < order.indexOf("w2"), "the read did not queue behind held writes");
    assert.ok(sentAt.w8 - sentAt.w1 < 300, `the first eight in growing rounds: ${sentAt.w8 - sentAt.w1} ms`);
    assert.ok(sentAt.w9 >= answeredAt[0] + 400, "the ninth waited a window from the first answer");
  });

  it("forgets a request whose ticket was never settled two windows after it was sent", async () => {
    let now = 0;
    const pacer = new Pacer({ windowMs: WINDOW, writes: 1, requests: 100 }, undefined, { ...systemClock, now: () => now });
    await pacer.acquire(true); // never settled: its request's fate is unknown
    const next = pacer.acquire(true);
    now = 2 * WINDOW;
    assert.equal((await next).sentAtMs, 2 * WINDOW);
  });

  it("paces at β of the rate Graph granted once per throttle event, holds writes for Retry-After, then grows back", async () => {
    let now = 0;
    const events: PacingEvent[] = [];
    const pacer = new Pacer(
      { windowMs: 20_000, writes: 100, requests: 1000 },
      (e) => events.push(e),
      { ...systemClock, now: () => now },
    );
    const tickets = await Promise.all(Array.from({ length: 10 }, () => pacer.acquire(true)));
    now = 40;
    tickets.slice(0, 5).forEach((t) => pacer.settle(t, { throttled: false }));
    now = 60;
    // Five accepted, then 429s telling the window ends in 1.94 s: Graph grants 5 per 2 s.
    tickets.slice(5).forEach((t) => pacer.settle(t, { throttled: true, retryAfterInMs: 1_940 }));
    assert.equal(pacer.stats.throttleEvents, 1, "one event for the five 429s");
    assert.deepEqual(
      events.filter((e) => e.kind === "decreased"),
      // Five accepted between 40 and 60 ms, and 1.94 s more to wait: 5 per 1.96 s.
      [{ kind: "decreased", write: true, allowed: Math.round((5_000 / 1_960) * BETA * 20), accepted: 5 }],
    );
    let sent = false;
    const next = pacer.acquire(true).then((t) => ((sent = true), t));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(sent, false, "held by Retry-After");
    now = 2_100;
    pacer.settle(await next, { throttled: false });
    now = 60 + 10 * CUBIC_RECOVERY_IN_MS;
    pacer.settle(await pacer.acquire(true), { throttled: false });
    assert.ok(pacer.allowed.writes > 50, `grown back: ${pacer.allowed.writes} per 20 s`);
  });

  it("slows the request rate, not the write rate, for a throttled read", async () => {
    const pacer = new Pacer({ windowMs: WINDOW, writes: 100, requests: 1000 }, undefined, { ...systemClock, now: () => 0 });
    const [read, ...others] = await Promise.all(Array.from({ length: 5 }, () => pacer.acquire(false)));
    others.forEach((t) => pacer.settle(t, { throttled: false }));
    pacer.settle(read, { throttled: true });
    assert.equal(pacer.allowed.writes, 100, "writes at the documented rate");
    assert.ok(pacer.allowed.requests < 1000);
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
    assert.ok(pacer.allowed.writes <= 6, `the rate is ${pacer.allowed.writes} writes per window`);
  });
});
