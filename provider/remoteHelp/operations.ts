/**
 * RemoteAssistanceSettings as it runs in the dynamic-provider host: Remote Help's tenant settings, read and
 * PATCHed (there is nothing to create or delete), one resource per tenant.
 */
import { randomUUID } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import type { Imported, NamedDiff, Operations } from "../core/operations";
import { report } from "../core/progress";
import { configure, remoteHelpFor, repairNote, sameTenantByEntra, tenantOf } from "../core/runtime";
import type { RemoteHelpSettings } from "../graph/remoteHelp";
import {
  checkRemoteHelp,
  declared,
  diffRemoteHelp,
  fieldsToPatch,
  managedAfter,
  restoreOnDestroy,
  type RemoteHelpInputs,
  type RemoteHelpOutputs,
} from "./lifecycle";

/** RemoteAssistanceSettings' operations, as both hosts call them. */
export const settingsOperations: Operations = {
  configure: async (req) => configure(req),
  importResource: importSettings,
  check: async (_olds, news) => checkRemoteHelp(news),
  diff,
  create,
  read,
  update,
  delete: deleteSettings,
};

async function diff(
  id: string,
  rawOlds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<NamedDiff> {
  const olds = rawOlds as unknown as Partial<RemoteHelpOutputs>;
  if (typeof olds.tenantId === "string" && typeof olds.instance === "string")
    claim(olds.tenantId, olds.instance);
  const label = `Remote Help settings of tenant ${olds.tenantId}`;
  const result = diffRemoteHelp(olds, news, await sameTenantByEntra(olds.tenantId, news.tenantId, label));
  if (result.changes)
    report(
      `${label} (${id}): ${result.replaces.length > 0 ? "replace" : "update"}: ${result.reasons.join("; ")}` +
        repairNote(olds.tenantId),
    );
  return { changes: result.changes, replaces: result.replaces, diffs: result.diffs, reasons: result.reasons };
}

/** Reads the tenant's settings, records them, and PATCHes only the declared fields that differ (none: no write). */
async function create(raw: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult<RemoteHelpOutputs>> {
  const inputs = raw as RemoteHelpInputs;
  const tenantId = tenantOf(inputs.tenantId);
  const instance = randomUUID();
  claim(tenantId, instance);
  const before = await remoteHelpFor(tenantId).get();
  const wanted = declared(inputs);
  const changes = fieldsToPatch(before, wanted);
  const live = Object.keys(changes).length > 0 ? await patched(tenantId, changes) : before;
  return {
    id: `${tenantId}/remoteAssistanceSettings`,
    outs: outputs(live, tenantId, managedAfter({}, before, wanted), instance),
  };
}

/** One GET: changes made in the portal show as drift. */
async function read(
  id: string,
  props: Record<string, unknown>,
): Promise<pulumi.dynamic.ReadResult<RemoteHelpOutputs>> {
  const olds = props as unknown as RemoteHelpOutputs;
  claim(olds.tenantId, olds.instance);
  const live = await remoteHelpFor(olds.tenantId).get();
  return { id, props: { ...olds, ...live } };
}

/**
 * `pulumi import` and the `import` option (the plugin only): one GET of the tenant the id names
 * (`<tenant>/remoteAssistanceSettings`, as create makes it). The fields the program declares (none for
 * `pulumi import`) are managed from now, their values now being what destroy puts back.
 */
async function importSettings(id: string, raw: Record<string, unknown>): Promise<Imported> {
  const given = raw as RemoteHelpInputs;
  const [fromId, suffix] = id.split("/");
  if (suffix !== "remoteAssistanceSettings" || !fromId) {
    throw new Error(
      `'${id}' is not the id of a RemoteAssistanceSettings: import it as <tenant>/remoteAssistanceSettings, ` +
        "e.g. contoso.onmicrosoft.com/remoteAssistanceSettings",
    );
  }
  const tenantId = given.tenantId ?? fromId;
  const instance = randomUUID();
  claim(tenantId, instance);
  const live = await remoteHelpFor(tenantId).get();
  const inputs = Object.keys(given).length > 0 ? raw : { tenantId };
  return { id, props: outputs(live, tenantId, managedAfter({}, live, declared(given)), instance), inputs };
}

async function update(
  _id: string,
  rawOlds: Record<string, unknown>,
  rawNews: Record<string, unknown>,
): Promise<pulumi.dynamic.UpdateResult<RemoteHelpOutputs>> {
  const olds = rawOlds as unknown as RemoteHelpOutputs;
  const news = rawNews as RemoteHelpInputs;
  claim(olds.tenantId, olds.instance);
  const wanted = declared(news);
  const changes = fieldsToPatch(olds, wanted);
  const live = Object.keys(changes).length > 0 ? await patched(olds.tenantId, changes) : olds;
  const settings: RemoteHelpSettings = {
    remoteAssistanceState: live.remoteAssistanceState,
    allowSessionsToUnenrolledDevices: live.allowSessionsToUnenrolledDevices,
    blockChat: live.blockChat,
  };
  return {
    outs: outputs(settings, news.tenantId ?? olds.tenantId, managedAfter(olds, olds, wanted), olds.instance),
  };
}

/** Puts back what the tenant had before the stack managed it, for the managed fields only. */
async function deleteSettings(_id: string, props: Record<string, unknown>): Promise<void> {
  const olds = props as unknown as RemoteHelpOutputs;
  const restore = restoreOnDestroy(olds);
  if (Object.keys(restore).length > 0) await remoteHelpFor(olds.tenantId).update(restore);
  owners.delete(olds.tenantId.trim().toLowerCase());
}

/** The resource that manages each tenant's settings in this process (tenant, lower case → its instance). */
const owners = new Map<string, string>();

/** Claims `tenantId` for `instance`; two resources of one tenant are a clear error, not a tug of war. */
function claim(tenantId: string, instance: string): void {
  const key = tenantId.trim().toLowerCase();
  const owner = owners.get(key);
  if (owner !== undefined && owner !== instance) {
    throw new Error(
      `Two RemoteAssistanceSettings resources manage tenant ${tenantId}: a tenant has one Remote Help ` +
        "configuration, and two resources would undo each other's changes. Keep one of them (declare all the " +
        "fields there) and remove the other. Nothing was changed.",
    );
  }
  owners.set(key, instance);
}

/** The settings after a PATCH: Graph's answer, else read back. */
async function patched(tenantId: string, fields: Partial<RemoteHelpSettings>): Promise<RemoteHelpSettings> {
  const api = remoteHelpFor(tenantId);
  return (await api.update(fields)) ?? (await api.get());
}

function outputs(
  live: RemoteHelpSettings,
  tenantId: string,
  managed: ReturnType<typeof managedAfter>,
  instance: string,
): RemoteHelpOutputs {
  return { ...live, tenantId, ...managed, instance };
}
