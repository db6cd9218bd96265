/**
 * `npm run bench:simulated [-- --shapes S --held-out --shares 0.3,0.5,0.9 --seeds 5 --partners 60
 * --latency 2-12 --stall 0]`: scenario (d)'s grid in simulated time (bench/simulated.ts: the real pacer against
 * the emulator's real limits on a virtual clock), each row the worst of several latency seeds, in seconds rather
 * than the real run's hour. The pacer's tuning tool; the figures BENCHMARKS.md reports come from the real runs
 * (`npm run bench -- --only d`).
 */
import { parseArgs } from "node:util";
import { HELD_OUT, SHAPES, shapeRow } from "./shapes";
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
    },
  });
  const specs = [values.shapes, ...(values["held-out"] ? [HELD_OUT] : [])].join(",").split(",");
  const partners = Number(values.partners);
  const [fastest, slowest] = values.latency.split("-").map(Number);
  let met = 0;
  let rows = 0;
  console.log(
    "| rate | shape | window | counted | worst wall ÷ bound | worst 429s | failures | target met |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  for (const spec of specs)
    for (const share of values.shares.split(",").map(Number)) {
      const row = shapeRow(spec, share, partners);
      let ratio = 0;
      let throttled = 0;
      let failures = 0;
      for (let seed = 1; seed <= Number(values.seeds); seed++) {
        const run = await simulate(row.limits, partners, {
          seed,
          latencyInMs: [fastest, slowest],
          stallInMs: Number(values.stall),
        });
        ratio = Math.max(ratio, run.wallInMs / run.boundInMs);
        throttled = Math.max(throttled, run.throttled / run.requests);
        failures += run.failures;
      }
      const ok = ratio <= MOST_BOUND_RATIO && throttled <= MOST_THROTTLED_SHARE && failures === 0;
      rows++;
      if (ok) met++;
      console.log(
        `| ${share * 100} % | ${row.name} | ${row.window} | ${row.counted} | ${ratio.toFixed(2)} | ${(100 * throttled).toFixed(1)} % | ${failures} | ${ok ? "yes" : "no"} |`,
      );
    }
  console.log(`\n${met} of ${rows} rows meet the target in every seed.`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
