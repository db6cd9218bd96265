import { strict as assert } from "node:assert";
import { intuneAppLimits, Pacer, pacingDelayInMs } from "../provider/graph/pacer";

const limits = { windowMs: 1_000, writes: 3, requests: 5 };
const MARGIN = 250; // max(250 ms, 2 % of the window)

describe("pacingDelayInMs", () => {
  const table: [string, { writes: number[]; all: number[] }, boolean, number][] = [
    ["sends at once under both limits", { writes: [0, 10], all: [0, 10] }, true, 0],
    [
      "holds a write while the window holds the write limit",
      { writes: [0, 10, 20], all: [0, 10, 20] },
      true,
      MARGIN + 1_000 - 500,
    ],
    ["lets a read through past the write limit", { writes: [0, 10, 20], all: [0, 10, 20] }, false, 0],
    [
      "holds a read while the window holds the request limit",
      { writes: [], all: [100, 200, 300, 400, 450] },
      false,
      100 + 1_000 + MARGIN - 500,
    ],
    [
      "forgets sends older than the window and its margin",
      { writes: [-800, -790, -780], all: [-800, -790, -780] },
      true,
      0,
    ],
  ];
  for (const [name, sent, write, expected] of table) {
    it(name, () => assert.equal(pacingDelayInMs(sent, write, 500, limits), expected));
  }

  it("uses Intune's documented per-app limits by default", () => {
    assert.deepEqual(intuneAppLimits, { windowMs: 20_000, writes: 100, requests: 1000 });
  });
});

describe("Pacer", () => {
  it("spreads a burst of writes over the window, first come first served, and lets reads pass", async () => {
    const pacer = new Pacer({ windowMs: 200, writes: 2, requests: 100 });
    const order: string[] = [];
    const started = Date.now();
    await Promise.all([
      ...[1, 2, 3, 4].map((n) => pacer.acquire(true).then(() => order.push(`w${n}`))),
      pacer.acquire(false).then(() => order.push("r")),
    ]);
    assert.deepEqual(
      order.filter((o) => o.startsWith("w")),
      ["w1", "w2", "w3", "w4"],
    );
    assert.ok(order.indexOf("r") < order.indexOf("w3"), "the read did not queue behind held writes");
    assert.ok(Date.now() - started >= 400, "the third write waited for the window and its margin");
    assert.equal(
      pacer.stats.waited,
      1,
      "the third waited; the fourth went with it, as the window had room for two",
    );
  });
});
