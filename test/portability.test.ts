/**
 * Portability and upgrade: state written from one checkout is refreshed and destroyed from another checkout at
 * another path (this one's compiled code moved out of reach meanwhile), and state written by an earlier release
 * (a committed fixture) is refreshed, updated and destroyed by the current code. Also: https only.
 */
import { strict as assert } from "node:assert";
import { renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  REMOTE_ASSISTANCE_PARTNER_TYPE,
  RemoteAssistancePartner,
  type RemoteAssistancePartnerArgs,
} from "../provider";
import { useEmulator } from "./support/emulator";
import { ProviderHost, Stack, programInputs, type StateEntry } from "../testing/engine";
import { otherCheckout } from "./support/checkout";
import { REPO_ROOT } from "./support/repo";

/** The type token of every RemoteAssistancePartner in every state ever written: renaming it orphans them all. */
const TYPE_TOKEN = "pulumi-nodejs:dynamic/intune:RemoteAssistancePartner";

describe("portability and upgrade", function () {
  this.timeout(60_000);
  const emu = useEmulator({ onboardingDelayMs: null });

  /** A stack with one partner created by a host in this checkout, which is stopped again. */
  async function createdHere(displayName: string, tenantId: string): Promise<Stack> {
    const host = await ProviderHost.start({ env: emu().env() });
    const stack = new Stack(host);
    try {
      await stack.up({ tv: (await programInputs("tv", { displayName, tenantId })).inputs });
    } finally {
      await host.stop();
    }
    return stack;
  }

  it("refreshes and destroys from another checkout at another path what this checkout created", async () => {
    const tenantId = emu().newTenant();
    const stack = await createdHere("Portable", tenantId);
    const id = stack.state.get("tv")!.id;
    const other = otherCheckout();
    // This checkout's compiled provider is moved out of reach: only the other checkout's can answer.
    const bin = join(REPO_ROOT, "bin");
    renameSync(bin, `${bin}.moved`);
    try {
      const hostB = await ProviderHost.start({ cwd: other, env: emu().env() });
      stack.host = hostB;
      try {
        emu().clearLog();
        await stack.refresh({ skipPreview: true });
        await stack.destroy();
        assert.deepEqual(emu().calls({ tenantId }), [
          `GET /remoteAssistancePartners/${id}`,
          `POST /remoteAssistancePartners/${id}/disconnect`,
          `DELETE /remoteAssistancePartners/${id}`,
        ]);
      } finally {
        await hostB.stop();
      }
    } finally {
      renameSync(`${bin}.moved`, bin);
      rmSync(other, { recursive: true, force: true });
    }
  });

  it("registers the type token every state was written with", async () => {
    assert.equal(REMOTE_ASSISTANCE_PARTNER_TYPE, TYPE_TOKEN);
    assert.equal(RemoteAssistancePartner.__pulumiType, TYPE_TOKEN);
    assert.equal((await programInputs("tv", { displayName: "Typed" })).type, TYPE_TOKEN);
  });

  it("says what to install where when a destroy runs from a checkout without the package", async () => {
    const tenantId = emu().newTenant();
    const stack = await createdHere("Uninstalled", tenantId);
    const bare = otherCheckout({ withPackage: false });
    const bin = join(REPO_ROOT, "bin");
    renameSync(bin, `${bin}.moved`);
    try {
      stack.host = await ProviderHost.start({ cwd: bare, env: emu().env() });
      emu().clearLog();
      await assert.rejects(
        stack.destroy(),
        new RegExp(
          "run by the npm package pulumi-intune-remote-assistance \\(the state stores only its name\\), which " +
            `cannot be loaded from ${bare.replace(/[.\\]/g, "\\$&")}: Cannot find module 'pulumi-intune-remote-assistance/host'. ` +
            "Install the Pulumi program's dependencies there \\(npm ci, or npm install pulumi-intune-remote-assistance\\)",
        ),
      );
      assert.deepEqual(emu().calls({ tenantId }), []);
      assert.equal(stack.state.size, 1, "the partner stays in state for the destroy that can run");
    } finally {
      await stack.host.stop();
      renameSync(`${bin}.moved`, bin);
      rmSync(bare, { recursive: true, force: true });
    }
    stack.host = await ProviderHost.start({ env: emu().env() });
    try {
      await stack.destroy();
    } finally {
      await stack.host.stop();
    }
  });

  it("refreshes, updates and destroys state written by release 0.1.0, matched by its type token", async () => {
    const fixture = require("./fixtures/state-0.1.0.json") as { tenantId: string; entries: StateEntry[] };
    const typeOf = (urn: string) => urn.split("::")[2];
    assert.deepEqual(
      fixture.entries.map((e) => typeOf(e.urn)),
      [TYPE_TOKEN, TYPE_TOKEN],
    );
    emu().registerApp({
      clientId: "22222222-2222-4222-8222-222222222222",
      tenants: [fixture.tenantId],
      permissions: ["DeviceManagementServiceConfig.ReadWrite.All"],
    });
    const store = emu().tenant(fixture.tenantId);
    for (const e of fixture.entries) {
      store.seed({
        id: e.id,
        displayName: String(e.outputs.displayName),
        onboardingUrl: (e.outputs.onboardingUrl as string) ?? null,
        status: e.outputs.onboardingStatus as "onboarding",
      });
    }
    const host = await ProviderHost.start({ env: emu().env() });
    try {
      const stack = new Stack(host);
      for (const e of fixture.entries) stack.state.set(e.urn.split("::").pop()!, structuredClone(e));
      await stack.refresh();
      assert.equal(stack.state.size, 2);
      // The program now, with the current SDK serialization, declares both disconnected.
      const inputs = async (name: string) => {
        const old = fixture.entries.find((e) => e.urn.endsWith(`::${name}`))!
          .inputs as unknown as RemoteAssistancePartnerArgs;
        const { displayName, partnerId, tenantId, onboardingUrl } = old;
        return (
          await programInputs(name, { displayName, partnerId, tenantId, onboardingUrl, connected: false })
        ).inputs;
      };
      emu().clearLog();
      // The engine matches state to the program by URN, type token included: another token is another resource.
      assert.equal(await stack.upOne("adopted", await inputs("adopted")), "update");
      assert.equal(await stack.upOne("created", await inputs("created")), "update");
      assert.deepEqual(
        store.all().map((p) => p.status),
        ["notOnboarded", "notOnboarded"],
      );
      await stack.destroy();
      const [adopted, created] = fixture.entries;
      assert.deepEqual(
        store.all().map((p) => p.id),
        [adopted.id],
        "the adopted connector stays, the created partner is deleted",
      );
      assert.ok(
        emu()
          .calls({ tenantId: fixture.tenantId })
          .includes(`DELETE /remoteAssistancePartners/${created.id}`),
      );
    } finally {
      await host.stop();
    }
  });

  it("refuses a plain-http Graph endpoint off loopback before any token is requested", async () => {
    const env = emu().env();
    const host = await ProviderHost.start({
      env: { ...env, INTUNE_GRAPH_ENDPOINT: "http://graph.example.test" },
    });
    try {
      emu().clearLog();
      await assert.rejects(
        new Stack(host).upOne("tv", (await programInputs("tv", { displayName: "Plain" })).inputs),
        /intune:graphEndpoint \(INTUNE_GRAPH_ENDPOINT\) 'http:\/\/graph\.example\.test' must use https/,
      );
      assert.deepEqual(emu().tokenRequests, []);
    } finally {
      await host.stop();
    }
  });

  it("refuses a plain-http authority off loopback before any token is requested", async () => {
    const host = await ProviderHost.start({
      env: { ...emu().env(), AZURE_AUTHORITY_HOST: "http://login.example.test" },
    });
    try {
      await assert.rejects(
        new Stack(host).upOne("tv", (await programInputs("tv", { displayName: "Plain" })).inputs),
        /intune:authorityHost .* must use https/,
      );
    } finally {
      await host.stop();
    }
  });
});
