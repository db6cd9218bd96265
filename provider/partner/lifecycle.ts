/**
 * The lifecycle decisions of a RemoteAssistancePartner as pure functions: which inputs are valid, what changed,
 * and which Graph calls bring the live partner to the desired state. `operations.ts` carries them out.
 */
import { describe, isUnknown, type CheckFailure } from "../core/inputs";
import { compareTenants, GUID, isTenantId } from "../core/tenants";
import { apiVersions, type ApiVersion } from "../graph/client";
import type { OnboardingStatus, Partner, PartnerFields } from "../graph/partners";

/** What a Pulumi program declares, after `check` applied the defaults. */
export interface PartnerInputs {
  /** Required but when adopting by `partnerId`: then an omitted name is left as Graph has it. */
  displayName?: string;
  onboardingUrl?: string;
  partnerId?: string;
  /** Adopt the tenant's existing partner named `displayName` instead of creating one. */
  adopt?: boolean;
  connected: boolean;
  deleteOnDestroy?: boolean;
  tenantId?: string;
  apiVersion: ApiVersion;
}

/** What the state holds: the desired settings and the live partner as last seen. */
export interface PartnerOutputs {
  displayName: string;
  onboardingUrl: string | null;
  partnerId: string;
  /** Whether the connector is up (`onboarding` or `onboarded`), as last seen. */
  connected: boolean;
  deleteOnDestroy: boolean;
  tenantId: string;
  apiVersion: ApiVersion;
  onboardingStatus: OnboardingStatus;
  lastConnectionDateTime: string | null;
  /** beta only; `null` when unknown. */
  onboardingRequestExpiryDateTime: string | null;
  adopted: boolean;
  /**
   * Declared values Graph did not keep (it ignored the write, or the service writes the property itself), by
   * property: left as Graph has them and not written again while the program declares the same value.
   * Absent in state written before release 0.2.0.
   */
  notKept?: NotKept;
}

/** Declared values of writable properties that Graph did not keep. */
export type NotKept = { displayName?: string; onboardingUrl?: string };

/** The inputs of a RemoteAssistancePartner, by name. */
export const INPUT_NAMES = [
  "displayName",
  "onboardingUrl",
  "partnerId",
  "adopt",
  "connected",
  "deleteOnDestroy",
  "tenantId",
  "apiVersion",
];

/**
 * Validates inputs and applies the defaults that do not depend on the state (`connected: true`,
 * `apiVersion: "beta"`; `deleteOnDestroy` follows the ownership recorded in state, see
 * {@link deleteOnDestroyOf}). Unknown values pass. Never throws, never calls Graph.
 */
export function checkInputs(news: Record<string, unknown>): {
  inputs: Record<string, unknown>;
  failures: CheckFailure[];
} {
  const failures: CheckFailure[] = [];
  const fail = (property: string, reason: string) => failures.push({ property, reason });
  const inputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(news ?? {})) {
    if (key === "__provider") inputs[key] = value;
    else if (!INPUT_NAMES.includes(key))
      fail(key, `'${key}' is not an input of RemoteAssistancePartner (inputs: ${INPUT_NAMES.join(", ")})`);
    else if (value !== undefined && value !== null) inputs[key] = value;
  }
  const known = (key: string) => inputs[key] !== undefined && !isUnknown(inputs[key]);

  if (inputs.displayName === undefined && inputs.partnerId === undefined)
    fail(
      "displayName",
      inputs.adopt === true
        ? 'adopt: true needs displayName: the name of the tenant\'s partner to adopt, e.g. "TeamViewer Connector"'
        : 'displayName is required (unless partnerId names a partner to adopt): the partner\'s name in Intune, e.g. "TeamViewer Connector"',
    );
  else if (
    inputs.displayName !== undefined &&
    known("displayName") &&
    (typeof inputs.displayName !== "string" || inputs.displayName.trim() === "")
  ) {
    fail("displayName", "displayName must be a non-empty string");
  } else if (known("displayName") && (inputs.displayName as string).length > 256) {
    fail("displayName", "displayName must be at most 256 characters");
  }

  if (known("onboardingUrl")) {
    const url = inputs.onboardingUrl;
    if (typeof url !== "string" || !isHttpsUrl(url)) {
      fail(
        "onboardingUrl",
        `onboardingUrl must be an https URL such as https://login.teamviewer.com/..., not ${describe(url)}`,
      );
    }
  }
  if (known("partnerId")) {
    const id = inputs.partnerId;
    if (typeof id !== "string" || !/^[^\s/?#]+$/.test(id)) {
      fail(
        "partnerId",
        `partnerId must be the id of an existing partner (no spaces or slashes), not ${describe(id)}`,
      );
    }
  }
  for (const flag of ["connected", "deleteOnDestroy", "adopt"]) {
    if (known(flag) && typeof inputs[flag] !== "boolean")
      fail(flag, `${flag} must be true or false, not ${describe(inputs[flag])}`);
  }
  if (known("tenantId") && (typeof inputs.tenantId !== "string" || !isTenantId(inputs.tenantId))) {
    fail(
      "tenantId",
      `tenantId must be a tenant GUID or a domain such as contoso.onmicrosoft.com, not ${describe(inputs.tenantId)}`,
    );
  }
  if (known("apiVersion") && !(apiVersions as readonly unknown[]).includes(inputs.apiVersion)) {
    fail("apiVersion", `apiVersion must be "beta" or "v1.0", not ${describe(inputs.apiVersion)}`);
  }

  inputs.connected ??= true;
  inputs.apiVersion ??= "beta";
  return { inputs, failures };
}

/**
 * Whether destroy DELETEs the partner: as declared, else `true` for a partner the stack created and `false`
 * for one it adopted. Ownership is what the state recorded at create, not whether `partnerId` is still set:
 * removing `partnerId` after adopting keeps the partner adopted, so its default never flips to deleting it.
 */
export function deleteOnDestroyOf(declared: unknown, adopted: boolean): boolean {
  return typeof declared === "boolean" ? declared : !adopted;
}

function isHttpsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" && url.hostname !== "" && !url.username && !url.password;
  } catch {
    return false;
  }
}

/** Whether a live status counts as connected: `onboarded`, or `onboarding` whose request has not expired. */
export function isConnected(
  status: OnboardingStatus,
  expiry: string | null | undefined,
  nowMs: number,
): boolean {
  if (status === "onboarded") return true;
  if (status !== "onboarding") return false;
  const expiresAtMs = expiry ? Date.parse(expiry) : NaN;
  // Graph's "never" (0001-01-01) or no expiry at all: the request is pending.
  return Number.isNaN(expiresAtMs) || expiresAtMs <= 0 || expiresAtMs > nowMs;
}

export interface DiffResult {
  /** `true` also whenever an input is still unknown (preview): never "no change" on a guess. */
  changes: boolean;
  replaces: string[];
  /** The properties that differ, for tests and messages. */
  diffs: string[];
  /** One sentence per difference, the live or recorded value against the declared one: for the engine log. */
  reasons: string[];
}

/**
 * Desired inputs against the state's outputs, which after a refresh are the live partner: a portal-side
 * reconnect or disconnect shows as a `connected` difference. The state is the source of the partner's identity:
 * - `partnerId` pointing at another partner replaces (create-before-delete: the new partner is adopted first,
 *   then the old one is released as destroy defines it); removing `partnerId`, or setting it to the partner's
 *   own id, changes nothing.
 * - The tenant is the one recorded in state. Only a declared `tenantId` naming another tenant replaces; no
 *   declared `tenantId` keeps the recorded one, whatever this machine's default. `sameTenant` is Entra's answer
 *   where the two spellings cannot be compared offline ({@link compareTenants} `unknown`); the same tenant
 *   spelled anew is an update that records the new spelling.
 * Never asks for delete-before-replace: a replacement never creates a partner where the old one is.
 */
export function diffPartner(
  olds: Partial<PartnerOutputs>,
  news: Record<string, unknown>,
  nowMs: number,
  sameTenant?: boolean,
): DiffResult {
  const diffs: string[] = [];
  const replaces: string[] = [];
  const reasons: string[] = [];
  const differs = (key: string, differ: boolean, reason: () => string, replace = false) => {
    if (!isUnknown(news[key]) && !differ) return;
    (replace ? replaces : diffs).push(key);
    reasons.push(isUnknown(news[key]) ? `${key} is not known until the update runs` : reason());
  };
  const adopted = olds.adopted ?? false;

  const notKept = olds.notKept ?? {};
  differs(
    "displayName",
    news.displayName !== undefined &&
      !sameName(news.displayName, olds.displayName) &&
      news.displayName !== notKept.displayName,
    () =>
      `displayName: the partner is named ${quote(olds.displayName)}, the program declares ${quote(news.displayName)}`,
  );
  differs(
    "onboardingUrl",
    news.onboardingUrl !== undefined &&
      news.onboardingUrl !== olds.onboardingUrl &&
      news.onboardingUrl !== notKept.onboardingUrl,
    () =>
      `onboardingUrl: the partner has ${quote(olds.onboardingUrl)}, the program declares ${quote(news.onboardingUrl)}`,
  );
  const status = olds.onboardingStatus ?? "notOnboarded";
  const expiry = olds.onboardingRequestExpiryDateTime;
  const liveConnected = isConnected(status, expiry, nowMs);
  const declaredConnected = news.connected ?? true;
  differs("connected", declaredConnected !== liveConnected, () =>
    declaredConnected
      ? `connected: the program declares true, but the partner is ${status}` +
        (status === "onboarding" ? ` and its onboarding request expired at ${expiry}` : "") +
        ": beginOnboarding"
      : `connected: the program declares false, but the partner is ${status}: disconnect`,
  );
  const deleteOnDestroy = deleteOnDestroyOf(news.deleteOnDestroy, adopted);
  differs(
    "deleteOnDestroy",
    olds.deleteOnDestroy !== undefined && deleteOnDestroy !== olds.deleteOnDestroy,
    () => `deleteOnDestroy: ${olds.deleteOnDestroy} in state, ${deleteOnDestroy} declared (no Graph call)`,
  );
  differs(
    "apiVersion",
    (news.apiVersion ?? "beta") !== (olds.apiVersion ?? "beta"),
    () => `apiVersion: ${olds.apiVersion ?? "beta"} in state, ${news.apiVersion} declared (no Graph call)`,
  );

  const release = `then releases partner ${olds.partnerId} as destroy would (disconnect${olds.deleteOnDestroy ? ", DELETE" : ""})`;
  differs(
    "partnerId",
    news.partnerId !== undefined && !sameId(String(news.partnerId), olds.partnerId ?? ""),
    () =>
      `partnerId: ${olds.partnerId} in state, ${news.partnerId} declared: adopts ${news.partnerId} first, ${release}`,
    true,
  );
  const declaredTenant = news.tenantId;
  if (typeof declaredTenant === "string" && !isUnknown(declaredTenant) && typeof olds.tenantId === "string") {
    const relation = compareTenants(olds.tenantId, declaredTenant);
    const same = relation === "unknown" ? sameTenant : relation === "same";
    if (same === undefined)
      throw new Error(`cannot tell offline whether ${olds.tenantId} and ${declaredTenant} are one tenant`);
    if (same && declaredTenant !== olds.tenantId) {
      diffs.push("tenantId");
      reasons.push(
        `tenantId: ${olds.tenantId} in state names the same tenant as ${declaredTenant}: records the new spelling (no Graph call)`,
      );
    } else if (!same) {
      replaces.push("tenantId");
      reasons.push(
        `tenantId: ${olds.tenantId} in state, ${declaredTenant} declared: ${news.partnerId === undefined ? "creates" : "adopts"} the partner in ${declaredTenant} first, ${release} in ${olds.tenantId}`,
      );
    }
  } else if (isUnknown(declaredTenant)) {
    replaces.push("tenantId");
    reasons.push("tenantId is not known until the update runs");
  }
  diffs.push(...replaces);
  return { changes: diffs.length > 0, replaces, diffs, reasons };
}

/** Partner ids: GUIDs compare ignoring letter case, anything else exactly. */
function sameId(a: string, b: string): boolean {
  return GUID.test(a) && GUID.test(b) ? a.toLowerCase() === b.toLowerCase() : a === b;
}

function quote(value: unknown): string {
  return value === null || value === undefined ? "none" : `'${String(value)}'`;
}

/** One Graph call of a plan. */
export type Step =
  { call: "patch"; fields: PartnerFields } | { call: "beginOnboarding" } | { call: "disconnect" };

/** The calls that take a partner from `connected` (as seen) to the desired connection state. */
export function planConnection(desired: boolean, liveConnected: boolean): Step[] {
  if (desired === liveConnected) return [];
  return desired ? [{ call: "beginOnboarding" }] : [{ call: "disconnect" }];
}

/** The live partner as planning sees it. */
export interface LiveView {
  displayName: string | null;
  onboardingUrl: string | null;
  connected: boolean;
  notKept?: NotKept;
}

/** What the program declares that planning acts on; an undefined field is left as Graph has it. */
export interface Desired {
  displayName?: string;
  onboardingUrl?: string;
  connected: boolean;
}

/**
 * The calls of an update: a PATCH of the declared fields that differ (names ignoring letter case, values Graph
 * did not keep not again), and only the connection change the program declares. A new `onboardingUrl` never
 * disconnects a connected partner: a disconnect happens only for `connected: false`. Connecting PATCHes first,
 * so that onboarding begins with the new fields; disconnecting disconnects first.
 */
export function planUpdate(live: LiveView, desired: Desired): Step[] {
  const fields: PartnerFields = {};
  const notKept = live.notKept ?? {};
  if (
    desired.displayName !== undefined &&
    !sameName(desired.displayName, live.displayName) &&
    desired.displayName !== notKept.displayName
  )
    fields.displayName = desired.displayName;
  if (
    desired.onboardingUrl !== undefined &&
    desired.onboardingUrl !== live.onboardingUrl &&
    desired.onboardingUrl !== notKept.onboardingUrl
  )
    fields.onboardingUrl = desired.onboardingUrl;
  const patch: Step[] = Object.keys(fields).length > 0 ? [{ call: "patch", fields }] : [];
  if (desired.connected && !live.connected) return [...patch, ...planConnection(true, false)];
  return [...planConnection(desired.connected, live.connected), ...patch];
}

/**
 * Whether to read the partner back after `steps`: a PATCH may not be kept, and beginning onboarding may make
 * the service write its own `onboardingUrl`, which matters only when the program declares one.
 */
export function needsReadBack(steps: Step[], desired: Desired): boolean {
  return steps.some(
    (s) => s.call === "patch" || (s.call === "beginOnboarding" && desired.onboardingUrl !== undefined),
  );
}

/** The declared values the live partner does not hold after the writes: what Graph did not keep. */
export function notKeptAfter(
  live: Pick<LiveView, "displayName" | "onboardingUrl">,
  desired: Desired,
): NotKept {
  const notKept: NotKept = {};
  if (desired.displayName !== undefined && !sameName(desired.displayName, live.displayName))
    notKept.displayName = desired.displayName;
  if (desired.onboardingUrl !== undefined && desired.onboardingUrl !== live.onboardingUrl)
    notKept.onboardingUrl = desired.onboardingUrl;
  return notKept;
}

/** Partner names compare trimmed and ignoring letter case, as the duplicate-name check and Intune show them. */
export const sameName = (a: unknown, b: unknown) =>
  typeof a === "string" && typeof b === "string" && a.trim().toLowerCase() === b.trim().toLowerCase();

/** The calls of a delete: always disconnect (the state may be stale), then DELETE when asked. */
export function planDelete(deleteOnDestroy: boolean): ("disconnect" | "delete")[] {
  return deleteOnDestroy ? ["disconnect", "delete"] : ["disconnect"];
}

/** The status a partner has after `steps` succeeded. */
export function statusAfter(status: OnboardingStatus, steps: Step[]): OnboardingStatus {
  return steps.reduce<OnboardingStatus>(
    (s, step) =>
      step.call === "disconnect"
        ? "notOnboarded"
        : step.call === "beginOnboarding" && s === "notOnboarded"
          ? "onboarding"
          : s,
    status,
  );
}

/** State outputs from the live partner and the resource's own settings; no `undefined` (protobuf refuses it). */
export function toOutputs(
  live: Partner,
  own: {
    tenantId: string;
    apiVersion: ApiVersion;
    deleteOnDestroy: boolean;
    adopted: boolean;
    notKept?: NotKept;
  },
  nowMs: number,
): PartnerOutputs {
  const expiry = live.onboardingRequestExpiryDateTime ?? null;
  return {
    displayName: live.displayName ?? "",
    onboardingUrl: live.onboardingUrl,
    partnerId: live.id,
    connected: isConnected(live.onboardingStatus, expiry, nowMs),
    deleteOnDestroy: own.deleteOnDestroy,
    tenantId: own.tenantId,
    apiVersion: own.apiVersion,
    onboardingStatus: live.onboardingStatus,
    lastConnectionDateTime: live.lastConnectionDateTime ?? null,
    onboardingRequestExpiryDateTime: own.apiVersion === "beta" ? expiry : null,
    adopted: own.adopted,
    notKept: own.notKept ?? {},
  };
}
