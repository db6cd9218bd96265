/**
 * Client-side pacing: Intune limits each app's requests per tenant ("per 20 seconds", by a window or a bucket of
 * a shape nobody has confirmed) and answers 429 past the limit. One pacer per tenant, shared by every concurrent
 * operation of the process, decides when a request is sent; `Retry-After` still rules each retry.
 *
 * Each kind of request (writes, and all requests) is held to caps of one form, "at most `perWindow` in any
 * `windowMs`", a request counting from its send until a window after its answer (Graph counted it on arrival,
 * somewhere in between). A cap of that form, at the rate a limit grants and with a burst it tolerates, is what
 * a sliding window, fixed windows and a token bucket all admit.
 * - Intune's documented budget is one, always, counted so.
 * - A fitted cap counts in Graph's time instead: a request from half way to its answer, since counting from the
 *   answer would lose a round trip a window (a bucket's cap of one request would send one a round trip plus its
 *   window); but a window's request answered later than a usual round trip, which may have reached Graph late,
 *   from its answer.
 * - Until the first 429, a slow start: a fiftieth of the budget at once, then rounds each 1.5 times the last,
 *   each released once Graph accepted the last, so that what fits the documented window goes at once and a
 *   tighter limit is met by a small overshoot.
 * - Each throttle event (the first 429 of requests sent after the last event) is a refusal: Graph, having
 *   accepted the requests it accepted, takes nothing more until `Retry-After` (from its answer, or from two
 *   round trips after its send when the answer was held up on its way). A cap of `n` per `w` agrees with
 *   it when its own reopening, `w` after the n-th newest accepted, is no earlier than Graph's. The cap is
 *   fitted to the recent refusals ({@link fittedCap}): the rate Graph granted (measured over the longest
 *   history they share, as a delivery rate is, not a share of it after each loss, and no faster than its newest
 *   half, which leaves out what a bucket had stored), with the smallest burst that reaches that rate: a
 *   window's budget when the limit is a window, one request when it is a bucket. The slow start's refusal is one
 *   of them, whatever its `Retry-After`: the shape is not guessed from it (Graph's work on each request spreads
 *   the start's last round, and a window's refusal then looked like a bucket's).
 * - A request sent before a throttle event and accepted after its refusal was recorded (held up on its way)
 *   joins that refusal's history at its midpoint, when that is before the reopening ({@link afterLateAccept}).
 * - A fitted cap Graph refused twice running, each time having granted less than it since the refusal before, is
 *   fitted to what Graph granted between those refusals instead ({@link grantedBetweenRefusals}): its history
 *   held a bucket's store, or a limit that fell since.
 * - A read's 429 is the all-requests limit's. A write's is too when that limit's refusals explain it (with it,
 *   their rate stays within 35 %: Graph counts every request against one limit); otherwise the write limit's.
 * - While that cap holds requests back and Graph answers no 429, it grows, rarely and briefly (a window's cap
 *   by its burst, in the same window; a bucket's by a shorter wait for its one request): by 25 % after
 *   {@link GROW_AFTER} accepted (or a few cap windows, whichever comes first), each further success twice the
 *   last and sooner, one request in flight while on trial, never past the documented rate, and only while
 *   this pacer's 429s stay under {@link GROWTH_429_BUDGET} of its answers or it had none for two documented
 *   windows. A growth is on trial for a whole window of the cap it grew from (a window's limit refuses it only
 *   once its next burst goes); one that lasts disproves the refusals it exceeded (the limit rose: another app
 *   stopped) and they are forgotten; one that draws a 429 falls back to the cap it grew from (a bucket's is
 *   refitted, no slower), and the next waits four times as long. A window's burst grown and refused, whose
 *   refusal shows the window stretched, makes the next growth a shorter window ({@link stretchedWindowMs}). A long
 *   window's cap refitted well below the cap Graph refused (the limit fell) remembers that cap: its next growth
 *   waits one of its windows from the fall, then goes straight back to it, past the 429 budget if need be
 *   ({@link fellFrom}).
 * - At most {@link MAX_IN_FLIGHT} requests of a kind are unanswered at once, so that a burst the limit refuses
 *   costs a few 429s, not the whole burst.
 * - Where Graph works on the requests it accepted for much longer than it takes to answer a 429 (which it does at
 *   once, in front of the service), the answer is late by that work: a request counts instead from when it
 *   reached Graph at the latest, its send plus the newest 429s' longest round trip ({@link reachOf}), and once
 *   there it is no longer in flight for the limit above. Not for a request held up on its way (one answered, or
 *   still unanswered, later than a usual round trip), nor before the first 429.
 */

/** How often a waiting request checks whether it may go meanwhile (an answer also wakes it). */
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

/** At most `perWindow` requests in any `windowMs`. */
export interface Cap {
  perWindow: number;
  windowMs: number;
}

/** What the slow start holds at first, as a share of the documented budget (then it grows by rounds). */
export const START_BURST_SHARE = 0.02;
/** While starting, each round is this many times the last. */
export const PROBE_GROWTH = 1.5;
/** Requests of a kind unanswered at once, at most. */
export const MAX_IN_FLIGHT = 4;
/** While a grown cap is on trial, fewer: a growth Graph refuses costs one or two 429s. */
export const PROBE_IN_FLIGHT = 1;
/** Accepted requests a refusal after the slow start needs in its history to be fitted to. */
export const MIN_FIT_HISTORY = 4;
/** Refusals a cap is fitted to, at most (the newest); each keeps this many accepted requests before it. */
export const MAX_REFUSALS = 8;
export const MAX_HISTORY = 256;
/** Refusals older than this many documented windows are forgotten (a limit that rose is found past them). */
export const REFUSALS_KEPT_IN_WINDOWS = 2;
/** A fit's rate is lowered to its newest half's (a bucket's refill, without its store) to this share at most. */
export const NEWEST_RATE_FLOOR = 0.8;
/**
 * A window is fitted this share longer than the refusals' spans: answers' return legs vary, and a window as long
 * as the span let the next window's first request reach Graph before Graph's own window had ended.
 */
export const WINDOW_MARGIN = 0.015;
/** Two windows this share apart are one, but for floating point's rounding. */
const ROUNDING = 1e-9;
/** A burst reaches the fitted rate when its own rate is within this share of it. */
export const BURST_TOLERANCE = 0.05;
/** A fitted cap grows after this many accepted requests of its kind without a 429 (fewer after a success). */
export const GROW_AFTER = 32;
/** The fewest accepted requests between two growths, and the most after failed ones. */
export const GROW_AFTER_BOUNDS = { min: 8, max: 512 };
/** A fitted cap's first growth, as a share of its rate; each success multiplies it by {@link GROWTH_FACTOR}. */
export const FIRST_GROWTH = 0.25;
export const GROWTH_FACTOR = 2;
/**
 * A window's growth Graph refused, whose refusal shows the burst it grew from reopening within this share of the
 * cap's window, tells that the window is stretched (fitted while the limit was lower), not the burst: the next
 * growth is to that window. Not any shortfall: a fixed window's refusal met late in its window measures less than
 * the window too (taking a twentieth for a stretched window met 10 fewer simulated runs of 870 on loopback).
 */
export const STRETCHED_WINDOW_SHARE = 0.8;
/**
 * A cap whose window is at least this share of the documented one, refitted below {@link FELL_SHARE} of the cap
 * Graph refused (the limit fell: another app started), remembers that cap: its next growth waits one of its
 * windows, then goes straight back to it when that is more than a growth ({@link afterAccepted}). One growth a
 * window finds a restored limit a whole window late per step under a 20 s window; under a short one it does not.
 */
export const RESTORE_WINDOW_SHARE = 0.5;
export const FELL_SHARE = 0.8;
/**
 * A growth is due at the latest this many cap windows (and this long) after the cap last changed; after failed
 * growths, as many times longer as their count is ({@link GROW_AFTER}), up to {@link GROW_WITHIN_MOST_MS}.
 */
export const GROW_WITHIN_WINDOWS = 4;
export const GROW_WITHIN_MS = 4_000;
export const GROW_WITHIN_MOST_MS = 10_000;
/**
 * Held in Graph's time, the next request is reckoned to arrive this share of a round trip after its send (half
 * would be its midpoint; the rest is a margin for the round trip's spread).
 */
export const ARRIVES_AT_SHARE = 0.25;
/**
 * Growths are tried only while this pacer's answers hold fewer 429s than this share, or once it has had no 429
 * for {@link GROWTH_QUIET_WINDOWS} documented windows ({@link growthAllowed}); but the way back after a fall,
 * once a fall ({@link fellFrom}).
 */
export const GROWTH_429_BUDGET = 0.045;
export const GROWTH_QUIET_WINDOWS = 2;
/**
 * A 429 answered later than this many smoothed round trips after its send was held up on its way (a busy machine,
 * a slow network): Graph's reopening is reckoned from then, not from the late answer.
 */
export const STALLED_AFTER_ROUND_TRIPS = 2;
/**
 * A write's refusal is the all-requests limit's when, added to that limit's refusals, their fitted rate stays
 * within this share. Not a tenth: where Graph counts every request against one limit, a write cap fitted to a
 * refusal told wrong slows what is sent, the next refusal's history is slower with it, and a tenth told that one
 * wrong too. A write limit of its own is still told apart where it is under 65 % of that limit's rate.
 */
export const EXPLAINED_TOLERANCE = 0.35;
/** The newest 429s' round trips kept, and the newest accepted requests' (see {@link reachOf}). */
export const THROTTLED_ROUND_TRIPS_KEPT = 8;
export const ACCEPTED_ROUND_TRIPS_KEPT = 32;
/** Graph works on accepted requests when their lower quartile round trip is this many times the 429s' longest. */
export const WORKED_ON_FACTOR = 2;
/** A round trip longer than this many times the accepted requests' upper quartile was held up on its way. */
export const USUAL_ROUND_TRIP_FACTOR = 2;

/**
 * One refusal: Graph reopens at `reopensAtMs` (the 429's answer plus its `Retry-After`), having accepted the
 * requests answered at `acceptedAtMs` before it, newest first. `ofFit`: Graph refused the fitted cap itself (not
 * the slow start, nor a growth).
 */
export interface Refusal {
  reopensAtMs: number;
  acceptedAtMs: readonly number[];
  ofFit?: boolean;
}

/**
 * The cap that agrees with every refusal and sends fastest. For `n` requests, the shortest window that agrees
 * is `w(n)`, the longest time from a refusal's n-th newest accepted request to its reopening, {@link
 * WINDOW_MARGIN} longer (no window agrees when a refusal had fewer than `n` before it). The rate is the best
 * `n / w(n)` over the longest histories the refusals share (`n` from half of the shortest to all of it): over
 * whole windows of a window limit, over a bucket's refill, not over one burst; but no faster than the newest
 * half's own rate, `(h - 1) / (w(h) - w(1))` (a bucket's store, spent at the oldest end, left out), down to
 * {@link NEWEST_RATE_FLOOR} of it. The burst is the smallest `n` within {@link BURST_TOLERANCE} of that rate: a
 * window's budget, or one request for a bucket; all of the history when Graph accepted it in one burst (faster
 * than twice the rate it granted): a window's whole budget, not 5 % under it. Never above the documented rate,
 * nor a window longer than the documented one but by what the refusals measured. `undefined` without a refusal
 * that accepted anything. Pure.
 */
export function fittedCap(
  refusals: readonly Refusal[],
  documented: Cap,
): (Cap & { rate: number }) | undefined {
  const shortest = Math.min(...refusals.map((r) => r.acceptedAtMs.length));
  if (refusals.length === 0 || shortest === 0) return undefined;
  const windowOf = (n: number) =>
    (1 + WINDOW_MARGIN) * Math.max(1, ...refusals.map((r) => r.reopensAtMs - r.acceptedAtMs[n - 1]));
  let rate = 0;
  const half = Math.ceil(shortest / 2);
  for (let n = half; n <= shortest; n++) rate = Math.max(rate, n / windowOf(n));
  const granted = rate;
  // What a bucket had stored is spent at the oldest end of a history: the newest half's own rate leaves it out.
  if (half > 1 && windowOf(half) > windowOf(1))
    rate = Math.min(rate, Math.max((half - 1) / (windowOf(half) - windowOf(1)), NEWEST_RATE_FLOOR * rate));
  rate = Math.min(
    rate,
    documented.perWindow / documented.windowMs,
    grantedBetweenRefusals(refusals, rate, documented),
  );
  let perWindow = 1;
  while (perWindow < shortest && perWindow / windowOf(perWindow) < rate * (1 - BURST_TOLERANCE)) perWindow++;
  // A history Graph accepted in one burst (faster than twice the rate it granted) is a window's budget: all of it.
  if (windowOf(shortest) - windowOf(1) < (0.5 * (shortest - 1)) / granted) perWindow = shortest;
  const measuredMs = windowOf(perWindow);
  // `perWindow / rate` is the measured window when the rate is perWindow's own, but for floating point's rounding,
  // which took a window measured past the documented one to the branch below: shorter than Graph's, the cap reopened
  // a few ms before Graph did, a 429 each time.
  const windowMs = perWindow / rate > measuredMs * (1 + ROUNDING) ? perWindow / rate : measuredMs;
  if (windowMs <= Math.max(measuredMs, documented.windowMs)) return { perWindow, windowMs, rate };
  return {
    perWindow: Math.max(1, Math.floor(rate * documented.windowMs)),
    windowMs: documented.windowMs,
    rate,
  };
}

/**
 * The rate Graph granted between its three newest refusals, when it refused the fitted cap twice running and
 * each time had granted less than `rate` since the refusal before; otherwise `Infinity`. Once Graph refused, a
 * bucket is empty and a fixed window starts afresh: what it grants until its next refusal is its rate, without
 * a store a long history holds (the fit is too fast when a bucket's store, or a limit that fell since, is in
 * it). Two spans running, each below the fit, are not one span's chance (a sliding window grants in a span what
 * was sent a window before it). Only spans within a documented window of the newest reopening, whose accepted
 * requests its history holds. Pure.
 */
export function grantedBetweenRefusals(refusals: readonly Refusal[], rate: number, documented: Cap): number {
  const [first, second, newest] = refusals.slice(-3);
  if (
    !newest?.ofFit ||
    !second.ofFit ||
    first.reopensAtMs < newest.reopensAtMs - documented.windowMs ||
    newest.acceptedAtMs.length >= MAX_HISTORY
  )
    return Infinity;
  const acceptedIn = (fromMs: number, toMs: number) =>
    newest.acceptedAtMs.filter((at) => at > fromMs && at <= toMs).length;
  const spans = [
    [first.reopensAtMs, second.reopensAtMs],
    [second.reopensAtMs, newest.reopensAtMs],
  ].map(([fromMs, toMs]) => ({ accepted: acceptedIn(fromMs, toMs), ms: toMs - fromMs }));
  if (spans.some((span) => span.accepted === 0 || span.accepted / span.ms >= rate)) return Infinity;
  return (spans[0].accepted + spans[1].accepted) / (spans[0].ms + spans[1].ms);
}

/** The pacing of one kind of request (writes, or all requests). Pure data. */
export interface KindPacing {
  /** `starting` until the first throttle event (the slow start), then `fitted`. */
  phase: "starting" | "fitted";
  /** Starting: a bucket filled at the documented rate, growing by rounds. */
  capacity: number;
  tokens: number;
  refilledAtMs: number;
  /** Starting: accepted since the bucket last grew, and how much it grew by then (the round). */
  accepted: number;
  round?: number;
  /** Fitted: the recent refusals, and the cap fitted to them (or grown past them). */
  refusals: Refusal[];
  cap?: Cap & { rate: number };
  /** The last throttle event (a refusal to record once Graph reopens), and when it reopens. */
  throttledAtMs: number;
  refusalPending: boolean;
  /** Whether the last throttle event refused the fitted cap itself. */
  refusedFit?: boolean;
  pausedUntilMs: number;
  /** The cap the last growth grew from (Graph had granted it until then). */
  grewFrom?: Cap & { rate: number };
  /** The window the next growth shortens the cap's to ({@link STRETCHED_WINDOW_SHARE}), if any. */
  shorterWindowMs?: number;
  /** The cap Graph granted before the limit fell, which the next growth goes back to ({@link RESTORE_WINDOW_SHARE}), and when it fell (the throttle event that showed it: a later one of the fallen cap measures the same fall). */
  fellFrom?: Cap & { rate: number };
  fellAtMs?: number;
  /** Growth: accepted since the cap last changed; when it grows next; by what share; whether it grew since the last event; whether it held a request back since it last changed. */
  sinceChange: number;
  changedAtMs: number;
  growAfter: number;
  growth: number;
  grown: boolean;
  held: boolean;
  /** A growth is on trial until the grown cap has gone a whole window of the cap it grew from (Graph would have refused it by then). */
  trialEndsAtMs: number;
}

/** A kind's pacing at first, for a documented budget of `perWindow`. Pure. */
export function startPacing(perWindow: number, nowMs: number): KindPacing {
  const capacity = Math.max(1, Math.ceil(perWindow * START_BURST_SHARE));
  return {
    phase: "starting",
    capacity,
    tokens: capacity,
    refilledAtMs: nowMs,
    accepted: 0,
    refusals: [],
    throttledAtMs: -Infinity,
    refusalPending: false,
    pausedUntilMs: -Infinity,
    sinceChange: 0,
    changedAtMs: nowMs,
    growAfter: GROW_AFTER,
    growth: FIRST_GROWTH,
    grown: false,
    held: false,
    trialEndsAtMs: -Infinity,
  };
}

/** The slow start's bucket refilled at the documented rate up to `nowMs`. Pure. */
export function refilled(s: KindPacing, documented: Cap, nowMs: number): KindPacing {
  if (s.phase !== "starting" || nowMs <= s.refilledAtMs) return s;
  const tokens = Math.min(
    s.capacity,
    s.tokens + ((nowMs - s.refilledAtMs) * documented.perWindow) / documented.windowMs,
  );
  return { ...s, tokens, refilledAtMs: nowMs };
}

/**
 * What the pacer knows of the way to Graph: a request answered within `usualInMs` of its send (or in flight no
 * longer) had reached Graph `withinMs` after it, at the latest. `withinMs` is `Infinity` while that is unknown
 * or no better than the answer.
 */
export interface Reach {
  withinMs: number;
  usualInMs: number;
}

/** Nothing known of the way to Graph: a request counts until its answer. */
export const UNKNOWN_REACH: Reach = { withinMs: Infinity, usualInMs: Infinity };

/**
 * The way to Graph, from the newest 429s' round trips and the newest accepted requests'. Graph answers a 429 at
 * once, before any work, so the longest of them bounds how long a request takes to reach it. Where accepted
 * requests usually take much longer (their lower quartile {@link WORKED_ON_FACTOR} times that bound), Graph was
 * working on them after counting them, and that bound is `withinMs`; otherwise the answer itself is as good a
 * bound. A usual round trip is at most {@link USUAL_ROUND_TRIP_FACTOR} times the accepted upper quartile. Pure.
 */
export function reachOf(
  throttledRoundTripsInMs: readonly number[],
  acceptedRoundTripsInMs: readonly number[],
): Reach {
  const accepted = [...acceptedRoundTripsInMs].sort((a, b) => a - b);
  const quartile = (q: number) => accepted[Math.floor(q * (accepted.length - 1))];
  const usualInMs = accepted.length === 0 ? Infinity : USUAL_ROUND_TRIP_FACTOR * quartile(0.75);
  const withinMs = Math.max(...throttledRoundTripsInMs);
  const workedOn = throttledRoundTripsInMs.length > 0 && quartile(0.25) >= WORKED_ON_FACTOR * withinMs;
  return { withinMs: workedOn ? withinMs : Infinity, usualInMs };
}

/**
 * When Graph had the request at the latest, if the pacer knows ({@link Reach}): answered (accepted) in a usual
 * round trip, or in flight for no longer than a usual one, `reach.withinMs` after its send, or its answer if
 * that came sooner. Pure.
 */
export function reachedByMs(e: Sent, nowMs: number, reach: Reach): number | undefined {
  if (!Number.isFinite(reach.withinMs)) return undefined;
  const byMs = e.sentAtMs + reach.withinMs;
  if (e.answeredAtMs !== undefined) return e.usual ? Math.min(e.answeredAtMs, byMs) : undefined;
  return nowMs - e.sentAtMs <= reach.usualInMs ? byMs : undefined;
}

/**
 * How long until one more request fits `cap`, given the requests of the kind in the window; `Infinity` while
 * the cap is all in flight (an answer changes that). A request counts from its answer, or from when it reached
 * Graph where the pacer knows ({@link reachedByMs}). Given the round trip, in Graph's time instead: each request
 * counts from half way to its answer (in flight, half a round trip after its send; half way to reaching Graph,
 * where known), and the next one arrives {@link ARRIVES_AT_SHARE} of a round trip after its send; but a
 * request of a window's cap answered later than a usual round trip counts from its answer. Pure.
 */
export function capDelayInMs(
  sent: readonly Sent[],
  nowMs: number,
  cap: Cap,
  roundTripInMs?: number,
  reach = UNKNOWN_REACH,
): number {
  const limit = Math.max(1, Math.floor(cap.perWindow));
  const countedAtMs = (s: Sent) => {
    const reachedAtMs = reachedByMs(s, nowMs, reach);
    if (roundTripInMs === undefined) return reachedAtMs ?? s.answeredAtMs ?? Infinity;
    // Held up on its way, it may have reached Graph late: a window's next burst would meet it there.
    if (limit > 1 && s.answeredAtMs !== undefined && !s.usual) return s.answeredAtMs;
    return (s.sentAtMs + (reachedAtMs ?? s.answeredAtMs ?? s.sentAtMs + roundTripInMs)) / 2;
  };
  const arrivesAtMs = nowMs + Math.min(roundTripInMs ?? 0, reach.withinMs) * ARRIVES_AT_SHARE;
  const leaving = sent
    .map((s) => countedAtMs(s) + cap.windowMs)
    .filter((at) => at > arrivesAtMs)
    .sort((a, b) => a - b);
  return leaving.length < limit ? 0 : leaving[leaving.length - limit] - arrivesAtMs;
}

/**
 * How long the kind's own pacing holds one more request, given its requests in the window: `Retry-After`, the
 * requests in flight (until answered, or until they reached Graph where the pacer knows: {@link reachedByMs}),
 * then the slow start's bucket or the fitted cap, held in Graph's time given the round trip ({@link
 * capDelayInMs}). Pure.
 */
export function kindDelayInMs(
  s: KindPacing,
  sent: readonly Sent[],
  nowMs: number,
  documented: Cap,
  roundTripInMs = 0,
  reach = UNKNOWN_REACH,
): number {
  // How long until each request in flight has reached Graph (Infinity: until its answer), soonest first.
  const inFlight = sent
    .filter((e) => e.answeredAtMs === undefined)
    .map((e) => (reachedByMs(e, nowMs, reach) ?? Infinity) - nowMs)
    .filter((inMs) => inMs > 0)
    .sort((a, b) => a - b);
  const most = nowMs < s.trialEndsAtMs ? PROBE_IN_FLIGHT : MAX_IN_FLIGHT;
  const own =
    inFlight.length >= most
      ? inFlight[inFlight.length - most]
      : s.phase === "starting"
        ? s.tokens >= 1
          ? 0
          : Math.ceil(((1 - s.tokens) * documented.windowMs) / documented.perWindow)
        : s.cap
          ? capDelayInMs(sent, nowMs, s.cap, roundTripInMs, reach)
          : 0;
  return Math.max(own, s.pausedUntilMs - nowMs);
}

/**
 * After Graph accepted a request of the kind, `acceptedInWindow` of it now in the documented window. Starting:
 * once the whole last round was accepted, the bucket grows by a round {@link PROBE_GROWTH} times larger (its new
 * room usable at once), and once the documented budget was accepted within a window, the start is over: the
 * bucket holds it all. Fitted: after `growAfter` accepted while the cap held requests back, it grows; when it
 * had grown already, that growth lasted: the refusals it exceeded are forgotten. Pure.
 */
export function afterAccepted(
  s: KindPacing,
  documented: Cap,
  acceptedInWindow = 0,
  nowMs = 0,
  mayGrow = true,
): KindPacing {
  if (s.phase === "starting") {
    const accepted = s.accepted + 1;
    const round = s.round ?? s.capacity;
    if (s.capacity >= documented.perWindow) return { ...s, accepted };
    if (accepted < round && acceptedInWindow < documented.perWindow) return { ...s, accepted };
    const capacity =
      acceptedInWindow >= documented.perWindow
        ? documented.perWindow
        : Math.min(documented.perWindow, s.capacity + round * PROBE_GROWTH);
    return {
      ...s,
      capacity,
      tokens: s.tokens + capacity - s.capacity,
      accepted: 0,
      round: capacity - s.capacity,
    };
  }
  const sinceChange = s.sinceChange + 1;
  // Due after `growAfter` accepted, or a while after the last change with a few accepted: the limit may have
  // risen however long failed growths made the count. Never past the 429 budget.
  const due =
    sinceChange >= s.growAfter ||
    (!!s.cap &&
      nowMs - s.changedAtMs >= growWithinMs(s.cap, s.growAfter) &&
      sinceChange >= GROW_AFTER_BOUNDS.min);
  // A cap at the documented rate has nothing to try above it.
  const atDocumented = !!s.cap && s.cap.rate >= documented.perWindow / documented.windowMs;
  // Within a window of a fall, Graph would refuse the growth: the limit is still down. Counted from the fall, not
  // from a later 429 of the fallen cap, after which the growth came due only once that cap held nothing back.
  const afterFall = s.fellAtMs !== undefined && !!s.cap && nowMs - s.fellAtMs < s.cap.windowMs;
  if (!s.cap || atDocumented || !s.held || !due || afterFall || nowMs < s.trialEndsAtMs)
    return { ...s, sinceChange };
  const grown =
    s.shorterWindowMs === undefined
      ? grownCap(s.cap, s.growth, documented)
      : capAt(s.cap.perWindow, s.cap.perWindow / s.shorterWindowMs, documented);
  const back = s.fellFrom && s.fellFrom.rate > grown.rate && s.fellFrom.perWindow > grown.perWindow;
  // Past the 429 budget, only the way back to the cap before a fall: tried once a fall (refused, it is forgotten),
  // where the fall's own 429s would otherwise hold the fallen cap after the limit is restored.
  if (!mayGrow && !back) return { ...s, sinceChange };
  return {
    ...s,
    cap: back ? s.fellFrom : grown,
    shorterWindowMs: undefined,
    fellFrom: undefined,
    fellAtMs: undefined,
    refusals: s.grown ? [] : s.refusals,
    sinceChange: 0,
    growAfter: Math.max(GROW_AFTER_BOUNDS.min, Math.floor(s.growAfter / 2)),
    growth: s.growth * GROWTH_FACTOR,
    grown: true,
    grewFrom: s.cap,
    held: false,
    changedAtMs: nowMs,
    trialEndsAtMs: nowMs + s.cap.windowMs,
  };
}

/**
 * How long after `cap` last changed a growth is due whatever the count: a few cap windows, longer after failed
 * growths (as many times as `growAfter` is {@link GROW_AFTER}), up to {@link GROW_WITHIN_MOST_MS} or those few
 * windows. Pure.
 */
export function growWithinMs(cap: Cap, growAfter: number): number {
  const windowsMs = Math.max(GROW_WITHIN_WINDOWS * cap.windowMs, GROW_WITHIN_MS);
  const failed = Math.max(1, growAfter / GROW_AFTER);
  return Math.min(windowsMs * failed, Math.max(GROW_WITHIN_MOST_MS, GROW_WITHIN_WINDOWS * cap.windowMs));
}

/**
 * `cap` at a rate `share` higher: a larger burst in the same window when it holds more than one request (two
 * bursts a shorter window apart could both fall in one window of a window's limit), a shorter window when it
 * holds one (a bucket's). At least one request more per window; never above the documented rate: past it, the
 * most the same window holds at that rate (a longer window would hold the grown burst back behind the last one's
 * requests, to the end of the longer window). Pure.
 */
export function grownCap(
  cap: Cap & { rate: number },
  share: number,
  documented: Cap,
): Cap & { rate: number } {
  if (cap.perWindow <= 1) return capAt(cap.perWindow, cap.rate * (1 + share), documented);
  const perWindow = Math.max(cap.perWindow + 1, Math.floor(cap.perWindow * (1 + share)));
  const most = Math.floor((cap.windowMs * documented.perWindow) / documented.windowMs);
  if (perWindow <= most || most <= cap.perWindow)
    return capAt(perWindow, perWindow / cap.windowMs, documented);
  return { perWindow: most, windowMs: cap.windowMs, rate: most / cap.windowMs };
}

/** `perWindow` requests at `rate` (their window follows), never above the documented rate. Pure. */
function capAt(perWindow: number, rate: number, documented: Cap): Cap & { rate: number } {
  const atMost = Math.min(rate, documented.perWindow / documented.windowMs);
  return { perWindow, windowMs: perWindow / atMost, rate: atMost };
}

/**
 * After the first 429 of a throttle event, answered at `nowMs` (reckoned at `reckonedAtMs`, see
 * {@link reckonedAnswerAtMs}): nothing of the kind goes until `Retry-After`; the refusal is recorded once Graph
 * reopens (requests still in flight may yet be accepted). A growth that drew it failed: the next waits four
 * times as long, and its trial (one request in flight) is over. Pure.
 */
export function afterThrottle(
  s: KindPacing,
  nowMs: number,
  retryAfterInMs = 0,
  reckonedAtMs = nowMs,
): KindPacing {
  return {
    ...s,
    throttledAtMs: nowMs,
    refusalPending: true,
    refusedFit: s.phase === "fitted" && !s.grown,
    pausedUntilMs: Math.max(s.pausedUntilMs, reckonedAtMs + retryAfterInMs),
    tokens: 0,
    sinceChange: 0,
    growAfter: s.grown ? Math.min(GROW_AFTER_BOUNDS.max, s.growAfter * 4) : GROW_AFTER,
    growth: FIRST_GROWTH,
    grown: false,
    held: false,
    changedAtMs: nowMs,
    trialEndsAtMs: -Infinity,
  };
}

/**
 * Once Graph reopened after a throttle event: the refusal joins the recent ones (the documented window's, at
 * most {@link MAX_REFUSALS}), and the kind is paced by the cap fitted to them (the last one stays when Graph had
 * accepted nothing of the kind; a growth refused falls back to the cap it grew from, a bucket's to no slower).
 * `acceptedAtMs`: answers of the kind's accepted requests sent before the event. Pure.
 */
export function afterReopening(s: KindPacing, acceptedAtMs: readonly number[], documented: Cap): KindPacing {
  const refusal: Refusal = {
    reopensAtMs: s.pausedUntilMs,
    acceptedAtMs: [...acceptedAtMs].sort((a, b) => b - a).slice(0, MAX_HISTORY),
    ofFit: s.refusedFit,
  };
  // After the slow start, a refusal with too short a history says too little to fit to; one without any, nothing.
  const informative = refusal.acceptedAtMs.length >= (s.phase === "starting" ? 1 : MIN_FIT_HISTORY);
  const refusals = [...s.refusals, ...(informative ? [refusal] : [])]
    .filter((r) => r.reopensAtMs > refusal.reopensAtMs - REFUSALS_KEPT_IN_WINDOWS * documented.windowMs)
    .slice(-MAX_REFUSALS);
  // A refusal after nothing of the kind was accepted says nothing of its limit (another one refused it).
  const fitted = fittedCap(refusals, documented) ?? s.cap;
  // A growth refused falls back to the cap it grew from, which Graph had granted until then: not to a slower fit
  // (a window's history is the rate sent in it, partly below that cap), nor to a faster one where the cap holds a
  // burst (a fixed window's refusal met late in the window measures less than the window). A bucket's cap (one
  // request) takes a faster fit: the refill it measured, of a limit that rose.
  const from = s.phase === "fitted" && !s.refusedFit ? s.grewFrom : undefined;
  const refused = s.phase === "fitted" && s.refusedFit ? s.cap : undefined;
  const cap = from && fitted && (from.perWindow > 1 || fitted.rate < from.rate) ? from : fitted;
  const shorterWindowMs = from && s.cap ? stretchedWindowMs(s.cap, from, refusal) : undefined;
  const fell = from ? undefined : fellFrom(refused, cap, s.fellFrom, documented);
  return {
    ...s,
    phase: "fitted",
    refusals,
    cap,
    refusalPending: false,
    shorterWindowMs,
    fellFrom: fell,
    fellAtMs: fell ? (s.fellAtMs ?? s.changedAtMs) : undefined,
  };
}

/**
 * The cap to go back to once the limit is restored ({@link RESTORE_WINDOW_SHARE}): when Graph refused the fitted
 * cap itself (`refused`) and the refit `cap`, a long window's, is under {@link FELL_SHARE} of it, the higher of
 * that cap and the one `remembered` before; otherwise `remembered`. Pure.
 */
export function fellFrom(
  refused: (Cap & { rate: number }) | undefined,
  cap: (Cap & { rate: number }) | undefined,
  remembered: (Cap & { rate: number }) | undefined,
  documented: Cap,
): (Cap & { rate: number }) | undefined {
  if (!refused || !cap || cap.windowMs < RESTORE_WINDOW_SHARE * documented.windowMs) return remembered;
  if (cap.rate >= FELL_SHARE * refused.rate) return remembered;
  return remembered && remembered.rate > refused.rate ? remembered : refused;
}

/**
 * When Graph refused a window's burst grown (`grown` from `from`), the window its `refusal` measured for the
 * burst it grew from ({@link WINDOW_MARGIN} longer), if that is within {@link STRETCHED_WINDOW_SHARE} of the
 * window: the window the next growth shortens the cap's to. Pure.
 */
export function stretchedWindowMs(grown: Cap, from: Cap, refusal: Refusal): number | undefined {
  if (from.perWindow < 2 || grown.perWindow <= from.perWindow) return undefined;
  const burstAtMs = refusal.acceptedAtMs[from.perWindow - 1];
  if (burstAtMs === undefined) return undefined;
  const windowMs = (1 + WINDOW_MARGIN) * (refusal.reopensAtMs - burstAtMs);
  return windowMs < STRETCHED_WINDOW_SHARE * from.windowMs ? windowMs : undefined;
}

/**
 * Whether `refusal` (a write's, with the history of all requests) is the all-requests limit's: that limit was
 * fitted from refusals of its own, and with this one added its rate stays within {@link EXPLAINED_TOLERANCE}
 * (Graph refused the writes where it refuses every request). A write limit below it would have refused at a
 * lower rate of all requests. Pure.
 */
export function explainsRefusal(s: KindPacing, refusal: Refusal, documented: Cap): boolean {
  if (s.phase !== "fitted" || !s.cap || refusal.acceptedAtMs.length < MIN_FIT_HISTORY) return false;
  const rate = fittedCap(s.refusals, documented)?.rate ?? s.cap.rate;
  const withIt = fittedCap([...s.refusals, refusal], documented);
  return !!withIt && withIt.rate >= rate * (1 - EXPLAINED_TOLERANCE);
}

/**
 * Whether a cap may grow: while one more 429 would keep the answers' 429s within {@link GROWTH_429_BUDGET}, or
 * after {@link GROWTH_QUIET_WINDOWS} documented windows without a 429 whatever the budget (a cap fitted low, to
 * a limit that rose since or to a refusal told for the wrong limit, is not held there by the 429s that fitted
 * it; at most one more 429 per those windows). Pure.
 */
export function growthAllowed(
  stats: { answered: number; throttled: number },
  quietInMs: number,
  windowMs: number,
): boolean {
  return (
    stats.throttled + 1 <= GROWTH_429_BUDGET * (stats.answered + 1) ||
    quietInMs >= GROWTH_QUIET_WINDOWS * windowMs
  );
}

/**
 * When a 429 is reckoned to have been answered: its answer, or {@link STALLED_AFTER_ROUND_TRIPS} smoothed round
 * trips after its send when it came later than that. Pure.
 */
export function reckonedAnswerAtMs(sentAtMs: number, answeredAtMs: number, roundTripInMs: number): number {
  return roundTripInMs > 0
    ? Math.min(answeredAtMs, sentAtMs + STALLED_AFTER_ROUND_TRIPS * roundTripInMs)
    : answeredAtMs;
}

/**
 * The round trip smoothed by `sample` as TCP's is, an eighth at a time; a stall counts as at most four of it.
 * Pure.
 */
export function smoothedRoundTripInMs(roundTripInMs: number, sample: number): number {
  return roundTripInMs === 0 ? sample : 0.875 * roundTripInMs + 0.125 * Math.min(sample, 4 * roundTripInMs);
}

/**
 * A request sent before the last event and accepted after its refusal was recorded (held up on its way, Graph
 * counted it somewhere between its send and its answer): it joins the refusal's history at its midpoint, when
 * that is before the reopening, and the cap is refitted if that is faster. Pure.
 */
export function afterLateAccept(s: KindPacing, acceptedAtMs: number, documented: Cap): KindPacing {
  const newest = s.refusals[s.refusals.length - 1];
  if (s.phase !== "fitted" || s.refusalPending || s.grown || !newest || !s.cap) return s;
  if (newest.reopensAtMs !== s.pausedUntilMs || acceptedAtMs >= newest.reopensAtMs) return s;
  const amended: Refusal = {
    ...newest,
    acceptedAtMs: [...newest.acceptedAtMs, acceptedAtMs].sort((a, b) => b - a).slice(0, MAX_HISTORY),
  };
  const refusals = [...s.refusals.slice(0, -1), amended];
  const fitted = fittedCap(refusals, documented);
  return { ...s, refusals, cap: fitted && fitted.rate > s.cap.rate ? fitted : s.cap };
}

/** A late 429 (of a request sent before the last event): only its `Retry-After` holds the kind. Pure. */
export function afterLateThrottle(s: KindPacing, nowMs: number, retryAfterInMs = 0): KindPacing {
  return { ...s, pausedUntilMs: Math.max(s.pausedUntilMs, nowMs + retryAfterInMs) };
}

/**
 * One request in the window. Intune counts a request when it arrives, which is before its answer does: a
 * request answered at `answeredAtMs` has left Graph's window by `answeredAtMs + window`, whatever the network's
 * latency. One without an answer yet (`answeredAtMs` undefined) is in the window for as long as it is in flight.
 */
export interface Sent {
  sentAtMs: number;
  answeredAtMs?: number;
  /** Answered in a usual round trip (see {@link Reach}), not held up on its way. */
  usual?: boolean;
  write: boolean;
}

/**
 * How long to wait before one more request fits the documented budgets, given the requests in the window;
 * `Infinity` while the budget is all in flight (an answer changes that). Pure.
 */
export function pacingDelayInMs(
  sent: readonly Sent[],
  write: boolean,
  nowMs: number,
  windowMs: number,
  allowed: { writes: number; requests: number },
): number {
  return Math.max(
    capDelayInMs(sent, nowMs, { perWindow: allowed.requests, windowMs }),
    write
      ? capDelayInMs(
          sent.filter((s) => s.write),
          nowMs,
          { perWindow: allowed.writes, windowMs },
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

/** What Graph answered to a paced request. */
export interface PacingAnswer {
  throttled: boolean;
  /** Its `Retry-After`, when a 429 carried one. */
  retryAfterInMs?: number;
}

/** What a pacer tells the person running `pulumi up` about. */
export type PacingEvent =
  | { kind: "waited"; waitedInMs: number; allowed: { writes: number; requests: number } }
  | { kind: "decreased"; write: boolean; allowed: number; accepted: number };

/** Time as the pacer reads it and waits on it: the system's, or a simulation's. */
export interface PacingClock {
  now(): number;
  /** Calls `fn` after `ms`; the returned function cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

/** The system clock. */
export const systemClock: PacingClock = {
  now: Date.now,
  setTimer(fn, ms) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

type Kind = "writes" | "requests";

/** The pacer of one tenant. Writes and reads queue apart, each first come, first served. */
export class Pacer {
  private sent: Sent[] = [];
  /** Which request in the window each ticket stands for. */
  private readonly entries = new WeakMap<PacingTicket, Sent>();
  private readonly queues = { write: Promise.resolve(), read: Promise.resolve() };
  /** Requests waiting for their turn, woken early by an answer. */
  private readonly wakers = new Set<() => void>();
  private readonly state: Record<Kind, KindPacing>;
  /** The round trip, smoothed ({@link smoothedRoundTripInMs}). */
  private roundTripInMs = 0;
  /** The last 429's answer. */
  private last429AtMs = -Infinity;
  /** The newest round trips of 429s and of accepted requests ({@link reachOf}). */
  private readonly roundTripsInMs = { throttled: [] as number[], accepted: [] as number[] };
  /** The way to Graph they tell ({@link reachOf}), worked out once per answer. */
  private reach: Reach = UNKNOWN_REACH;
  /** Throttle events met (a refusal each). */
  readonly stats = { throttleEvents: 0, answered: 0, throttled: 0 };

  constructor(
    readonly limits: PacingLimits,
    private readonly onEvent: (event: PacingEvent) => void = () => undefined,
    private readonly clock: PacingClock = systemClock,
  ) {
    this.state = {
      writes: startPacing(limits.writes, clock.now()),
      requests: startPacing(limits.requests, clock.now()),
    };
  }

  /** The rates now, as requests per documented window. */
  get allowed(): { writes: number; requests: number } {
    return { writes: this.allowedOf("writes"), requests: this.allowedOf("requests") };
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
   * throttle event (a request sent after the last one) holds its kind until `Retry-After`, and the refusal
   * paces it from then on.
   */
  settle(ticket: PacingTicket, answer: PacingAnswer): void {
    const entry = this.entries.get(ticket);
    this.entries.delete(ticket);
    const now = this.clock.now();
    for (const wake of this.wakers) wake();
    this.wakers.clear();
    this.stats.answered++;
    if (answer.throttled) {
      this.stats.throttled++;
      this.last429AtMs = now;
    }
    // Reckoned by the round trips before this one: a stall is not its own measure.
    const reckonedAtMs = reckonedAnswerAtMs(ticket.sentAtMs, now, this.roundTripInMs);
    const roundTripInMs = now - ticket.sentAtMs;
    this.roundTripInMs = smoothedRoundTripInMs(this.roundTripInMs, roundTripInMs);
    const usual = roundTripInMs <= this.reach.usualInMs;
    const kept = answer.throttled ? this.roundTripsInMs.throttled : this.roundTripsInMs.accepted;
    kept.push(roundTripInMs);
    if (kept.length > (answer.throttled ? THROTTLED_ROUND_TRIPS_KEPT : ACCEPTED_ROUND_TRIPS_KEPT))
      kept.shift();
    this.reach = reachOf(this.roundTripsInMs.throttled, this.roundTripsInMs.accepted);
    if (!answer.throttled) {
      if (entry) Object.assign(entry, { answeredAtMs: now, usual });
      // When it reached Graph where the pacer knows, as the rest of a refusal's history; else half way to its answer.
      const countedAtMs = (entry && reachedByMs(entry, now, this.reach)) ?? (ticket.sentAtMs + now) / 2;
      for (const kind of kindsOf(ticket.write)) {
        if (ticket.sentAtMs <= this.state[kind].throttledAtMs)
          this.state[kind] = afterLateAccept(this.state[kind], countedAtMs, this.documented(kind));
        this.state[kind] = afterAccepted(
          this.state[kind],
          this.documented(kind),
          this.acceptedInWindow(kind, now),
          now,
          growthAllowed(this.stats, now - this.last429AtMs, this.limits.windowMs),
        );
      }
      return;
    }
    if (entry && this.sent.includes(entry)) this.sent.splice(this.sent.indexOf(entry), 1);
    const retryAfterInMs = answer.retryAfterInMs ?? 0;
    const kind: Kind =
      ticket.write && !this.allRequestsRefused(ticket, now, reckonedAtMs + retryAfterInMs)
        ? "writes"
        : "requests";
    if (ticket.sentAtMs <= this.state[kind].throttledAtMs) {
      this.state[kind] = afterLateThrottle(this.state[kind], reckonedAtMs, retryAfterInMs);
      return;
    }
    this.state[kind] = afterThrottle(this.state[kind], now, retryAfterInMs, reckonedAtMs);
    this.stats.throttleEvents++;
  }

  private async take(write: boolean): Promise<PacingTicket> {
    const started = this.clock.now();
    const kinds = kindsOf(write);
    for (;;) {
      const now = this.clock.now();
      this.prune(now);
      // The all-requests limit's refusal first: a write refusal it explains is not the write limit's.
      for (const kind of ["requests", "writes"] as const) this.recordRefusal(kind, now);
      for (const kind of kinds) {
        this.state[kind] = refilled(this.state[kind], this.documented(kind), now);
      }
      const documented = pacingDelayInMs(this.sent, write, now, this.limits.windowMs, this.limits);
      const own = kinds.map((kind) =>
        kindDelayInMs(
          this.state[kind],
          this.sentOf(kind),
          now,
          this.documented(kind),
          this.roundTripInMs,
          this.reach,
        ),
      );
      const delay = Math.max(documented, ...own);
      // The clock counts whole milliseconds: less than one is a rounding of the fitted window's.
      if (delay < 1) break;
      kinds.forEach((kind, i) => {
        if (own[i] > 0 && own[i] >= documented && this.state[kind].phase === "fitted")
          this.state[kind] = { ...this.state[kind], held: true };
      });
      // Short steps: an answer may free room meanwhile, and this request with it.
      await this.pause(Math.min(delay, RECHECK_IN_MS));
    }
    const now = this.clock.now();
    for (const kind of kinds) this.state[kind] = { ...this.state[kind], tokens: this.state[kind].tokens - 1 };
    const entry: Sent = { sentAtMs: now, write };
    this.sent.push(entry);
    const waitedInMs = now - started;
    if (waitedInMs > 0) this.onEvent({ kind: "waited", waitedInMs, allowed: this.allowed });
    const ticket: PacingTicket = { write, sentAtMs: now, waitedInMs };
    this.entries.set(ticket, entry);
    return ticket;
  }

  /** Once Graph reopened after a throttle event, the refusal paces the kind. */
  private recordRefusal(kind: Kind, nowMs: number): void {
    const s = this.state[kind];
    if (!s.refusalPending || nowMs < s.pausedUntilMs) return;
    const accepted = this.acceptedBefore(kind, s.pausedUntilMs, s.throttledAtMs);
    // A write refusal the all-requests limit explains says nothing of the write limit, and is told as that one's.
    const explained = kind === "writes" && this.explainedByAllRequests(s.pausedUntilMs, s.throttledAtMs);
    this.state[kind] = afterReopening(s, explained ? [] : accepted, this.documented(kind));
    if (explained) return;
    // Each refusal is told (Graph throttled below the documented budget), with the rate the kind goes at now.
    const allowed = this.allowedOf(kind);
    this.onEvent({
      kind: "decreased",
      write: kind === "writes",
      allowed,
      accepted: accepted.filter((at) => at > nowMs - this.limits.windowMs).length,
    });
  }

  /**
   * Whether a write's 429 is the all-requests limit's: sent before that limit's last event (the same burst met
   * it), or the first of a write throttle event that the all-requests refusals explain. Otherwise the write
   * limit's.
   */
  private allRequestsRefused(ticket: PacingTicket, nowMs: number, reopensAtMs: number): boolean {
    if (ticket.sentAtMs <= this.state.requests.throttledAtMs) return true;
    if (ticket.sentAtMs <= this.state.writes.throttledAtMs) return false;
    return this.explainedByAllRequests(reopensAtMs, nowMs);
  }

  /** Whether a refusal reopening at `reopensAtMs`, of requests sent by `sentByMs`, is the all-requests limit's. */
  private explainedByAllRequests(reopensAtMs: number, sentByMs: number): boolean {
    const acceptedAtMs = this.acceptedBefore("requests", reopensAtMs, sentByMs).sort((a, b) => b - a);
    return explainsRefusal(this.state.requests, { reopensAtMs, acceptedAtMs }, this.documented("requests"));
  }

  /**
   * When Graph accepted the kind's requests sent by `sentByMs`, answered in the documented window before a
   * reopening at `reopensAtMs` ({@link WINDOW_MARGIN} longer: the reopening is reckoned from an answer, the
   * window's start was a request's arrival): their answers, or when they reached Graph where the pacer knows
   * ({@link reachedByMs}).
   */
  private acceptedBefore(kind: Kind, reopensAtMs: number, sentByMs: number): number[] {
    return this.sentOf(kind)
      .filter(
        (e) =>
          e.answeredAtMs !== undefined &&
          e.answeredAtMs > reopensAtMs - (1 + WINDOW_MARGIN) * this.limits.windowMs &&
          e.sentAtMs <= sentByMs,
      )
      .map((e) => reachedByMs(e, e.answeredAtMs!, this.reach) ?? e.answeredAtMs!);
  }

  /** The kind's rate now, as requests per documented window. */
  private allowedOf(kind: Kind): number {
    const { cap } = this.state[kind];
    const documented = this.limits[kind];
    return cap ? Math.min(documented, Math.round(cap.rate * this.limits.windowMs)) : documented;
  }

  private documented(kind: Kind): Cap {
    return { perWindow: this.limits[kind], windowMs: this.limits.windowMs };
  }

  private sentOf(kind: Kind): Sent[] {
    return kind === "requests" ? this.sent : this.sent.filter((s) => s.write);
  }

  private acceptedInWindow(kind: Kind, nowMs: number): number {
    return this.sentOf(kind).filter(
      (s) => s.answeredAtMs !== undefined && s.answeredAtMs > nowMs - this.limits.windowMs,
    ).length;
  }

  /** Sleeps `ms`, or until the next answer arrives. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.clock.setTimer(() => {
        this.wakers.delete(wake);
        resolve();
      }, ms);
      const wake = () => {
        cancel();
        resolve();
      };
      this.wakers.add(wake);
    });
  }

  /**
   * Forgets requests two documented windows after their answer (a refusal's history reaches a window back from
   * a reopening up to a window away), and requests never answered (a ticket that was never settled) two
   * windows after they were sent: at most twice the documented budget is remembered.
   */
  private prune(nowMs: number): void {
    const since = nowMs - 2 * this.limits.windowMs;
    this.sent = this.sent.filter(({ sentAtMs, answeredAtMs }) => (answeredAtMs ?? sentAtMs) > since);
  }
}

function kindsOf(write: boolean): Kind[] {
  return write ? ["writes", "requests"] : ["requests"];
}
