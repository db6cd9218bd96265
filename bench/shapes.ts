/**
 * The limit's shapes of the bench's scenario (d), shared by its real runs (bench/run.ts) and the simulated grid
 * (bench/simulatedGrid.ts).
 */
import { intuneLimits, limitShape, limitsAt, type ThrottleLimits } from "../emulator";
import type { LimitShapeName } from "../emulator/throttle";

/**
 * The limit's shapes the scenario (d) rows run, each at every rate of `--shape-shares` (`npm run bench`):
 * `[every:|change:]shape:ms[:rejected]`. `ms` is the window, or a bucket's burst; `rejected`: a 429 counts
 * against the limit too; `every:` reads count against the write limit as well (one limit for all requests);
 * `change:` the limit halves a quarter of the way through the run and is restored half way (another app of the
 * tenant starting and stopping).
 */
export const SHAPES = [
  ...["sliding", "fixed-first", "fixed-clock"].flatMap((shape) =>
    [1_000, 2_000, 5_000, 20_000].map((ms) => `${shape}:${ms}`),
  ),
  "fixed-first:2000:rejected",
  "bucket:500",
  "bucket:1000",
  "bucket:3000",
  "every:fixed-first:2000:rejected",
  "every:sliding:20000",
  "every:bucket:1000",
  "change:sliding:2000",
  "change:fixed-clock:2000",
  "change:bucket:1000",
].join(",");
/**
 * Shapes the pacer is checked against, never tuned on: other windows and bursts, and the variants on other
 * shapes (`npm run bench:simulated -- --held-out`; real: `npm run bench -- --only d --held-out`).
 */
export const HELD_OUT = [
  "sliding:3000",
  "fixed-clock:10000",
  "bucket:2000",
  "every:fixed-clock:5000",
  "every:sliding:5000",
  "change:fixed-first:5000",
  "change:sliding:20000",
].join(",");

const seconds = (ms: number) => (ms / 1000).toFixed(1);

/** One (d) row from its spec (see {@link SHAPES}) at `share` of the documented rates. */
export function shapeRow(spec: string, share: number, partners: number) {
  const parts = spec.split(":");
  const variant = parts[0] === "every" || parts[0] === "change" ? parts.shift() : undefined;
  const [name, ms, rejected] = parts;
  const windowMs = name === "bucket" ? intuneLimits.windowMs : Number(ms);
  const base = limitsAt(
    share,
    windowMs,
    limitShape(name as LimitShapeName, Number(ms)),
    rejected === "rejected",
    variant === "every",
  );
  // Changing: halved a quarter of the way through the unchanged bound, restored half way.
  const boundMs = ((partners * 5) / base.appWrites) * base.windowMs;
  const limits: ThrottleLimits =
    variant === "change"
      ? {
          ...base,
          phases: [
            { fromMs: boundMs / 4, share: 0.5 },
            { fromMs: boundMs / 2, share: 1 },
          ],
        }
      : base;
  return {
    name: `${name}${variant === "every" ? " (every request)" : variant === "change" ? " (changing)" : ""}`,
    window: name === "bucket" ? `burst ${seconds(Number(ms))} s` : `${seconds(windowMs)} s`,
    counted: rejected === "rejected" ? "429s too" : "accepted",
    limits,
    granted: { windowMs, appWrites: limits.appWrites, appAll: limits.appAll, phases: limits.phases },
  };
}
