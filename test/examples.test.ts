import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { REMOTE_ASSISTANCE_PARTNER_TYPE, REMOTE_ASSISTANCE_SETTINGS_TYPE } from "../provider";
import { REPO_ROOT } from "./support/repo";
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

describe("the remote-help example", () => {
  it("declares Remote Help on, chat blocked and no unenrolled devices, chat from stack config", async () => {
    const { registered } = await runProgram(
      join(REPO_ROOT, "examples/remote-help/index.ts"),
      "intune-remote-help",
      { "intune-remote-help:blockChat": "false" },
    );
    assert.deepEqual(
      registered.map((r) => [
        r.type,
        r.inputs.remoteAssistanceState,
        r.inputs.blockChat,
        r.inputs.allowSessionsToUnenrolledDevices,
      ]),
      [[REMOTE_ASSISTANCE_SETTINGS_TYPE, "enabled", false, false]],
    );
  });
});

describe("npm start", function () {
  this.timeout(180_000);

  it("installs the Pulumi CLI when it is missing, or says which download failed and how to install it by hand", async () => {
    const child = spawn(process.execPath, [join(REPO_ROOT, "bin/scripts/start.js")], {
      env: { ...process.env, PATH: dirname(process.execPath) },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const status = await new Promise<number | null>((ok) => child.on("close", ok));
    assert.match(
      stdout,
      /The Pulumi CLI is not on PATH: installing it into .*\.pulumi-cli \(from https:\/\/get\.pulumi\.com\)/,
    );
    if (status === 0) {
      // A machine with internet: the CLI was installed, and the example ran end to end.
      assert.match(
        stdout,
        /Graph calls made by the destroy: POST \/remoteAssistancePartners\/[^/]+\/disconnect\n/,
      );
    } else {
      assert.equal(status, 1);
      assert.match(
        stderr,
        /The Pulumi CLI is not on PATH, and installing it failed: Failed to download https:\/\/get\.pulumi\.com\/install\.sh: .*\n {2}curl -fsSL https:\/\/get\.pulumi\.com \| sh/,
      );
    }
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
