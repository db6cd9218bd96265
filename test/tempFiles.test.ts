import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { REPO_ROOT } from "./support/repo";

describe("what the tests and the runner leave in the temp folder", function () {
  this.timeout(60_000);

  /** Runs `code` in a Node.js process of its own (TypeScript through ts-node); its stdout's last line. */
  const lastLineOf = (code: string): string => {
    const result = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", code], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      env: { ...process.env, NODE_NO_WARNINGS: "1" },
    });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.trim().split("\n").pop()!;
  };

  it("removes another checkout a test made when the test process exits", () => {
    const dir = lastLineOf(`console.log(require("./test/support/checkout").otherCheckout())`);
    assert.match(dir, /intune-checkout-/);
    assert.ok(!existsSync(dir), `${dir} is left behind`);
  });

  it("removes the policy pack launcher it wrote when the command exits", () => {
    const launcher = lastLineOf(`console.log(require("./provider/runPulumi").policyPackLauncher("policy"))`);
    assert.match(launcher, /intune-policy-pack-.*run-pack$/);
    assert.ok(!existsSync(launcher), `${launcher} is left behind`);
  });
});
