/**
 * Each example is a program of its own: copied out of this checkout, installed with `npm install <tarball>` as
 * its README says, registered by its own SDK and driven through the dynamic-provider host in its folder against
 * the emulator's realistic profile (every tenant holds Intune's own "TeamViewer Connector", not onboarded).
 * None creates a partner a real tenant already holds.
 */
import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { REMOTE_ASSISTANCE_PARTNER_TYPE, REMOTE_ASSISTANCE_SETTINGS_TYPE } from "../provider";
import { ProviderHost, Stack } from "../testing/engine";
import { useEmulator } from "./support/emulator";
import { hasNodeLanguagePlugin } from "../provider/runPulumi";
import { otherCheckout } from "./support/checkout";
import { realCli } from "./support/realEngine";
import { copiedExample, registerProgram, type Registered } from "./support/installed";
import { REPO_ROOT } from "./support/repo";

const P = "/remoteAssistancePartners";

describe("the examples, each copied out and installed as a program of its own", function () {
  this.timeout(240_000);
  const emu = useEmulator({ profile: "realistic" });
  const dirs: Record<string, string> = {};
  before(async () => {
    // One npm install per example, side by side.
    const names = ["adopt-teamviewer", "basic", "multi-tenant", "remote-help", "automation"];
    const copies = await Promise.all(names.map(copiedExample));
    names.forEach((name, i) => (dirs[name] = copies[i]));
  });

  /**
   * Runs `registered` through a host in `dir` (default tenant `tenantId`): up, then destroy; the Graph calls of
   * each in `tenantId`, or in another tenant with `of`.
   */
  async function upAndDestroy(dir: string, registered: Registered[], tenantId: string) {
    const host = await ProviderHost.start({ cwd: dir, env: emu().env({ tenantId }) });
    try {
      const stacks = [...new Set(registered.map((r) => r.type))].map((type) => ({
        stack: new Stack(host, type),
        declared: Object.fromEntries(
          registered.filter((r) => r.type === type).map((r) => [r.name, r.inputs]),
        ),
      }));
      emu().clearLog();
      for (const { stack, declared } of stacks) await stack.up(declared);
      const up = [...emu().requests];
      emu().clearLog();
      for (const { stack } of stacks) await stack.destroy();
      const destroy = [...emu().requests];
      const callsIn = (requests: typeof up, t: string) =>
        requests
          .filter((r) => r.tenantId === t)
          .map((r) => `${r.method} ${r.path.replace(/^\/deviceManagement/, "")}`);
      return {
        up: callsIn(up, tenantId),
        destroy: callsIn(destroy, tenantId),
        of: (t: string) => ({ up: callsIn(up, t), destroy: callsIn(destroy, t) }),
      };
    } finally {
      await host.stop();
    }
  }

  it("every example has a package.json that names this package and the SDK", () => {
    for (const dir of Object.values(dirs)) {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      assert.ok(manifest.dependencies["pulumi-intune-remote-assistance"], dir);
      assert.ok(manifest.dependencies["@pulumi/pulumi"], dir);
    }
  });

  it("adopt-teamviewer adopts Intune's own row by name with one list, connects it, and destroy only disconnects", async () => {
    const tenantId = emu().newTenant();
    const row = emu().intuneRow(tenantId)!;
    const registered = await registerProgram(dirs["adopt-teamviewer"], "index.ts", "intune-adopt-teamviewer");
    assert.deepEqual(
      registered.map((r) => [r.type, r.inputs.adopt, r.inputs.displayName, r.inputs.partnerId]),
      [[REMOTE_ASSISTANCE_PARTNER_TYPE, true, "TeamViewer Connector", undefined]],
    );
    const calls = await upAndDestroy(dirs["adopt-teamviewer"], registered, tenantId);
    assert.deepEqual(calls.up, [`GET ${P}`, `POST ${P}/${row.id}/beginOnboarding`]);
    assert.deepEqual(calls.destroy, [`POST ${P}/${row.id}/disconnect`]);
    assert.equal(emu().tenant(tenantId).all().length, 1, "nothing created, nothing deleted");
  });

  it("adopt-teamviewer adopts by id from stack config, leaving the name as Intune has it", async () => {
    const tenantId = emu().newTenant();
    const row = emu().intuneRow(tenantId)!;
    const registered = await registerProgram(
      dirs["adopt-teamviewer"],
      "index.ts",
      "intune-adopt-teamviewer",
      {
        "intune-adopt-teamviewer:partnerId": row.id,
        "intune-adopt-teamviewer:connected": "false",
      },
    );
    assert.deepEqual(
      registered.map((r) => [r.inputs.partnerId, r.inputs.adopt, r.inputs.displayName, r.inputs.connected]),
      [[row.id, undefined, undefined, false]],
    );
    const calls = await upAndDestroy(dirs["adopt-teamviewer"], registered, tenantId);
    assert.deepEqual(calls.up, [`GET ${P}/${row.id}`]);
    assert.deepEqual(calls.destroy, [`POST ${P}/${row.id}/disconnect`]);
  });

  it("basic creates a partner of its own name beside Intune's row, and destroy deletes only that one", async () => {
    const tenantId = emu().newTenant();
    const row = emu().intuneRow(tenantId)!;
    const registered = await registerProgram(dirs.basic, "index.ts", "intune-basic");
    assert.equal(registered[0].inputs.displayName, "TeamViewer (managed by Pulumi)");
    const calls = await upAndDestroy(dirs.basic, registered, tenantId);
    const created = calls.destroy[0].split("/")[2];
    assert.notEqual(created, row.id);
    assert.deepEqual(calls.up, [
      `GET ${P}`,
      `POST ${P}`,
      `GET ${P}/${created}`,
      `POST ${P}/${created}/beginOnboarding`,
      `GET ${P}/${created}`,
    ]);
    assert.deepEqual(calls.destroy, [`POST ${P}/${created}/disconnect`, `DELETE ${P}/${created}`]);
    assert.deepEqual(
      emu()
        .tenant(tenantId)
        .all()
        .map((p) => p.id),
      [row.id],
    );
  });

  it("multi-tenant adopts each tenant's connector, by name or by id, and creates none", async () => {
    const tenants = [emu().newTenant(), emu().newTenant(), emu().newTenant()];
    const rows = tenants.map((t) => emu().intuneRow(t)!);
    const registered = await registerProgram(dirs["multi-tenant"], "index.ts", "intune-multi-tenant", {
      "intune-multi-tenant:tenants": JSON.stringify([
        { tenantId: tenants[0] },
        { tenantId: tenants[1], partnerId: rows[1].id, connected: false },
        { tenantId: tenants[2], connected: true },
      ]),
    });
    assert.equal(registered.length, 3);
    const calls = await upAndDestroy(dirs["multi-tenant"], registered, tenants[0]);
    assert.deepEqual(calls.of(tenants[0]), {
      up: [`GET ${P}`, `POST ${P}/${rows[0].id}/beginOnboarding`],
      destroy: [`POST ${P}/${rows[0].id}/disconnect`],
    });
    assert.deepEqual(calls.of(tenants[1]), {
      up: [`GET ${P}/${rows[1].id}`],
      destroy: [`POST ${P}/${rows[1].id}/disconnect`],
    });
    assert.deepEqual(calls.of(tenants[2]).up, [`GET ${P}`, `POST ${P}/${rows[2].id}/beginOnboarding`]);
    for (const t of tenants) assert.equal(emu().tenant(t).all().length, 1, `tenant ${t}: only Intune's row`);
  });

  it("remote-help PATCHes only the declared fields that differ, and destroy puts them back", async () => {
    const tenantId = emu().newTenant();
    const registered = await registerProgram(dirs["remote-help"], "index.ts", "intune-remote-help");
    assert.deepEqual(
      registered.map((r) => [r.type, r.inputs.remoteAssistanceState, r.inputs.blockChat]),
      [[REMOTE_ASSISTANCE_SETTINGS_TYPE, "enabled", true]],
    );
    const calls = await upAndDestroy(dirs["remote-help"], registered, tenantId);
    assert.deepEqual(calls.up, ["GET /remoteAssistanceSettings", "PATCH /remoteAssistanceSettings"]);
    assert.deepEqual(calls.destroy, ["PATCH /remoteAssistanceSettings"]);
    assert.deepEqual(emu().tenant(tenantId).remoteHelp, {
      remoteAssistanceState: "disabled",
      allowSessionsToUnenrolledDevices: false,
      blockChat: false,
    });
  });

  it("automation's tenant program adopts each tenant's connector by name", async () => {
    const tenantId = emu().newTenant();
    const row = emu().intuneRow(tenantId)!;
    const dir = dirs.automation;
    writeFileSync(
      join(dir, "one-tenant.ts"),
      `export = require("./fanout").tenantProgram(${JSON.stringify({ tenantId })});\n`,
    );
    const registered = await registerProgram(dir, "one-tenant.ts", "intune-fanout");
    assert.deepEqual(
      registered.map((r) => [r.inputs.adopt, r.inputs.displayName, r.inputs.tenantId]),
      [[true, "TeamViewer Connector", tenantId]],
    );
    const calls = await upAndDestroy(dir, registered, tenantId);
    assert.deepEqual(calls.up, [`GET ${P}`, `POST ${P}/${row.id}/beginOnboarding`]);
  });
});

describe("npm start", function () {
  this.timeout(180_000);

  it("says which ways to get a Pulumi CLI it tried, and how to install one by hand, when none works", async () => {
    // A checkout without .pulumi-cli, no pulumi and no go on PATH, a HOME without ~/.pulumi: only the download
    // is left, which fails offline.
    const checkout = otherCheckout();
    const child = spawn(process.execPath, [join(checkout, "bin/scripts/start.js")], {
      env: { ...process.env, PATH: dirname(process.execPath), HOME: join(checkout, "home") },
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const status = await new Promise<number | null>((ok) => child.on("close", ok));
    if (status === 0) return; // a machine with internet: the CLI was installed, and the example ran
    assert.equal(status, 1);
    assert.match(stderr, /No Pulumi CLI \d+\.\d+\.\d+ or later could be found or made:/);
    assert.match(stderr, /- no pulumi on PATH/);
    assert.match(
      stderr,
      /- installing it with PulumiCommand\.install: [^\n]*\n\s+- building it with Go: no go on PATH/,
      "the official download is tried before a Go build",
    );
    assert.match(stderr, /curl -fsSL https:\/\/get\.pulumi\.com \| sh/);
  });

  it("runs the example against the emulator to its end with the real CLI: up, confirm, refresh, destroy with one disconnect", function () {
    const { cli, why } = realCli();
    if (!cli) {
      if (process.env.INTUNE_REQUIRE_PULUMI_CLI === "1")
        throw new Error(`INTUNE_REQUIRE_PULUMI_CLI=1, but ${why}`);
      console.log(`    (not run: ${why}; npm run pulumi-cli builds one)`);
      this.skip();
    }
    const result = spawnSync(process.execPath, [join(REPO_ROOT, "bin/scripts/start.js")], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` },
    });
    assert.equal(result.status, 0, result.stderr);
    assert.match(
      result.stdout,
      hasNodeLanguagePlugin(cli!.path)
        ? /^A full Pulumi CLI/m
        : /^A Pulumi CLI without the Node\.js language plugin .*run its commands as npx pulumi-intune-remote-assistance pulumi up/m,
      "it says which kind of CLI it found, and how to run a stack of one's own with it",
    );
    assert.match(result.stdout, /\$ pulumi up --yes --refresh/);
    assert.doesNotMatch(result.stdout, /\[diff:/, "the refresh after onboarding shows no diff");
    assert.match(result.stdout, /\$ pulumi stack output onboardingStatus\nonboarded\n/);
    assert.match(
      result.stdout,
      /Graph calls made by the destroy: POST \/remoteAssistancePartners\/[^/]+\/disconnect\n/,
    );
  });
});
