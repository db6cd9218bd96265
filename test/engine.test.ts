/**
 * Engine level: the real dynamic-provider host, driven over gRPC as `pulumi up`, `refresh` and `destroy`
 * drive it, with the `__provider` the real SDK serializes, against the emulator.
 */
import { strict as assert } from "node:assert";
import { REMOTE_ASSISTANCE_PARTNER_TYPE, type RemoteAssistancePartnerArgs } from "../provider";
import { UNKNOWN } from "../provider/core/inputs";
import { profiles } from "../emulator";
import { useHost } from "./support/host";
import { useEmulator } from "./support/emulator";
import {
  FakeEngine,
  ProviderCallError,
  ProviderHost,
  Stack,
  programInputs,
  secret,
  urnOf,
  type Props,
} from "../testing/engine";

const P = "/remoteAssistancePartners";

for (const profile of profiles)
  describe(`RemoteAssistancePartner through the dynamic-provider host (${profile} profile)`, function () {
    this.timeout(60_000);
    const emu = useEmulator({ profile, onboardingDelayMs: null });
    const engine = new FakeEngine();
    let tenantId: string;
    let stack: Stack;
    /** Intune's own row, which every tenant holds under the realistic profile. */
    let intuneRowId: string | undefined;

    const host = useHost(() => emu().env(), {
      engine,
      config: { "intune:consistencyWindowSeconds": "1" },
    });
    beforeEach(() => {
      tenantId = emu().newTenant();
      intuneRowId = emu().intuneRow(tenantId)?.id;
      emu().faults.clear();
      emu().clearLog();
      engine.logs.length = 0;
      stack = new Stack(host());
    });

    const inputs = async (name: string, args: Partial<RemoteAssistancePartnerArgs> = {}): Promise<Props> =>
      (await programInputs(name, { displayName: name, tenantId, ...args })).inputs;
    const calls = () => emu().calls({ tenantId });
    const store = () => emu().tenant(tenantId);
    /** The tenant's partners but Intune's own row. */
    const ours = () =>
      store()
        .all()
        .filter((p) => p.id !== intuneRowId);
    const entry = (name: string) => stack.state.get(name)!;

    it("registers the type token policies match on, with a small serialized provider free of paths", async () => {
      const { type, inputs: registered } = await programInputs("tv", { displayName: "TeamViewer" });
      assert.equal(type, REMOTE_ASSISTANCE_PARTNER_TYPE);
      const text = String(registered.__provider);
      assert.ok(text.length < 8 * 1024, `__provider is ${text.length} bytes`);
      assert.match(text, /require\("pulumi-intune-remote-assistance\/host"\)/);
      assert.doesNotMatch(text, /\/work\/|\/home\/|\/root\/|[A-Z]:\\\\/);
    });

    it("up creates, reads back, begins onboarding and reads the declared URL back: list, POST, GET, beginOnboarding, GET", async () => {
      await stack.up({ tv: await inputs("TeamViewer", { onboardingUrl: "https://login.teamviewer.com/x" }) });
      const { id, outputs } = entry("tv");
      assert.deepEqual(calls(), [
        `GET ${P}`,
        `POST ${P}`,
        `GET ${P}/${id}`,
        `POST ${P}/${id}/beginOnboarding`,
        `GET ${P}/${id}`,
      ]);
      assert.deepEqual(outputs.notKept, {});
      assert.equal(outputs.partnerId, id);
      assert.equal(outputs.onboardingStatus, "onboarding");
      assert.equal(outputs.connected, true);
      assert.equal(outputs.adopted, false);
      assert.equal(outputs.deleteOnDestroy, true);
      assert.equal(outputs.tenantId, tenantId);
      assert.equal(outputs.apiVersion, "beta");
      assert.ok(String(outputs.__provider).length > 0, "the host keeps __provider in the outputs");
      assert.equal(store().find(id)?.status, "onboarding");
    });

    it("a second up with nothing changed makes no Graph call", async () => {
      const declared = { tv: await inputs("Quiet") };
      await stack.up(declared);
      emu().clearLog();
      assert.equal(await stack.upOne("tv", declared.tv), "same");
      assert.deepEqual(calls(), []);
    });

    it("an update to connected: false makes exactly one disconnect", async () => {
      await stack.up({ tv: await inputs("Off") });
      emu().clearLog();
      assert.equal(await stack.upOne("tv", await inputs("Off", { connected: false })), "update");
      const { id, outputs } = entry("tv");
      assert.deepEqual(calls(), [`POST ${P}/${id}/disconnect`]);
      assert.equal(outputs.onboardingStatus, "notOnboarded");
      assert.equal(outputs.connected, false);
      assert.equal(store().find(id)?.status, "notOnboarded");
    });

    it("a rename checks the tenant's names with one list, PATCHes only the changed field and reads it back", async () => {
      await stack.up({ tv: await inputs("Before") });
      emu().clearLog();
      await stack.upOne("tv", await inputs("After"));
      const { id } = entry("tv");
      assert.deepEqual(calls(), [`GET ${P}`, `PATCH ${P}/${id}`, `GET ${P}/${id}`]);
      assert.deepEqual(JSON.parse(emu().requests[1].body), { displayName: "After" });
    });

    it("refuses a rename onto another partner's name with create's duplicate-name error, before any write", async () => {
      const taken = store().seed({ displayName: "Taken", status: "onboarded" });
      await stack.up({ tv: await inputs("Mine") });
      const { id } = entry("tv");
      emu().clearLog();
      await assert.rejects(
        stack.upOne("tv", await inputs("taken")),
        new RegExp(
          `A remote assistance partner named 'taken' already exists in tenant ${tenantId} \\(id ${taken.id}, onboarded\\)\\. ` +
            `Partner ${id} is not renamed to it`,
        ),
      );
      assert.deepEqual(calls(), [`GET ${P}`]);
      assert.equal(store().find(id)?.displayName, "Mine");
      assert.equal(entry("tv").outputs.displayName, "Mine", "state unchanged");
      emu().clearLog();
      assert.equal(
        await stack.upOne("tv", await inputs("MINE")),
        "same",
        "names compare ignoring letter case",
      );
      assert.deepEqual(calls(), []);
    });

    it("records the calls of a failed update that succeeded, and the next up makes only what is left", async () => {
      await stack.up({ tv: await inputs("Half", { connected: false }) });
      const { id } = entry("tv");
      emu().faults.add({ kind: "status", status: 403 }, { path: "beginOnboarding" });
      await assert.rejects(
        stack.upOne("tv", await inputs("Halfway")),
        (e: ProviderCallError) => e.initFailed?.id === id,
      );
      const { outputs, initErrors } = entry("tv");
      assert.equal(outputs.displayName, "Halfway", "the PATCH that succeeded is in state");
      assert.equal(outputs.onboardingStatus, "notOnboarded", "the beginOnboarding that failed is not");
      assert.ok(String(outputs.__provider).length > 0, "the state keeps __provider");
      assert.match(initErrors![0], /403/);
      emu().clearLog();
      assert.equal(await stack.upOne("tv", await inputs("Halfway")), "update");
      assert.deepEqual(calls(), [`POST ${P}/${id}/beginOnboarding`]);
      assert.equal(entry("tv").initErrors, undefined);
    });

    it("explains each update and replacement in the engine log: what differs, live against declared", async () => {
      await stack.up({ tv: await inputs("Explained") });
      const { id } = entry("tv");
      await stack.preview({ tv: await inputs("Explained", { connected: false }) });
      const other = store().seed({ displayName: "Other" });
      await stack.preview({ tv: await inputs("Other", { partnerId: other.id }) });
      assert.deepEqual(await engine.settled(2), [
        `intune: 'Explained' (partner ${id}): update: connected: the program declares false, but the partner is onboarding: disconnect`,
        `intune: 'Explained' (partner ${id}): replace: displayName: the partner is named 'Explained', the program declares 'Other'; ` +
          `partnerId: ${id} in state, ${other.id} declared: adopts ${other.id} first, then releases partner ${id} as destroy would (disconnect, DELETE)`,
      ]);
      store().disconnect(id);
      engine.logs.length = 0;
      assert.deepEqual(await stack.refresh({ skipPreview: true }), ["tv"], "the refresh shows drift");
      assert.deepEqual(await engine.settled(1), [
        `intune: 'Explained' (partner ${id}): update: connected: the program declares true, but the partner is notOnboarded: beginOnboarding`,
      ]);
    });

    it("records a new spelling of the recorded tenant in place, with no Graph call", async () => {
      await stack.up({ tv: await inputs("Spelled") });
      emu().clearLog();
      const upper = tenantId.toUpperCase();
      assert.equal(await stack.upOne("tv", await inputs("Spelled", { tenantId: upper })), "update");
      assert.deepEqual(calls(), []);
      assert.equal(entry("tv").outputs.tenantId, upper);
      assert.deepEqual(await stack.preview({ tv: await inputs("Spelled", { tenantId: upper }) }), []);
    });

    it("asks Entra whether a domain names the recorded tenant: the same tenant is updated in place, another replaces", async () => {
      const domain = `t${tenantId.slice(0, 8)}.example`;
      emu().addDomain(tenantId, domain);
      await stack.up({ tv: await inputs("Domain") });
      const { id } = entry("tv");
      emu().clearLog();
      assert.equal(
        await stack.upOne("tv", await inputs("Domain", { tenantId: domain.toUpperCase() })),
        "update",
      );
      assert.deepEqual(calls(), []);
      assert.equal(entry("tv").outputs.tenantId, domain.toUpperCase());
      await stack.refresh({ skipPreview: true });
      assert.deepEqual(calls(), [`GET ${P}/${id}`], "state spelled with the domain reaches the same tenant");

      const elsewhere = emu().newTenant();
      emu().addDomain(elsewhere, `e${elsewhere.slice(0, 8)}.example`);
      const diff = await host().diff(
        id,
        urnOf("tv"),
        entry("tv").outputs,
        await inputs("Domain", { tenantId: `e${elsewhere.slice(0, 8)}.example` }),
      );
      assert.deepEqual(diff.replaces, ["tenantId"]);
    });

    it("changes nothing when Entra cannot say whether a domain names the recorded tenant", async () => {
      await stack.up({ tv: await inputs("Unsure") });
      emu().clearLog();
      await assert.rejects(
        stack.upOne("tv", await inputs("Unsure", { tenantId: "nobody-knows.example" })),
        new RegExp(
          `tenantId is nobody-knows\\.example in the program and ${tenantId} in state, and asking Entra whether they name one tenant failed \\(.*AADSTS90002.*\\)\\. Nothing was changed`,
        ),
      );
      assert.deepEqual(calls(), []);
    });

    it("keeps the token cache when another release's provider configures the host again with the same settings", async () => {
      const first = await inputs("Release A");
      await stack.up({ a: first });
      const another = {
        ...(await inputs("Release B")),
        __provider: `${first.__provider}\n// another release`,
      };
      await stack.up({ a: first, b: another });
      assert.notEqual(entry("b").outputs.__provider, entry("a").outputs.__provider);
      assert.equal(emu().tokenRequests.length, 1, "one token for the tenant across both configures");
    });

    it("lets ignoreChanges keep an adopted partner although the program points elsewhere", async () => {
      const tv = store().seed({ displayName: "Kept", status: "onboarded" });
      const other = store().seed({ displayName: "Elsewhere" });
      await stack.up({ tv: await inputs("Kept", { partnerId: tv.id }) });
      emu().clearLog();
      const outcome = await stack.upOne("tv", await inputs("Kept", { partnerId: other.id }), {
        ignoreChanges: ["partnerId"],
      });
      assert.equal(outcome, "same");
      assert.deepEqual(calls(), []);
    });

    it("leaves a partner pending replacement when a delete-before-replace the user chose fails to create, and repeats only the create", async () => {
      const tv = store().seed({ displayName: "Forced", status: "onboarded" });
      await stack.up({ tv: await inputs("Forced", { partnerId: tv.id }) });
      emu().clearLog();
      const missing = await inputs("Forced", { partnerId: "no-such-partner" });
      const options = { deleteBeforeReplace: true };
      await assert.rejects(
        stack.upOne("tv", missing, options),
        /No remote assistance partner no-such-partner/,
      );
      assert.equal(calls()[0], `POST ${P}/${tv.id}/disconnect`, "the user's option deleted first");
      assert.equal(entry("tv").pendingReplacement, true);
      emu().clearLog();
      await assert.rejects(stack.upOne("tv", missing, options));
      assert.ok(!calls().some((c) => c.includes(tv.id)), "the next up repeats only the create");
      emu().clearLog();
      assert.deepEqual(await stack.refresh(), [], "refresh skips a resource pending replacement");
      assert.deepEqual(calls(), []);
    });

    it("refuses to destroy a protected partner, and forgets a retained one, without a Graph call", async () => {
      await stack.up(
        { kept: await inputs("Protected"), dropped: await inputs("Retained") },
        { kept: { protect: true }, dropped: { retainOnDelete: true } },
      );
      emu().clearLog();
      await assert.rejects(stack.destroy(), /cannot be deleted because it is protected/);
      assert.deepEqual(calls(), []);
      stack.state.get("kept")!.options = {};
      const dropped = entry("dropped").id;
      await stack.destroy();
      assert.ok(!calls().some((c) => c.includes(dropped)), calls().join(", "));
      assert.equal(
        store()
          .all()
          .filter((p) => p.displayName === "Retained").length,
        1,
        "the retained partner is still in the tenant",
      );
    });

    it("a new onboardingUrl on a connected partner is PATCHed and read back, never a disconnect", async () => {
      await stack.up({ tv: await inputs("Moved", { onboardingUrl: "https://old.example/onboard" }) });
      emu().clearLog();
      await stack.upOne("tv", await inputs("Moved", { onboardingUrl: "https://new.example/onboard" }));
      const { id } = entry("tv");
      assert.deepEqual(calls(), [`PATCH ${P}/${id}`, `GET ${P}/${id}`]);
      assert.equal(store().find(id)?.status, "onboarding");
    });

    it("a refresh pass reads the live partner with one GET and up --refresh repairs a portal-side reconnect", async () => {
      await stack.up({ tv: await inputs("Drift", { connected: false }) });
      const { id } = entry("tv");
      store().setStatus(id, "onboarded");
      emu().clearLog();
      await stack.refresh({ skipPreview: true });
      assert.deepEqual(calls(), [`GET ${P}/${id}`]);
      assert.equal(entry("tv").outputs.onboardingStatus, "onboarded");
      assert.equal(await stack.upOne("tv", await inputs("Drift", { connected: false })), "update");
      assert.deepEqual(calls(), [`GET ${P}/${id}`, `POST ${P}/${id}/disconnect`]);
      assert.equal(store().find(id)?.status, "notOnboarded");
    });

    it("refresh and up put back a connector disconnected in the portal", async () => {
      await stack.up({ tv: await inputs("Reconnect") });
      const { id } = entry("tv");
      store().disconnect(id);
      await stack.refresh();
      emu().clearLog();
      await stack.upOne("tv", await inputs("Reconnect"));
      assert.deepEqual(calls(), [`POST ${P}/${id}/beginOnboarding`]);
    });

    it("refresh drops a partner deleted out of band, after re-checking within the consistency window", async () => {
      await stack.up({ tv: await inputs("Gone") });
      const { id } = entry("tv");
      store().delete(id);
      emu().clearLog();
      await stack.refresh();
      assert.equal(stack.state.has("tv"), false);
      assert.ok(calls().length >= 2 && calls().every((c) => c === `GET ${P}/${id}`), calls().join(", "));
    });

    it("refresh keeps a partner that answers 404 once (eventual consistency)", async () => {
      await stack.up({ tv: await inputs("Flaky") });
      const { id } = entry("tv");
      emu().faults.add(
        { kind: "status", status: 404, code: "ResourceNotFound" },
        { method: "GET", path: id },
      );
      await stack.refresh();
      assert.equal(entry("tv").id, id);
    });

    it("destroy of a connected partner makes one disconnect, then one DELETE", async () => {
      await stack.up({ tv: await inputs("Teardown") });
      const { id } = entry("tv");
      emu().clearLog();
      await stack.destroy();
      assert.deepEqual(calls(), [`POST ${P}/${id}/disconnect`, `DELETE ${P}/${id}`]);
      assert.equal(ours().length, 0);
    });

    it("destroy succeeds when the partner is already gone", async () => {
      await stack.up({ tv: await inputs("Vanished") });
      const { id } = entry("tv");
      store().delete(id);
      emu().clearLog();
      await stack.destroy();
      assert.deepEqual(
        calls(),
        [`POST ${P}/${id}/disconnect`, `GET ${P}/${id}`],
        "a 404 confirmed by a GET ends the destroy",
      );
    });

    it("a single 404 to disconnect does not end a destroy while the partner is still there", async () => {
      await stack.up({ tv: await inputs("Stubborn") });
      const { id } = entry("tv");
      emu().faults.add({ kind: "status", status: 404, code: "ResourceNotFound" }, { path: "/disconnect" });
      emu().clearLog();
      await stack.destroy();
      assert.deepEqual(calls(), [
        `POST ${P}/${id}/disconnect`,
        `GET ${P}/${id}`,
        `POST ${P}/${id}/disconnect`,
        `DELETE ${P}/${id}`,
      ]);
      assert.equal(ours().length, 0);
    });

    it("completes a disconnect that meets two 500s in a row, retrying with backoff", async () => {
      await stack.up({ tv: await inputs("Shaky") });
      const { id } = entry("tv");
      emu().faults.add({ kind: "status", status: 500, body: "intune" }, { path: "/disconnect" }, 2);
      emu().clearLog();
      await stack.upOne("tv", await inputs("Shaky", { connected: false }));
      assert.deepEqual(calls(), [
        `POST ${P}/${id}/disconnect`,
        `POST ${P}/${id}/disconnect`,
        `POST ${P}/${id}/disconnect`,
      ]);
      assert.equal(store().find(id)?.status, "notOnboarded");
      const retries = await engine.settled(2);
      assert.ok(
        retries.some((l) =>
          /^intune: Graph POST .*\/disconnect met HTTP 500 \(request-id [^)]+\); retry 2\/8 in /.test(l),
        ),
        retries.join("\n"),
      );
    });

    it("fails a lasting 500 with Intune's Operation ID and the request-id of every attempt", async () => {
      await stack.up({ tv: await inputs("Broken") });
      emu().faults.add({ kind: "status", status: 500, body: "intune" }, { path: "/disconnect" }, 10);
      emu().clearLog();
      const error = await stack
        .upOne("tv", await inputs("Broken", { connected: false }))
        .catch((e: Error) => e);
      assert.ok(error instanceof Error);
      const ids = emu()
        .requests.filter((r) => r.path.endsWith("/disconnect"))
        .map((r) => r.requestId);
      assert.ok(ids.length >= 4, `${ids.length} attempts`);
      assert.match(
        error.message,
        /500 InternalServerError: An error has occurred - Operation ID \(for customer support\): /,
      );
      for (const requestId of ids.slice(0, 4)) assert.ok(error.message.includes(requestId), requestId);
    });

    it("a failed DELETE after the disconnect leaves state that the next destroy finishes", async () => {
      await stack.up({ tv: await inputs("Half") });
      const { id } = entry("tv");
      emu().faults.add({ kind: "status", status: 403 }, { method: "DELETE" });
      await assert.rejects(stack.destroy(), /DELETE .* failed: 403/);
      assert.equal(store().find(id)?.status, "notOnboarded", "disconnected although the DELETE failed");
      emu().clearLog();
      await stack.destroy();
      assert.deepEqual(calls(), [`POST ${P}/${id}/disconnect`, `DELETE ${P}/${id}`]);
      assert.equal(ours().length, 0);
    });

    it("adopts the tenant's TeamViewer connector with one GET, and destroy only disconnects it", async () => {
      const tv = store().seed({
        displayName: "TeamViewer Connector",
        status: "onboarded",
        onboardingUrl: "https://login.teamviewer.com/nav",
      });
      emu().clearLog();
      await stack.up({ tv: await inputs("TeamViewer Connector", { partnerId: tv.id }) });
      const { id, outputs } = entry("tv");
      assert.equal(id, tv.id);
      assert.deepEqual(calls(), [`GET ${P}/${tv.id}`]);
      assert.equal(outputs.adopted, true);
      assert.equal(outputs.deleteOnDestroy, false);
      assert.equal(
        outputs.onboardingUrl,
        "https://login.teamviewer.com/nav",
        "an unmanaged onboardingUrl is left alone",
      );
      emu().clearLog();
      await stack.destroy();
      assert.deepEqual(calls(), [`POST ${P}/${tv.id}/disconnect`]);
      assert.equal(store().find(tv.id)?.status, "notOnboarded");
    });

    it("adopting a partner that does not exist is a clear error listing the tenant's partners", async () => {
      store().seed({ displayName: "TeamViewer Connector" });
      await assert.rejects(
        stack.up({ tv: await inputs("X", { partnerId: "no-such-partner" }) }),
        /No remote assistance partner no-such-partner in tenant .*The tenant's partners: 'TeamViewer Connector'/,
      );
      assert.equal(stack.state.size, 0);
    });

    it("refuses to create a duplicate of an existing name and says to adopt it", async () => {
      const existing = store().seed({ displayName: "Existing Partner" });
      await assert.rejects(
        stack.up({ tv: await inputs("existing PARTNER") }),
        new RegExp(`already exists in tenant ${tenantId} .*set adopt: true, or partnerId: "${existing.id}"`),
      );
      assert.deepEqual(calls(), [`GET ${P}`]);
    });

    it("replaces the partner when the tenant changes: creates in the new tenant, then deletes in the old", async () => {
      await stack.up({ tv: await inputs("Moving") });
      const oldId = entry("tv").id;
      const newTenant = emu().newTenant();
      emu().clearLog();
      assert.equal(
        await stack.upOne(
          "tv",
          (await programInputs("Moving", { displayName: "Moving", tenantId: newTenant })).inputs,
        ),
        "replace",
      );
      assert.deepEqual(
        emu()
          .calls({ tenantId: newTenant })
          .map((c) => c.split(" ")[0]),
        ["GET", "POST", "GET", "POST"],
      );
      assert.deepEqual(calls(), [`POST ${P}/${oldId}/disconnect`, `DELETE ${P}/${oldId}`]);
      assert.equal(
        emu()
          .tenant(newTenant)
          .all()
          .filter((p) => p.displayName === "Moving").length,
        1,
      );
    });

    it("replaces when partnerId changes to adopt another partner", async () => {
      const a = store().seed({ displayName: "A" });
      const b = store().seed({ displayName: "B" });
      await stack.up({ tv: await inputs("A", { partnerId: a.id, connected: false }) });
      const diff = await host().diff(
        a.id,
        urnOf("tv"),
        entry("tv").outputs,
        (await host().check(urnOf("tv"), {}, await inputs("B", { partnerId: b.id }))).inputs,
      );
      assert.deepEqual(diff.replaces, ["partnerId"]);
    });

    it("reports every invalid input as a check failure naming it, without calling Graph", async () => {
      const { failures } = await host().check(
        urnOf("bad"),
        {},
        {
          __provider: (await inputs("ok")).__provider,
          displayName: "",
          onboardingUrl: "http://insecure.example",
          connected: "yes",
          apiVersion: "v2",
          tenantId: "not a tenant",
          colour: "red",
        },
      );
      assert.deepEqual(failures.map((f) => f.property).sort(), [
        "apiVersion",
        "colour",
        "connected",
        "displayName",
        "onboardingUrl",
        "tenantId",
      ]);
      assert.deepEqual(calls(), []);
    });

    it("lets preview's unknown values through check and never answers 'no change' for them", async () => {
      const news = { ...(await inputs("Preview")), connected: UNKNOWN, partnerId: UNKNOWN };
      const { inputs: checked, failures } = await host().check(urnOf("p"), {}, news);
      assert.deepEqual(failures, []);
      await stack.up({ p: await inputs("Preview") });
      const diff = await host().diff(entry("p").id, urnOf("p"), entry("p").outputs, checked);
      assert.equal(diff.changes, "some");
      assert.deepEqual(diff.replaces, ["partnerId"]);
    });

    it("ends with exactly one owned partner when the create's answer is lost after commit", async () => {
      emu().faults.add({ kind: "drop", when: "afterCommit" }, { method: "POST", path: P });
      await stack.up({ tv: await inputs("Lost") });
      const { id } = entry("tv");
      assert.deepEqual(
        ours().map((p) => p.id),
        [id],
      );
      assert.equal(calls().filter((c) => c === `POST ${P}`).length, 1, "never re-sent once Graph showed it");
      assert.ok(
        engine.logs.some((l) => /the answer to creating 'Lost' .* was lost/.test(l)),
        engine.logs.join("\n"),
      );
    });

    it("creates exactly one partner when the connection dropped before Graph acted", async () => {
      emu().faults.add({ kind: "drop", when: "beforeCommit" }, { method: "POST", path: P });
      await stack.up({ tv: await inputs("Dropped") });
      assert.deepEqual(
        ours().map((p) => p.id),
        [entry("tv").id],
      );
      assert.equal(calls().filter((c) => c === `POST ${P}`).length, 2);
    });

    it("keeps a created partner in state when onboarding fails, and the next up finishes it", async () => {
      emu().faults.add({ kind: "status", status: 403 }, { path: "beginOnboarding" });
      await assert.rejects(
        stack.up({ tv: await inputs("Half-made") }),
        (e: ProviderCallError) => e.initFailed !== undefined,
      );
      const { id, outputs } = entry("tv");
      assert.equal(outputs.onboardingStatus, "notOnboarded");
      emu().clearLog();
      assert.equal(await stack.upOne("tv", await inputs("Half-made")), "update");
      assert.deepEqual(calls(), [`POST ${P}/${id}/beginOnboarding`]);
    });

    it("shows throttling waits to the person running pulumi up through the engine log", async () => {
      emu().faults.add({ kind: "status", status: 429, retryAfter: "1" }, { method: "GET" });
      await stack.up({ tv: await inputs("Throttled") });
      assert.ok(
        engine.logs.some((l) => /^intune: Graph GET .* met HTTP 429 .*; retry 1\/8 in 1\.0 s$/.test(l)),
        engine.logs.join("\n"),
      );
    });

    it("reads credentials from stack config, the secret wrapped as the engine sends it, when the environment has none", async () => {
      const env = emu().env();
      const bare = await ProviderHost.start({
        env: {
          AZURE_AUTHORITY_HOST: env.AZURE_AUTHORITY_HOST,
          INTUNE_GRAPH_ENDPOINT: env.INTUNE_GRAPH_ENDPOINT,
          NODE_EXTRA_CA_CERTS: env.NODE_EXTRA_CA_CERTS,
        },
      });
      try {
        await bare.configure({
          "intune:tenantId": tenantId,
          "intune:clientId": env.AZURE_CLIENT_ID,
          "intune:clientSecret": secret(env.AZURE_CLIENT_SECRET),
        });
        const other = new Stack(bare);
        await other.up({ tv: (await programInputs("Configured", { displayName: "Configured" })).inputs });
        assert.equal(other.state.get("tv")!.outputs.tenantId, tenantId);
        await other.destroy();
      } finally {
        await bare.stop();
      }
    });
  });
