/**
 * The emulator's limit shapes: how Graph counts Intune's limits is unconfirmed, so each way is one a test or a
 * benchmark can choose. One app's writes to one tenant, three per 1 s window (or a bucket at that rate).
 */
import { strict as assert } from "node:assert";
import fetch from "node-fetch";
import { defaultTenantId } from "../emulator";
import { limitShape, limitsAt, Throttle, type LimitShape } from "../emulator/throttle";
import { tokensFor, useEmulator } from "./support/emulator";

/** Limits of 3 writes per app per 1 s window (tenant limits out of the way). */
function throttle(shape: LimitShape, countRejected = false): Throttle {
  return new Throttle({
    windowMs: 1_000,
    appWrites: 3,
    tenantWrites: 1_000,
    appAll: 1_000,
    tenantAll: 1_000,
    shape,
    countRejected,
  });
}

/** The waits `admit` answers for writes at these times (0: admitted). */
const waits = (t: Throttle, times: number[]) => times.map((at) => t.admit("t", "app", true, at));

describe("the emulator's limit shapes", () => {
  const table: [string, LimitShape, boolean, number[], number[]][] = [
    [
      "sliding: no window of 1 s holds more than 3; the wait is until the oldest leaves",
      limitShape("sliding"),
      false,
      [0, 100, 200, 300, 1_000, 1_050, 1_100],
      [0, 0, 0, 700, 0, 50, 0],
    ],
    [
      "fixed from the first request: 3 per window starting at 500, the wait is to the window's end",
      limitShape("fixed-first"),
      false,
      [500, 600, 700, 800, 1_499, 1_500, 1_501, 1_502, 1_503],
      [0, 0, 0, 700, 1, 0, 0, 0, 997],
    ],
    [
      "fixed aligned to the clock: windows start at whole seconds, so a burst across one gets twice the limit",
      limitShape("fixed-clock"),
      false,
      [900, 950, 990, 995, 1_000, 1_001, 1_002, 1_003],
      [0, 0, 0, 5, 0, 0, 0, 997],
    ],
    [
      "rejected requests count too: a client that keeps asking keeps the window full",
      limitShape("fixed-first"),
      true,
      [0, 10, 20, 30, 1_000, 1_001, 1_002, 1_003],
      [0, 0, 0, 970, 0, 0, 0, 997],
    ],
    [
      "token bucket: 3 per second, holding a second's worth; one token every 333 ms after the burst",
      limitShape("bucket", 1_000),
      false,
      [0, 1, 2, 3, 334, 335, 700],
      [0, 0, 0, 331, 0, 332, 0],
    ],
    [
      "token bucket with a small burst: a second request right away waits for its token",
      limitShape("bucket", 334),
      false,
      [0, 1, 340, 345],
      [0, 332, 0, 328],
    ],
  ];
  for (const [name, shape, countRejected, times, expected] of table)
    it(name, () => assert.deepEqual(waits(throttle(shape, countRejected), times), expected));

  it("changes every limit in its phases, from the first request: halved a second in, restored two in", () => {
    const t = new Throttle({
      ...limitsAt(1, 1_000),
      appWrites: 4,
      phases: [
        { fromMs: 1_000, share: 0.5 },
        { fromMs: 2_000, share: 1 },
      ],
    });
    assert.deepEqual(waits(t, [0, 10, 20, 30, 40]), [0, 0, 0, 0, 960]);
    assert.deepEqual(waits(t, [1_100, 1_110, 1_120]), [0, 0, 980], "two per window while halved");
    assert.deepEqual(waits(t, [2_200, 2_210, 2_220, 2_230]), [0, 0, 0, 0]);
  });

  it("counts reads against the write limit too when every request counts", () => {
    const every = limitsAt(0.5, 2_000, limitShape("sliding"), false, true);
    assert.deepEqual([every.appAll, every.appWrites, every.tenantAll, every.tenantWrites], [5, 5, 10, 10]);
  });

  it("holds every request to one limit when every request counts: writes have no windows of their own", () => {
    // 3 per 2 s window from the first request (a read at 0), 429s counting: [0, 2 s) then [2 s, 4 s). Writes
    // counted apart, in windows from the first write, would refuse those at 2 s and after: [1.5 s, 3.5 s) would
    // hold 3 already, the one refused at 1.7 s among them.
    const t = new Throttle(limitsAt(0.3, 2_000, limitShape("fixed-first"), true, true));
    assert.equal(t.admit("t", "app", false, 0), 0);
    const writes = [1_500, 1_600, 1_700, 2_000, 2_100, 2_200, 2_300].map((at) =>
      t.admit("t", "app", true, at),
    );
    assert.deepEqual(writes, [0, 0, 300, 0, 0, 0, 1_700]);
  });

  it("scales the documented limits to a share of their rate in windows of any length", () => {
    assert.deepEqual(limitsAt(0.5, 2_000), {
      windowMs: 2_000,
      tenantWrites: 10,
      appWrites: 5,
      tenantAll: 100,
      appAll: 50,
      shape: { kind: "sliding" },
      countRejected: false,
    });
    assert.equal(limitsAt(0.01, 1_000).appWrites, 1, "never below one request");
  });
});

describe("Graph's own time on what it admits (the emulator's processingMs)", function () {
  this.timeout(30_000);
  const emu = useEmulator({
    processingMs: [300, 300],
    throttle: { windowMs: 20_000, appWrites: 1, tenantWrites: 10, appAll: 100, tenantAll: 200 },
  });

  it("answers a request it admitted once its work is done, and a 429 at once", async () => {
    const partner = emu().tenant(defaultTenantId).seed({ displayName: "Worked on" });
    const token = await tokensFor(emu()).getToken();
    const rename = async (displayName: string) => {
      const startedAtMs = Date.now();
      const res = await fetch(
        `${emu().graphEndpoint}/beta/deviceManagement/remoteAssistancePartners/${partner.id}`,
        {
          method: "PATCH",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ displayName }),
        },
      );
      return { status: res.status, inMs: Date.now() - startedAtMs };
    };
    const admitted = await rename("Worked on once");
    const refused = await rename("Worked on twice");
    assert.equal(admitted.status, 200);
    assert.ok(admitted.inMs >= 300, `admitted, answered in ${admitted.inMs} ms`);
    assert.equal(refused.status, 429);
    assert.ok(refused.inMs < 150, `refused, answered in ${refused.inMs} ms`);
  });
});
