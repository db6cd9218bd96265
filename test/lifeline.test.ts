/**
 * A provider process ends when its engine ends: the pure decision, and the real dynamic-provider host losing its
 * engine each way (the engine's address closed, its pipes closed, its parent killed) while Graph holds a request.
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { join } from "node:path";
import * as http2 from "node:http2";
import { startEmulator } from "../emulator";
import {
  ENGINE_LOST_EXIT_CODE,
  engineLostBecause,
  watchEngine,
  type EngineSign,
} from "../provider/core/lifeline";
import { FakeEngine, ProviderHost, programInputs, urnOf } from "../testing/engine";
import { clientFor, useEmulator } from "./support/emulator";
import { isRunning } from "./support/realEngine";
import { REPO_ROOT as REPO } from "./support/repo";

const P = "/remoteAssistancePartners";

describe("engineLostBecause", () => {
  const cases: [string, EngineSign, boolean][] = [
    ["the parent is the one the process started with", { kind: "parent", startPpid: 40, ppid: 40 }, false],
    ["the process was re-parented", { kind: "parent", startPpid: 40, ppid: 1 }, true],
    ["the process started under init", { kind: "parent", startPpid: 1, ppid: 1 }, false],
    [
      "the engine's address refuses a new connection after it answered",
      { kind: "channel", reconnect: "refused", seenAlive: true },
      true,
    ],
    [
      "the engine's address never answered",
      { kind: "channel", reconnect: "refused", seenAlive: false },
      false,
    ],
    [
      "the engine's address answers a new connection",
      { kind: "channel", reconnect: "connected", seenAlive: true },
      false,
    ],
    ["a new connection failed otherwise", { kind: "channel", reconnect: "failed", seenAlive: true }, false],
    ["stderr answered EPIPE", { kind: "output", stream: "stderr", code: "EPIPE" }, true],
    ["stdout failed", { kind: "output", stream: "stdout" }, true],
  ];
  for (const [when, sign, lost] of cases)
    it(`${lost ? "is lost" : "is not lost"} when ${when}`, () =>
      assert.equal(engineLostBecause(sign) !== undefined, lost, engineLostBecause(sign)));
});

describe("watchEngine's gate, which every Graph request passes", function () {
  this.timeout(20_000);
  const settled = (p: Promise<void>, ms = 300) =>
    Promise.race([
      p.then(() => "open" as const),
      new Promise<"held">((r) => setTimeout(() => r("held"), ms)),
    ]);

  it("lets requests through while the engine is there, and holds them for good once it is gone", async () => {
    const engine = new FakeEngine();
    await engine.start();
    const reasons: string[] = [];
    const watch = watchEngine({ engineAddress: engine.address, onLost: (r) => reasons.push(r) });
    try {
      await new Promise((r) => setTimeout(r, 200)); // connected
      assert.equal(await settled(watch.gate()), "open");
      engine.stop();
      await until(() => reasons.length > 0, 2_000);
      assert.deepEqual(reasons, ["the engine's gRPC address closed and refuses connections"]);
      assert.equal(await settled(watch.gate(), 1_000), "held");
    } finally {
      watch.stop();
    }
  });

  it("holds requests while a closed connection is checked, and lets them through when the engine answers", async () => {
    // An engine that drops each connection after a moment but keeps listening.
    const server = http2.createServer();
    server.on("session", (session) => setTimeout(() => session.destroy(), 300));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const reasons: string[] = [];
    const watch = watchEngine({
      engineAddress: `127.0.0.1:${(server.address() as { port: number }).port}`,
      onLost: (r) => reasons.push(r),
    });
    try {
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(await settled(watch.gate(), 2_000), "open");
      assert.deepEqual(reasons, []);
    } finally {
      watch.stop();
      server.close();
    }
  });

  it("keeps a Graph client from sending while its gate holds", async () => {
    const emulator = await startEmulator({ throttle: false });
    emulator.trustInProcess();
    try {
      const { client } = clientFor(emulator, { beforeAttempt: () => new Promise<void>(() => undefined) });
      void client.send({
        method: "GET",
        path: "/deviceManagement/remoteAssistancePartners",
        apiVersion: "beta",
      });
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(emulator.calls(), []);
    } finally {
      await emulator.close();
    }
  });
});

describe("a dynamic-provider host that loses its engine", function () {
  this.timeout(60_000);
  const emu = useEmulator({ throttle: false, onboardingDelayMs: null });

  /** A host on its own engine and tenant, its provider loaded (a Check), with a create's POST held by Graph. */
  async function createHeldByGraph(): Promise<{
    host: ProviderHost;
    engine: FakeEngine;
    tenantId: string;
    create: Promise<unknown>;
  }> {
    const tenantId = emu().newTenant();
    const engine = new FakeEngine();
    await engine.start();
    const host = await ProviderHost.start({ env: emu().env({ tenantId }), engine });
    const { inputs } = await programInputs("support", { displayName: "Contoso Support" });
    const checked = await host.check(urnOf("support"), {}, inputs);
    emu().faults.add({ kind: "slow", delayMs: 30_000 }, { tenantId, method: "POST" });
    const create = host.create(urnOf("support"), checked.inputs).catch((e: unknown) => e);
    await until(() => emu().requests.some((r) => r.tenantId === tenantId && r.method === "POST"));
    return { host, engine, tenantId, create };
  }

  /** Waits for the host to exit: its code, in at most `seconds`. */
  async function exitWithin(host: ProviderHost, seconds: number): Promise<number | null> {
    const timeout = new Promise<"running">((r) => setTimeout(() => r("running"), seconds * 1000).unref());
    const code = await Promise.race([host.exited, timeout]);
    assert.notEqual(code, "running", `the host still runs ${seconds} s after its engine was lost`);
    return code as number | null;
  }

  it("exits when the engine's gRPC address closes mid-create, and sends Graph nothing more", async () => {
    const { host, engine, tenantId } = await createHeldByGraph();
    const sent = emu().calls({ tenantId });
    assert.deepEqual(sent, [`GET ${P}`, `POST ${P}`]);
    engine.stop();
    assert.equal(await exitWithin(host, 5), ENGINE_LOST_EXIT_CODE);
    assert.match(host.stderr, /the Pulumi engine is gone \(the engine's gRPC address closed/);
    await new Promise((r) => setTimeout(r, 1_500));
    assert.deepEqual(emu().calls({ tenantId }), sent, "no read-back, no beginOnboarding");
  });

  it("exits on an EPIPE of its output instead of looping on it", async () => {
    const { host, engine, tenantId } = await createHeldByGraph();
    const sent = emu().calls({ tenantId });
    host.closePipes();
    // The SDK's host logs a failed call to stderr: with nobody reading it, that write fails.
    void host.check(urnOf("bad"), {}, { __provider: "not a provider" }).catch(() => undefined);
    assert.equal(await exitWithin(host, 5), ENGINE_LOST_EXIT_CODE);
    engine.stop();
    assert.deepEqual(emu().calls({ tenantId }), sent);
  });

  it("exits when its parent, the engine, is killed", async () => {
    const tenantId = emu().newTenant();
    // A stand-in engine process that starts the host and loads the provider, then is killed with SIGKILL.
    const script = `
      const { ProviderHost, programInputs, urnOf } = require(${JSON.stringify(join(REPO, "testing", "engine"))});
      (async () => {
        const host = await ProviderHost.start();
        const { inputs } = await programInputs("support", { displayName: "Contoso Support" });
        await host.check(urnOf("support"), {}, inputs);
        console.log(host.pid);
      })();`;
    const parent = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], {
      cwd: REPO,
      env: { ...process.env, ...emu().env({ tenantId }), NODE_NO_WARNINGS: "1" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const pid = await new Promise<number>((resolve) =>
      parent.stdout.on("data", (d: Buffer) => resolve(Number(d.toString().trim()))),
    );
    assert.ok(isRunning(pid));
    parent.kill("SIGKILL");
    await until(() => !isRunning(pid), 5_000);
    assert.ok(!isRunning(pid), "the host exited within 5 s of its parent");
  });
});

async function until(condition: () => boolean, timeoutInMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutInMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
