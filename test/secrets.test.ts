/**
 * Secret audit: run every path with canary credentials through the real host and search every __provider,
 * state, output, error, log line, host stderr and emulator request (the Authorization header aside) for the
 * canaries and for every token the emulator issued. Expected hits: 0.
 */
import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import { useEmulator } from "./support/emulator";
import { REMOTE_ASSISTANCE_SETTINGS_TYPE } from "../provider";
import {
  FakeEngine,
  ProviderCallError,
  ProviderHost,
  Stack,
  programInputs,
  settingsInputs,
} from "../testing/engine";

describe("secret audit with canary credentials", function () {
  this.timeout(120_000);
  const emu = useEmulator({ onboardingDelayMs: null });
  const canarySecret = `CANARY-SECRET-${randomUUID()}`;
  const canaryClient = `canary-app-${randomUUID()}`;

  it("finds no secret or token in state, outputs, errors, logs, stderr or Graph requests", async () => {
    const tenantId = emu().newTenant();
    emu().registerApp({
      clientId: canaryClient,
      tenants: [tenantId],
      clientSecret: canarySecret,
      permissions: ["DeviceManagementServiceConfig.ReadWrite.All"],
    });
    const env = emu().env();
    const engine = new FakeEngine();
    await engine.start();
    const texts: string[] = [];
    const errors: string[] = [];
    const collect = async (fn: () => Promise<unknown>) => {
      try {
        texts.push(JSON.stringify(await fn()) ?? "");
      } catch (e) {
        errors.push(
          String(e),
          (e as Error).stack ?? "",
          JSON.stringify(e),
          JSON.stringify((e as ProviderCallError).initFailed ?? {}),
        );
      }
    };
    // The secret comes from stack config only, as `pulumi config set --secret intune:clientSecret` gives it.
    const host = await ProviderHost.start({
      env: {
        AZURE_AUTHORITY_HOST: env.AZURE_AUTHORITY_HOST,
        INTUNE_GRAPH_ENDPOINT: env.INTUNE_GRAPH_ENDPOINT,
        NODE_EXTRA_CA_CERTS: env.NODE_EXTRA_CA_CERTS,
      },
      engine,
    });
    const badHost = await ProviderHost.start({
      env: { ...env, AZURE_CLIENT_ID: canaryClient, AZURE_CLIENT_SECRET: `${canarySecret}-wrong` },
      engine,
    });
    try {
      await host.configure({
        "intune:tenantId": tenantId,
        "intune:clientId": canaryClient,
        "intune:clientSecret": canarySecret,
        "intune:consistencyWindowSeconds": "1",
      });
      const stack = new Stack(host);
      const inputs = async (args: Record<string, unknown>) =>
        (await programInputs("audit", { displayName: "Audit", ...args })).inputs;

      emu().faults.add({ kind: "status", status: 429, retryAfter: "0.1" }, { tenantId }); // a progress line
      await collect(async () => stack.upOne("audit", await inputs({})));
      await collect(async () => stack.upOne("audit", await inputs({ connected: false })));
      emu().faults.add({ kind: "status", status: 401 }, { tenantId }, 2); // a refused token, twice
      await collect(() => stack.refresh());
      emu().faults.add({ kind: "status", status: 403, body: "intune" }, { method: "POST", tenantId });
      await collect(async () => stack.upOne("audit", await inputs({ connected: true })));
      await collect(async () => stack.upOne("audit", await inputs({ connected: true })));
      await collect(() => host.check("urn:bad", {}, { displayName: "", colour: "red" }));
      await collect(() => stack.destroy());
      // Remote Help's settings, through the same host: create, drift, repair, destroy.
      const remoteHelp = new Stack(host, REMOTE_ASSISTANCE_SETTINGS_TYPE);
      const settings = async () => (await settingsInputs("audit-settings", { blockChat: true })).inputs;
      await collect(async () => remoteHelp.upOne("rh", await settings()));
      emu().tenant(tenantId).remoteHelp.blockChat = false;
      await collect(() => remoteHelp.refresh());
      emu().faults.add({ kind: "status", status: 403, body: "intune" }, { method: "PATCH", tenantId });
      await collect(async () => remoteHelp.upOne("rh", await settings()));
      await collect(async () => remoteHelp.upOne("rh", await settings()));
      for (const entry of remoteHelp.state.values()) texts.push(JSON.stringify(entry));
      await collect(() => remoteHelp.destroy());
      // A wrong secret: the credential's error must not repeat it.
      await badHost.configure({ "intune:tenantId": tenantId });
      await collect(async () => new Stack(badHost).upOne("audit", await inputs({})));
      for (const entry of stack.state.values()) texts.push(JSON.stringify(entry));
    } finally {
      await host.stop();
      await badHost.stop();
      engine.stop();
    }

    const haystacks: Record<string, string> = {
      "state and outputs": texts.join("\n"),
      errors: errors.join("\n"),
      "engine log": engine.logs.join("\n"),
      "host stderr": host.stderr + badHost.stderr,
      "Graph requests (Authorization aside)": JSON.stringify(emu().requests),
      "token requests": JSON.stringify(emu().tokenRequests),
    };
    const needles = [canarySecret, ...emu().entra.issuedTokens];
    assert.ok(emu().entra.issuedTokens.length >= 2, "tokens were issued and renewed");
    assert.ok(errors.length >= 2, "the failure paths ran");
    assert.ok(engine.logs.length >= 1, "progress lines were logged");
    const hits = Object.entries(haystacks).flatMap(([where, text]) =>
      needles.filter((n) => text.includes(n)).map(() => where),
    );
    assert.deepEqual(hits, []);
    assert.match(
      errors.join("\n"),
      /AADSTS7000215: Invalid client secret/,
      "the wrong secret was refused with Entra's code",
    );
  });
});
