/**
 * The `intune` plugin (`pulumi-resource-intune`) driven over gRPC as the engine drives it, against the
 * emulator: what its protocol adds to the operations both hosts share. Its Graph calls and state per sequence
 * are held to the dynamic provider's in realEngine.test.ts, through the real CLI.
 */
import { strict as assert } from "node:assert";
import { UNKNOWN } from "../provider/core/inputs";
import {
  GET_PARTNER_TOKEN,
  GET_PARTNERS_TOKEN,
  PARTNER_TOKEN,
  SETTINGS_TOKEN,
} from "../provider/plugin/schema";
import { asSecret } from "../provider/plugin/wire";
import { INTUNE_ROW_NAME, defaultClientSecret } from "../emulator";
import {
  FakeEngine,
  ProviderCallError,
  ProviderHost,
  Stack,
  secret,
  urnOf,
  type Props,
} from "../testing/engine";
import { useEmulator } from "./support/emulator";
import { useHost } from "./support/host";
import { REPO_ROOT } from "./support/repo";

const P = "/remoteAssistancePartners";
const { version } = require(`${REPO_ROOT}/package.json`) as { version: string };

describe("the intune plugin over gRPC", function () {
  this.timeout(60_000);
  const emu = useEmulator({ profile: "realistic", onboardingDelayMs: null });
  const engine = new FakeEngine();
  // The machine's own secret is wrong: only the configured (secret) one works.
  const host = useHost(() => ({ ...emu().env(), AZURE_CLIENT_SECRET: "not this one" }), {
    engine,
    plugin: true,
    config: { "intune:consistencyWindowSeconds": "1", "intune:clientSecret": secret(defaultClientSecret) },
  });
  let tenantId: string;
  let stack: Stack;
  beforeEach(() => {
    tenantId = emu().newTenant();
    emu().faults.clear();
    stack = new Stack(host(), PARTNER_TOKEN);
  });
  const calls = () => emu().calls({ tenantId });
  const urn = (name: string) => urnOf(name, PARTNER_TOKEN);

  it("serves its schema at the package's version, and a clientSecret configured as a secret reaches Entra", async () => {
    const schema = await host().getSchema();
    assert.equal(schema.name, "intune");
    assert.equal(schema.version, version);
    await stack.up({ tv: { displayName: "Contoso Support", tenantId } });
    assert.equal(calls().length, 4, calls().join("\n"));
  });

  it("CheckConfig names the key of each bad setting, and passes keys it does not read", async () => {
    const failures = await host().checkConfig({
      cloud: "mars",
      graphEndpoint: "http://graph.example.com",
      maxRetries: "many",
      greeting: "a project config key of a project named intune",
    });
    assert.deepEqual(
      failures.map((f) => f.property),
      ["cloud", "graphEndpoint", "maxRetries"],
    );
    assert.match(failures[1].reason, /must use https/);
    assert.deepEqual(await host().checkConfig({ tenantId, maxRetries: 3 }), []);
  });

  it("DiffConfig reports a provider's new tenant or credential as an update, never a replacement of its resources", async () => {
    const diff = await host().diffConfig(
      { tenantId: "a.onmicrosoft.com" },
      { tenantId: "b.onmicrosoft.com", auth: "azureCli" },
    );
    assert.deepEqual(diff, { changes: "some", replaces: [], diffs: ["tenantId", "auth"] });
    assert.equal((await host().diffConfig({ tenantId }, { tenantId })).changes, "none");
  });

  it("Diff answers a detailed diff: UPDATE for what an update changes, UPDATE_REPLACE for a partnerId or tenant of another partner, never delete-before-replace", async () => {
    await stack.up({ tv: { displayName: "Contoso Support", tenantId } });
    const { id, outputs } = stack.state.get("tv")!;
    const news = { displayName: "Contoso Helpdesk", connected: false, apiVersion: "beta", tenantId };
    const update = await host().diff(id, urn("tv"), outputs, news);
    assert.deepEqual(update.detailedDiff, { displayName: "UPDATE", connected: "UPDATE" });
    assert.deepEqual(update.replaces, []);
    const other = emu().newTenant();
    const replace = await host().diff(id, urn("tv"), outputs, {
      ...news,
      tenantId: other,
      partnerId: "another",
    });
    assert.deepEqual(replace.detailedDiff, {
      displayName: "UPDATE",
      connected: "UPDATE",
      partnerId: "UPDATE_REPLACE",
      tenantId: "UPDATE_REPLACE",
    });
    assert.equal(replace.deleteBeforeReplace, false);
    const same = await host().diff(id, urn("tv"), outputs, {
      displayName: "CONTOSO SUPPORT",
      connected: true,
      apiVersion: "beta",
    });
    assert.deepEqual([same.changes, same.detailedDiff], ["none", {}]);
  });

  it("a preview's Create and Update ask Graph nothing: declared inputs as given, what Graph decides unknown, a secret input kept secret", async () => {
    const inputs = {
      displayName: asSecret("Contoso Support"),
      connected: true,
      apiVersion: "beta",
      tenantId,
    };
    const created = await host().create(urn("tv"), inputs, { preview: true });
    assert.deepEqual(created.properties.displayName, asSecret("Contoso Support"));
    assert.equal(created.properties.connected, true);
    for (const computed of ["partnerId", "onboardingStatus", "adopted"])
      assert.equal(created.properties[computed], UNKNOWN);
    await stack.up({ tv: { displayName: "Contoso Support", tenantId } });
    emu().clearLog({ tenantId });
    const { id, outputs } = stack.state.get("tv")!;
    const updated = await host().update(
      id,
      urn("tv"),
      outputs,
      { displayName: "Contoso Support", connected: false, apiVersion: "beta", tenantId },
      { preview: true },
    );
    assert.equal(updated.connected, false);
    assert.equal(updated.onboardingStatus, UNKNOWN);
    assert.deepEqual(calls(), []);
    assert.equal(emu().tenant(tenantId).find(id)?.status, "onboarding", "still connected");
  });

  it("Read with an id and no state imports the partner: adopted, its name and connection as inputs, one GET; its Delete then only disconnects", async () => {
    const row = emu().intuneRow(tenantId)!;
    await host().configure({
      "intune:consistencyWindowSeconds": "1",
      "intune:clientSecret": secret(defaultClientSecret),
      "intune:tenantId": tenantId,
    });
    const read = await host().read(row.id, urn("tv"), {}, {});
    assert.deepEqual(read.inputs, { displayName: INTUNE_ROW_NAME, connected: false });
    assert.equal(read.properties.adopted, true);
    assert.equal(read.properties.deleteOnDestroy, false);
    assert.equal(read.properties.tenantId, tenantId);
    assert.deepEqual(calls(), [`GET ${P}/${row.id}`]);
    emu().clearLog({ tenantId });
    await host().delete(row.id, urn("tv"), read.properties);
    assert.deepEqual(calls(), [`POST ${P}/${row.id}/disconnect`]);
    const gone = await host().read("no-such-partner", urn("tv"), {}, {});
    assert.equal(gone.id, "", "a partner that is not there is not imported");
  });

  it("Invoke: getPartners lists the tenant's partners, getPartner finds one by name ignoring case or by id, and names the partners when none matches", async () => {
    const row = emu().intuneRow(tenantId)!;
    const all = await host().invoke(GET_PARTNERS_TOKEN, { tenantId });
    assert.deepEqual(
      (all.partners as Props[]).map((p) => [p.partnerId, p.displayName, p.connected]),
      [[row.id, INTUNE_ROW_NAME, false]],
    );
    const byName = await host().invoke(GET_PARTNER_TOKEN, {
      tenantId,
      displayName: INTUNE_ROW_NAME.toUpperCase(),
    });
    assert.equal(byName.partnerId, row.id);
    assert.equal(
      (await host().invoke(GET_PARTNER_TOKEN, { tenantId, partnerId: row.id })).displayName,
      INTUNE_ROW_NAME,
    );
    await assert.rejects(
      host().invoke(GET_PARTNER_TOKEN, { tenantId, displayName: "Nobody" }),
      new RegExp(
        `No remote assistance partner named 'Nobody' in tenant ${tenantId}\\. The tenant's partners: '${INTUNE_ROW_NAME}' \\(id ${row.id}`,
      ),
    );
    assert.deepEqual(
      calls().filter((c) => !c.startsWith("GET")),
      [],
    );
  });

  it("a create Graph accepted but whose onboarding failed answers ErrorResourceInitFailed with the partner's id and state, and no code", async () => {
    emu().faults.add({ kind: "status", status: 400 }, { tenantId, method: "POST", path: /beginOnboarding$/ });
    const error = await host()
      .create(urn("tv"), { displayName: "Contoso Support", connected: true, apiVersion: "beta", tenantId })
      .then(
        () => assert.fail("the create should fail"),
        (e: ProviderCallError) => e,
      );
    assert.ok(error.initFailed, error.message);
    const made = emu()
      .tenant(tenantId)
      .all()
      .find((p) => p.displayName === "Contoso Support")!;
    assert.equal(error.initFailed.id, made.id);
    assert.equal(error.initFailed.properties.partnerId, made.id);
    assert.ok(!("__provider" in error.initFailed.properties));
    assert.match(error.message, /request-id|request id/i);
  });
});

describe("the intune plugin's lifecycle of its own", function () {
  this.timeout(60_000);
  const emu = useEmulator({ profile: "realistic", onboardingDelayMs: null });

  it("after Cancel it sends Graph nothing: the next operation fails saying the engine cancelled it", async () => {
    const tenantId = emu().newTenant();
    const host = await ProviderHost.start({ env: emu().env({ tenantId }), plugin: true });
    try {
      await host.cancel();
      await assert.rejects(
        host.create(urnOf("tv", PARTNER_TOKEN), {
          displayName: "Contoso Support",
          connected: true,
          apiVersion: "beta",
        }),
        /the Pulumi engine cancelled the operation: no further Graph request was sent/,
      );
      assert.deepEqual(emu().calls({ tenantId }), []);
    } finally {
      await host.stop();
    }
  });

  it("exits with 69 when its engine goes away, as the dynamic-provider host does", async () => {
    const engine = new FakeEngine();
    await engine.start();
    const host = await ProviderHost.start({ env: emu().env(), plugin: true, engine });
    await new Promise((r) => setTimeout(r, 300)); // its connection to the engine is up
    engine.stop();
    const code = await Promise.race([
      host.exited,
      new Promise((r) => setTimeout(() => r("still running"), 5_000)),
    ]);
    if (code === "still running") await host.stop();
    assert.equal(code, 69);
    assert.match(host.stderr, /the Pulumi engine is gone/);
  });

  it("serves RemoteAssistanceSettings too: import by <tenant>/remoteAssistanceSettings reads the tenant's settings and manages nothing", async () => {
    const tenantId = emu().newTenant();
    const host = await ProviderHost.start({ env: emu().env({ tenantId }), plugin: true });
    try {
      const urn = urnOf("rh", SETTINGS_TOKEN);
      const read = await host.read(`${tenantId}/remoteAssistanceSettings`, urn, {}, {});
      assert.deepEqual(read.inputs, { tenantId });
      assert.deepEqual(read.properties.managed, []);
      await assert.rejects(
        host.read("contoso", urn, {}, {}),
        /import it as <tenant>\/remoteAssistanceSettings/,
      );
      assert.deepEqual(emu().calls({ tenantId }), ["GET /remoteAssistanceSettings"]);
    } finally {
      await host.stop();
    }
  });
});
