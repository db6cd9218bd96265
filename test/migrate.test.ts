/** The state rewrite that moves a stack from the dynamic resources to the plugin: pure, on hand-built exports. */
import { strict as assert } from "node:assert";
import { toPluginState, type ExportedStack } from "../provider/migrate";

const STACK = "urn:pulumi:prod::intune-remote-assistance";
const DYNAMIC = "pulumi-nodejs:dynamic/intune:RemoteAssistancePartner";
const SETTINGS = "pulumi-nodejs:dynamic/intune:RemoteAssistanceSettings";
const stackUrn = `${STACK}::pulumi:pulumi:Stack::intune-remote-assistance-prod`;
const nodeProvider = `${STACK}::pulumi:providers:pulumi-nodejs::default::1111`;

function exported(extra: Partial<ExportedStack["deployment"]> = {}): ExportedStack {
  return {
    version: 3,
    deployment: {
      manifest: { time: "2026-12-01T00:00:00Z" },
      resources: [
        { urn: stackUrn, type: "pulumi:pulumi:Stack", custom: false },
        {
          urn: `${STACK}::pulumi:providers:pulumi-nodejs::default`,
          type: "pulumi:providers:pulumi-nodejs",
          custom: true,
          id: "1111",
        },
        {
          urn: `${STACK}::${DYNAMIC}::tv`,
          type: DYNAMIC,
          custom: true,
          id: "row-id",
          parent: stackUrn,
          provider: nodeProvider,
          inputs: { __provider: "code", displayName: "TeamViewer Connector", adopt: true, connected: true },
          outputs: { __provider: "code", partnerId: "row-id", adopted: true, deleteOnDestroy: false },
        },
        {
          urn: `${STACK}::${SETTINGS}::rh`,
          type: SETTINGS,
          custom: true,
          id: "t/remoteAssistanceSettings",
          parent: stackUrn,
          provider: nodeProvider,
          dependencies: [`${STACK}::${DYNAMIC}::tv`],
          propertyDependencies: { blockChat: [`${STACK}::${DYNAMIC}::tv`], __provider: [] },
          inputs: { __provider: "code", blockChat: true },
          outputs: {
            __provider: "code",
            blockChat: true,
            original: { blockChat: false },
            managed: ["blockChat"],
          },
        },
        {
          urn: `${STACK}::random:index:RandomPet::pet`,
          type: "random:index:RandomPet",
          custom: true,
          id: "x",
        },
      ],
      ...extra,
    },
  };
}

describe("moving a stack's state from the dynamic resources to the plugin", () => {
  const { state, moved } = toPluginState(exported(), () => "new-provider-id");
  const resources = state.deployment.resources!;
  const byName = (name: string) => resources.find((r) => r.urn.endsWith(`::${name}`))!;

  it("gives each dynamic resource the plugin's type and URN, keeping its id, inputs and outputs but the serialized provider", () => {
    assert.deepEqual(moved, {
      [`${STACK}::${DYNAMIC}::tv`]: `${STACK}::intune:index:RemoteAssistancePartner::tv`,
      [`${STACK}::${SETTINGS}::rh`]: `${STACK}::intune:index:RemoteAssistanceSettings::rh`,
    });
    const tv = byName("tv");
    assert.equal(tv.type, "intune:index:RemoteAssistancePartner");
    assert.equal(tv.id, "row-id");
    assert.deepEqual(tv.inputs, { displayName: "TeamViewer Connector", adopt: true, connected: true });
    assert.deepEqual(tv.outputs, { partnerId: "row-id", adopted: true, deleteOnDestroy: false });
    assert.deepEqual(byName("rh").outputs, {
      blockChat: true,
      original: { blockChat: false },
      managed: ["blockChat"],
    });
    assert.ok(!JSON.stringify(state).includes("__provider"));
  });

  it("binds them to a default intune provider it adds before the first of them, and moves every reference to them", () => {
    const provider = resources.find((r) => r.type === "pulumi:providers:intune")!;
    assert.equal(provider.urn, `${STACK}::pulumi:providers:intune::default`);
    assert.ok(resources.indexOf(provider) < resources.indexOf(byName("tv")));
    for (const name of ["tv", "rh"]) assert.equal(byName(name).provider, `${provider.urn}::new-provider-id`);
    assert.deepEqual(byName("rh").dependencies, [`${STACK}::intune:index:RemoteAssistancePartner::tv`]);
    assert.deepEqual(byName("rh").propertyDependencies, {
      blockChat: [`${STACK}::intune:index:RemoteAssistancePartner::tv`],
    });
  });

  it("leaves every other resource as it was", () => {
    const before = exported().deployment.resources!;
    for (const urn of [stackUrn, `${STACK}::random:index:RandomPet::pet`])
      assert.deepEqual(
        resources.find((r) => r.urn === urn),
        before.find((r) => r.urn === urn),
      );
    assert.deepEqual(state.deployment.manifest, exported().deployment.manifest);
  });

  it("refuses a state with pending operations, and one that holds a plugin resource of the same name, changing nothing", () => {
    assert.throws(
      () => toPluginState(exported({ pending_operations: [{ type: "creating" }] })),
      /pending operations[\s\S]*Nothing was changed/,
    );
    const twice = toPluginState(exported()).state;
    twice.deployment.resources!.push({ urn: `${STACK}::${DYNAMIC}::tv`, type: DYNAMIC, id: "row-id" });
    assert.throws(() => toPluginState(twice), /already holds .*RemoteAssistancePartner::tv/);
  });

  it("moves nothing in a stack without dynamic intune resources", () => {
    const none = exported();
    none.deployment.resources = none.deployment.resources!.filter((r) => !r.type.includes("dynamic/intune"));
    assert.deepEqual(toPluginState(none), { state: none, moved: {} });
  });
});
