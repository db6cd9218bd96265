/**
 * A few-second smoke run of the benchmarks, so that they never rot: it asserts counts, never times.
 */
import { strict as assert } from "node:assert";
import { startEmulator, type Emulator } from "../emulator";
import { coldStart, countRequests } from "../bench/requests";
import {
  comparedWithSdk,
  medianRun,
  meetsTarget,
  mostWritesInWindow,
  runGraphSdk,
  runOurs,
  throttleBoundInMs,
} from "../bench/scale";
import { withEarlierSections } from "../bench/report";
import { shapeRow } from "../bench/shapes";
import { useEmulator } from "./support/emulator";

describe("benchmarks (smoke)", function () {
  this.timeout(120_000);
  const emu = useEmulator({ onboardingDelayMs: null, throttle: false });

  it("makes the minimum Graph requests per operation and one token request per tenant", async () => {
    const { operations, tokenRequestsPerTenant } = await countRequests(emu(), () => emu().newTenant());
    assert.deepEqual(
      operations.filter((o) => o.measured !== o.minimum),
      [],
    );
    assert.equal(operations.length, 14);
    assert.equal(tokenRequestsPerTenant, 1);
  });

  it("makes the same Graph requests per operation through the intune plugin as through the dynamic-provider host", async () => {
    const dynamic = await countRequests(emu(), () => emu().newTenant());
    const plugin = await countRequests(emu(), () => emu().newTenant(), { plugin: true });
    assert.deepEqual(plugin, dynamic);
  });

  it("keeps the serialized provider under 8 KiB", async () => {
    const cold = await coldStart(emu(), emu().newTenant());
    assert.ok(cold.providerBytes < 8 * 1024, `${cold.providerBytes} bytes`);
  });

  it("computes the throttle bound as requests ÷ allowed rate", () => {
    const limits = { windowMs: 20_000, appWrites: 100, appAll: 1000 };
    assert.equal(throttleBoundInMs(200, 300, limits), 40_000);
    assert.equal(throttleBoundInMs(10, 3000, limits), 60_000);
  });

  it("follows a limit that changes: halved from 10 s to 20 s, 200 writes at 5 per second take 45 s", () => {
    const phases = [
      { fromMs: 10_000, share: 0.5 },
      { fromMs: 20_000, share: 1 },
    ];
    assert.equal(
      throttleBoundInMs(200, 200, { windowMs: 20_000, appWrites: 100, appAll: 1000, phases }),
      45_000,
    );
  });

  it("reads a (d) row's spec: the shape, its window or burst, whether 429s count, every request, a change", () => {
    const halved = shapeRow("change:fixed-clock:2000:rejected", 0.5, 60).limits;
    assert.deepEqual(
      [halved.windowMs, halved.appWrites, halved.appAll, halved.shape, halved.countRejected],
      [2_000, 5, 50, { kind: "fixed", anchor: "clock" }, true],
    );
    // 300 writes at 5 per 2 s: a bound of 120 s, halved from its quarter to its half.
    assert.deepEqual(halved.phases, [
      { fromMs: 30_000, share: 0.5 },
      { fromMs: 60_000, share: 1 },
    ]);
    const every = shapeRow("every:bucket:1000", 0.3, 60).limits;
    assert.deepEqual(
      [every.windowMs, every.appWrites, every.appAll, every.shape],
      [20_000, 30, 30, { kind: "bucket", burstMs: 1_000 }],
    );
  });

  it("meets the target at the documented limit only within 1.3× of the bound, under 5 % 429s, with no failure or orphan", () => {
    const ok = { wallInMs: 1300, boundInMs: 1000, requests: 100, throttled: 4, failures: 0, orphans: 0 };
    assert.equal(meetsTarget(ok), true);
    assert.equal(meetsTarget({ ...ok, wallInMs: 1301 }), false);
    assert.equal(meetsTarget({ ...ok, throttled: 5 }), false);
    assert.equal(meetsTarget({ ...ok, failures: 1 }), false);
    assert.equal(meetsTarget({ ...ok, orphans: 1 }), false);
  });

  it("meets the target where the limit is unknown within 1.5× of the bound and under 10 % 429s", () => {
    const ok = { wallInMs: 1500, boundInMs: 1000, requests: 100, throttled: 9, failures: 0, orphans: 0 };
    assert.equal(meetsTarget(ok, false), true);
    assert.equal(meetsTarget({ ...ok, wallInMs: 1501 }, false), false);
    assert.equal(meetsTarget({ ...ok, throttled: 10 }, false), false);
  });

  it("compares with the SDK from first request to end, only where the SDK completed", () => {
    const sdk = { graphSpanInMs: 1000, failures: 0, orphans: 0 };
    assert.equal(comparedWithSdk({ graphSpanInMs: 1000 }, sdk), "yes");
    assert.equal(comparedWithSdk({ graphSpanInMs: 1001 }, sdk), "no");
    assert.equal(comparedWithSdk({ graphSpanInMs: 5000 }, { ...sdk, failures: 1 }), "SDK failed");
    assert.equal(comparedWithSdk({ graphSpanInMs: 5000 }, { ...sdk, orphans: 1 }), "SDK failed");
  });

  it("counts the most writes Graph accepted in any window, leaving out reads and 429s", () => {
    const answer = (atMs: number, write = true, throttled = false) => ({ atMs, write, throttled });
    const timeline = [
      answer(0),
      answer(5),
      answer(6, false),
      answer(7, true, true),
      answer(19_999),
      answer(20_005),
    ];
    assert.equal(mostWritesInWindow(timeline, 20_000), 3, "0, 5 and 19 999 ms: 20 005 is past 0's window");
    assert.equal(mostWritesInWindow([], 20_000), 0);
  });

  it("keeps what a partial run did not measure, sections and subsections, dated and in the earlier order", () => {
    const earlier = [
      "# Benchmarks\n\nMeasured 2026-12-01.\n",
      "## Requests\n\nold requests\n",
      "## Scale\n\nabout scale\n",
      "### (a) one\n\nold a\n",
      "### (b) two\n\nold b\n",
      "### (d) four\n\n(From the run of 2026-11-30: not measured in this one.)\nolder d\n",
      "## Engine\n\nold engine\n",
    ].join("\n");
    const report = [
      "# Benchmarks\n\nMeasured 2026-12-03.\n",
      "## Scale\n\nabout scale, now\n",
      "### (b) two\n\nnew b\n",
      "### (e) five\n\nnew e\n",
    ].join("\n");
    const mark = "(From the run of 2026-12-01: not measured in this one.)";
    assert.equal(
      withEarlierSections(report, earlier),
      [
        "# Benchmarks\n\nMeasured 2026-12-03.",
        `## Requests\n\n${mark}\n\nold requests`,
        "## Scale\n\nabout scale, now",
        `### (a) one\n\n${mark}\n\nold a`,
        "### (b) two\n\nnew b",
        "### (d) four\n\n(From the run of 2026-11-30: not measured in this one.)\nolder d",
        "### (e) five\n\nnew e",
        `## Engine\n\n${mark}\n\nold engine\n`,
      ].join("\n\n"),
    );
    assert.equal(withEarlierSections(report, ""), `${report.trimEnd()}\n`, "no earlier report");
  });

  it("reports the run of median time from first request, whole", () => {
    const runs = [700, 500, 900, 600, 800].map((graphSpanInMs, run) => ({ graphSpanInMs, run }));
    assert.deepEqual(medianRun(runs), { graphSpanInMs: 700, run: 0 });
    assert.deepEqual(medianRun(runs.slice(1, 3)), { graphSpanInMs: 500, run: 1 });
  });

  it("counts a tenant's partners that the caller never learned of as orphans", async () => {
    const tenantId = emu().newTenant();
    emu().tenant(tenantId).seed({ displayName: "stray" });
    const r = await runOurs(emu(), [tenantId], { partners: 2, tenants: 1 });
    assert.equal(r.orphans, 1);
  });

  describe("throttled scale", () => {
    let throttled: Emulator;
    const limits = { windowMs: 500, appWrites: 10, appAll: 100, tenantWrites: 20, tenantAll: 200 };
    beforeEach(async () => {
      throttled = await startEmulator({ onboardingDelayMs: null, throttle: limits, graphHttps: true });
      throttled.trustInProcess();
    });
    afterEach(() => throttled.close());

    it("paces creates across tenants with no failure and under 5 % of requests answered 429", async () => {
      const tenants = [throttled.newTenant(), throttled.newTenant()];
      const documented = { windowMs: 500, writes: 10, requests: 100 };
      const r = await runOurs(throttled, tenants, { partners: 30, tenants: 2 }, { documented });
      assert.equal(r.failures, 0);
      assert.equal(r.orphans, 0);
      assert.ok(r.throttled < 0.05 * r.requests, `${r.throttled} of ${r.requests} answered 429`);
      assert.equal(r.tokenRequests, 2);
      assert.equal(throttled.requests.filter((q) => q.method === "POST" && q.status === 201).length, 30);
    });

    it("runs the Graph JS SDK baseline against the same emulator", async () => {
      const r = await runGraphSdk(throttled, [throttled.newTenant()], { partners: 10, tenants: 1 });
      assert.ok(r.requests >= 10, `${r.requests} requests`);
      assert.equal(
        r.failures +
          throttled.requests.filter((q) => q.path.endsWith("/beginOnboarding") && q.status === 204).length,
        10,
      );
    });
  });
});
