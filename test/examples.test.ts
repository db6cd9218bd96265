import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { REMOTE_ASSISTANCE_PARTNER_TYPE } from "../provider";
import { REPO_ROOT } from "../testing/engine";
import { runProgram } from "./support/program";

describe("examples", () => {
  it("basic creates one connected partner with the real serialized provider and exports its state", async () => {
    const { registered, exports } = await runProgram(
      join(REPO_ROOT, "examples/basic/index.ts"),
      "intune-remote-assistance",
      {},
    );
    assert.equal(registered.length, 1);
    const [r] = registered;
    assert.equal(r.type, REMOTE_ASSISTANCE_PARTNER_TYPE);
    assert.equal(r.inputs.displayName, "TeamViewer (managed by Pulumi)");
    assert.equal(r.inputs.connected, true);
    assert.match(String(r.inputs.__provider), /require\("pulumi-intune-remote-assistance\/host"\)/);
    assert.deepEqual(exports, {
      partnerId: "partner-1",
      onboardingStatus: "onboarding",
      onboardingUrl: "https://login.teamviewer.com/nav/intune",
    });
  });

  it("basic declares connected: false from stack config", async () => {
    const { registered } = await runProgram(
      join(REPO_ROOT, "examples/basic/index.ts"),
      "intune-remote-assistance",
      {
        "intune-remote-assistance:connected": "false",
      },
    );
    assert.equal(registered[0].inputs.connected, false);
  });

  it("adopt-teamviewer adopts the tenant's TeamViewer connector by name, protected", async () => {
    const { registered } = await runProgram(
      join(REPO_ROOT, "examples/adopt-teamviewer/index.ts"),
      "intune-remote-assistance",
      {},
    );
    const [r] = registered;
    assert.equal(r.inputs.adopt, true);
    assert.equal(r.inputs.displayName, "TeamViewer Connector");
    assert.equal(r.inputs.partnerId, undefined);
    assert.equal(r.inputs.deleteOnDestroy, undefined, "the provider's default (false when adopting) applies");
  });

  it("adopt-teamviewer adopts by id when configured, leaving the name as Intune has it", async () => {
    const { registered } = await runProgram(
      join(REPO_ROOT, "examples/adopt-teamviewer/index.ts"),
      "intune-remote-assistance",
      { "intune-remote-assistance:partnerId": "tv-1" },
    );
    assert.equal(registered[0].inputs.partnerId, "tv-1");
    assert.equal(registered[0].inputs.adopt, undefined);
    assert.equal(registered[0].inputs.displayName, undefined);
  });
});

describe("npm start", function () {
  this.timeout(180_000);

  it("says how to install the Pulumi CLI and exits non-zero when it is missing", () => {
    const result = spawnSync(process.execPath, [join(REPO_ROOT, "bin/scripts/start.js")], {
      env: { ...process.env, PATH: dirname(process.execPath) },
      encoding: "utf8",
    });
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      /The Pulumi CLI is not on PATH\. Install it, then run npm start again:\n {2}curl -fsSL https:\/\/get\.pulumi\.com \| sh/,
    );
  });

  it("runs the example against the emulator: up, output, destroy with one disconnect (needs the Pulumi CLI)", function () {
    if (spawnSync("pulumi", ["version"]).status !== 0) {
      // Opt-in: the CLI cannot be installed on machines without internet; every other test covers the host.
      this.skip();
    }
    const result = spawnSync(process.execPath, [join(REPO_ROOT, "bin/scripts/start.js")], {
      encoding: "utf8",
    });
    assert.equal(result.status, 0, result.stderr);
    assert.match(
      result.stdout,
      /Graph calls made by the destroy: POST \/remoteAssistancePartners\/[^/]+\/disconnect\n/,
    );
  });
});
