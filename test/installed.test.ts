/**
 * The package as users install it: packed, installed from the tarball into a fresh program with its own
 * `@pulumi/pulumi` (the version package-lock.json holds, and the lowest the peer range allows), its resources
 * registered there by that SDK, and driven through the real dynamic-provider host started in the program's
 * folder, as `pulumi up` starts it. Nothing here loads the package from this checkout.
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { ProviderHost, Stack, programInputs, type Props } from "../testing/engine";
import { useEmulator } from "./support/emulator";
import { freshDir, installedProgram, LOCKED_SDK, LOWEST_SDK, run } from "./support/installed";
import { REPO_ROOT } from "./support/repo";

const P = "/remoteAssistancePartners";

/** A resource of a program: which class, its name and its arguments. */
interface Declared {
  kind: "partner" | "settings";
  name: string;
  args: Record<string, unknown>;
}

/**
 * Registers `declared` in the program folder `dir`, with the testing kit and SDK installed there (a process of
 * its own, as a program runs): what `pulumi up` would send for each, `__provider` included.
 */
async function registerIn(
  dir: string,
  declared: Declared[],
): Promise<Record<string, { type: string; inputs: Props }>> {
  writeFileSync(
    join(dir, "register.js"),
    `const kit = require("pulumi-intune-remote-assistance/testing");
(async () => {
  const out = {};
  for (const r of JSON.parse(process.argv[2]))
    out[r.name] = await (r.kind === "settings" ? kit.settingsInputs : kit.programInputs)(r.name, r.args);
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { process.stderr.write(e.message); process.exit(1); });
`,
  );
  const result = await run(process.execPath, ["register.js", JSON.stringify(declared)], dir);
  assert.equal(result.status, 0, result.output);
  return JSON.parse(result.stdout);
}

for (const sdk of [LOCKED_SDK, LOWEST_SDK])
  describe(`the package installed from its tarball, with @pulumi/pulumi ${sdk}`, function () {
    this.timeout(180_000);
    const emu = useEmulator({ profile: "realistic" });
    let dir: string;
    let host: ProviderHost;
    before(async () => {
      dir = await installedProgram(sdk);
      host = await ProviderHost.start({ cwd: dir, env: emu().env() });
    });
    after(async () => host?.stop());

    it("registers both resources there, each with a serialized provider that names only the package", async () => {
      const registered = await registerIn(dir, [
        { kind: "partner", name: "tv", args: { adopt: true, displayName: "TeamViewer Connector" } },
        { kind: "settings", name: "rh", args: { blockChat: true } },
      ]);
      assert.equal(registered.tv.type, "pulumi-nodejs:dynamic/intune:RemoteAssistancePartner");
      assert.equal(registered.rh.type, "pulumi-nodejs:dynamic/intune:RemoteAssistanceSettings");
      for (const { inputs } of Object.values(registered)) {
        const text = String(inputs.__provider);
        assert.match(text, /require\("pulumi-intune-remote-assistance\/host"\)/);
        assert.doesNotMatch(
          text,
          /bin\/provider|node_modules|\/tmp\/|intune-program/,
          "no path of this machine",
        );
      }
      if (sdk === LOCKED_SDK) {
        // The same text whether the package is installed or this checkout: nothing depends on the layout.
        const here = await programInputs("tv", { adopt: true, displayName: "TeamViewer Connector" });
        assert.equal(registered.tv.inputs.__provider, here.inputs.__provider);
      }
    });

    it("runs create, refresh, update and destroy of both resources through the host in the program's folder", async () => {
      const tenantId = emu().newTenant();
      const row = emu().intuneRow(tenantId)!;
      const declare = (connected: boolean, blockChat: boolean) =>
        registerIn(dir, [
          {
            kind: "partner",
            name: "tv",
            args: { adopt: true, displayName: "TeamViewer Connector", connected, tenantId },
          },
          { kind: "settings", name: "rh", args: { blockChat, tenantId } },
        ]);
      const partners = new Stack(host);
      const settings = new Stack(host, "pulumi-nodejs:dynamic/intune:RemoteAssistanceSettings");
      const up = async (connected: boolean, blockChat: boolean) => {
        const r = await declare(connected, blockChat);
        await partners.up({ tv: r.tv.inputs });
        await settings.up({ rh: r.rh.inputs });
      };
      const calls = () => emu().calls({ tenantId });

      await up(true, true);
      assert.deepEqual(calls(), [
        `GET ${P}`,
        `POST ${P}/${row.id}/beginOnboarding`,
        "GET /remoteAssistanceSettings",
        "PATCH /remoteAssistanceSettings",
      ]);
      emu().clearLog();
      // pulumi refresh --yes: its preview's pass, then its own; one GET each.
      assert.deepEqual([...(await partners.refresh()), ...(await settings.refresh())], []);
      assert.deepEqual(calls(), [
        `GET ${P}/${row.id}`,
        `GET ${P}/${row.id}`,
        "GET /remoteAssistanceSettings",
        "GET /remoteAssistanceSettings",
      ]);
      emu().clearLog();
      await up(false, false);
      assert.deepEqual(calls(), [`POST ${P}/${row.id}/disconnect`, "PATCH /remoteAssistanceSettings"]);
      emu().clearLog();
      await partners.destroy();
      await settings.destroy();
      // Adopted: only disconnected. The settings' managed field is put back to what the tenant had.
      assert.deepEqual(calls(), [`POST ${P}/${row.id}/disconnect`, "PATCH /remoteAssistanceSettings"]);
      assert.equal(emu().tenant(tenantId).find(row.id)?.status, "notOnboarded", "Intune's row stays");
      assert.equal(emu().tenant(tenantId).remoteHelp.blockChat, false, "the tenant had blockChat false");
    });

    it("keeps the recorded partner and tenant when the program points partnerId elsewhere or the default tenant differs", async () => {
      const tenantId = emu().newTenant();
      const row = emu().intuneRow(tenantId)!;
      const other = emu().tenant(tenantId).seed({ displayName: "Other Connector", status: "notOnboarded" });
      const stack = new Stack(host);
      const declare = async (args: Record<string, unknown>) =>
        (await registerIn(dir, [{ kind: "partner", name: "tv", args }])).tv.inputs;
      await stack.up({ tv: await declare({ partnerId: row.id, tenantId }) });
      emu().clearLog();
      // Without tenantId, this host's default tenant is the emulator's default one: the partner stays where it is.
      assert.deepEqual(await stack.preview({ tv: await declare({ partnerId: row.id }) }), []);
      assert.deepEqual(calls(), []);
      // Pointed at another partner: create-before-delete, the new one adopted before the old one is released.
      await stack.up({ tv: await declare({ partnerId: other.id, tenantId }) });
      assert.deepEqual(calls(), [
        `GET ${P}/${other.id}`,
        `POST ${P}/${other.id}/beginOnboarding`,
        `POST ${P}/${row.id}/disconnect`,
      ]);
      emu().clearLog();
      await stack.destroy();
      assert.deepEqual(calls(), [`POST ${P}/${other.id}/disconnect`]);

      function calls() {
        return emu().calls({ tenantId });
      }
    });

    it("refreshes and destroys from a second program, installed elsewhere at the other SDK, what this one created", async () => {
      const tenantId = emu().newTenant();
      const stack = new Stack(host);
      const created = await registerIn(dir, [
        { kind: "partner", name: "support", args: { displayName: "Contoso Support", tenantId } },
      ]);
      await stack.up({ support: created.support.inputs });
      const id = stack.state.get("support")!.id;
      const otherDir = await installedProgram(sdk === LOCKED_SDK ? LOWEST_SDK : LOCKED_SDK);
      const otherHost = await ProviderHost.start({ cwd: otherDir, env: emu().env() });
      try {
        stack.host = otherHost; // the state, with this program's __provider, is all the second one gets
        emu().clearLog();
        assert.deepEqual(await stack.refresh({ skipPreview: true }), []);
        await stack.destroy();
        assert.deepEqual(emu().calls({ tenantId }), [
          `GET ${P}/${id}`,
          `POST ${P}/${id}/disconnect`,
          `DELETE ${P}/${id}`,
        ]);
      } finally {
        await otherHost.stop();
      }
    });
  });

describe("the testing kit, installed", function () {
  this.timeout(120_000);

  it("rejects at once, naming the cause, when the SDK cannot serialize a resource's provider", async () => {
    // The bug 0.1.0 shipped with: the serialized provider captured one of the package's own modules, which the
    // SDK writes as a require of a path package.json's exports does not list. Rebuilt here in a copy.
    const dir = await installedProgram(LOCKED_SDK);
    const broken = freshDir("broken-package");
    mkdirSync(join(broken, "node_modules"));
    for (const name of readdirSync(join(dir, "node_modules")))
      if (name !== "pulumi-intune-remote-assistance")
        symlinkSync(join(dir, "node_modules", name), join(broken, "node_modules", name));
    const pkg = join(broken, "node_modules", "pulumi-intune-remote-assistance");
    cpSync(join(dir, "node_modules", "pulumi-intune-remote-assistance"), pkg, { recursive: true });
    const resource = join(pkg, "bin", "provider", "partner", "resource.js");
    const code = readFileSync(resource, "utf8");
    const provider = /const remoteAssistancePartnerProvider = [^;]+;/;
    assert.match(code, provider);
    writeFileSync(
      resource,
      code.replace(
        provider,
        'const lifecycle = require("./lifecycle");\nconst remoteAssistancePartnerProvider = { ...(0, serialized_1.serializedProvider)("provider"), check: async (_o, n) => lifecycle.checkInputs(n) };',
      ),
    );
    writeFileSync(
      join(broken, "register.js"),
      `require("pulumi-intune-remote-assistance/testing").programInputs("tv", { displayName: "TeamViewer Connector" })
  .then(() => console.log("registered"), (e) => { console.error(e.message); process.exit(3); });`,
    );
    const started = Date.now();
    const result = await run(process.execPath, ["register.js"], broken);
    assert.equal(result.status, 3, result.output);
    assert.match(
      result.output,
      /the SDK could not register tv: .*export path for "pulumi-intune-remote-assistance\/bin\/provider\/partner\/lifecycle\.js" not found/,
    );
    assert.ok(Date.now() - started < 30_000, "it does not wait for a timeout");
  });

  it("stops the host and removes the emulator's files when the test process ends without cleaning up", async () => {
    const dir = await installedProgram(LOCKED_SDK);
    writeFileSync(
      join(dir, "abandon.js"),
      `const kit = require("pulumi-intune-remote-assistance/testing");
(async () => {
  const emulator = await kit.startEmulator({ profile: "realistic" });
  const host = await kit.ProviderHost.start({ env: emulator.env() });
  console.log(JSON.stringify({ pid: host.pid, ca: emulator.caCertPath }));
  throw new Error("a test that fails before its cleanup");
})();
`,
    );
    const result = await run(process.execPath, ["abandon.js"], dir);
    assert.notEqual(result.status, 0);
    const { pid, ca } = JSON.parse(result.stdout.split("\n")[0]) as { pid: number; ca: string };
    assert.equal(existsSync(dirname(ca)), false, "the emulator's temp folder is removed");
    assert.equal(running(pid), false, "the host process is gone");
  });
});

/** Whether a process runs: it exists and is no zombie (a killed orphan stays one until PID 1 reaps it). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, "utf8") : "";
  return !/^\d+ \(.*\) Z/.test(stat);
}

describe("the emulator from the installed package", function () {
  this.timeout(120_000);

  it("starts with npx, and docs/emulator.md's curl lines get a token and list the default tenant's partners", async () => {
    const dir = await installedProgram(LOCKED_SDK);
    const child = spawn("npx", ["pulumi-intune-remote-assistance", "emulator", "--profile", "realistic"], {
      cwd: dir,
      env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` },
      stdio: ["ignore", "pipe", "inherit"],
      detached: true, // a process group of its own: npx's child, the emulator, is stopped with it
    });
    try {
      let text = "";
      await new Promise<void>((ok, fail) => {
        child.stdout!.on("data", (d: Buffer) => ((text += d.toString()), text.includes("/confirm") && ok()));
        child.once("exit", (code) => fail(new Error(`the emulator exited with ${code}: ${text}`)));
      });
      const env = Object.fromEntries([...text.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
      const doc = readFileSync(join(REPO_ROOT, "docs", "emulator.md"), "utf8");
      const curl = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)]
        .map((m) => m[1])
        .find((b) => b.includes("TOKEN="))!;
      const result = await run("bash", ["-ec", curl], dir, { ...process.env, ...env });
      assert.equal(result.status, 0, result.output);
      const listed = JSON.parse(result.stdout) as {
        value: { displayName: string; onboardingStatus: string }[];
      };
      assert.deepEqual(
        listed.value.map((p) => [p.displayName, p.onboardingStatus]),
        [["TeamViewer Connector", "notOnboarded"]],
      );
    } finally {
      process.kill(-child.pid!, "SIGTERM");
    }
  });
});

describe("the packed manifest", function () {
  this.timeout(300_000);

  it("carries no install-time script, so that installing the tarball runs nothing and warns of nothing", async () => {
    const dir = await installedProgram(LOCKED_SDK);
    const manifest = JSON.parse(
      readFileSync(join(dir, "node_modules", "pulumi-intune-remote-assistance", "package.json"), "utf8"),
    ) as { scripts?: Record<string, string> };
    const runAtInstall = ["preinstall", "install", "postinstall", "prepare"];
    assert.deepEqual(
      Object.keys(manifest.scripts ?? {}).filter((s) => runAtInstall.includes(s)),
      [],
    );
    const again = freshDir("reinstall");
    writeFileSync(join(again, "package.json"), JSON.stringify({ name: "reinstall", private: true }));
    const tarball = readFileSync(join(dir, "package.json"), "utf8").match(/file:([^"]+\.tgz)/)![1];
    const installed = await run(
      "npm",
      ["install", "--no-audit", "--no-fund", "--prefer-offline", "--omit=peer", tarball],
      again,
    );
    assert.equal(installed.status, 0, installed.output);
    assert.doesNotMatch(installed.output, /install-scripts/);
  });
});
