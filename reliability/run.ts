/**
 * `npm run reliability [-- --seed N --steps N --resources N --tenants N --fault-rate R]`: the full fault
 * matrix and a chaos soak through the real dynamic-provider host, printed as Markdown tables.
 */
import { parseArgs } from "node:util";
import { startEmulator } from "../emulator";
import { setReporter } from "../provider/core/progress";
import { matrixTable, runEngineLostCells, runFaultMatrix } from "./faultMatrix";
import { runSoak } from "./soak";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: "string", default: "all" },
      seed: { type: "string", default: String(Date.now() % 100_000) },
      steps: { type: "string", default: "60" },
      resources: { type: "string", default: "24" },
      tenants: { type: "string", default: "4" },
      "fault-rate": { type: "string", default: "0.2" },
      parallel: { type: "string", default: "1" },
      "engine-loss-rate": { type: "string", default: "0.1" },
    },
  });
  let failures = 0;
  if (values.only === "all" || values.only === "matrix") {
    const emulator = await startEmulator({ onboardingDelayMs: null, throttle: false });
    emulator.trustInProcess();
    Object.assign(process.env, emulator.env());
    setReporter(() => undefined);
    const started = Date.now();
    const rows = await runFaultMatrix(emulator, () => emulator.newTenant());
    rows.push(...(await runEngineLostCells(emulator, () => emulator.newTenant())));
    const violations = rows.filter((r) => r.violation).length;
    failures += violations;
    console.log(
      `## Fault matrix\n\n${rows.length} cells, ${rows.filter((r) => r.outcome === "completed").length} completed, ${rows.filter((r) => r.outcome === "clear error").length} clear errors, ${violations} violations, ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
    );
    console.log(matrixTable(rows));
    console.log("\nClear errors:");
    for (const r of rows.filter((x) => x.outcome === "clear error"))
      console.log(`- ${r.op} × ${r.fault}: ${r.detail}`);
    await emulator.close();
    setReporter(undefined);
  }
  if (values.only === "all" || values.only === "soak") {
    const emulator = await startEmulator({ onboardingDelayMs: null, throttle: false });
    const options = {
      seed: Number(values.seed),
      steps: Number(values.steps),
      resources: Number(values.resources),
      tenants: Number(values.tenants),
      faultRate: Number(values["fault-rate"]),
      parallel: Number(values.parallel),
      engineLossRate: Number(values["engine-loss-rate"]),
    };
    const replay = `npm run reliability -- --only soak --seed ${options.seed} --steps ${options.steps} --resources ${options.resources} --tenants ${options.tenants} --parallel ${options.parallel} --engine-loss-rate ${options.engineLossRate}`;
    console.log(`\n## Chaos soak (seed ${options.seed}; replay: ${replay})\n`);
    const report = await runSoak(emulator, () => emulator.newTenant(), options);
    failures += report.violations.length;
    console.log(
      "| seed | steps | resources | tenants | parallel | fault rate | engines lost | operations | failed operations | Graph requests | faults injected | invariant violations | seconds |",
    );
    console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    console.log(
      `| ${report.seed} | ${report.steps} | ${report.resources} | ${report.tenants} | ${report.parallel} | ${report.faultRate} | ${report.engineLosses} | ${report.operations} | ${report.failedOperations} | ${report.graphRequests} | ${report.faultsInjected} | ${report.violations.length} | ${report.seconds} |`,
    );
    for (const v of report.violations) console.log(`- ${v}`);
    await emulator.close();
  }
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
