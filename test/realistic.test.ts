/**
 * A tenant as it most likely is, not as we would like it: the emulator's realistic profile (Intune's own
 * "TeamViewer Connector" row, not onboarded; onboarding that waits for a person) and each switch for what a
 * real tenant may do that nobody has confirmed. Through the real dynamic-provider host, for each: adopting by
 * name connects the existing row without creating anything; two unchanged refresh + up cycles write nothing;
 * no cycle disconnects the connector; destroy disconnects it and leaves it; a refused operation ends with a
 * clear message and nothing half-done.
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fetch from "node-fetch";
import { INTUNE_ROW_NAME, type Alternative, type EmulatorOptions } from "../emulator";
import type { RemoteAssistancePartnerArgs } from "../provider";
import { FakeEngine, ProviderHost, Stack, programInputs, type Props } from "../testing/engine";
import { standInAzureCli, useEmulator } from "./support/emulator";

const P = "/remoteAssistancePartners";
const URL_A = "https://login.teamviewer.com/nav/intune/contoso";
const URL_B = "https://login.teamviewer.com/nav/intune/contoso-2";
const CONFIGURATION_APP = { clientId: "configuration-app", clientSecret: "configuration-secret" };

interface Case {
  name: string;
  options: Partial<EmulatorOptions>;
  /** How a declared onboardingUrl fares: kept, or left as Graph has it. */
  urlKept: boolean;
}

const cases: Case[] = [
  { name: "the realistic profile", options: {}, urlKept: true },
  {
    name: "a service that rewrites onboardingUrl when onboarding begins",
    options: { rewriteOnboardingUrl: true },
    urlKept: false,
  },
  { name: "a PATCH answered 204 but not applied", options: { ignorePatch: true }, urlKept: false },
  { name: "POST and DELETE of partners refused", options: { refuseCreateDelete: true }, urlKept: true },
  {
    name: "429 without Retry-After under a tighter limit",
    options: {
      throttleWithoutRetryAfter: true,
      throttle: { windowMs: 1_000, appWrites: 1, tenantWrites: 2, appAll: 3, tenantAll: 6 },
    },
    urlKept: true,
  },
  {
    name: "app-only beginOnboarding refused, connected with an administrator's Azure CLI sign-in",
    options: { appOnlyOnboardingForbidden: true },
    urlKept: true,
  },
  {
    name: "DeviceManagementConfiguration.ReadWrite.All accepted, the only permission the app has",
    options: { configurationPermission: true },
    urlKept: true,
  },
];

for (const c of cases) {
  const switched = Object.keys(c.options).find((k) => k !== "throttle") as Alternative | undefined;
  describe(`a realistic tenant: ${c.name}`, function () {
    this.timeout(90_000);
    const emu = useEmulator({ profile: "realistic", ...c.options });
    const engine = new FakeEngine();
    let dir: string;
    let tenantId: string;
    let host: ProviderHost;
    let stack: Stack;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "intune-realistic-"));
      await engine.start();
      tenantId = emu().newTenant();
      const env: Record<string, string> = { ...emu().env({ tenantId }) };
      if (switched === "appOnlyOnboardingForbidden") {
        standInAzureCli(emu(), tenantId, dir);
        Object.assign(env, { INTUNE_AUTH: "azureCli", PATH: `${dir}:${process.env.PATH}` });
      }
      if (switched === "configurationPermission") {
        emu().registerApp({
          ...CONFIGURATION_APP,
          tenants: [tenantId],
          permissions: ["DeviceManagementConfiguration.ReadWrite.All"],
        });
        Object.assign(env, {
          AZURE_CLIENT_ID: CONFIGURATION_APP.clientId,
          AZURE_CLIENT_SECRET: CONFIGURATION_APP.clientSecret,
        });
      }
      host = await ProviderHost.start({ env, engine });
      await host.configure({ "intune:consistencyWindowSeconds": "1" });
      stack = new Stack(host);
    });
    after(async () => {
      await host?.stop();
      engine.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const program = async (args: Partial<RemoteAssistancePartnerArgs>): Promise<Props> =>
      (await programInputs("tv", { tenantId, ...args })).inputs;
    /** The tenant's requests Graph answered, throttled ones (429) aside: what the provider had Graph do. */
    const calls = () =>
      emu()
        .requests.filter((r) => r.tenantId === tenantId && r.status !== 429)
        .map((r) => `${r.method} ${r.path.replace(/^\/deviceManagement/, "")}`);
    const writes = () => calls().filter((call) => !call.startsWith("GET "));
    const row = () => emu().intuneRow(tenantId)!;

    it("adopts Intune's row by name and connects it without creating anything", async () => {
      emu().clearLog();
      const { id: rowId } = row();
      assert.equal(
        await stack.upOne(
          "tv",
          await program({ adopt: true, displayName: INTUNE_ROW_NAME, onboardingUrl: URL_A }),
        ),
        "create",
      );
      assert.ok(!writes().includes(`POST ${P}`), writes().join(", "));
      assert.deepEqual(writes(), [`PATCH ${P}/${rowId}`, `POST ${P}/${rowId}/beginOnboarding`]);
      const { id, outputs } = stack.state.get("tv")!;
      assert.equal(id, rowId);
      assert.equal(outputs.adopted, true);
      assert.equal(outputs.deleteOnDestroy, false, "an adopted row is never deleted unless declared");
      assert.equal(row().status, "onboarding", "waiting for an administrator at TeamViewer");
      assert.deepEqual(outputs.notKept, c.urlKept ? {} : { onboardingUrl: URL_A });
      if (!c.urlKept) {
        const logs = await engine.settled(1);
        assert.ok(
          logs.some((l) =>
            l.startsWith(
              `intune: Graph did not keep onboardingUrl of partner ${rowId}: the program declares '${URL_A}'`,
            ),
          ),
          logs.join("\n"),
        );
      }
      if (switched === "throttleWithoutRetryAfter") {
        const throttled = emu().requests.filter((r) => r.status === 429);
        assert.ok(throttled.length > 0, "the tighter limit was met");
      }
    });

    it("shows the row onboarded once a person confirms it at the emulator's confirm URL", async () => {
      const response = await fetch(emu().confirmUrl(tenantId, row().id), { method: "POST" });
      assert.equal(response.status, 200, await response.text());
      assert.equal(row().status, "onboarded");
    });

    it("writes nothing in two unchanged refresh + up cycles, and keeps the connector connected", async () => {
      const declared = await program({ adopt: true, displayName: INTUNE_ROW_NAME, onboardingUrl: URL_A });
      for (const cycle of [1, 2]) {
        emu().clearLog();
        assert.deepEqual(await stack.refresh(), [], `cycle ${cycle}: no drift`);
        assert.equal(await stack.upOne("tv", declared), "same", `cycle ${cycle}`);
        assert.deepEqual(writes(), [], `cycle ${cycle} wrote`);
      }
      assert.equal(row().status, "onboarded");
    });

    it("PATCHes a new onboardingUrl without ever disconnecting, then leaves it be", async () => {
      const declared = await program({ adopt: true, displayName: INTUNE_ROW_NAME, onboardingUrl: URL_B });
      emu().clearLog();
      await stack.refresh();
      await stack.upOne("tv", declared);
      assert.deepEqual(writes(), [`PATCH ${P}/${row().id}`]);
      assert.equal(row().status, "onboarded", "still connected");
      const expected = c.options.ignorePatch ? { onboardingUrl: URL_B } : {};
      assert.deepEqual(stack.state.get("tv")!.outputs.notKept, expected);
      for (const cycle of [1, 2]) {
        emu().clearLog();
        await stack.refresh();
        await stack.upOne("tv", declared);
        assert.deepEqual(writes(), [], `cycle ${cycle} wrote`);
      }
    });

    it("destroy disconnects the row and leaves it in the tenant", async () => {
      emu().clearLog();
      await stack.destroy();
      assert.deepEqual(calls(), [`POST ${P}/${row().id}/disconnect`]);
      assert.equal(row().status, "notOnboarded");
      assert.equal(stack.state.size, 0);
    });

    it("says so clearly when adopt: true finds no partner of the name, and creates nothing", async () => {
      emu().clearLog();
      await assert.rejects(
        stack.upOne("x", await program({ adopt: true, displayName: "Support Partner" })),
        new RegExp(
          `adopt: true found no remote assistance partner named 'Support Partner' in tenant ${tenantId}, and never creates one\\. ` +
            `The tenant's partners: '${INTUNE_ROW_NAME}' \\(id ${row().id}, notOnboarded\\)\\.`,
        ),
      );
      assert.deepEqual(writes(), []);
    });

    if (switched === "refuseCreateDelete") {
      it("explains a refused create: adopt the tenant's connector instead; nothing is created", async () => {
        emu().clearLog();
        await assert.rejects(
          stack.upOne("new", await program({ displayName: "Contoso Support" })),
          new RegExp(
            `Graph refused to create partner 'Contoso Support' in tenant ${tenantId}: Graph POST .* failed: 405 MethodNotAllowed: .*request-id .*\\. ` +
              "This tenant may not let remote assistance partners be created: .* adopt: true with its displayName, or " +
              "partnerId with its id \\(npx pulumi-intune-remote-assistance partners lists the tenant's partners\\)\\. Nothing was created\\.",
          ),
        );
        assert.equal(stack.state.has("new"), false);
        assert.deepEqual(
          emu()
            .tenant(tenantId)
            .all()
            .map((p) => p.id),
          [row().id],
        );
      });

      it("explains a refused delete: the partner stays, disconnected, until deleteOnDestroy: false", async () => {
        const declared = (deleteOnDestroy: boolean) =>
          program({ adopt: true, displayName: INTUNE_ROW_NAME, deleteOnDestroy });
        await stack.upOne("tv", await declared(true));
        emu().clearLog();
        await assert.rejects(
          stack.destroy(),
          new RegExp(
            `Partner ${row().id} is disconnected, but Graph refused to delete it: Graph DELETE .* 405 .*request-id .*\\. It stays in tenant ` +
              `${tenantId}, disconnected, and in the stack's state\\. To finish without deleting it, set deleteOnDestroy: false`,
          ),
        );
        assert.equal(row().status, "notOnboarded");
        assert.equal(stack.state.has("tv"), true);
        await stack.upOne("tv", { ...(await declared(false)), connected: false });
        emu().clearLog();
        await stack.destroy();
        assert.deepEqual(calls(), [`POST ${P}/${row().id}/disconnect`]);
        assert.ok(row(), "the row stays");
      });
    }

    if (switched === "appOnlyOnboardingForbidden") {
      it("explains a refused app-only beginOnboarding: connecting needs an administrator's sign-in", async () => {
        const appOnly = await ProviderHost.start({ env: emu().env({ tenantId }) });
        try {
          await appOnly.configure({ "intune:consistencyWindowSeconds": "1" });
          const other = new Stack(appOnly);
          emu().clearLog();
          await assert.rejects(
            other.upOne("tv", await program({ adopt: true, displayName: INTUNE_ROW_NAME })),
            new RegExp(
              `Graph refused to begin onboarding partner ${row().id}: Graph POST .*beginOnboarding failed: 403 Forbidden: .*request-id .*\\. ` +
                "Connecting TeamViewer needs an Intune or Global administrator's delegated sign-in, .*intune:auth azureCli .* or intune:auth deviceCode",
            ),
          );
          assert.deepEqual(writes(), [`POST ${P}/${row().id}/beginOnboarding`]);
          assert.equal(row().status, "notOnboarded");
          const { outputs, initErrors } = other.state.get("tv")!;
          assert.equal(outputs.adopted, true, "the adopted row is in state, as it is");
          assert.equal(outputs.onboardingStatus, "notOnboarded");
          assert.equal(initErrors?.length, 1);
        } finally {
          await appOnly.stop();
        }
      });
    }

    if (switched === "configurationPermission") {
      it("refuses the same app when the alternative permission is not accepted", async () => {
        emu().behaviour.configurationPermission = false;
        try {
          await assert.rejects(
            stack.upOne("tv", await program({ adopt: true, displayName: INTUNE_ROW_NAME })),
            /403 Forbidden/,
          );
        } finally {
          emu().behaviour.configurationPermission = true;
        }
      });
    }
  });
}
