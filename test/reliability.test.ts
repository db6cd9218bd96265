import { strict as assert } from "node:assert";
import {
  matrixFaults,
  matrixOps,
  matrixTable,
  remoteHelpOps,
  runEngineLostCells,
  runFaultMatrix,
} from "../reliability/faultMatrix";
import { runSoak } from "../reliability/soak";
import { setReporter } from "../provider/core/progress";
import { useEmulator } from "./support/emulator";
import { useEnv } from "./support/env";

describe("fault matrix: every operation × every fault", function () {
  this.timeout(180_000);
  const emu = useEmulator({ onboardingDelayMs: null, throttle: false });
  useEnv(() => emu().env());
  before(() => setReporter(() => undefined));
  after(() => setReporter(undefined));

  // The full matrix (126 cells, about a minute) runs in `npm run reliability`; here every fault meets create
  // and disconnect, and every operation meets a seeded third of the faults.
  it("completes every operation after a transient fault, and fails clearly with nothing half-done after a permanent one", async () => {
    const [create, , , , , disconnect] = matrixOps;
    assert.deepEqual([create.name, disconnect.name], ["create", "disconnect"]);
    const rows = await runFaultMatrix(emu(), () => emu().newTenant(), [create, disconnect]);
    const sample = matrixFaults.filter((_, i) => i % 3 === 1);
    const others = [...matrixOps, ...remoteHelpOps].filter((o) => o !== create && o !== disconnect);
    rows.push(...(await runFaultMatrix(emu(), () => emu().newTenant(), others, sample)));
    assert.deepEqual(
      rows.filter((r) => r.violation),
      [],
      matrixTable(rows),
    );
    assert.equal(rows.length, 2 * matrixFaults.length + others.length * sample.length);
  });

  // All operations in `npm run reliability`; here the ones whose key request is a write.
  it("stops a host whose engine is lost while Graph holds a write, sends nothing more, and the next up completes", async () => {
    const writes = [...matrixOps, ...remoteHelpOps].filter((o) =>
      ["create", "disconnect", "delete", "settings PATCH"].includes(o.name),
    );
    const rows = await runEngineLostCells(emu(), () => emu().newTenant(), writes);
    assert.deepEqual(
      rows.filter((r) => r.violation),
      [],
      matrixTable(rows),
    );
    assert.deepEqual(
      rows.map((r) => [r.op, r.outcome]),
      [
        ["create", "clear error"],
        ["disconnect", "completed"],
        ["delete", "completed"],
        ["settings PATCH", "completed"],
      ],
    );
  });
});

describe("chaos soak through the dynamic-provider host", function () {
  this.timeout(300_000);
  const emu = useEmulator({ onboardingDelayMs: null, throttle: false });

  it("keeps every invariant over a seeded sequence of up, refresh and destroy at a 20 % fault rate (replays exactly)", async () => {
    const report = await runSoak(emu(), () => emu().newTenant(), {
      seed: 11,
      steps: 12,
      resources: 6,
      tenants: 2,
      faultRate: 0.2,
      parallel: 1,
    });
    assert.deepEqual(report.violations, [], `seed ${report.seed}`);
    assert.ok(report.faultsInjected > 10, `only ${report.faultsInjected} faults injected`);
    assert.ok(report.operations > 40, `only ${report.operations} operations`);
  });

  it("keeps every invariant with operations in parallel, as pulumi up --parallel runs them", async () => {
    const report = await runSoak(emu(), () => emu().newTenant(), {
      seed: 12,
      steps: 8,
      resources: 8,
      tenants: 2,
      faultRate: 0.2,
      parallel: 8,
    });
    assert.deepEqual(report.violations, [], `seed ${report.seed}`);
  });

  it("keeps every invariant when the engine is lost mid-step, each host exiting and the next step recovering as the README says", async () => {
    const report = await runSoak(emu(), () => emu().newTenant(), {
      seed: 13,
      steps: 8,
      resources: 6,
      tenants: 2,
      faultRate: 0.1,
      parallel: 3,
      engineLossRate: 0.5,
    });
    assert.deepEqual(report.violations, [], `seed ${report.seed}`);
    assert.ok(report.engineLosses >= 3, `only ${report.engineLosses} engines lost`);
  });
});
