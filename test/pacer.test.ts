import { strict as assert } from "node:assert";
import { shapeRow } from "../bench/shapes";
import { simulate, type SimulatedRun, VirtualClock } from "../bench/simulated";
import { limitShape, limitsAt, type ThrottleLimits } from "../emulator/throttle";
import {
  afterAccepted,
  afterLateAccept,
  afterLateThrottle,
  afterReopening,
  afterThrottle,
  capDelayInMs,
  explainsRefusal,
  fellFrom,
  FIRST_GROWTH,
  GROWTH_FACTOR,
  GROWTH_429_BUDGET,
  fittedCap,
  grantedBetweenRefusals,
  growthAllowed,
  GROW_AFTER,
  grownCap,
  growWithinMs,
  intuneAppLimits,
  kindDelayInMs,
  MAX_IN_FLIGHT,
  Pacer,
  pacingDelayInMs,
  reachedByMs,
  reachOf,
  reckonedAnswerAtMs,
  refilled,
  smoothedRoundTripInMs,
  startPacing,
  stretchedWindowMs,
  systemClock,
  type Cap,
  type KindPacing,
  type PacingEvent,
  type PacingTicket,
  type Reach,
  type Refusal,
  type Sent,
  WINDOW_MARGIN,
} from "../provider/graph/pacer";
import { PartnersApi } from "../provider/graph/partners";
import { clientFor, tokensFor, useEmulator } from "./support/emulator";

const WINDOW = 1_000;
/** Each window is fitted WINDOW_MARGIN longer than the refusals' spans. */
const m = 1 + WINDOW_MARGIN;
/** A pacer of 100 writes and 1000 requests per WINDOW whose clock reads `now` (its timers are the system's). */
const pacerAt = (now: () => number, onEvent?: (event: PacingEvent) => void) =>
  new Pacer({ windowMs: WINDOW, writes: 100, requests: 1000 }, onEvent, { ...systemClock, now });
/** {@link pacerAt} on a manual clock (`clock.now`) and what it told; Graph accepting `tickets` at `atMs`; `n` reads at once. */
const manualPacer = () => {
  const clock = { now: 0 };
  const events: PacingEvent[] = [];
  const pacer = pacerAt(
    () => clock.now,
    (e) => events.push(e),
  );
  const accept = (tickets: PacingTicket[], atMs: number) => {
    clock.now = atMs;
    tickets.forEach((t) => pacer.settle(t, { throttled: false }));
  };
  const reads = (n: number) => Promise.all(Array.from({ length: n }, () => pacer.acquire(false)));
  return { pacer, clock, accept, reads, events };
};
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

describe("the pacing of one kind of request (pure)", () => {
  const documented = { perWindow: 100, windowMs: 20_000 };
  /** A refusal reopening at `reopensAtMs` after accepted requests answered at `accepted` (any order). */
  const refusal = (reopensAtMs: number, accepted: number[]): Refusal => ({
    reopensAtMs,
    acceptedAtMs: [...accepted].sort((x, y) => y - x),
  });

  it("starts slowly: a fiftieth of the documented budget in the bucket, filled at the documented rate", () => {
    const s = startPacing(100, 7);
    assert.deepEqual([s.phase, s.capacity, s.tokens, s.refilledAtMs], ["starting", 2, 2, 7]);
    const empty = { ...s, tokens: 0, refilledAtMs: 0 };
    assert.equal(refilled(empty, documented, 100).tokens, 0.5);
    assert.equal(refilled(empty, documented, 60_000).tokens, 2, "never above its capacity");
    assert.equal(kindDelayInMs(empty, [], 0, documented), 200);
    assert.equal(
      kindDelayInMs({ ...s, pausedUntilMs: 900 }, [], 100, documented),
      800,
      "a Retry-After holds it",
    );
  });

  it("grows the slow start by rounds, each 1.5 times the last, released once the last was all accepted", () => {
    let s = startPacing(100, 0);
    s = afterAccepted(s, documented);
    assert.equal(s.capacity, 2, "not yet");
    s = afterAccepted(s, documented); // the first round (the bucket's 2) all accepted
    assert.deepEqual([s.capacity, s.tokens, s.accepted, s.round], [5, 5, 0, 3]);
    for (let i = 0; i < 3; i++) s = afterAccepted(s, documented);
    assert.deepEqual([s.capacity, s.round], [9.5, 4.5]);
    const all = afterAccepted({ ...startPacing(100, 0), capacity: 40, tokens: 0 }, documented, 100);
    assert.deepEqual(
      [all.capacity, all.tokens],
      [100, 60],
      "the whole budget once Graph accepted it in a window",
    );
  });

  it("holds a kind to MAX_IN_FLIGHT unanswered requests, one while a growth is on trial, no longer, nor once Graph refused it", () => {
    const inFlight = (n: number) => Array.from({ length: n }, () => ({ sentAtMs: 0, write: true }));
    const s = startPacing(100, 0);
    assert.equal(kindDelayInMs(s, inFlight(MAX_IN_FLIGHT - 1), 0, documented), 0);
    assert.equal(kindDelayInMs(s, inFlight(MAX_IN_FLIGHT), 0, documented), Infinity);
    const grown = { ...s, grown: true, trialEndsAtMs: 1_000 };
    assert.equal(kindDelayInMs(grown, inFlight(1), 999, documented), Infinity);
    assert.equal(
      kindDelayInMs(grown, inFlight(MAX_IN_FLIGHT - 1), 1_000, documented),
      0,
      "a growth that lasted its trial: one at a time would cap the rate at one request a round trip",
    );
    assert.equal(
      kindDelayInMs(
        afterThrottle(
          { ...grown, phase: "fitted", cap: { perWindow: 10, windowMs: 1_000, rate: 0.01 } },
          500,
        ),
        inFlight(MAX_IN_FLIGHT - 1),
        999,
        documented,
      ),
      0,
      "a growth refused: its trial is over, and the reopening's requests go as many at a time as before it",
    );
  });

  const fits: [string, Refusal[], Cap & { rate: number }][] = [
    [
      "fixed 2 s windows of 5: a burst of 5, refused until the window's end: 5 per 2 s",
      [refusal(2_000, [10, 20, 30, 40, 50])],
      { perWindow: 5, windowMs: m * 1_990, rate: 5 / (m * 1_990) },
    ],
    [
      "the same two windows on: the best rate over the history, the burst of one window",
      [refusal(6_000, [4_010, 4_020, 4_030, 4_040, 4_050, 2_010, 2_020, 2_030, 2_040, 2_050])],
      { perWindow: 5, windowMs: m * 1_990, rate: 5 / (m * 1_990) },
    ],
    [
      "a sliding 10 s window of 50 filled at once: 50 per 10 s, the whole burst Graph accepted",
      [
        refusal(
          10_000,
          Array.from({ length: 50 }, (_, i) => i * 4),
        ),
      ],
      { perWindow: 50, windowMs: m * 10_000, rate: 50 / (m * 10_000) },
    ],
    [
      "two bursts of 10, 6 s apart: the newer burst's rate and size, not the whole history at once",
      [
        refusal(
          10_000,
          Array.from({ length: 20 }, (_, i) => (i < 10 ? i : 5_000 + i * 100)),
        ),
      ],
      { perWindow: 10, windowMs: m * 4_000, rate: 10 / (m * 4_000) },
    ],
    [
      "a token bucket refilling one every 400 ms, answered steadily: one request per 400 ms, no burst",
      [
        refusal(
          8_400,
          Array.from({ length: 20 }, (_, i) => 400 + i * 400),
        ),
      ],
      { perWindow: 1, windowMs: m * 400, rate: 20 / (m * 8_000) },
    ],
    [
      "a token bucket that had 5 stored, then one every 400 ms: the rate of its refill, without its store",
      [
        refusal(8_400, [
          ...Array.from({ length: 5 }, (_, i) => i),
          ...Array.from({ length: 20 }, (_, i) => 400 + i * 400),
        ]),
      ],
      { perWindow: 1, windowMs: m * 400, rate: 1 / (m * 400) },
    ],
    [
      "two refusals: the window each needs, the longest",
      [refusal(2_000, [1_000, 1_500]), refusal(4_100, [3_000, 3_100])],
      { perWindow: 2, windowMs: m * 1_100, rate: 2 / (m * 1_100) },
    ],
    [
      "never above the documented rate, nor a window longer than the documented one: a burst, the documented budget",
      [
        refusal(
          1_000,
          Array.from({ length: 100 }, (_, i) => i),
        ),
      ],
      { perWindow: 100, windowMs: 20_000, rate: 100 / 20_000 },
    ],
    [
      "a burst Graph refused for longer than the documented window: the window it measured, not the documented one by a rounding",
      [
        refusal(
          20_150,
          Array.from({ length: 10 }, (_, i) => i * 10),
        ),
      ],
      { perWindow: 10, windowMs: m * 20_150, rate: 10 / (m * 20_150) },
    ],
    [
      "the same accepted as a refill, not at once: the documented rate, one request at a time",
      [
        refusal(
          1_000,
          Array.from({ length: 100 }, (_, i) => i * 9),
        ),
      ],
      { perWindow: 1, windowMs: 200, rate: 100 / 20_000 },
    ],
  ];
  /** `actual` is `expected` but for floating point's rounding. */
  const assertCap = (
    actual: (Cap & { rate: number }) | undefined,
    expected: Cap & { rate: number },
    message = "",
  ) => {
    assert.equal(actual?.perWindow, expected.perWindow, message);
    assert.ok(Math.abs(actual!.windowMs - expected.windowMs) < 1e-6, `${message} ${actual!.windowMs} ms`);
    assert.ok(Math.abs(actual!.rate - expected.rate) < 1e-9, `${message} ${actual!.rate * 1000}/s`);
  };
  for (const [name, refusals, expected] of fits)
    it(`fits the cap Graph granted: ${name}`, () => assertCap(fittedCap(refusals, documented), expected));

  it("fits a cap Graph refused twice running to the rate it granted between the refusals: a bucket whose rate halved", () => {
    // One request per 400 ms until 10 s, then the bucket refills one per 800 ms and refuses the fit each time.
    const before = Array.from({ length: 25 }, (_, i) => i * 400);
    const refusals = [
      refusal(10_400, before),
      { ...refusal(12_000, [...before, 10_800, 11_600]), ofFit: true },
      { ...refusal(13_600, [...before, 10_800, 11_600, 12_400, 13_200]), ofFit: true },
    ];
    assertCap(fittedCap(refusals, documented), { perWindow: 1, windowMs: m * 800, rate: 1 / 800 });
    assertCap(
      fittedCap([refusals[0], refusals[1], { ...refusals[2], ofFit: false }], documented),
      { perWindow: 13, windowMs: m * 7_200, rate: 15 / (m * 8_000) },
      "the newest refused a growth: fitted to the history (its older, faster part included)",
    );
  });

  it("takes the rate granted between refusals only when Graph refused the fit twice running, each span below it", () => {
    const at = (reopensAtMs: number, accepted: number[], ofFit = true) => ({
      ...refusal(reopensAtMs, accepted),
      ofFit,
    });
    const history = [10_800, 11_600, 12_400, 13_200];
    const table: [string, Refusal[], number][] = [
      [
        "two spans of 1.6 s, two accepted in each",
        [at(10_400, []), at(12_000, []), at(13_600, history)],
        4 / 3_200,
      ],
      ["a growth refused last", [at(10_400, []), at(12_000, []), at(13_600, history, false)], Infinity],
      [
        "the fit refused once: one span may be chance (a sliding window grants what was sent a window before)",
        [at(10_400, []), at(12_000, [], false), at(13_600, history)],
        Infinity,
      ],
      [
        "a span granted as fast as the fit",
        [at(10_400, []), at(12_000, []), at(13_600, [10_500, 10_900, 11_300, 11_700, 12_400])],
        Infinity,
      ],
      ["a span granted nothing", [at(10_400, []), at(12_000, []), at(13_600, [12_400])], Infinity],
      [
        "spans reaching past a documented window",
        [at(-6_500, []), at(12_000, []), at(13_600, history)],
        Infinity,
      ],
      ["two refusals", [at(12_000, []), at(13_600, history)], Infinity],
    ];
    for (const [name, refusals, expected] of table)
      assert.equal(grantedBetweenRefusals(refusals, 1 / 400, documented), expected, name);
  });

  it("falls back from a growth Graph refused to the cap it grew from, and refits a refused fit to its refusals", () => {
    const from = { perWindow: 4, windowMs: 1_000, rate: 4 / 1_000 };
    const fitted: KindPacing = {
      ...startPacing(100, 0),
      phase: "fitted",
      cap: from,
      held: true,
      sinceChange: GROW_AFTER - 1,
    };
    const grown = afterAccepted(fitted, documented, 0, 1_000);
    assert.deepEqual([grown.grown, grown.grewFrom], [true, from]);
    // What the history shows: four in 2 s, slower than the cap that had held.
    const slow = [8_000, 8_500, 9_000, 9_500];
    const refitted = (s: KindPacing) => afterReopening(afterThrottle(s, 9_900, 100), slow, documented).cap;
    assert.deepEqual(refitted(grown), from, "a growth refused: the cap it grew from");
    assert.deepEqual(
      refitted(fitted),
      fittedCap([refusal(10_000, slow)], documented),
      "the fit refused: fitted to the refusal",
    );
    // Four in the 0.7 s before the reopening: a fixed window's refusal met late in the window, or a bucket's refill.
    const late = [9_300, 9_400, 9_500, 9_600];
    const faster = fittedCap([refusal(10_000, late)], documented)!;
    const reopened = (s: KindPacing) => afterReopening(afterThrottle(s, 9_900, 100), late, documented).cap;
    assert.ok(faster.rate > from.rate);
    assert.deepEqual(reopened(grown), from, "a window's growth refused: not faster either");
    const bucket = { perWindow: 1, windowMs: 400, rate: 1 / 400 };
    const grownBucket = afterAccepted({ ...fitted, cap: bucket }, documented, 0, 1_000);
    assert.deepEqual([grownBucket.grown, grownBucket.grewFrom], [true, bucket]);
    assert.deepEqual(reopened(grownBucket), faster, "a bucket's growth refused: its faster refill");
  });

  it("grows a window's cap next by a shorter window when its refused burst growth shows the window stretched", () => {
    // Grown from 3 per 2.8 s (fitted while the limit was lower) to 4, and refused: Graph reopened 2 s after the
    // third newest accepted, a 2 s window.
    const burst = [5_200, 5_210, 5_220, 8_000, 8_010, 8_020];
    const cap = (perWindow: number, windowMs: number) => ({
      perWindow,
      windowMs,
      rate: perWindow / windowMs,
    });
    const table: [string, Cap, Cap, number | undefined][] = [
      ["3 per 2.8 s grown to 4", cap(4, 2_800), cap(3, 2_800), (1 + WINDOW_MARGIN) * 2_000],
      [
        "3 per 2.4 s grown to 4: within a fifth, as a fixed window's refusal met late in its window",
        cap(4, 2_400),
        cap(3, 2_400),
        undefined,
      ],
      ["a window shortened already", cap(3, 2_030), cap(3, 2_800), undefined],
      ["a bucket's (one request, a shorter wait)", cap(1, 600), cap(1, 800), undefined],
    ];
    for (const [name, grown, from, expected] of table)
      assert.equal(stretchedWindowMs(grown, from, refusal(10_000, burst)), expected, name);
    const grown: KindPacing = {
      ...startPacing(100, 0),
      phase: "fitted",
      cap: cap(4, 2_800),
      grewFrom: cap(3, 2_800),
      grown: true,
    };
    const reopened = afterReopening(afterThrottle(grown, 8_100, 1_900), burst, documented);
    assert.deepEqual(
      [reopened.cap, reopened.shorterWindowMs],
      [cap(3, 2_800), (1 + WINDOW_MARGIN) * 2_000],
      "the refused growth falls back, its window measured",
    );
    const refusedFit = afterReopening(
      afterThrottle({ ...grown, grown: false }, 8_100, 1_900),
      burst,
      documented,
    );
    assert.equal(refusedFit.shorterWindowMs, undefined, "the fit refused, not a growth");
    const next = afterAccepted(
      { ...reopened, held: true, sinceChange: reopened.growAfter },
      documented,
      0,
      12_000,
    );
    assert.deepEqual(next.cap, cap(3, (1 + WINDOW_MARGIN) * 2_000), "then grows to the window it measured");
    assert.equal(next.shorterWindowMs, undefined, "once");
  });

  it("goes back to the cap Graph granted before a long window's limit fell, one of its windows after the fall", () => {
    const cap = (perWindow: number, windowMs: number) => ({
      perWindow,
      windowMs,
      rate: perWindow / windowMs,
    });
    const before = cap(90, 20_300);
    const fitted: KindPacing = { ...startPacing(100, 0), phase: "fitted", cap: before };
    // Graph refused the 90 per 20.3 s at 20 s, having granted 49 in the 20 s before it reopened at 25 s: a fall.
    const fell = [...Array(49).keys()].map((i) => 5_000 + 100 * i);
    const reopened = afterReopening(afterThrottle(fitted, 20_000, 5_000), fell, documented);
    assert.ok(reopened.cap!.rate < 0.8 * before.rate, "refitted to the fallen limit");
    assert.deepEqual(reopened.fellFrom, before, "remembers the cap before the fall");
    const due = { ...reopened, held: true, sinceChange: GROW_AFTER };
    assert.deepEqual(
      afterAccepted(due, documented, 0, 20_000 + reopened.cap!.windowMs - 1).cap,
      reopened.cap,
      "no growth in the window the fallen limit was measured in",
    );
    const back = afterAccepted(due, documented, 0, 20_000 + reopened.cap!.windowMs);
    assert.deepEqual(
      [back.cap, back.grewFrom, back.grown, back.fellFrom],
      [before, reopened.cap, true, undefined],
      "then straight back to it, on trial as any growth, once",
    );
    const pastBudget = (t: KindPacing) =>
      afterAccepted(t, documented, 0, 20_000 + t.cap!.windowMs, false).cap;
    assert.deepEqual(
      [pastBudget(due), pastBudget({ ...due, fellFrom: undefined, fellAtMs: undefined })],
      [before, reopened.cap],
      "past the 429 budget, the way back and no other growth (the fall's own 429s would hold the fallen cap)",
    );
    // A later 429 of the fallen cap measures the same fall: the wait still counts from the fall, not from that 429.
    const again = afterReopening(afterThrottle(reopened, 21_000, 19_800), fell, documented);
    assert.deepEqual([again.fellFrom, again.fellAtMs, again.changedAtMs], [before, 20_000, 21_000]);
    const dueAgain = { ...again, held: true, sinceChange: GROW_AFTER };
    assert.deepEqual(afterAccepted(dueAgain, documented, 0, 20_000 + again.cap!.windowMs - 1).cap, again.cap);
    const backAgain = afterAccepted(dueAgain, documented, 0, 20_000 + again.cap!.windowMs);
    assert.deepEqual(
      [backAgain.cap, backAgain.fellFrom, backAgain.fellAtMs],
      [before, undefined, undefined],
      "back a window after the fall, though the last 429 was later",
    );
    // Refused: the growth falls back to the fallen cap, and the fall is forgotten (growths go by 25 % again).
    const refused = afterReopening(afterThrottle(back, 50_000, 1_000), fell, documented);
    assert.deepEqual([refused.cap, refused.fellFrom, refused.fellAtMs], [reopened.cap, undefined, undefined]);
    const started = afterReopening(afterThrottle(startPacing(100, 0), 20_000, 5_000), fell, documented);
    assert.equal(started.fellFrom, undefined, "the slow start's refusal is no fall");

    type Fitted = Cap & { rate: number };
    const table: [string, Fitted | undefined, Fitted, Fitted | undefined, Fitted | undefined][] = [
      ["a fall to 49 per 20.9 s", before, cap(49, 20_900), undefined, before],
      [
        "a refit within a fifth of the refused cap: noise, not a fall",
        before,
        cap(75, 20_300),
        undefined,
        undefined,
      ],
      [
        "a fall to a short window: one growth a window finds a restored limit soon enough",
        cap(10, 2_000),
        cap(4, 2_000),
        undefined,
        undefined,
      ],
      [
        "a higher cap remembered from an earlier fall is kept",
        cap(49, 20_900),
        cap(30, 20_900),
        before,
        before,
      ],
      [
        "not a refusal of the fitted cap (the slow start's, a growth's)",
        undefined,
        cap(49, 20_900),
        undefined,
        undefined,
      ],
    ];
    for (const [name, refused, refit, remembered, expected] of table)
      assert.deepEqual(fellFrom(refused, refit, remembered, documented), expected, name);
  });

  it("marks a refusal of the fitted cap, not of the slow start or of a growth", () => {
    const fitted: KindPacing = {
      ...startPacing(100, 0),
      phase: "fitted",
      cap: { perWindow: 1, windowMs: 400, rate: 1 / 400 },
    };
    const reopened = (s: KindPacing) =>
      afterReopening(afterThrottle(s, 1_000, 100), [100, 200, 300, 400], documented).refusals.at(-1)?.ofFit;
    assert.equal(reopened(fitted), true);
    assert.equal(reopened({ ...fitted, grown: true }), false, "a growth");
    assert.equal(reopened(startPacing(100, 0)), false, "the slow start");
  });

  it("fits nothing to a refusal after nothing was accepted", () => {
    assert.equal(fittedCap([refusal(1_000, [])], documented), undefined);
  });

  it("tells a write's refusal for the all-requests limit's only where that limit's fitted rate explains it", () => {
    const everyRequest = refusal(2_000, [100, 200, 300, 400, 500, 600, 700, 800, 900, 1_000]);
    const all: KindPacing = {
      ...startPacing(1_000, 0),
      phase: "fitted",
      refusals: [everyRequest],
      cap: fittedCap([everyRequest], documented),
    };
    const table: [string, KindPacing, Refusal, boolean][] = [
      [
        "the next window's ten, then refused",
        all,
        refusal(4_000, [2_100, 2_200, 2_300, 2_400, 2_500, 2_600, 2_700, 2_800, 2_900, 3_000]),
        true,
      ],
      [
        "the next ten at two thirds of the pace (a write cap told wrong held them), then refused a window after",
        all,
        refusal(4_450, [2_100, 2_250, 2_400, 2_550, 2_700, 2_850, 3_000, 3_150, 3_300, 3_450]),
        true,
      ],
      [
        "four of all requests, then refused: a write limit below",
        all,
        refusal(4_000, [2_100, 2_200, 2_300, 2_400]),
        false,
      ],
      ["too few accepted to tell", all, refusal(4_000, [2_100, 2_200, 2_300]), false],
      [
        "the all-requests limit not fitted yet",
        startPacing(1_000, 0),
        refusal(2_000, [100, 200, 300, 400, 500]),
        false,
      ],
    ];
    for (const [name, s, candidate, expected] of table)
      assert.equal(explainsRefusal(s, candidate, documented), expected, name);
  });

  it("reckons a 429 answered later than two smoothed round trips after its send from then: it was held up on its way", () => {
    assert.equal(reckonedAnswerAtMs(1_000, 1_030, 20), 1_030, "within two round trips: its answer");
    assert.equal(reckonedAnswerAtMs(1_000, 1_900, 20), 1_040, "stalled: two round trips after its send");
    assert.equal(reckonedAnswerAtMs(1_000, 1_900, 0), 1_900, "no round trip measured yet: its answer");
    const stalled = afterThrottle(startPacing(100, 0), 1_900, 500, 1_040);
    assert.deepEqual(
      [stalled.pausedUntilMs, stalled.throttledAtMs],
      [1_540, 1_900],
      "paused from the reckoning; later 429s of requests sent before the answer are still late",
    );
    assert.equal(smoothedRoundTripInMs(0, 30), 30, "the first sample");
    assert.equal(smoothedRoundTripInMs(40, 80), 45, "an eighth at a time");
    assert.equal(smoothedRoundTripInMs(40, 4_000), 55, "a stall counts as four round trips at most");
  });

  it("pauses a kind for Retry-After at a throttle event, then paces it by the cap fitted at the reopening", () => {
    const s = afterThrottle({ ...startPacing(100, 0), phase: "starting" }, 100, 1_900);
    assert.deepEqual([s.throttledAtMs, s.pausedUntilMs, s.refusalPending], [100, 2_000, true]);
    assert.deepEqual(
      afterLateThrottle(s, 150, 2_000),
      { ...s, pausedUntilMs: 2_150 },
      "a late 429 only extends the pause",
    );
    const fitted = afterReopening(s, [10, 20, 30, 40, 50], documented);
    assert.equal(fitted.phase, "fitted");
    assert.deepEqual(fitted.cap, fittedCap([refusal(2_000, [10, 20, 30, 40, 50])], documented));
    assert.deepEqual(
      afterReopening(afterThrottle(fitted, 5_000, 100), [], documented).cap,
      fitted.cap,
      "a refusal after nothing of the kind was accepted keeps the cap",
    );
  });

  it("refits a cap faster to a request sent before the event and accepted after the reopening, at its midpoint before it", () => {
    const before = [refusal(2_000, [1_600, 1_200, 800, 400])];
    const s: KindPacing = {
      ...startPacing(100, 0),
      phase: "fitted",
      refusals: before,
      cap: fittedCap(before, documented),
      throttledAtMs: 1_700,
      pausedUntilMs: 2_000,
    };
    const late = afterLateAccept(s, 1_800, documented);
    const amended = [refusal(2_000, [1_800, 1_600, 1_200, 800, 400])];
    assert.deepEqual([late.refusals, late.cap], [amended, fittedCap(amended, documented)]);
    assert.ok(late.cap!.rate > s.cap!.rate);
    assert.equal(
      afterLateAccept(s, 2_000, documented),
      s,
      "counted at the reopening or after: the next window's",
    );
    assert.equal(
      afterLateAccept({ ...s, refusalPending: true }, 1_800, documented).cap,
      s.cap,
      "not yet recorded",
    );
    assert.equal(afterLateAccept({ ...s, grown: true }, 1_800, documented).cap, s.cap, "a growth on trial");
    assert.equal(
      afterLateAccept({ ...s, pausedUntilMs: 2_500 }, 1_800, documented).refusals,
      before,
      "a late 429 since: not that refusal's",
    );
  });

  it("grows a cap that held requests back by 25 % after GROW_AFTER accepted, then twice as much, sooner", () => {
    const cap = { perWindow: 5, windowMs: 2_000, rate: 5 / 2_000 };
    let s: KindPacing = { ...startPacing(100, 0), phase: "fitted", cap, held: true };
    for (let i = 1; i < GROW_AFTER; i++) s = afterAccepted(s, documented, 0, 1_000);
    assert.deepEqual(s.cap, cap, "not yet");
    s = afterAccepted(s, documented, 0, 1_000);
    assert.deepEqual(
      [s.cap!.perWindow, s.cap!.windowMs, s.grown, s.growth],
      [Math.floor(5 * (1 + FIRST_GROWTH)), 2_000, true, FIRST_GROWTH * 2],
      "a window's cap grows by its burst, in the same window",
    );
    const bucket = { perWindow: 1, windowMs: 400, rate: 1 / 400 };
    assert.equal(
      grownCap(bucket, FIRST_GROWTH, documented).windowMs,
      400 / (1 + FIRST_GROWTH),
      "a bucket's waits less",
    );
    assert.equal(s.growAfter, GROW_AFTER / 2);
    assert.deepEqual(
      grownCap(cap, 100, documented),
      { perWindow: 10, windowMs: 2_000, rate: 100 / 20_000 },
      "never above the documented rate: the most its window holds at that rate",
    );
    const long = { perWindow: 90, windowMs: 20_300, rate: 90 / 20_300 };
    assert.deepEqual(
      grownCap(long, FIRST_GROWTH, documented),
      { perWindow: 101, windowMs: 20_300, rate: 101 / 20_300 },
      "not 112 per 22.4 s, whose burst would wait behind the last one's 90 to the end of the longer window",
    );
    const idle = { ...startPacing(100, 0), phase: "fitted" as const, cap, held: false, sinceChange: 1_000 };
    assert.deepEqual(
      afterAccepted(idle, documented).cap,
      cap,
      "a cap that held nothing back has nothing to learn",
    );
    const most = { perWindow: 1, windowMs: 200, rate: 1 / 200 };
    assert.deepEqual(
      afterAccepted({ ...idle, cap: most, held: true }, documented),
      { ...idle, cap: most, held: true, sinceChange: 1_001 },
      "a cap at the documented rate has nothing to try above it: no growth, no trial",
    );
    const failed = afterThrottle(s, 2_000);
    assert.deepEqual(
      [failed.growAfter, failed.growth, failed.grown],
      [(GROW_AFTER / 2) * 4, FIRST_GROWTH, false],
    );
  });

  it("keeps a growth on trial for a whole window of the cap it grew from before growing again", () => {
    const cap = { perWindow: 5, windowMs: 2_000, rate: 5 / 2_000 };
    let s: KindPacing = { ...startPacing(100, 0), phase: "fitted", cap, held: true, sinceChange: GROW_AFTER };
    s = afterAccepted(s, documented, 0, 1_000);
    assert.equal(s.trialEndsAtMs, 3_000, "a window of the 5 per 2 s it grew from");
    const grown = s.cap;
    for (let i = 0; i < 2 * GROW_AFTER; i++) s = { ...afterAccepted(s, documented, 0, 2_999), held: true };
    assert.deepEqual(s.cap, grown, "a whole burst accepted at once proves nothing of a window's limit");
    s = afterAccepted(s, documented, 0, 3_000);
    assert.equal(
      s.cap!.perWindow,
      Math.floor(grown!.perWindow * (1 + FIRST_GROWTH * GROWTH_FACTOR)),
      "then it lasted: the next growth",
    );
  });

  it("grows at the latest four cap windows after the last change, later after failed growths, never past the 429 budget", () => {
    const cap = { perWindow: 2, windowMs: 1_000, rate: 0.002 };
    const s: KindPacing = { ...startPacing(100, 0), phase: "fitted", cap, held: true, sinceChange: 20 };
    assert.equal(afterAccepted(s, documented, 0, 3_999).grown, false);
    assert.equal(afterAccepted(s, documented, 0, 4_000).grown, true);
    assert.equal(afterAccepted(s, documented, 0, 4_000, false).grown, false, "over budget");
    const failed = { ...s, growAfter: 4 * GROW_AFTER };
    assert.equal(
      afterAccepted(failed, documented, 0, 9_999).grown,
      false,
      "a failed growth: the wait lengthens",
    );
    assert.equal(afterAccepted(failed, documented, 0, 10_000).grown, true, "to 10 s at most");
  });

  it("lets a cap grow while one more 429 keeps them within the budget, or after two documented windows without one", () => {
    const table: [string, { answered: number; throttled: number }, number, boolean][] = [
      ["4 of 200 answers 429: a fifth is within 4.5 %", { answered: 200, throttled: 4 }, 0, true],
      ["9 of 200: a tenth is not", { answered: 200, throttled: 9 }, 39_999, false],
      ["9 of 200, none for two windows", { answered: 200, throttled: 9 }, 40_000, true],
    ];
    for (const [name, stats, quietInMs, expected] of table)
      assert.equal(growthAllowed(stats, quietInMs, documented.windowMs), expected, name);
  });

  it("waits for a growth four cap windows (at least 4 s), as many times longer as failed growths made the count, up to 10 s or those windows", () => {
    const table: [Cap, number, number][] = [
      [{ perWindow: 2, windowMs: 500 }, GROW_AFTER, 4_000],
      [{ perWindow: 2, windowMs: 2_000 }, GROW_AFTER, 8_000],
      [{ perWindow: 2, windowMs: 2_000 }, 2 * GROW_AFTER, 10_000],
      [{ perWindow: 2, windowMs: 500 }, 2 * GROW_AFTER, 8_000],
      [{ perWindow: 20, windowMs: 20_000 }, 16 * GROW_AFTER, 80_000],
      [{ perWindow: 2, windowMs: 1_000 }, GROW_AFTER / 4, 4_000],
    ];
    for (const [cap, growAfter, expected] of table)
      assert.equal(growWithinMs(cap, growAfter), expected, `${cap.perWindow}/${cap.windowMs}, ${growAfter}`);
  });
});

describe("capDelayInMs", () => {
  it("holds one more request until the oldest of the cap's requests is a window past its answer", () => {
    const sent = [0, 100, 200].map((answeredAtMs) => ({
      sentAtMs: answeredAtMs - 20,
      answeredAtMs,
      write: true,
    }));
    assert.equal(capDelayInMs(sent, 500, { perWindow: 3, windowMs: 1_000 }), 500);
    assert.equal(capDelayInMs(sent, 500, { perWindow: 4, windowMs: 1_000 }), 0);
  });

  it("given the round trip, counts in Graph's time: from half way to each answer, the next arriving a quarter round trip after its send; a window's request held up on its way from its answer", () => {
    const bucket = { perWindow: 1, windowMs: 300 };
    const last = [{ sentAtMs: 1_000, answeredAtMs: 1_200, write: true }]; // counted at 1,100
    assert.equal(capDelayInMs(last, 1_200, bucket), 300, "from its answer: a round trip lost per request");
    assert.equal(
      capDelayInMs(last, 1_200, bucket, 200),
      150,
      "sent at 1,350, it arrives at 1,400, as the last leaves",
    );
    const inFlight = [{ sentAtMs: 1_000, write: true }]; // counted half a round trip after its send
    assert.equal(capDelayInMs(inFlight, 1_050, bucket), Infinity);
    assert.equal(capDelayInMs(inFlight, 1_050, bucket, 200), 300);
    const s: KindPacing = { ...startPacing(100, 0), phase: "fitted", cap: { ...bucket, rate: 1 / 300 } };
    assert.equal(
      kindDelayInMs(s, last, 1_200, { perWindow: 100, windowMs: 20_000 }, 200),
      150,
      "a bucket's cap",
    );
    const twoPerWindow: KindPacing = { ...s, cap: { perWindow: 2, windowMs: 600, rate: 1 / 300 } };
    const answered = (usual: boolean) => [1, 2].map(() => ({ ...last[0], usual }));
    assert.equal(
      kindDelayInMs(twoPerWindow, answered(true), 1_200, { perWindow: 100, windowMs: 20_000 }, 200),
      450,
      "a window's cap too: the two leave at 1,700, and the next, sent at 1,650, arrives at 1,700",
    );
    assert.equal(
      kindDelayInMs(twoPerWindow, answered(false), 1_200, { perWindow: 100, windowMs: 20_000 }, 200),
      550,
      "a window's requests held up on their way count from their answers: they may have reached Graph late",
    );
  });
});

describe("the way to Graph (reachOf, reachedByMs)", () => {
  it("bounds the way to Graph by the newest 429s' longest round trip only where accepted requests take at least twice as long", () => {
    const table: [string, number[], number[], Reach][] = [
      ["no 429 yet", [], [300, 320, 340, 360], { withinMs: Infinity, usualInMs: 2 * 340 }],
      [
        "Graph works on what it accepts",
        [30, 40, 50],
        [300, 320, 340, 360],
        { withinMs: 50, usualInMs: 2 * 340 },
      ],
      [
        "answers as fast as 429s (loopback)",
        [5, 12, 9],
        [8, 10, 14, 20],
        { withinMs: Infinity, usualInMs: 2 * 14 },
      ],
      [
        "lower quartile just under twice the bound",
        [50, 160],
        [300, 319, 600, 700],
        { withinMs: Infinity, usualInMs: 2 * 600 },
      ],
      [
        "lower quartile just at twice the bound",
        [50, 160],
        [320, 320, 600, 700],
        { withinMs: 160, usualInMs: 2 * 600 },
      ],
      ["nothing accepted yet", [40], [], { withinMs: Infinity, usualInMs: Infinity }],
    ];
    for (const [name, throttled, accepted, expected] of table)
      assert.deepEqual(reachOf(throttled, accepted), expected, name);
  });

  it("knows when a request reached Graph only while it is answered, or in flight, within a usual round trip", () => {
    const reach: Reach = { withinMs: 50, usualInMs: 600 };
    const table: [string, Sent, number, number | undefined][] = [
      [
        "accepted in a usual round trip: its send plus the bound",
        { sentAtMs: 1_000, answeredAtMs: 1_400, usual: true, write: true },
        1_400,
        1_050,
      ],
      [
        "answered sooner than the bound: its answer",
        { sentAtMs: 1_000, answeredAtMs: 1_030, usual: true, write: true },
        1_030,
        1_030,
      ],
      [
        "held up on its way: unknown (its answer is the bound)",
        { sentAtMs: 1_000, answeredAtMs: 2_000, usual: false, write: true },
        2_000,
        undefined,
      ],
      ["in flight within a usual round trip", { sentAtMs: 1_000, write: true }, 1_600, 1_050],
      [
        "in flight longer than a usual round trip: held up, unknown",
        { sentAtMs: 1_000, write: true },
        1_601,
        undefined,
      ],
    ];
    for (const [name, e, nowMs, expected] of table)
      assert.equal(reachedByMs(e, nowMs, reach), expected, name);
    assert.equal(
      reachedByMs({ sentAtMs: 0, answeredAtMs: 400, usual: true, write: true }, 400, {
        withinMs: Infinity,
        usualInMs: 600,
      }),
      undefined,
      "unknown bound",
    );
  });

  it("counts a window cap's request from when it reached Graph, and lets one more go once those in flight are there", () => {
    const reach: Reach = { withinMs: 50, usualInMs: 1_000 };
    const cap = { perWindow: 2, windowMs: 1_000 };
    const sent: Sent[] = [
      { sentAtMs: 0, answeredAtMs: 400, usual: true, write: true }, // reached Graph by 50
      { sentAtMs: 100, answeredAtMs: 500, usual: true, write: true }, // by 150
    ];
    assert.equal(capDelayInMs(sent, 600, cap), 400 + 1_000 - 600, "from its answer");
    assert.equal(
      capDelayInMs(sent, 600, cap, undefined, reach),
      50 + 1_000 - 600,
      "from when it reached Graph",
    );
    // Ten per window: only the requests in flight hold the next one.
    const s: KindPacing = {
      ...startPacing(100, 0),
      phase: "fitted",
      cap: { perWindow: 10, windowMs: 1_000, rate: 10 / 1_000 },
    };
    const documented = { perWindow: 100, windowMs: 20_000 };
    const four = [0, 10, 20, 30].map((sentAtMs): Sent => ({ sentAtMs, write: true }));
    assert.equal(kindDelayInMs(s, four, 40, documented), Infinity, "until an answer");
    assert.equal(
      kindDelayInMs(s, four, 40, documented, 0, reach),
      10,
      "until the oldest has reached Graph, at 50",
    );
  });
});

describe("the pacer in simulated time against the emulator's limit shapes", () => {
  /** The (d) target: no failure, wall within 1.15 × the bound, at most 5 % of answers 429. */
  const meetsTheTarget = (run: SimulatedRun) => {
    assert.equal(run.failures, 0);
    assert.ok(
      run.wallInMs <= 1.15 * run.boundInMs,
      `${(run.wallInMs / run.boundInMs).toFixed(2)} × the bound`,
    );
    assert.ok(run.throttled <= 0.05 * run.requests, `${run.throttled} of ${run.requests} answers 429`);
  };
  // A regression guard for the bench's grid (BENCHMARKS.md has the real runs): 40 partners' lives at once.
  const rows: [string, ThrottleLimits][] = [
    [
      "fixed 2 s windows from the first request, 429s counting, at 50 %",
      limitsAt(0.5, 2_000, limitShape("fixed-first"), true),
    ],
    [
      "fixed 2 s windows from the first request, reads counted against the write limit, 429s counting, at 30 %",
      limitsAt(0.3, 2_000, limitShape("fixed-first"), true, true),
    ],
    ["fixed 1 s windows on the clock at 30 %", limitsAt(0.3, 1_000, limitShape("fixed-clock"))],
    ["a sliding 20 s window at 90 %", limitsAt(0.9, 20_000, limitShape("sliding"))],
    ["fixed 20 s windows from the first request at 50 %", limitsAt(0.5, 20_000, limitShape("fixed-first"))],
    ["a sliding 5 s window at 50 %", limitsAt(0.5, 5_000, limitShape("sliding"))],
    ["a token bucket with a 0.5 s burst at 50 %", limitsAt(0.5, 20_000, limitShape("bucket", 500))],
    ["a token bucket with a 3 s burst at 90 %", limitsAt(0.9, 20_000, limitShape("bucket", 3_000))],
  ];
  for (const [name, limits] of rows)
    it(`stays within 1.15 × the bound with at most 5 % 429s: ${name}`, async () => {
      const run = await simulate(limits, 40);
      meetsTheTarget(run);
    });

  const worked: [string, ThrottleLimits][] = [
    ["a sliding 1 s window at 50 %", limitsAt(0.5, 1_000, limitShape("sliding"))],
    ["fixed 1 s windows from the first request at 90 %", limitsAt(0.9, 1_000, limitShape("fixed-first"))],
    [
      "a token bucket with a 1 s burst, reads counted against the write limit, at 90 %",
      limitsAt(0.9, 20_000, limitShape("bucket", 1_000), false, true),
    ],
  ];
  for (const [name, limits] of worked)
    it(`stays within 1.15 × the bound where Graph works 50-400 ms on each request it accepts (10-30 ms each way): ${name}`, async () => {
      const run = await simulate(limits, 40, { latencyInMs: [10, 30], processingInMs: [50, 400] });
      meetsTheTarget(run);
    });

  // Runs that once missed, each in the seed that showed it (60 partners' lives), with what had gone wrong.
  const regressions: [string, ThrottleLimits, Parameters<typeof simulate>[2]][] = [
    [
      // Graph's work spread the start's last round over most of a second; its 2.1 s `Retry-After` was once taken
      // for a bucket's next token, the start's history dropped, and the cap fitted to 2 writes a second (1.64 ×).
      "under a sliding 5 s window at 90 %, on loopback with Graph working 50-400 ms on each request it accepts (seed 10)",
      limitsAt(0.9, 5_000, limitShape("sliding")),
      { seed: 10, latencyInMs: [1, 3], processingInMs: [50, 400] },
    ],
    [
      // A write's refusal once told for a write limit of its own slowed the writes, the next refusal's history of
      // all requests was slower with them, and a tolerance of a tenth told that one for the write limit too (1.29 ×).
      "under a token bucket with a 1 s burst, reads counted against the write limit, at 90 %, 10-30 ms each way with Graph working 50-400 ms on each request (seed 1)",
      limitsAt(0.9, 20_000, limitShape("bucket", 1_000), false, true),
      { seed: 1, latencyInMs: [10, 30], processingInMs: [50, 400] },
    ],
    [
      // A window's cap counted each request until a window after its answer, and lost a round trip a window (1.17 ×).
      "under fixed 2 s windows from the first request at 50 %, 20-200 ms each way (seed 9)",
      limitsAt(0.5, 2_000, limitShape("fixed-first")),
      { seed: 9, latencyInMs: [20, 200] },
    ],
    [
      // A refused growth took a faster refit: its refusal, met late in a fixed window, measured a shorter window
      // than Graph's, and a later burst went in the same window as the one before (20 of 381 answers 429).
      "under fixed 2 s windows from the first request at 30 %, on loopback (seed 1)",
      limitsAt(0.3, 2_000, limitShape("fixed-first")),
      { seed: 1, latencyInMs: [1, 3] },
    ],
    [
      // The cap fitted while the limit was halved kept its longer window (3 per 2.8 s) once the limit was restored:
      // each growth, a larger burst in that window, put 4 in Graph's 2 s, and fell back (1.27 ×).
      "under a sliding 2 s window halved and restored, at 30 %, 10-30 ms each way with Graph working 50-400 ms on each request (seed 1)",
      shapeRow("change:sliding:2000", 0.3, 60).limits,
      { seed: 1, latencyInMs: [10, 30], processingInMs: [50, 400] },
    ],
    [
      // A growth tried while the limit was halved drew a 16.9 s `Retry-After`, past the restoring, and from then
      // the cap grew by a quarter a 20 s window: the last writes waited for a fourth window (1.19 ×).
      "under a sliding 20 s window halved and restored, at 90 %, on loopback with Graph working 50-400 ms on each request (seed 1)",
      shapeRow("change:sliding:20000", 0.9, 60).limits,
      { seed: 1, latencyInMs: [1, 3], processingInMs: [50, 400] },
    ],
    // The cap refitted after the fall lost its window's margin to a rounding (41 per 20 s, not 43 per 20.5 s),
    // reopened a few ms before Graph did as each old request left, and drew a 429 each time (7 and 9 % of answers).
    ...[6, 10].map((seed): (typeof regressions)[number] => [
      `under a sliding 20 s window halved and restored, at 50 %, on loopback (seed ${seed})`,
      shapeRow("change:sliding:20000", 0.5, 60).limits,
      { seed, latencyInMs: [1, 3] },
    ]),
  ];
  for (const [name, limits, options] of regressions)
    it(`stays within 1.15 × the bound with at most 5 % 429s ${name}`, async () => {
      meetsTheTarget(await simulate(limits, 60, options));
    });

  it("starts each life a stagger after the one before, as the engine registers them: 10 lives 1 s apart take 9 s and one life", async () => {
    const limits = limitsAt(0.9, 20_000, limitShape("sliding"));
    const [atOnce, staggered] = await Promise.all([
      simulate(limits, 10),
      simulate(limits, 10, { staggerInMs: 1_000 }),
    ]);
    assert.equal(atOnce.throttled + staggered.throttled, 0, "50 writes fit 90 per 20 s");
    assert.ok(atOnce.wallInMs < 1_000, `${atOnce.wallInMs} ms at once`);
    assert.ok(
      staggered.wallInMs >= 9_000 && staggered.wallInMs < 9_000 + atOnce.wallInMs + 200,
      `${staggered.wallInMs} ms staggered`,
    );
  });

  it("gives partners up without the pacer (each 429 retried 3 times, as the SDK does) where the pacer meets the limit", async () => {
    const limits = limitsAt(0.5, 2_000, limitShape("sliding"));
    const [paced, unpaced] = await Promise.all([
      simulate(limits, 40),
      simulate(limits, 40, { paced: false }),
    ]);
    assert.equal(paced.failures, 0);
    assert.ok(unpaced.failures > 0, "the unpaced client gave nothing up");
    assert.ok(
      unpaced.throttled > 10 * paced.throttled,
      `${unpaced.throttled} 429s against ${paced.throttled}`,
    );
  });

  it("sends each 20 s window's whole budget: 40 lives' 200 writes at 50 per fixed window go in four windows, not five", async () => {
    const run = await simulate(limitsAt(0.5, 20_000, limitShape("fixed-first")), 40);
    assert.equal(run.failures, 0);
    assert.ok(run.wallInMs < 3.2 * 20_000, `${run.wallInMs} ms`);
  });

  it("goes back to a 20 s window's restored limit in the window after the fall: halved and restored at 90 %, 60 lives go in four windows, not five", async () => {
    // Seed 2: the wait after the fall counted from the fallen cap's next 429 (a fifth window), and the cap grew back
    // to 135 per 27 s, which held the last 30 writes to 27 s after the window before (1.09 × and 0.91 × the bound).
    // Seed 3: the fall's 429s had spent the 429 budget, which held the growth back (1.09 ×).
    for (const seed of [2, 3]) {
      const run = await simulate(shapeRow("change:sliding:20000", 0.9, 60).limits, 60, {
        seed,
        latencyInMs: [1, 3],
      });
      assert.equal(run.failures, 0);
      assert.ok(run.wallInMs < 3.2 * 20_000, `seed ${seed}: ${run.wallInMs} ms`);
    }
  });
});

describe("Pacer", () => {
  it("starts at the documented budget", () => {
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
    const pacer = new Pacer({ windowMs: WINDOW, writes: 1, requests: 100 }, undefined, {
      ...systemClock,
      now: () => now,
    });
    await pacer.acquire(true); // never settled: its request's fate is unknown
    const next = pacer.acquire(true);
    now = 2 * WINDOW;
    assert.equal((await next).sentAtMs, 2 * WINDOW);
  });

  it("fits the cap Graph granted once per throttle event, holds writes for Retry-After, and tells the rate it paces at", async () => {
    let now = 0;
    const events: PacingEvent[] = [];
    const pacer = new Pacer({ windowMs: 20_000, writes: 100, requests: 1000 }, (e) => events.push(e), {
      ...systemClock,
      now: () => now,
    });
    const accept = async (n: number, at: number) => {
      const tickets = await Promise.all(Array.from({ length: n }, () => pacer.acquire(true)));
      now = at;
      tickets.forEach((t) => pacer.settle(t, { throttled: false }));
    };
    await accept(2, 40); // the slow start's first round
    await accept(3, 50); // its second
    const [refused, late] = await Promise.all([pacer.acquire(true), pacer.acquire(true)]);
    now = 60;
    // Five accepted, then 429s telling the window ends in 1.95 s: Graph grants 5 per 2 s.
    pacer.settle(refused, { throttled: true, retryAfterInMs: 1_950 });
    pacer.settle(late, { throttled: true, retryAfterInMs: 1_950 });
    assert.equal(pacer.stats.throttleEvents, 1, "one event for both 429s");
    let sent = false;
    const next = pacer.acquire(true).then((t) => ((sent = true), t));
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(sent, false, "held by Retry-After");
    now = 2_040; // the fitted window after the first answer
    pacer.settle(await next, { throttled: false });
    // Five accepted from 40 ms, Graph reopening at 2010 ms: 5 per 1.97 s.
    assert.deepEqual(
      events.filter((e) => e.kind === "decreased"),
      [{ kind: "decreased", write: true, allowed: Math.round((5 / (m * 1_970)) * 20_000), accepted: 5 }],
    );
  });

  it("slows the request rate, not the write rate, for a throttled read", async () => {
    let now = 0;
    const pacer = pacerAt(() => now);
    const [read, ...others] = await Promise.all(Array.from({ length: 4 }, () => pacer.acquire(false)));
    others.forEach((t) => pacer.settle(t, { throttled: false }));
    pacer.settle(read, { throttled: true, retryAfterInMs: 500 });
    now = 508; // a fitted window after their answers
    pacer.settle(await pacer.acquire(false), { throttled: false });
    assert.equal(pacer.allowed.writes, 100, "writes at the documented rate");
    assert.equal(
      pacer.allowed.requests,
      6,
      "three accepted in the half second Graph took them: 6 per second",
    );
  });

  it("blames a write's 429 on the limit of all requests when sent before that limit's event, else on the write limit", async () => {
    let now = 0;
    const pacer = pacerAt(() => now);
    const [read, ...others] = await Promise.all(Array.from({ length: 4 }, () => pacer.acquire(false)));
    others.forEach((t) => pacer.settle(t, { throttled: false }));
    const sameBurst = await pacer.acquire(true);
    pacer.settle(read, { throttled: true, retryAfterInMs: 500 });
    now = 10;
    pacer.settle(sameBurst, { throttled: true, retryAfterInMs: 490 });
    assert.equal(pacer.stats.throttleEvents, 1, "the write met the reads' event");
    now = 508; // a fitted window after their answers
    const [reads, write] = [
      await Promise.all([0, 1].map(() => pacer.acquire(false))),
      await pacer.acquire(true),
    ];
    now = 518;
    reads.forEach((t) => pacer.settle(t, { throttled: false }));
    pacer.settle(write, { throttled: true, retryAfterInMs: 1_000 });
    assert.equal(pacer.stats.throttleEvents, 2, "a write sent since: the write limit's own event");
    assert.equal((await pacer.acquire(false)).sentAtMs, 518, "which holds writes, not reads");
  });

  it("blames a write's 429 on the limit of all requests where that limit's refusals explain it: reads wait too", async () => {
    const { pacer, clock, accept, reads } = manualPacer();
    accept(await reads(4), 10);
    const [refused, ...others] = await reads(4);
    accept(others, 20);
    pacer.settle(refused, { throttled: true, retryAfterInMs: 480 }); // 7 accepted, then refused until 500
    clock.now = 508; // the cap's window (7 per 490 ms) after the answers
    accept(await reads(4), 513);
    clock.now = 518;
    accept(await reads(3), 523);
    clock.now = 1_011;
    const write = await pacer.acquire(true); // the cap has room; Graph's window has not
    clock.now = 1_016;
    pacer.settle(write, { throttled: true, retryAfterInMs: 10 }); // Graph reopens at 1,026
    const read = pacer.acquire(false).then((t) => t.sentAtMs);
    clock.now = 1_020;
    const waited = new Promise((r) => setTimeout(() => r("still waiting"), 200));
    assert.equal(await Promise.race([read, waited]), "still waiting", "the read waits for the reopening");
    clock.now = 1_034; // and for the cap refitted to it: 7 per 1.015 × (1,026 - 513) ms
    assert.equal(await read, 1_034);
    assert.equal(pacer.stats.throttleEvents, 2);
  });

  it("holds a kind for Retry-After from two round trips after a stalled 429's send, not from its late answer", async () => {
    const { pacer, clock, accept, reads } = manualPacer();
    accept(await reads(4), 10); // round trips of 10 ms
    const [refused] = await reads(1);
    clock.now = 900; // held up on its way: reckoned answered at 10 + 2 × 10
    pacer.settle(refused, { throttled: true, retryAfterInMs: 400 });
    const read = pacer.acquire(false).then((t) => t.sentAtMs);
    const waited = new Promise((r) => setTimeout(() => r("still waiting"), 200));
    assert.equal(
      await Promise.race([read, waited]),
      900,
      "Graph reopened at 430, not at 1,300: the read goes at once",
    );
  });

  it("fits no write cap to a write refusal that the limit of all requests explains, met in the same slow start", async () => {
    const { pacer, clock, accept, reads, events } = manualPacer();
    accept(await reads(4), 10);
    const [written, refused] = [await pacer.acquire(true), await pacer.acquire(true)];
    accept([written, ...(await reads(2))], 20);
    pacer.settle(refused, { throttled: true, retryAfterInMs: 480 });
    const read = await pacer.acquire(false);
    clock.now = 30;
    pacer.settle(read, { throttled: true, retryAfterInMs: 470 });
    clock.now = 508; // the cap's window after the answers
    pacer.settle(await pacer.acquire(false), { throttled: false });
    assert.equal(pacer.allowed.requests, Math.round((7 / (m * 490)) * WINDOW), "7 accepted of all requests");
    assert.equal(pacer.allowed.writes, 100, "the one write accepted says nothing of a write limit");
    assert.deepEqual(
      events.filter((e) => e.kind === "decreased").map((e) => e.kind === "decreased" && e.write),
      [false],
      "the engine is told of the all-requests limit's refusal, not of a write limit's",
    );
  });
  it("grows a cap past the 429 budget two documented windows after the last 429, not before", async () => {
    // Graph grants 10 reads per 100 ms, refuses every read for a second (another app spent the tenant's
    // budget), then grants all: the outage's 429s are far past the budget, which no growth could repay soon.
    const clock = new VirtualClock();
    const pacer = new Pacer({ windowMs: 2_000, writes: 200, requests: 2_000 }, undefined, clock);
    const counted = new Map<number, number>();
    const grewAtMs: number[] = [];
    let last429AtMs = 0;
    const reader = async () => {
      while (clock.now() < 8_000) {
        const ticket = await pacer.acquire(false);
        await clock.sleep(1);
        const window = Math.floor(clock.now() / 100);
        const counts = clock.now() < 1_000 && (counted.get(window) ?? 0) < 10;
        if (counts) counted.set(window, (counted.get(window) ?? 0) + 1);
        const refused = clock.now() < 2_000 && !counts;
        await clock.sleep(1);
        const before = pacer.allowed.requests;
        pacer.settle(ticket, refused ? { throttled: true, retryAfterInMs: 100 } : { throttled: false });
        if (refused) last429AtMs = clock.now();
        else if (pacer.allowed.requests > before) grewAtMs.push(clock.now());
      }
    };
    await clock.run(Promise.all(Array.from({ length: MAX_IN_FLIGHT }, reader)));
    const grown = grewAtMs.find((atMs) => atMs > last429AtMs);
    assert.ok(grown !== undefined, "the cap grew after the outage");
    assert.ok(pacer.stats.throttled > GROWTH_429_BUDGET * pacer.stats.answered, "past the budget");
    assert.ok(grown >= last429AtMs + 4_000, `grown ${grown - last429AtMs} ms after the last 429`);
    assert.ok(grown < last429AtMs + 4_200, `grown ${grown - last429AtMs} ms after the last 429`);
  });
});

describe("adaptive pacing against a tenant stricter than documented", function () {
  this.timeout(60_000);
  // The tenant allows 5 writes per second; the pacer is told Intune's documented shape at 10.
  const emu = useEmulator({
    onboardingDelayMs: null,
    throttle: { windowMs: 1_000, appWrites: 5, tenantWrites: 10, appAll: 100, tenantAll: 200 },
  });

  it("learns the rate Graph grants: 40 writes at once complete with few 429s, the first rate fitted no faster than the tenant's 5 per window", async () => {
    const tenantId = emu().newTenant();
    const fits: number[] = [];
    const pacer = new Pacer({ windowMs: 1_000, writes: 10, requests: 100 }, (event) => {
      if (event.kind === "decreased" && event.write) fits.push(event.allowed);
    });
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
    // The first fit is the rate learned; a cap may grow again after two quiet windows (tested in simulated time).
    assert.ok(fits.length > 0 && fits[0] <= 6, `the rate fitted is ${fits[0]} writes per window`);
  });
});
