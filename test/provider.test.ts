/**
 * The provider's methods in this process against the emulator: the behaviours that are awkward to reach
 * through the host (Intune's answers to actions in the "wrong" state, read lag, concurrency, onboarding wait).
 */
import { strict as assert } from "node:assert";
import { provider } from "../provider/host";
import { setReporter } from "../provider/core/progress";
import { profiles } from "../emulator";
import { useEmulator } from "./support/emulator";
import { useEnv } from "./support/env";

const P = "/remoteAssistancePartners";

for (const profile of profiles)
  describe(`provider methods against the emulator (${profile} profile)`, function () {
    this.timeout(30_000);
    const emu = useEmulator({ profile, onboardingDelayMs: null, throttle: false });
    const lines: string[] = [];
    let tenantId: string;

    const configure = (config: Record<string, string> = {}) =>
      provider.configure({
        config: {
          get: (k: string) => ({ "intune:consistencyWindowSeconds": "1", ...config })[k],
          require: () => "",
        },
      });

    useEnv(() => emu().env());
    before(() => setReporter((line) => lines.push(line)));
    after(() => setReporter(undefined));
    beforeEach(async () => {
      await configure();
      tenantId = emu().newTenant();
      emu().clearLog();
      emu().faults.clear();
      lines.length = 0;
    });
    const calls = () => emu().calls({ tenantId });
    /** The tenant's partners of a name, ignoring letter case. */
    const named = (name: string) =>
      emu()
        .tenant(tenantId)
        .all()
        .filter((p) => p.displayName?.toLowerCase() === name.toLowerCase());
    const checked = async (news: Record<string, unknown>) =>
      (await provider.check({}, { tenantId, ...news })).inputs;

    it("treats a 400 to disconnect as done when the partner is already disconnected", async () => {
      emu().behaviour.actionInWrongState = "badRequest";
      try {
        const p = emu().tenant(tenantId).seed({ displayName: "Idle" });
        await provider.delete(p.id, { tenantId, apiVersion: "beta", deleteOnDestroy: true, adopted: false });
        assert.deepEqual(calls(), [
          `POST ${P}/${p.id}/disconnect`,
          `GET ${P}/${p.id}`,
          `DELETE ${P}/${p.id}`,
        ]);
        assert.deepEqual(
          emu().requests.map((r) => r.status),
          [400, 200, 204],
        );
      } finally {
        emu().behaviour.actionInWrongState = "noContent";
      }
    });

    it("treats a 400 to beginOnboarding as done when the partner is already onboarding", async () => {
      emu().behaviour.actionInWrongState = "badRequest";
      try {
        const p = emu().tenant(tenantId).seed({ displayName: "Busy", status: "onboarding" });
        const stale = {
          displayName: "Busy",
          onboardingUrl: null,
          partnerId: p.id,
          connected: false,
          deleteOnDestroy: false,
          tenantId,
          apiVersion: "beta",
          onboardingStatus: "notOnboarded",
          lastConnectionDateTime: null,
          onboardingRequestExpiryDateTime: null,
          adopted: true,
        };
        const { outs } = await provider.update(
          p.id,
          stale,
          await checked({ displayName: "Busy", partnerId: p.id }),
        );
        assert.deepEqual(calls(), [`POST ${P}/${p.id}/beginOnboarding`, `GET ${P}/${p.id}`]);
        assert.equal(outs.onboardingStatus, "onboarding");
      } finally {
        emu().behaviour.actionInWrongState = "noContent";
      }
    });

    it("waits out Intune's read-after-create lag before onboarding", async () => {
      emu().timing.readLagMs = 400;
      try {
        const { id } = await provider.create(await checked({ displayName: "Lagging" }));
        const gets = calls().filter((c) => c === `GET ${P}/${id}`);
        assert.ok(gets.length >= 2, `polled ${gets.length} times`);
        assert.equal(calls().at(-1), `POST ${P}/${id}/beginOnboarding`);
        assert.deepEqual(
          emu()
            .requests.filter((r) => r.method === "GET" && r.path.endsWith(id))
            .map((r) => r.status)
            .slice(0, 1),
          [404],
        );
      } finally {
        emu().timing.readLagMs = 0;
      }
    });

    it("keeps a partner in state when Graph never reads it back within the window", async () => {
      emu().timing.readLagMs = 60_000;
      try {
        const error = await provider.create(await checked({ displayName: "Invisible" })).then(
          () => assert.fail("expected a failure"),
          (e: { id?: string; message: string; reasons?: string[] }) => e,
        );
        assert.ok(error.id, "ErrorResourceInitFailed carries the id");
        assert.match(error.message, /did not read it back within 1 s; the next pulumi up continues/);
      } finally {
        emu().timing.readLagMs = 0;
      }
    });

    it("refuses a second partner of a name this process just created, although Intune does not list it yet", async () => {
      emu().timing.readLagMs = 2_000;
      try {
        await configure({ "intune:consistencyWindowSeconds": "5" });
        await provider.create(await checked({ displayName: "Lagged Twin" }));
        await assert.rejects(
          provider.create(await checked({ displayName: "lagged twin" })),
          /already exists in tenant/,
        );
        assert.equal(named("Lagged Twin").length, 1);
      } finally {
        emu().timing.readLagMs = 0;
      }
    });

    it("creates a partner of the name it just deleted although Intune still lists the deleted one", async () => {
      await configure({ "intune:consistencyWindowSeconds": "5" });
      const first = await provider.create(await checked({ displayName: "Replaced" }));
      const stillListed = emu()
        .tenant(tenantId)
        .all()
        .find((p) => p.id === first.id)!;
      await provider.delete(first.id, first.outs);
      emu()
        .tenant(tenantId)
        .seed({ ...stillListed, displayName: "Replaced" }); // Intune's lag: the deleted partner still shows
      const second = await provider.create(await checked({ displayName: "Replaced" }));
      assert.notEqual(second.id, first.id);
    });

    it("shares one list request among concurrent creates in a tenant", async () => {
      await Promise.all(
        [1, 2, 3, 4, 5, 6].map(async (n) => provider.create(await checked({ displayName: `Batch ${n}` }))),
      );
      assert.ok(calls().filter((c) => c === `GET ${P}`).length <= 2, calls().join("\n"));
      assert.equal(calls().filter((c) => c === `POST ${P}`).length, 6);
    });

    it("lets only one of two concurrent creates of the same name through", async () => {
      const inputs = await checked({ displayName: "Twin" });
      const results = await Promise.allSettled([provider.create(inputs), provider.create(inputs)]);
      assert.deepEqual(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
      assert.equal(named("Twin").length, 1);
    });

    it("waits for onboarding confirmation when asked, telling the user where to complete it", async () => {
      await configure({ "intune:onboardingWaitSeconds": "5" });
      emu().timing.onboardingDelayMs = 500;
      try {
        const { outs } = await provider.create(
          await checked({ displayName: "Confirm", onboardingUrl: "https://login.teamviewer.com/intune" }),
        );
        assert.equal(outs.onboardingStatus, "onboarded");
        assert.ok(
          lines.some((l) =>
            /waiting up to 5 s for 'Confirm' to confirm onboarding; complete it at https:\/\/login\.teamviewer\.com\/intune/.test(
              l,
            ),
          ),
          lines.join("\n"),
        );
      } finally {
        emu().timing.onboardingDelayMs = null;
      }
    });

    it("speaks v1.0 when asked, without the beta-only expiry", async () => {
      const { id, outs } = await provider.create(
        await checked({ displayName: "Stable", apiVersion: "v1.0" }),
      );
      assert.ok(emu().requests.every((r) => r.apiVersion === "v1.0"));
      assert.equal(outs.onboardingRequestExpiryDateTime, null);
      assert.equal(id, outs.partnerId);
    });

    it("says how to name a tenant when none is configured", async () => {
      const tenant = process.env.AZURE_TENANT_ID;
      delete process.env.AZURE_TENANT_ID;
      await configure();
      try {
        await assert.rejects(
          provider.create((await provider.check({}, { displayName: "Nowhere" })).inputs),
          /No tenant: set the resource's tenantId, the stack config intune:tenantId/,
        );
      } finally {
        process.env.AZURE_TENANT_ID = tenant;
        await configure();
      }
    });

    it("uses one token request per tenant for a burst of concurrent operations", async () => {
      await configure();
      const other = emu().newTenant();
      emu().clearLog();
      await Promise.all([
        ...[1, 2, 3, 4, 5].map((n) =>
          provider
            .read("x", { tenantId, apiVersion: "beta" })
            .catch(() => undefined)
            .then(() => n),
        ),
        ...[1, 2, 3].map(async (n) =>
          provider.create(await checked({ displayName: `Burst ${n}`, tenantId: other })),
        ),
      ]);
      assert.deepEqual(
        emu()
          .tokenRequests.map((t) => t.tenantId)
          .sort(),
        [tenantId, other].sort(),
      );
    });
  });
