/**
 * The fault matrix: every provider operation × every fault the emulator injects, on the operation's key
 * Graph request. A transient fault must end with the operation completed and the right end state; a
 * permanent one with a clear error (request-id or client-request-id) and nothing half-done.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Emulator, Fault, FaultMatch } from "../emulator";
import type { OnboardingStatus, StoredPartner, TenantStore } from "../emulator/store";
import { ENGINE_LOST_EXIT_CODE } from "../provider/core/lifeline";
import { provider, remoteAssistanceSettings } from "../provider/host";
import type { PartnerOutputs } from "../provider/partner/lifecycle";
import { REMOTE_ASSISTANCE_SETTINGS_TYPE } from "../provider/remoteHelp/resource";
import {
  FakeEngine,
  programInputs,
  ProviderHost,
  settingsInputs,
  urnOf,
  type Props,
} from "../testing/engine";

export interface MatrixFault {
  name: string;
  fault: Fault | "revoke";
  /** How many requests in a row it hits. Default 1. */
  times?: number;
  /** Transient faults must not fail the operation... */
  transient: boolean;
  /** ...but for these operations, where the fault is a real answer. */
  permanentFor?: string[];
}

export const matrixFaults: MatrixFault[] = [
  {
    name: "429 Retry-After seconds",
    fault: { kind: "status", status: 429, retryAfter: "1" },
    transient: true,
  },
  {
    name: "429 Retry-After fractional",
    fault: { kind: "status", status: 429, retryAfter: "0.25" },
    transient: true,
  },
  {
    name: "429 Retry-After HTTP date",
    fault: { kind: "status", status: 429, retryAfter: "date+1" },
    transient: true,
  },
  { name: "429 retry-after-ms", fault: { kind: "status", status: 429, retryAfterMs: 200 }, transient: true },
  { name: "429 no Retry-After", fault: { kind: "status", status: 429 }, transient: true },
  {
    name: "500 Intune nested message",
    fault: { kind: "status", status: 500, body: "intune" },
    transient: true,
  },
  {
    // Idempotent calls are retried; a create's 500 is reconciled like a lost answer: sent once more after
    // Graph showed nothing, the second 500 ends it with a clear error.
    name: "500 twice in a row",
    fault: { kind: "status", status: 500, body: "intune" },
    times: 2,
    transient: true,
    permanentFor: ["create"],
  },
  { name: "502", fault: { kind: "status", status: 502 }, transient: true },
  { name: "503 non-JSON body", fault: { kind: "status", status: 503, body: "text" }, transient: true },
  { name: "504", fault: { kind: "status", status: 504 }, transient: true },
  { name: "dropped before commit", fault: { kind: "drop", when: "beforeCommit" }, transient: true },
  { name: "dropped after commit", fault: { kind: "drop", when: "afterCommit" }, transient: true },
  { name: "slower than the timeout", fault: { kind: "slow", delayMs: 1_500 }, transient: true },
  {
    name: "401 expired token",
    fault: { kind: "status", status: 401, code: "InvalidAuthenticationToken" },
    transient: true,
  },
  { name: "401 revoked token", fault: "revoke", transient: true },
  { name: "403", fault: { kind: "status", status: 403, body: "intune" }, transient: false },
  {
    // Intune is eventually consistent; but the collection a create POSTs to, and a singleton, cannot be missing.
    name: "404",
    fault: { kind: "status", status: 404, code: "ResourceNotFound" },
    transient: true,
    permanentFor: ["create", "settings create", "settings PATCH"],
  },
  { name: "409", fault: { kind: "status", status: 409 }, transient: false },
  { name: "malformed JSON", fault: { kind: "malformed" }, transient: true },
];

interface Cell {
  id?: string;
  olds?: PartnerOutputs;
}

/** The two resources' providers an operation calls. */
interface Providers {
  partner: pulumi.dynamic.ResourceProvider;
  settings: pulumi.dynamic.ResourceProvider;
}

const inProcess: Providers = { partner: provider, settings: remoteAssistanceSettings };

interface MatrixOp {
  name: string;
  /** The request the fault hits. */
  key: FaultMatch;
  prepare(store: TenantStore): StoredPartner | undefined;
  /** Runs the operation with the providers of this process, or of a host (`via`). */
  run(tenantId: string, seeded: StoredPartner | undefined, via?: Providers): Promise<Cell>;
  /** After success: `undefined` when the end state is right, else what is wrong. */
  succeeded(store: TenantStore, seeded: StoredPartner | undefined, cell: Cell): string | undefined;
  /** After a failure: `undefined` when nothing is half-done, else what is. */
  failed(store: TenantStore, seeded: StoredPartner | undefined): string | undefined;
}

const ITEM = /^\/deviceManagement\/remoteAssistancePartners\/[^/]+$/;
const NAME = "Matrix Partner";

const outputs = (p: StoredPartner, tenantId: string, over: Partial<PartnerOutputs> = {}): PartnerOutputs => ({
  displayName: p.displayName ?? "",
  onboardingUrl: p.onboardingUrl,
  partnerId: p.id,
  connected: p.status !== "notOnboarded",
  deleteOnDestroy: true,
  tenantId,
  apiVersion: "beta",
  onboardingStatus: p.status,
  lastConnectionDateTime: null,
  onboardingRequestExpiryDateTime: null,
  adopted: false,
  ...over,
});
const checked = async (news: Record<string, unknown>) => (await provider.check({}, news)).inputs;
const status = (store: TenantStore, id: string) => store.all().find((p) => p.id === id)?.status ?? "missing";

const expectStatus =
  (wanted: OnboardingStatus | "missing") =>
  (store: TenantStore, seeded: StoredPartner | undefined): string | undefined =>
    status(store, seeded!.id) === wanted ? undefined : `status ${status(store, seeded!.id)}, not ${wanted}`;

/** An update whose one Graph call is `action`: the fault hits the action, the goal is a status. */
function actionOp(
  action: "beginOnboarding" | "disconnect",
  from: OnboardingStatus,
  to: OnboardingStatus,
  connected: boolean,
): MatrixOp {
  return {
    name: action,
    key: { method: "POST", path: `/${action}` },
    prepare: (store) => store.seed({ displayName: NAME, status: from }),
    run: async (tenantId, seeded, via = inProcess) => {
      const news = await checked({ displayName: NAME, tenantId, connected });
      await via.partner.update!(seeded!.id, outputs(seeded!, tenantId), news);
      return {};
    },
    succeeded: expectStatus(to),
    failed: expectStatus(from),
  };
}

export const matrixOps: MatrixOp[] = [
  {
    name: "create",
    key: { method: "POST", path: /^\/deviceManagement\/remoteAssistancePartners$/ },
    prepare: () => undefined,
    run: async (tenantId, _seeded, via = inProcess) => ({
      id: (await via.partner.create(await checked({ displayName: NAME, tenantId }))).id,
    }),
    succeeded: (store, _s, cell) => {
      const all = store.all();
      return all.length === 1 && all[0].id === cell.id && all[0].status === "onboarding"
        ? undefined
        : `tenant holds ${JSON.stringify(all.map((p) => [p.id, p.status]))}`;
    },
    failed: (store) =>
      store.all().length === 0 ? undefined : `left ${store.all().length} partner(s) behind`,
  },
  {
    name: "adopt",
    key: { method: "GET", path: ITEM },
    prepare: (store) => store.seed({ displayName: NAME, status: "onboarded" }),
    run: async (tenantId, seeded, via = inProcess) => ({
      id: (await via.partner.create(await checked({ displayName: NAME, tenantId, partnerId: seeded!.id })))
        .id,
    }),
    succeeded: (store, seeded, cell) =>
      cell.id === seeded!.id && status(store, seeded!.id) === "onboarded"
        ? undefined
        : "adopted the wrong partner or changed it",
    failed: (store, seeded) =>
      status(store, seeded!.id) === "onboarded" ? undefined : "changed the partner",
  },
  {
    name: "read",
    key: { method: "GET", path: ITEM },
    prepare: (store) => store.seed({ displayName: NAME, status: "onboarded" }),
    run: async (tenantId, seeded, via = inProcess) => {
      const result = await via.partner.read!(seeded!.id, { ...outputs(seeded!, tenantId) });
      return { id: result.id };
    },
    succeeded: (_store, seeded, cell) =>
      cell.id === seeded!.id ? undefined : "reported an existing partner as gone",
    failed: () => undefined,
  },
  {
    name: "PATCH",
    key: { method: "PATCH" },
    prepare: (store) => store.seed({ displayName: "Old Name", status: "onboarded" }),
    run: async (tenantId, seeded, via = inProcess) => {
      await via.partner.update!(
        seeded!.id,
        outputs(seeded!, tenantId),
        await checked({ displayName: NAME, tenantId }),
      );
      return {};
    },
    succeeded: (store, seeded) => {
      const p = store.all().find((x) => x.id === seeded!.id);
      return p?.displayName === NAME && p.status === "onboarded"
        ? undefined
        : `partner is ${JSON.stringify(p)}`;
    },
    failed: (store, seeded) =>
      store.all().find((x) => x.id === seeded!.id)?.displayName === "Old Name"
        ? undefined
        : "renamed although it failed",
  },
  actionOp("beginOnboarding", "notOnboarded", "onboarding", true),
  actionOp("disconnect", "onboarded", "notOnboarded", false),
  {
    name: "delete",
    key: { method: "DELETE" },
    prepare: (store) => store.seed({ displayName: NAME, status: "onboarded" }),
    run: async (tenantId, seeded, via = inProcess) => {
      await via.partner.delete!(seeded!.id, { ...outputs(seeded!, tenantId) });
      return {};
    },
    succeeded: expectStatus("missing"),
    // Disconnected but not deleted is the documented resumable state: the resource stays in state.
    failed: expectStatus("notOnboarded"),
  },
];

/** A RemoteAssistanceSettings operation whose key request is `key`: the goal is blockChat true. */
function remoteHelpOp(
  name: string,
  key: FaultMatch,
  run: (tenantId: string, settings: pulumi.dynamic.ResourceProvider) => Promise<unknown>,
): MatrixOp {
  const blockChat = (store: TenantStore) => store.remoteHelp.blockChat;
  return {
    name,
    key,
    prepare: () => undefined,
    run: async (tenantId, _seeded, via = inProcess) => (await run(tenantId, via.settings), {}),
    succeeded: (store) => (blockChat(store) ? undefined : "blockChat is not set"),
    failed: (store) => (blockChat(store) ? "blockChat set although it failed" : undefined),
  };
}

const SETTINGS = /^\/deviceManagement\/remoteAssistanceSettings$/;

/** Remote Help's settings: a create (GET, then one PATCH) and an update (one PATCH). */
export const remoteHelpOps: MatrixOp[] = [
  remoteHelpOp("settings create", { method: "GET", path: SETTINGS }, async (tenantId, settings) =>
    settings.create({ tenantId, blockChat: true }),
  ),
  remoteHelpOp("settings PATCH", { method: "PATCH", path: SETTINGS }, async (tenantId, settings) =>
    settings.update!(
      `${tenantId}/remoteAssistanceSettings`,
      {
        remoteAssistanceState: "disabled",
        allowSessionsToUnenrolledDevices: false,
        blockChat: false,
        tenantId,
        managed: ["blockChat"],
        original: { blockChat: false },
        instance: `matrix-${tenantId}`,
      },
      { tenantId, blockChat: true },
    ),
  ),
];

export interface MatrixRow {
  op: string;
  fault: string;
  outcome: "completed" | "clear error";
  requests: number;
  detail: string;
  violation?: string;
}

/**
 * Runs the matrix in this process against `emulator` (whose environment the caller exported and whose
 * certificate it trusts), each cell in a new tenant of the default app.
 */
export async function runFaultMatrix(
  emulator: Emulator,
  newTenant: () => string,
  ops: MatrixOp[] = [...matrixOps, ...remoteHelpOps],
  faults: MatrixFault[] = matrixFaults,
): Promise<MatrixRow[]> {
  await provider.configure({
    config: {
      get: (k: string) =>
        ({ "intune:consistencyWindowSeconds": "1", "intune:requestTimeoutSeconds": "0.5" })[k],
      require: () => "",
    },
  });
  const rows: MatrixRow[] = [];
  for (const op of ops) {
    for (const f of faults) {
      const tenantId = newTenant();
      const store = emulator.tenant(tenantId);
      const seeded = op.prepare(store);
      // A first call so that the token is cached: the revoke and 401 cells then hit a token in use.
      await provider.delete("warm-up", { tenantId, apiVersion: "beta", deleteOnDestroy: false });
      emulator.clearLog();
      if (f.fault === "revoke") emulator.entra.revokeTokens(tenantId);
      else emulator.faults.add(withDate(f.fault), { ...op.key, tenantId }, f.times);
      const { cell, error } = await outcome(op.run(tenantId, seeded));
      emulator.faults.clear();
      const requests = emulator.requests.length;
      const mustComplete = f.transient && !f.permanentFor?.includes(op.name);
      let violation: string | undefined;
      if (cell) {
        violation = op.succeeded(store, seeded, cell);
      } else {
        const message = error?.message ?? "";
        if (mustComplete) violation = `a transient fault failed the operation: ${message}`;
        else if (!/request-id/.test(message)) violation = `the error carries no request-id: ${message}`;
        else violation = op.failed(store, seeded);
      }
      rows.push({
        op: op.name,
        fault: f.name,
        outcome: cell ? "completed" : "clear error",
        requests,
        detail: cell ? "" : (error?.message ?? "").replace(/\s+/g, " ").slice(0, 120),
        violation,
      });
    }
  }
  return rows;
}

/** The fault no emulator answer stands for: the engine dies while Graph holds the operation's key request. */
export const ENGINE_LOST = "engine lost mid-operation";

/**
 * The {@link ENGINE_LOST} column: each operation runs in a dynamic-provider host of its own engine, whose engine
 * is stopped (its gRPC address closed, its pipes with it) once Graph holds the key request and answers it 1.5 s
 * later. The host must exit with {@link ENGINE_LOST_EXIT_CODE} within 5 s and Graph must hear nothing more from
 * it. Then the next `up` (the same operation, in this process) must complete, or, for a create whose POST
 * Graph committed, refuse a second partner and name the one Graph made (the user adopts it by `partnerId`).
 */
export async function runEngineLostCells(
  emulator: Emulator,
  newTenant: () => string,
  ops: MatrixOp[] = [...matrixOps, ...remoteHelpOps],
): Promise<MatrixRow[]> {
  const partnerProvider = (await programInputs("matrix", { displayName: NAME })).inputs.__provider;
  const settingsProvider = (await settingsInputs("matrix", {})).inputs.__provider;
  const rows: MatrixRow[] = [];
  for (const op of ops) {
    const tenantId = newTenant();
    const store = emulator.tenant(tenantId);
    const seeded = op.prepare(store);
    const engine = new FakeEngine();
    await engine.start();
    const host = await ProviderHost.start({ env: emulator.env(), engine });
    await host.configure({ "intune:consistencyWindowSeconds": "1" });
    const via: Providers = {
      partner: viaHost(host, urnOf("matrix"), partnerProvider),
      settings: viaHost(host, urnOf("matrix", REMOTE_ASSISTANCE_SETTINGS_TYPE), settingsProvider),
    };
    const injected = emulator.faults.injected;
    emulator.faults.add({ kind: "slow", delayMs: 1_500 }, { ...op.key, tenantId });
    const running = op.run(tenantId, seeded, via).catch((e: unknown) => e);
    const violations: string[] = [];
    if (!(await waitFor(() => emulator.faults.injected > injected, 10_000)))
      violations.push("the key request never reached Graph");
    const sent = emulator.requests.length;
    engine.stop();
    host.closePipes();
    const code = await Promise.race([host.exited, sleep(5_000).then(() => "running" as const)]);
    if (code !== ENGINE_LOST_EXIT_CODE)
      violations.push(
        `the host ${code === "running" ? "still runs" : `exited ${code}`} 5 s after its engine was lost`,
      );
    await sleep(2_000); // past the held answer
    const after = emulator.requests.slice(sent).filter((r) => r.tenantId === tenantId);
    if (after.length > 0)
      violations.push(
        `Graph received ${after.map((r) => `${r.method} ${r.path}`).join(", ")} after the engine was lost`,
      );
    if (code === "running") await host.stop();
    await running;
    emulator.faults.clear();
    // The next up, with what the state recorded before the loss.
    const { cell, error } = await outcome(op.run(tenantId, seeded));
    if (cell) {
      const wrong = op.succeeded(store, seeded, cell);
      if (wrong) violations.push(`the next up: ${wrong}`);
    } else {
      const made = store.all().map((p) => p.id);
      const namesIt =
        op.name === "create" && made.length === 1 && error!.message.includes(`partnerId: "${made[0]}"`);
      if (!namesIt) violations.push(`the next up failed: ${error?.message}`);
    }
    rows.push({
      op: op.name,
      fault: ENGINE_LOST,
      outcome: cell ? "completed" : "clear error",
      requests: emulator.requests.filter((r) => r.tenantId === tenantId).length,
      detail: cell ? "" : (error?.message ?? "").replace(/\s+/g, " ").slice(0, 120),
      violation: violations.length > 0 ? violations.join("; ") : undefined,
    });
  }
  return rows;
}

/** A resource's provider whose calls go to `host` under `urn`, as the engine makes them. */
function viaHost(host: ProviderHost, urn: string, serialized: unknown): pulumi.dynamic.ResourceProvider {
  const withProvider = (props: Record<string, unknown>): Props => ({ ...props, __provider: serialized });
  return {
    create: async (inputs) => {
      const { id, properties } = await host.create(urn, withProvider(inputs));
      return { id, outs: properties };
    },
    read: async (id, props) => {
      const read = await host.read(id, urn, withProvider(props), {});
      return { id: read.id, props: read.properties };
    },
    update: async (id, olds, news) => ({
      outs: await host.update(id, urn, withProvider(olds), withProvider(news)),
    }),
    delete: (id, props) => host.delete(id, urn, withProvider(props)),
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitFor(condition: () => boolean, timeoutInMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutInMs; !condition() && Date.now() < deadline;) await sleep(10);
  return condition();
}

/** What an operation came to: its cell, or the error it failed with. */
async function outcome(run: Promise<Cell>): Promise<{ cell?: Cell; error?: Error }> {
  try {
    return { cell: await run };
  } catch (e) {
    return { error: e as Error };
  }
}

function withDate(fault: Fault): Fault {
  return fault.kind === "status" && fault.retryAfter === "date+1"
    ? { ...fault, retryAfter: new Date(Date.now() + 1_000).toUTCString() }
    : fault;
}

/** The matrix as a Markdown table: one row per operation, one column per fault. */
export function matrixTable(rows: MatrixRow[]): string {
  const faults = [...new Set(rows.map((r) => r.fault))];
  const ops = [...new Set(rows.map((r) => r.op))];
  const mark = (r: MatrixRow | undefined) =>
    !r
      ? "·"
      : r.violation
        ? `✗ ${r.violation}`
        : r.outcome === "completed"
          ? `ok (${r.requests})`
          : `error (${r.requests})`;
  const lines = [`| fault | ${ops.join(" | ")} |`, `|---|${ops.map(() => "---").join("|")}|`];
  for (const fault of faults) {
    lines.push(
      `| ${fault} | ${ops.map((op) => mark(rows.find((r) => r.op === op && r.fault === fault))).join(" | ")} |`,
    );
  }
  return lines.join("\n");
}
