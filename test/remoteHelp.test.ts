/**
 * RemoteAssistanceSettings: Remote Help's tenant settings, pure decisions table-tested, and the resource through
 * the real dynamic-provider host against the emulator, under both profiles.
 */
import { strict as assert } from "node:assert";
import fetch from "node-fetch";
import { profiles } from "../emulator";
import { REMOTE_ASSISTANCE_SETTINGS_TYPE, type RemoteAssistanceSettingsArgs } from "../provider";
import {
  checkRemoteHelp,
  diffRemoteHelp,
  fieldsToPatch,
  managedAfter,
  restoreOnDestroy,
  type RemoteHelpOutputs,
} from "../provider/remoteHelp/lifecycle";
import { UNKNOWN } from "../provider/core/inputs";
import { FakeEngine, Stack, settingsInputs, urnOf, type Props } from "../testing/engine";
import { tokensFor, useEmulator } from "./support/emulator";
import { useHost } from "./support/host";

const S = "/remoteAssistanceSettings";
const T = "11111111-1111-4111-8111-111111111111";
const untouched = {
  remoteAssistanceState: "disabled",
  allowSessionsToUnenrolledDevices: false,
  blockChat: false,
} as const;

describe("RemoteAssistanceSettings decisions", () => {
  const state = (over: Partial<RemoteHelpOutputs> = {}): RemoteHelpOutputs => ({
    ...untouched,
    tenantId: T,
    managed: ["blockChat"],
    original: { blockChat: false },
    instance: "i1",
    ...over,
  });

  it("validates every input, naming the property, and lets unknowns through", () => {
    const { failures } = checkRemoteHelp({
      remoteAssistanceState: "on",
      blockChat: "yes",
      allowSessionsToUnenrolledDevices: 1,
      tenantId: "contoso",
      colour: "red",
    });
    assert.deepEqual(failures.map((f) => f.property).sort(), [
      "allowSessionsToUnenrolledDevices",
      "blockChat",
      "colour",
      "remoteAssistanceState",
      "tenantId",
    ]);
    assert.match(
      failures.find((f) => f.property === "remoteAssistanceState")!.reason,
      /"enabled" or "disabled", not "on"/,
    );
    assert.deepEqual(checkRemoteHelp({ blockChat: UNKNOWN, remoteAssistanceState: UNKNOWN }).failures, []);
  });

  it("PATCHes only the declared fields that differ", () => {
    assert.deepEqual(fieldsToPatch(untouched, { blockChat: true, remoteAssistanceState: "disabled" }), {
      blockChat: true,
    });
    assert.deepEqual(fieldsToPatch(untouched, { blockChat: false }), {});
  });

  it("records each field's value from before the stack managed it, and releases a field no longer declared", () => {
    const live = { ...untouched, blockChat: true, remoteAssistanceState: "enabled" as const };
    const first = managedAfter({}, untouched, { blockChat: true });
    assert.deepEqual(first, { managed: ["blockChat"], original: { blockChat: false } });
    assert.deepEqual(managedAfter(first, live, { blockChat: true, remoteAssistanceState: "disabled" }), {
      managed: ["remoteAssistanceState", "blockChat"],
      original: { remoteAssistanceState: "enabled", blockChat: false },
    });
    assert.deepEqual(managedAfter(first, live, {}), { managed: [], original: {} });
  });

  it("puts back on destroy only the managed fields' originals", () => {
    assert.deepEqual(restoreOnDestroy(state({ managed: ["blockChat"], original: { blockChat: false } })), {
      blockChat: false,
    });
    assert.deepEqual(restoreOnDestroy(state({ managed: [], original: {} })), {});
  });

  const table: [
    string,
    Partial<RemoteHelpOutputs>,
    Record<string, unknown>,
    { changes: boolean; replaces: string[] },
  ][] = [
    ["nothing changed", {}, { blockChat: false }, { changes: false, replaces: [] }],
    [
      "a portal change of a managed field",
      { blockChat: true },
      { blockChat: false },
      { changes: true, replaces: [] },
    ],
    [
      "a portal change of an unmanaged field",
      { allowSessionsToUnenrolledDevices: true },
      { blockChat: false },
      { changes: false, replaces: [] },
    ],
    [
      "a field newly declared with the tenant's value",
      {},
      { blockChat: false, allowSessionsToUnenrolledDevices: false },
      { changes: true, replaces: [] },
    ],
    ["a field no longer declared", {}, {}, { changes: true, replaces: [] }],
    ["an unknown value", {}, { blockChat: UNKNOWN }, { changes: true, replaces: [] }],
    [
      "another tenant",
      {},
      { blockChat: false, tenantId: "22222222-2222-4222-8222-222222222222" },
      { changes: true, replaces: ["tenantId"] },
    ],
    ["no tenant declared: the recorded one", {}, { blockChat: false }, { changes: false, replaces: [] }],
  ];
  for (const [name, olds, news, expected] of table) {
    it(`sees ${name}`, () => {
      const { changes, replaces, reasons, diffs } = diffRemoteHelp(state(olds), news);
      assert.deepEqual({ changes, replaces }, expected);
      assert.equal(reasons.length, diffs.length);
    });
  }
});

for (const profile of profiles)
  describe(`RemoteAssistanceSettings through the dynamic-provider host (${profile} profile)`, function () {
    this.timeout(60_000);
    const emu = useEmulator({ profile });
    const engine = new FakeEngine();
    let tenantId: string;
    let stack: Stack;

    const host = useHost(() => emu().env(), {
      engine,
      config: { "intune:consistencyWindowSeconds": "1" },
    });
    beforeEach(() => {
      tenantId = emu().newTenant();
      stack = new Stack(host(), REMOTE_ASSISTANCE_SETTINGS_TYPE);
      emu().clearLog();
      engine.logs.length = 0;
    });

    const inputs = async (args: RemoteAssistanceSettingsArgs): Promise<Props> =>
      (await settingsInputs("remote-help", { tenantId, ...args })).inputs;
    const calls = () => emu().calls({ tenantId });
    const live = () => emu().tenant(tenantId).remoteHelp;

    it("registers its own type token", async () => {
      assert.equal(
        (await settingsInputs("x", {})).type,
        "pulumi-nodejs:dynamic/intune:RemoteAssistanceSettings",
      );
    });

    it("creates with one GET and one PATCH of only the declared fields that differ", async () => {
      await stack.up({ rh: await inputs({ remoteAssistanceState: "enabled", blockChat: false }) });
      assert.deepEqual(calls(), [`GET ${S}`, `PATCH ${S}`]);
      assert.deepEqual(JSON.parse(emu().requests[1].body), { remoteAssistanceState: "enabled" });
      const { outputs } = stack.state.get("rh")!;
      assert.equal(outputs.remoteAssistanceState, "enabled");
      assert.equal(outputs.allowSessionsToUnenrolledDevices, false);
      assert.deepEqual(outputs.managed, ["remoteAssistanceState", "blockChat"]);
      assert.deepEqual(outputs.original, { remoteAssistanceState: "disabled", blockChat: false });
    });

    it("creates with no write when the tenant already has the declared values", async () => {
      await stack.up({ rh: await inputs({ blockChat: false }) });
      assert.deepEqual(calls(), [`GET ${S}`]);
    });

    it("makes no Graph call on an unchanged up", async () => {
      const declared = await inputs({ blockChat: true });
      await stack.up({ rh: declared });
      emu().clearLog();
      assert.equal(await stack.upOne("rh", declared), "same");
      assert.deepEqual(calls(), []);
    });

    it("sees a change made in the portal at refresh, and up puts the declared value back with one PATCH", async () => {
      const declared = await inputs({ blockChat: true });
      await stack.up({ rh: declared });
      live().blockChat = false; // an administrator in the portal
      live().allowSessionsToUnenrolledDevices = true; // a field the stack does not manage
      emu().clearLog();
      assert.deepEqual(await stack.refresh({ skipPreview: true }), ["rh"]);
      assert.deepEqual(await engine.settled(1), [
        `intune: Remote Help settings of tenant ${tenantId} (${stack.state.get("rh")!.id}): update: blockChat: the tenant has false, the program declares true`,
      ]);
      assert.equal(await stack.upOne("rh", declared), "update");
      assert.deepEqual(calls(), [`GET ${S}`, `PATCH ${S}`]);
      assert.deepEqual(JSON.parse(emu().requests[1].body), { blockChat: true });
      assert.equal(live().allowSessionsToUnenrolledDevices, true, "an unmanaged field is left alone");
      assert.deepEqual(await stack.refresh(), []);
    });

    it("puts back on destroy what the tenant had, for the managed fields only", async () => {
      await stack.up({ rh: await inputs({ remoteAssistanceState: "enabled", blockChat: true }) });
      live().allowSessionsToUnenrolledDevices = true;
      emu().clearLog();
      await stack.destroy();
      assert.deepEqual(calls(), [`PATCH ${S}`]);
      assert.deepEqual(JSON.parse(emu().requests[0].body), {
        remoteAssistanceState: "disabled",
        blockChat: false,
      });
      assert.deepEqual({ ...live() }, { ...untouched, allowSessionsToUnenrolledDevices: true });
    });

    it("records the original of a field declared later, and releases a field no longer declared", async () => {
      await stack.up({ rh: await inputs({ blockChat: true }) });
      live().remoteAssistanceState = "enabled";
      await stack.refresh();
      await stack.upOne("rh", await inputs({ remoteAssistanceState: "disabled" }));
      const { outputs } = stack.state.get("rh")!;
      assert.deepEqual(outputs.managed, ["remoteAssistanceState"]);
      assert.deepEqual(outputs.original, { remoteAssistanceState: "enabled" });
      emu().clearLog();
      await stack.destroy();
      assert.deepEqual(JSON.parse(emu().requests[0].body), { remoteAssistanceState: "enabled" });
      assert.equal(live().blockChat, true, "released, so left as it is");
    });

    it("refuses bad input before any request, naming the property", async () => {
      const { failures } = await host().check(
        urnOf("rh", REMOTE_ASSISTANCE_SETTINGS_TYPE),
        {},
        {
          ...(await inputs({})),
          blockChat: "sometimes",
        },
      );
      assert.deepEqual(
        failures.map((f) => f.property),
        ["blockChat"],
      );
      assert.deepEqual(calls(), []);
      assert.deepEqual(emu().tokenRequests, []);
    });

    it("refuses a second resource for the same tenant in one process, changing nothing", async () => {
      await stack.up({ rh: await inputs({ blockChat: true }) });
      emu().clearLog();
      await assert.rejects(
        stack.upOne("other", await inputs({ blockChat: false })),
        new RegExp(
          `Two RemoteAssistanceSettings resources manage tenant ${tenantId}: .* Nothing was changed`,
        ),
      );
      assert.deepEqual(calls(), []);
      assert.equal(live().blockChat, true);
    });

    it("exists in beta only: v1.0 answers as Graph does for an unknown segment", async () => {
      const token = await tokensFor(emu(), { tenantId }).getToken();
      const response = await fetch(`${emu().graphEndpoint}/v1.0/deviceManagement/remoteAssistanceSettings`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      assert.equal(response.status, 400);
      assert.match(
        ((await response.json()) as { error: { message: string } }).error.message,
        /Resource not found for the segment 'remoteAssistanceSettings'/,
      );
    });
  });
