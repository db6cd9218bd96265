/**
 * The lifecycle decisions of a RemoteAssistanceSettings as pure functions: which inputs are valid, what
 * differs, which fields to PATCH, and what a destroy puts back. `operations.ts` carries them out.
 */
import {
  REMOTE_HELP_FIELDS,
  remoteAssistanceStates,
  type RemoteHelpField,
  type RemoteHelpSettings,
} from "../graph/remoteHelp";
import { isUnknown, type CheckFailure } from "../core/inputs";
import { compareTenants, isTenantId } from "../core/tenants";

/** What a program declares: each field optional, an omitted one left as the tenant has it. */
export interface RemoteHelpInputs extends Partial<RemoteHelpSettings> {
  tenantId?: string;
}

/** What the state holds: the live settings, the fields the stack manages, and what they were before. */
export interface RemoteHelpOutputs extends RemoteHelpSettings {
  tenantId: string;
  /** The fields this resource manages: the ones its program declared. */
  managed: RemoteHelpField[];
  /** Each managed field's value before the stack managed it: what destroy puts back. */
  original: Partial<RemoteHelpSettings>;
  /** Which resource this is, so that two resources of one tenant are told apart. */
  instance: string;
}

export const REMOTE_HELP_INPUT_NAMES: readonly string[] = [...REMOTE_HELP_FIELDS, "tenantId"];

/** Validates inputs, naming the property of each problem. Unknown values pass. Never throws, never calls Graph. */
export function checkRemoteHelp(news: Record<string, unknown>): {
  inputs: Record<string, unknown>;
  failures: CheckFailure[];
} {
  const failures: CheckFailure[] = [];
  const inputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(news ?? {})) {
    if (key === "__provider") inputs[key] = value;
    else if (!REMOTE_HELP_INPUT_NAMES.includes(key))
      failures.push({
        property: key,
        reason: `'${key}' is not an input of RemoteAssistanceSettings (inputs: ${REMOTE_HELP_INPUT_NAMES.join(", ")})`,
      });
    else if (value !== undefined && value !== null) inputs[key] = value;
  }
  const known = (key: string) => inputs[key] !== undefined && !isUnknown(inputs[key]);
  if (
    known("remoteAssistanceState") &&
    !(remoteAssistanceStates as readonly unknown[]).includes(inputs.remoteAssistanceState)
  ) {
    failures.push({
      property: "remoteAssistanceState",
      reason: `remoteAssistanceState must be "enabled" or "disabled", not ${JSON.stringify(inputs.remoteAssistanceState)}`,
    });
  }
  for (const flag of ["allowSessionsToUnenrolledDevices", "blockChat"]) {
    if (known(flag) && typeof inputs[flag] !== "boolean")
      failures.push({
        property: flag,
        reason: `${flag} must be true or false, not ${JSON.stringify(inputs[flag])}`,
      });
  }
  if (known("tenantId") && (typeof inputs.tenantId !== "string" || !isTenantId(inputs.tenantId))) {
    failures.push({
      property: "tenantId",
      reason: `tenantId must be a tenant GUID or a domain such as contoso.onmicrosoft.com, not ${JSON.stringify(inputs.tenantId)}`,
    });
  }
  return { inputs, failures };
}

/** The fields the program declares, with their values. */
export function declared(news: RemoteHelpInputs): Partial<RemoteHelpSettings> {
  return Object.fromEntries(
    REMOTE_HELP_FIELDS.filter((f) => news[f] !== undefined).map((f) => [f, news[f]]),
  ) as Partial<RemoteHelpSettings>;
}

/** The declared fields whose live value differs: what one PATCH sends (nothing: no write). */
export function fieldsToPatch(
  live: RemoteHelpSettings,
  wanted: Partial<RemoteHelpSettings>,
): Partial<RemoteHelpSettings> {
  return Object.fromEntries(
    (Object.entries(wanted) as [RemoteHelpField, unknown][]).filter(([f, v]) => live[f] !== v),
  ) as Partial<RemoteHelpSettings>;
}

/**
 * Which fields the resource manages after the program declared `wanted`, and their values from before the
 * stack managed them: a field managed already keeps its recorded original; a newly declared one records the
 * live value it has now; a field no longer declared is released (left as it is, its original forgotten).
 */
export function managedAfter(
  before: { managed?: RemoteHelpField[]; original?: Partial<RemoteHelpSettings> },
  live: RemoteHelpSettings,
  wanted: Partial<RemoteHelpSettings>,
): { managed: RemoteHelpField[]; original: Partial<RemoteHelpSettings> } {
  const managed = REMOTE_HELP_FIELDS.filter((f) => wanted[f] !== undefined);
  const original = Object.fromEntries(
    managed.map((f) => [f, before.managed?.includes(f) ? before.original?.[f] : live[f]]),
  ) as Partial<RemoteHelpSettings>;
  return { managed, original };
}

/** What destroy PATCHes: each managed field back to its recorded original. */
export function restoreOnDestroy(outputs: Partial<RemoteHelpOutputs>): Partial<RemoteHelpSettings> {
  return Object.fromEntries(
    (outputs.managed ?? [])
      .filter((f) => outputs.original?.[f] !== undefined)
      .map((f) => [f, outputs.original![f]]),
  ) as Partial<RemoteHelpSettings>;
}

/**
 * Declared against the state (after a refresh: the live settings): a declared field that differs is an update;
 * a field newly declared or released is an update with no Graph call. The tenant follows the partner's rule: the
 * recorded one, unless a declared `tenantId` names another tenant (a replacement). `sameTenant` is Entra's
 * answer where the spellings cannot be compared offline.
 */
export function diffRemoteHelp(
  olds: Partial<RemoteHelpOutputs>,
  news: Record<string, unknown>,
  sameTenant?: boolean,
): { changes: boolean; replaces: string[]; diffs: string[]; reasons: string[] } {
  const diffs: string[] = [];
  const reasons: string[] = [];
  const replaces: string[] = [];
  for (const f of REMOTE_HELP_FIELDS) {
    const value = news[f];
    if (isUnknown(value)) {
      diffs.push(f);
      reasons.push(`${f} is not known until the update runs`);
    } else if (value !== undefined && value !== olds[f]) {
      diffs.push(f);
      reasons.push(
        `${f}: the tenant has ${JSON.stringify(olds[f])}, the program declares ${JSON.stringify(value)}`,
      );
    } else if ((value !== undefined) !== (olds.managed ?? []).includes(f)) {
      diffs.push(f);
      reasons.push(
        value === undefined
          ? `${f} is no longer declared: left as the tenant has it (no Graph call)`
          : `${f} is now managed (no Graph call)`,
      );
    }
  }
  const declaredTenant = news.tenantId;
  if (isUnknown(declaredTenant)) {
    replaces.push("tenantId");
    reasons.push("tenantId is not known until the update runs");
  } else if (typeof declaredTenant === "string" && typeof olds.tenantId === "string") {
    const relation = compareTenants(olds.tenantId, declaredTenant);
    const same = relation === "unknown" ? sameTenant : relation === "same";
    if (same === undefined)
      throw new Error(`cannot tell offline whether ${olds.tenantId} and ${declaredTenant} are one tenant`);
    if (!same) {
      replaces.push("tenantId");
      reasons.push(
        `tenantId: ${olds.tenantId} in state, ${declaredTenant} declared: manages ${declaredTenant}'s settings, then puts ${olds.tenantId}'s back`,
      );
    } else if (declaredTenant !== olds.tenantId) {
      diffs.push("tenantId");
      reasons.push(
        `tenantId: ${olds.tenantId} in state names the same tenant as ${declaredTenant}: records the new spelling (no Graph call)`,
      );
    }
  }
  diffs.push(...replaces);
  return { changes: diffs.length > 0, replaces, diffs, reasons };
}
