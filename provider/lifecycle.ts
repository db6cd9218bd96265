/**
 * The lifecycle decisions of a RemoteAssistancePartner as pure functions: which inputs are valid, what changed,
 * and which Graph calls bring the live partner to the desired state. `host.ts` carries them out.
 */
import { apiVersions, type ApiVersion } from "./graph/client";
import type { OnboardingStatus, Partner, PartnerFields } from "./graph/partners";
import { isTenantId } from "./settings";

/** What a Pulumi program declares, after `check` applied the defaults. */
export interface PartnerInputs {
  displayName: string;
  onboardingUrl?: string;
  partnerId?: string;
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
}

/** The value the engine sends for an input not known yet (during preview), whatever its type. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const isUnknown = (v: unknown) => v === UNKNOWN;

/** The inputs of a RemoteAssistancePartner, by name. */
export const INPUT_NAMES = [
  "displayName",
  "onboardingUrl",
  "partnerId",
  "connected",
  "deleteOnDestroy",
  "tenantId",
  "apiVersion",
];

export interface CheckFailure {
  property: string;
  reason: string;
}

/**
 * Validates inputs and applies defaults (`connected: true`, `apiVersion: "beta"`, `deleteOnDestroy: true` when
 * creating, `false` when adopting). Unknown values pass. Never throws, never calls Graph.
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

  if (inputs.displayName === undefined)
    fail(
      "displayName",
      'displayName is required: the partner\'s name in Intune, e.g. "TeamViewer Connector"',
    );
  else if (
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
  for (const flag of ["connected", "deleteOnDestroy"]) {
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
  if (inputs.deleteOnDestroy === undefined && !isUnknown(inputs.partnerId)) {
    inputs.deleteOnDestroy = inputs.partnerId === undefined;
  }
  return { inputs, failures };
}

function isHttpsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" && url.hostname !== "" && !url.username && !url.password;
  } catch {
    return false;
  }
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
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
  deleteBeforeReplace: boolean;
  /** The properties that differ, for tests and messages. */
  diffs: string[];
}

/**
 * Desired inputs against the state's outputs, which after a refresh are the live partner: a portal-side
 * reconnect or disconnect shows as a `connected` difference. `partnerId` or tenant changed → replace.
 */
export function diffPartner(
  olds: Partial<PartnerOutputs>,
  news: Record<string, unknown>,
  defaultTenantId: string | undefined,
  nowMs: number,
): DiffResult {
  const diffs: string[] = [];
  const replaces: string[] = [];
  const changed = (key: string, differs: boolean) => {
    if (isUnknown(news[key]) || differs) diffs.push(key);
  };
  changed("displayName", news.displayName !== olds.displayName);
  changed("onboardingUrl", news.onboardingUrl !== undefined && news.onboardingUrl !== olds.onboardingUrl);
  const liveConnected = isConnected(
    olds.onboardingStatus ?? "notOnboarded",
    olds.onboardingRequestExpiryDateTime,
    nowMs,
  );
  changed("connected", (news.connected ?? true) !== liveConnected);
  changed(
    "deleteOnDestroy",
    news.deleteOnDestroy !== undefined && news.deleteOnDestroy !== olds.deleteOnDestroy,
  );
  changed("apiVersion", (news.apiVersion ?? "beta") !== (olds.apiVersion ?? "beta"));

  // Adopting another partner, or no longer adopting one, is another object.
  const partnerIdChanged = olds.adopted
    ? news.partnerId !== olds.partnerId
    : news.partnerId !== undefined && news.partnerId !== olds.partnerId;
  if (isUnknown(news.partnerId) || partnerIdChanged) replaces.push("partnerId");
  const tenantId = news.tenantId ?? defaultTenantId;
  if (isUnknown(tenantId) || (olds.tenantId !== undefined && tenantId !== olds.tenantId))
    replaces.push("tenantId");
  diffs.push(...replaces);
  return {
    changes: diffs.length > 0,
    replaces,
    // A replacement that creates a partner of the same name in the same tenant must remove the old one first.
    deleteBeforeReplace:
      replaces.length > 0 && news.partnerId === undefined && !replaces.includes("tenantId"),
    diffs,
  };
}

/** One Graph call of a plan. */
export type Step =
  { call: "patch"; fields: PartnerFields } | { call: "beginOnboarding" } | { call: "disconnect" };

/** The calls that take a partner from `connected` (as seen) to the desired connection state. */
export function planConnection(desired: boolean, liveConnected: boolean): Step[] {
  if (desired === liveConnected) return [];
  return desired ? [{ call: "beginOnboarding" }] : [{ call: "disconnect" }];
}

/**
 * The calls of an update: PATCH only changed fields; a new `onboardingUrl` on a connected partner means
 * disconnect, patch, begin onboarding again (the connector was authorised at the old URL).
 */
export function planUpdate(
  live: { displayName: string | null; onboardingUrl: string | null; connected: boolean },
  desired: { displayName: string; onboardingUrl?: string; connected: boolean },
): Step[] {
  const fields: PartnerFields = {};
  if (desired.displayName !== live.displayName) fields.displayName = desired.displayName;
  const urlChanged = desired.onboardingUrl !== undefined && desired.onboardingUrl !== live.onboardingUrl;
  if (urlChanged) fields.onboardingUrl = desired.onboardingUrl;
  const patch: Step[] = Object.keys(fields).length > 0 ? [{ call: "patch", fields }] : [];
  if (urlChanged && live.connected) {
    return [
      { call: "disconnect" },
      ...patch,
      ...(desired.connected ? [{ call: "beginOnboarding" } as Step] : []),
    ];
  }
  if (desired.connected && !live.connected) return [...patch, ...planConnection(true, false)];
  return [...planConnection(desired.connected, live.connected), ...patch];
}

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
  own: { tenantId: string; apiVersion: ApiVersion; deleteOnDestroy: boolean; adopted: boolean },
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
  };
}
