/**
 * `npm run bench:simulated [-- --shapes S --held-out --shares 0.3,0.5,0.9 --seeds 5 --partners 60
 * --latency 2-12 --stall 0 --processing 0-0 --stagger 0 --sdk]`: scenario (d)'s grid in simulated time
 * (bench/simulated.ts: the real pacer against the emulator's real limits on a virtual clock), each row the worst
 * of several latency seeds, in seconds rather than the real run's hour; with `--sdk`, beside a client without a
 * pacer that retries each 429 after its `Retry-After` 3 times (the Graph JS SDK's default), its time where every
 * seed completes and the most writes it had accepted in any documented window. The pacer's tuning tool; the
 * figures BENCHMARKS.md reports come from the real runs (`npm run bench -- --only d`).
 */
import { parseArgs } from "node:util";
import { HELD_OUT, SHAPES, shapeRow } from "./shapes";
import { intuneAppLimits } from "../provider/graph/pacer";
import { mostInWindow } from "./scale";
import { msRange } from "../emulator/cli";
import { simulate } from "./simulated";

/** The (d) targets: wall ≤ 1.15 × the bound, 429s at most 5 %, no failure. */
const MOST_BOUND_RATIO = 1.15;
const MOST_THROTTLED_SHARE = 0.05;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      shapes: { type: "string", default: SHAPES },
      "held-out": { type: "boolean", default: false },
      shares: { type: "string", default: "0.3,0.5,0.9" },
      seeds: { type: "string", default: "5" },
      partners: { type: "string", default: "60" },
      /** Each way, fastest to slowest, in ms. */
      latency: { type: "string", default: "2-12" },
      /** One leg in twenty takes up to this much longer, in ms (a busy machine). */
      stall: { type: "string", default: "0" },
      /** Graph's own time on each request, quickest to longest, in ms: after it counted it, before it answers. */
      processing: { type: "string", default: "0-0" },
      /** Each partner's life starts this long after the one before, in ms (the engine registers them one by one). */
      stagger: { type: "string", default: "0" },
      sdk: { type: "boolean", default: false },
    },
  });
  const specs = [values.shapes, ...(values["held-out"] ? [HELD_OUT] : [])].join(",").split(",");
  const partners = Number(values.partners);
  const [latency, processing] = [msRange(values.latency), msRange(values.processing)];
  if (!latency || !processing)
    throw new Error("--latency and --processing are ranges of ms A-B, such as 20-200");
  let met = 0;
  let rows = 0;
  const sdk = values.sdk ? " ours' worst wall | SDK-like worst wall | SDK-like most writes in 20 s |" : "";
  console.log(
    `| rate | shape | window | counted | worst wall ÷ bound | worst 429s | failures | target met |${sdk}`,
  );
  console.log(`|---|---|---|---|---|---|---|---|${values.sdk ? "---|---|---|" : ""}`);
  for (const spec of specs)
    for (const share of values.shares.split(",").map(Number)) {
      const row = shapeRow(spec, share, partners);
      let ratio = 0;
      let throttled = 0;
      let failures = 0;
      const walls = { ours: 0, sdk: 0, sdkFailed: false, sdkMost: 0 };
      for (let seed = 1; seed <= Number(values.seeds); seed++) {
        const options = {
          seed,
          latencyInMs: latency,
          stallInMs: Number(values.stall),
          processingInMs: processing,
          staggerInMs: Number(values.stagger),
        };
        const run = await simulate(row.limits, partners, options);
        ratio = Math.max(ratio, run.wallInMs / run.boundInMs);
        throttled = Math.max(throttled, run.throttled / run.requests);
        failures += run.failures;
        walls.ours = Math.max(walls.ours, run.wallInMs);
        if (!values.sdk) continue;
        const theirs = await simulate(row.limits, partners, { ...options, paced: false });
        walls.sdk = Math.max(walls.sdk, theirs.wallInMs);
        walls.sdkFailed ||= theirs.failures > 0;
        walls.sdkMost = Math.max(
          walls.sdkMost,
          mostInWindow(theirs.admittedWritesAtMs, intuneAppLimits.windowMs),
        );
      }
      const ok = ratio <= MOST_BOUND_RATIO && throttled <= MOST_THROTTLED_SHARE && failures === 0;
      rows++;
      if (ok) met++;
      console.log(
        `| ${share * 100} % | ${row.name} | ${row.window} | ${row.counted} | ${ratio.toFixed(2)} | ${(100 * throttled).toFixed(1)} % | ${failures} | ${ok ? "yes" : "no"} |` +
          (values.sdk
            ? ` ${(walls.ours / 1000).toFixed(1)} s | ${walls.sdkFailed ? "failed" : `${(walls.sdk / 1000).toFixed(1)} s`} | ${walls.sdkMost} |`
            : ""),
      );
    }
  console.log(`\n${met} of ${rows} rows meet the target in every seed.`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
