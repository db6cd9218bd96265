/**
 * Graph requests per operation through the real dynamic-provider host, against the minimum the semantics
 * need; the serialized provider's size; the host's cold start.
 */
import type { Emulator } from "../emulator";
import { REMOTE_ASSISTANCE_SETTINGS_TYPE } from "../provider";
import { ProviderHost, Stack, programInputs, settingsInputs, urnOf } from "../testing/engine";

export interface OperationCount {
  operation: string;
  /** The fewest Graph requests the semantics allow, and why. */
  minimum: number;
  why: string;
  measured: number;
}

/** Runs each operation once in a fresh tenant and counts its Graph requests and the host's token requests. */
export async function countRequests(
  emulator: Emulator,
  newTenant: () => string,
): Promise<{ operations: OperationCount[]; tokenRequestsPerTenant: number }> {
  const tenantId = newTenant();
  const host = await ProviderHost.start({ env: emulator.env() });
  const rows: OperationCount[] = [];
  const measure = async (operation: string, minimum: number, why: string, fn: () => Promise<unknown>) => {
    const before = emulator.requests.length;
    await fn();
    rows.push({
      operation,
      minimum,
      why,
      measured: emulator.requests.slice(before).filter((r) => r.tenantId === tenantId).length,
    });
  };
  try {
    const stack = new Stack(host);
    const declare = async (args: { connected?: boolean; partnerId?: string; displayName?: string }) =>
      (await programInputs("p", { displayName: "Bench", tenantId, ...args })).inputs;
    const seeded = emulator
      .tenant(tenantId)
      .seed({ displayName: "TeamViewer Connector", status: "onboarded" });
    await measure("create (connected)", 4, "duplicate check, POST, read-back, beginOnboarding", async () =>
      stack.upOne("p", await declare({})),
    );
    await measure("up with no change", 0, "nothing to do", async () => stack.upOne("p", await declare({})));
    // One refresh pass: pulumi refresh --yes makes two (its preview's, then its own), --skip-preview one.
    await measure("refresh (one pass)", 1, "one GET", () => stack.refresh({ skipPreview: true }));
    await measure("update to connected: false", 1, "one disconnect", async () =>
      stack.upOne("p", await declare({ connected: false })),
    );
    await measure("update to connected: true", 1, "one beginOnboarding", async () =>
      stack.upOne("p", await declare({ connected: true })),
    );
    await measure("rename", 3, "duplicate-name check, PATCH, read-back", async () =>
      stack.upOne("p", await declare({ displayName: "Bench 2" })),
    );
    await measure("destroy (created)", 2, "disconnect, DELETE (≤ 3 allowed)", () => stack.destroy());
    await measure("adopt", 1, "GET the partner", async () =>
      stack.upOne(
        "tv",
        (await programInputs("tv", { displayName: "TeamViewer Connector", partnerId: seeded.id, tenantId }))
          .inputs,
      ),
    );
    await measure("destroy (adopted)", 1, "disconnect; the partner stays", () => stack.destroy());
    const remoteHelp = new Stack(host, REMOTE_ASSISTANCE_SETTINGS_TYPE);
    const settings = async () => (await settingsInputs("rh", { tenantId, blockChat: true })).inputs;
    await measure("settings create (one field differs)", 2, "GET, PATCH of that field", async () =>
      remoteHelp.upOne("rh", await settings()),
    );
    await measure("settings up with no change", 0, "nothing to do", async () =>
      remoteHelp.upOne("rh", await settings()),
    );
    emulator.tenant(tenantId).remoteHelp.blockChat = false; // changed in the portal
    await measure("settings refresh (one pass)", 1, "one GET", () =>
      remoteHelp.refresh({ skipPreview: true }),
    );
    await measure("settings drift repaired", 1, "one PATCH", async () =>
      remoteHelp.upOne("rh", await settings()),
    );
    await measure("settings destroy", 1, "one PATCH of the managed field back", () => remoteHelp.destroy());
  } finally {
    await host.stop();
  }
  return {
    operations: rows,
    tokenRequestsPerTenant: emulator.tokenRequests.filter((t) => t.tenantId === tenantId).length,
  };
}

export interface ColdStart {
  providerBytes: number;
  /** Spawn to the gRPC port printed. */
  spawnInMs: number;
  configureInMs: number;
  /** First Check: deserializes the provider and loads the runtime. */
  firstCheckInMs: number;
  /** First Create: credential, token, four Graph requests. */
  firstCreateInMs: number;
}

/** One cold start of the host, timed in one run. */
export async function coldStart(emulator: Emulator, tenantId: string): Promise<ColdStart> {
  const { inputs } = await programInputs("cold", { displayName: "Cold Start", tenantId });
  const t0 = performance.now();
  const host = await ProviderHost.start({ env: emulator.env() });
  const t1 = performance.now();
  try {
    await host.configure({});
    const t2 = performance.now();
    const { inputs: checked } = await host.check(urnOf("cold"), {}, inputs);
    const t3 = performance.now();
    await host.create(urnOf("cold"), checked);
    const t4 = performance.now();
    return {
      providerBytes: Buffer.byteLength(String(inputs.__provider)),
      spawnInMs: Math.round(t1 - t0),
      configureInMs: Math.round(t2 - t1),
      firstCheckInMs: Math.round(t3 - t2),
      firstCreateInMs: Math.round(t4 - t3),
    };
  } finally {
    await host.stop();
  }
}
