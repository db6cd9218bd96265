/**
 * Graph requests per operation through the real dynamic-provider host, against the minimum the semantics
 * need; the serialized provider's size; the host's cold start.
 */
import type { Emulator } from "../emulator";
import { REMOTE_ASSISTANCE_PARTNER_TYPE, REMOTE_ASSISTANCE_SETTINGS_TYPE } from "../provider";
import { PARTNER_TOKEN, SETTINGS_TOKEN } from "../provider/plugin/schema";
import { ProviderHost, Stack, programInputs, settingsInputs, urnOf, type Props } from "../testing/engine";

export interface OperationCount {
  operation: string;
  /** The fewest Graph requests the semantics allow, and why. */
  minimum: number;
  why: string;
  measured: number;
}

/**
 * Runs each operation once in a fresh tenant and counts its Graph requests and the host's token requests; with
 * `plugin`, through the `intune` plugin instead of the dynamic-provider host.
 */
export async function countRequests(
  emulator: Emulator,
  newTenant: () => string,
  { plugin = false } = {},
): Promise<{ operations: OperationCount[]; tokenRequestsPerTenant: number }> {
  const tenantId = newTenant();
  const host = await ProviderHost.start({ env: emulator.env(), plugin });
  const [partnerType, settingsType] = plugin
    ? [PARTNER_TOKEN, SETTINGS_TOKEN]
    : [REMOTE_ASSISTANCE_PARTNER_TYPE, REMOTE_ASSISTANCE_SETTINGS_TYPE];
  /** What a program registers: the plugin's resources carry no serialized provider. */
  const registered = ({ inputs }: { inputs: Props }) => {
    if (plugin) delete inputs.__provider;
    return inputs;
  };
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
    const stack = new Stack(host, partnerType);
    const declare = async (args: { connected?: boolean; partnerId?: string; displayName?: string }) =>
      registered(await programInputs("p", { displayName: "Bench", tenantId, ...args }));
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
        registered(
          await programInputs("tv", { displayName: "TeamViewer Connector", partnerId: seeded.id, tenantId }),
        ),
      ),
    );
    await measure("destroy (adopted)", 1, "disconnect; the partner stays", () => stack.destroy());
    const remoteHelp = new Stack(host, settingsType);
    const settings = async () => registered(await settingsInputs("rh", { tenantId, blockChat: true }));
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

/** One cold start of the host (with `plugin`, of the `intune` plugin), timed in one run. */
export async function coldStart(
  emulator: Emulator,
  tenantId: string,
  { plugin = false } = {},
): Promise<ColdStart> {
  const { inputs } = await programInputs("cold", { displayName: "Cold Start", tenantId });
  const providerBytes = Buffer.byteLength(String(inputs.__provider));
  if (plugin) delete inputs.__provider;
  const urn = plugin ? urnOf("cold", PARTNER_TOKEN) : urnOf("cold");
  const t0 = performance.now();
  const host = await ProviderHost.start({ env: emulator.env(), plugin });
  const t1 = performance.now();
  try {
    await host.configure({});
    const t2 = performance.now();
    const { inputs: checked } = await host.check(urn, {}, inputs);
    const t3 = performance.now();
    await host.create(urn, checked);
    const t4 = performance.now();
    return {
      providerBytes: plugin ? 0 : providerBytes,
      spawnInMs: Math.round(t1 - t0),
      configureInMs: Math.round(t2 - t1),
      firstCheckInMs: Math.round(t3 - t2),
      firstCreateInMs: Math.round(t4 - t3),
    };
  } finally {
    await host.stop();
  }
}
