/**
 * Least privilege: a reader identity (DeviceManagementServiceConfig.Read.All) refreshes, previews and checks drift
 * through the dynamic-provider host; drift it finds is explained as the writer's work; its up fails before any
 * write, saying it is read-only and which permission writes need.
 */
import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import { INTUNE_ROW_NAME } from "../emulator";
import { REMOTE_ASSISTANCE_SETTINGS_TYPE } from "../provider";
import {
  FakeEngine,
  ProviderHost,
  Stack,
  programInputs,
  settingsInputs,
  type Props,
} from "../testing/engine";
import { useEmulator } from "./support/emulator";
import { useHost } from "./support/host";

const P = "/remoteAssistancePartners";
const READER = { clientId: randomUUID(), clientSecret: "reader-secret" };

describe("a reader identity (DeviceManagementServiceConfig.Read.All)", function () {
  this.timeout(60_000);
  const emu = useEmulator({ profile: "realistic" });
  const writer = useHost(() => emu().env());
  const engine = new FakeEngine();
  const reader = useHost(() => emu().env(READER), { engine });
  let tenantId: string;
  let rowId: string;
  let partners: Stack;
  let settings: Stack;
  let declared: { partners: Record<string, Props>; settings: Record<string, Props> };

  beforeEach(async () => {
    tenantId = emu().newTenant();
    emu().registerApp({
      ...READER,
      tenants: [tenantId],
      permissions: ["DeviceManagementServiceConfig.Read.All"],
    });
    rowId = emu().intuneRow(tenantId)!.id;
    declared = {
      partners: {
        tv: (await programInputs("tv", { adopt: true, displayName: INTUNE_ROW_NAME, tenantId })).inputs,
      },
      settings: { rh: (await settingsInputs("rh", { blockChat: true, tenantId })).inputs },
    };
    // The writer's up, on main.
    partners = new Stack(writer());
    settings = new Stack(writer(), REMOTE_ASSISTANCE_SETTINGS_TYPE);
    await partners.up(declared.partners);
    await settings.up(declared.settings);
    // The reader's jobs from now on.
    partners.host = reader();
    settings.host = reader();
    engine.logs.length = 0;
    emu().clearLog({ tenantId });
  });

  it("refreshes and previews with reads only: the drift check passes while nothing drifted", async () => {
    assert.deepEqual(await partners.preview(declared.partners, {}, { refresh: true }), []);
    assert.deepEqual(await settings.preview(declared.settings, {}, { refresh: true }), []);
    assert.deepEqual(emu().calls({ tenantId }), [`GET ${P}/${rowId}`, "GET /remoteAssistanceSettings"]);
  });

  it("finds drift, and explains it as the writer's up to run, not as a failure", async () => {
    emu().tenant(tenantId).disconnect(rowId);
    emu().tenant(tenantId).remoteHelp.blockChat = false;
    assert.deepEqual(await partners.preview(declared.partners, {}, { refresh: true }), ["tv"]);
    assert.deepEqual(await settings.preview(declared.settings, {}, { refresh: true }), ["rh"]);
    const logs = await engine.settled(4);
    const notes = logs.filter((l) =>
      l.includes(
        "This identity is read-only (a preview or drift check): pulumi up with the writer's identity makes the change (in the GitHub workflow: the apply job)",
      ),
    );
    assert.ok(
      notes.some((l) => l.includes(`partner ${rowId}): update: connected`)),
      logs.join("\n"),
    );
    assert.ok(
      notes.some((l) => l.includes("Remote Help settings") && l.includes("blockChat")),
      logs.join("\n"),
    );
    assert.ok(
      emu()
        .calls({ tenantId })
        .every((c) => c.startsWith("GET")),
      "reads only",
    );
  });

  it("fails an up before any write, saying it is read-only and what writes need; the writer's up then repairs", async () => {
    emu().tenant(tenantId).disconnect(rowId);
    await assert.rejects(partners.up(declared.partners, {}, { refresh: true }), (e: Error) => {
      assert.match(
        e.message,
        /403 Forbidden: .* This identity is read-only: its token grants DeviceManagementServiceConfig\.Read\.All, not DeviceManagementServiceConfig\.ReadWrite\.All\..*nothing was written\. Run the pulumi up \(or destroy\) that changes the tenant with the identity that holds DeviceManagementServiceConfig\.ReadWrite\.All/,
      );
      assert.match(e.message, /request-id [0-9a-f-]{36}/);
      return true;
    });
    assert.equal(emu().tenant(tenantId).find(rowId)?.status, "notOnboarded", "nothing written");
    assert.deepEqual(
      emu()
        .requests.filter((r) => r.tenantId === tenantId && r.method !== "GET")
        .map((r) => [r.method, r.status]),
      [["POST", 403]],
      "its one write attempt was refused",
    );
    await assert.rejects(
      settings.up({ rh: (await settingsInputs("rh", { blockChat: false, tenantId })).inputs }),
      /read-only/,
    );

    partners.host = writer();
    emu().clearLog({ tenantId });
    await partners.up(declared.partners, {}, { refresh: true });
    assert.deepEqual(emu().calls({ tenantId }), [
      `GET ${P}/${rowId}`,
      `GET ${P}/${rowId}`,
      `POST ${P}/${rowId}/beginOnboarding`,
    ]);
  });

  it("keeps the writer's wording for a 403 that is not a reader's (no permission at all)", async () => {
    const nobody = { clientId: randomUUID(), clientSecret: "nobody" };
    emu().registerApp({ ...nobody, tenants: [tenantId], permissions: [] });
    const host = await ProviderHost.start({ env: emu().env(nobody) });
    try {
      const stack = new Stack(host);
      for (const [name, entry] of partners.state) stack.state.set(name, entry);
      await assert.rejects(stack.refresh(), (e: Error) => {
        assert.match(e.message, /Grant DeviceManagementServiceConfig\.ReadWrite\.All/);
        assert.doesNotMatch(e.message, /read-only/);
        return true;
      });
    } finally {
      await host.stop();
    }
  });
});
