/**
 * RemoteAssistancePartner as it runs in the dynamic-provider host: each operation's story, top-down. The pure
 * decisions are in `lifecycle.ts`; getting the partner a create is about in `create.ts`; carrying out a plan in
 * `converge.ts`; what one process shares (settings, a Graph client per tenant) in `../core/runtime.ts`.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Imported, NamedDiff, Operations } from "../core/operations";
import { report } from "../core/progress";
import {
  configure,
  defaultTenant,
  partnersFor,
  repairNote,
  sameTenantByEntra,
  settings,
  tenantOf,
} from "../core/runtime";
import { compareTenants } from "../core/tenants";
import type { Partner } from "../graph/partners";
import { converge, perform, poll } from "./converge";
import { adoptByName, adoptPartner, createPartner } from "./create";
import { directoryOf } from "./directory";
import {
  checkInputs,
  deleteOnDestroyOf,
  diffPartner,
  planDelete,
  toOutputs,
  type PartnerInputs,
  type PartnerOutputs,
} from "./lifecycle";
import { refusedDelete } from "./refusals";

/** RemoteAssistancePartner's operations. */
export const partnerOperations: Operations = {
  configure: async (req) => configure(req),
  importResource: importPartner,
  check: async (_olds, news) => checkInputs(news),
  diff,
  create,
  read,
  update,
  delete: deletePartner,
};

/**
 * Diff, with its reasons in the engine log (the Node host cannot carry a detailed diff, so `pulumi preview`
 * would otherwise show an update or replace with no reason). Spellings of a tenant that cannot be compared
 * offline are compared by asking Entra; when Entra cannot answer, nothing is changed.
 */
async function diff(
  id: string,
  rawOlds: Record<string, unknown>,
  news: Record<string, unknown>,
): Promise<NamedDiff> {
  const olds = rawOlds as unknown as Partial<PartnerOutputs>;
  const label = `'${olds.displayName}' (partner ${id})`;
  const [recorded, declared] = [olds.tenantId, news.tenantId];
  const sameTenant = await sameTenantByEntra(recorded, declared, label);
  if (typeof recorded === "string" && declared === undefined) noteRecordedTenant(recorded);
  const result = diffPartner(olds, news, Date.now(), sameTenant);
  if (result.changes) {
    report(
      `${label}: ${result.replaces.length > 0 ? "replace" : "update"}: ${result.reasons.join("; ")}` +
        repairNote(olds.tenantId),
    );
  }
  return { changes: result.changes, replaces: result.replaces, diffs: result.diffs, reasons: result.reasons };
}

/** Says once per process and tenant pair that resources without `tenantId` stay where state recorded them. */
function noteRecordedTenant(recorded: string): void {
  const fallback = defaultTenant();
  if (fallback && compareTenants(fallback, recorded) === "same") return;
  const key = `${recorded.toLowerCase()}|${fallback?.toLowerCase()}`;
  if (notedTenants.has(key)) return;
  notedTenants.add(key);
  report(
    `partners recorded in tenant ${recorded} stay there: ${fallback ? `this machine's default tenant ${fallback}` : "the default tenant (none is set here)"} ` +
      "applies only to new resources, and only a resource's own tenantId moves a partner",
  );
}

const notedTenants = new Set<string>();

/**
 * Adopts the partner `partnerId` names, or with `adopt: true` the tenant's one partner of that name, or creates
 * one; then brings it to the declared state. From the moment the partner exists, a failure keeps it in state
 * (ErrorResourceInitFailed) as far as the calls that succeeded took it, so that the next `up` finishes the job
 * and `destroy` releases it.
 */
async function create(raw: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult<PartnerOutputs>> {
  const inputs = raw as unknown as PartnerInputs;
  const tenantId = tenantOf(inputs.tenantId);
  const api = partnersFor(tenantId, inputs.apiVersion);
  const adopted = inputs.partnerId !== undefined || inputs.adopt === true;
  const own: Own = {
    tenantId,
    apiVersion: inputs.apiVersion,
    deleteOnDestroy: deleteOnDestroyOf(inputs.deleteOnDestroy, adopted),
    adopted,
  };
  let live =
    inputs.partnerId !== undefined
      ? await adoptPartner(api, inputs.partnerId, tenantId)
      : adopted
        ? await adoptByName(api, inputs.displayName!, tenantId)
        : await createPartner(api, { ...inputs, displayName: inputs.displayName! }, tenantId);
  try {
    // Intune is eventually consistent: wait (bounded) until Graph reads a new partner back.
    if (!adopted) live = (await poll(() => api.get(live.id))) ?? throwError(notReadBack(live.id));
    const converged = await converge(api, live, inputs, tenantId, { onProgress: (p) => (live = p) });
    return {
      id: live.id,
      outs: toOutputs(converged.partner, { ...own, notKept: converged.notKept }, Date.now()),
    };
  } catch (e) {
    throw new PartnerInitError(e, live.id, {
      ...toOutputs(live, own, Date.now()),
      __provider: raw.__provider,
    });
  }
}

async function read(
  id: string,
  props: Record<string, unknown>,
): Promise<pulumi.dynamic.ReadResult<PartnerOutputs>> {
  const olds = props as unknown as Partial<PartnerOutputs>;
  const tenantId = tenantOf(olds.tenantId);
  const apiVersion = olds.apiVersion ?? "beta";
  const api = partnersFor(tenantId, apiVersion);
  // One 404 is not "gone": Intune is eventually consistent. Gone means 404 throughout the window.
  const live = await poll(() => api.get(id));
  if (!live) return { id: "" };
  const adopted = olds.adopted ?? false;
  const own: Own = {
    tenantId,
    apiVersion,
    deleteOnDestroy: olds.deleteOnDestroy ?? !adopted,
    adopted,
    notKept: olds.notKept,
  };
  return { id, props: toOutputs(live, own, Date.now()) };
}

/**
 * `pulumi import` and the `import` option (the plugin only): reads partner `id` and records it adopted (the stack
 * did not create it, so destroy disconnects it and leaves it unless `deleteOnDestroy` says otherwise). The
 * inputs recorded (and written in the program `pulumi import` generates) are the partner's name and connection
 * as they are: nothing else, so that the values Graph keeps itself (the onboarding URL) stay Graph's.
 */
async function importPartner(id: string, raw: Record<string, unknown>): Promise<Imported> {
  const given = raw as Partial<PartnerInputs>;
  const tenantId = tenantOf(given.tenantId);
  const apiVersion = given.apiVersion ?? "beta";
  const live = await partnersFor(tenantId, apiVersion).get(id);
  if (!live) return { id: "" };
  const own: Own = {
    tenantId,
    apiVersion,
    deleteOnDestroy: deleteOnDestroyOf(given.deleteOnDestroy, true),
    adopted: true,
  };
  const props = toOutputs(live, own, Date.now());
  const inputs =
    Object.keys(given).length > 0 ? raw : { displayName: props.displayName, connected: props.connected };
  return { id: live.id, props, inputs };
}

/**
 * Brings the recorded partner to the declared state. Its tenant is the one recorded (Diff replaced the
 * resource if the declared one is another tenant; a new spelling of the same tenant is recorded). A failure
 * midway records what the calls that succeeded did (ErrorResourceInitFailed), so that state never claims more
 * or less than Graph holds, and the next `up` finishes the job.
 */
async function update(
  id: string,
  rawOlds: Record<string, unknown>,
  rawNews: Record<string, unknown>,
): Promise<pulumi.dynamic.UpdateResult<PartnerOutputs>> {
  const olds = rawOlds as unknown as PartnerOutputs;
  const news = rawNews as unknown as PartnerInputs;
  const tenantId = tenantOf(olds.tenantId);
  const api = partnersFor(tenantId, news.apiVersion);
  const adopted = olds.adopted ?? false;
  const own: Own = {
    tenantId: news.tenantId ?? tenantId,
    apiVersion: news.apiVersion,
    deleteOnDestroy: deleteOnDestroyOf(news.deleteOnDestroy, adopted),
    adopted,
  };
  let live: Partner = {
    id,
    displayName: olds.displayName,
    onboardingUrl: olds.onboardingUrl ?? null,
    onboardingStatus: olds.onboardingStatus ?? "notOnboarded",
    lastConnectionDateTime: olds.lastConnectionDateTime ?? undefined,
    onboardingRequestExpiryDateTime: olds.onboardingRequestExpiryDateTime ?? undefined,
  };
  let progressed = false;
  try {
    const converged = await converge(api, live, news, tenantId, {
      notKept: olds.notKept,
      onProgress: (p) => ((live = p), (progressed = true)),
    });
    return { outs: toOutputs(converged.partner, { ...own, notKept: converged.notKept }, Date.now()) };
  } catch (e) {
    if (!progressed) throw e; // nothing changed: the state stays as it was
    throw new PartnerInitError(e, id, {
      ...toOutputs(live, { ...own, notKept: olds.notKept }, Date.now()),
      __provider: rawNews.__provider,
    });
  }
}

async function deletePartner(id: string, props: Record<string, unknown>): Promise<void> {
  const olds = props as unknown as Partial<PartnerOutputs>;
  const tenantId = tenantOf(olds.tenantId);
  const api = partnersFor(tenantId, olds.apiVersion ?? "beta");
  const calls = planDelete(olds.deleteOnDestroy ?? !olds.adopted);
  for (const call of calls) {
    const found = await perform(api, id, { call }).catch((e: unknown) => {
      throw (call === "delete" && refusedDelete(e, id, tenantId)) || e;
    });
    if (!found) break; // already gone: what a destroy wants
  }
  // Gone, or about to be: Intune may list it for a while, which must not block a create of the same name.
  if (calls.includes("delete")) directoryOf(tenantId).deleted(id);
}

/** The error the host turns into `ErrorResourceInitFailed`: the partner exists, and the state records it as it is. */
class PartnerInitError extends Error {
  constructor(
    cause: unknown,
    readonly id: string,
    readonly properties: Record<string, unknown>,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
  get reasons(): string[] {
    return [this.message];
  }
}

type Own = Parameters<typeof toOutputs>[1];

function notReadBack(id: string): Error {
  const seconds = settings().consistencyWindowInMs / 1000;
  return new Error(
    `Graph created partner ${id} but did not read it back within ${seconds} s; the next pulumi up continues`,
  );
}

function throwError(e: Error): never {
  throw e;
}
