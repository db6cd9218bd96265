/**
 * Getting the partner a create is about: an existing one to adopt, or exactly one new one, never a duplicate
 * of a name, never a second partner when the answer to a POST was lost.
 */
import { report } from "../core/progress";
import { settings } from "../core/runtime";
import { directoryOf, withNameLock } from "./directory";
import { isGraphError } from "../graph/errors";
import type { Partner, PartnerFields, PartnersApi } from "../graph/partners";
import { poll } from "./converge";
import { sameName, type PartnerInputs } from "./lifecycle";
import { refusedCreate } from "./refusals";

/** How long before a create began a shared list may have begun and still serve its duplicate check. */
const LIST_REUSE_IN_MS = 1_000;

/** The existing partner `partnerId`, or an error listing the tenant's partners. */
export async function adoptPartner(api: PartnersApi, partnerId: string, tenantId: string): Promise<Partner> {
  const live = await poll(() => api.get(partnerId));
  if (live) return live;
  const partners = await api.list();
  throw new Error(
    `No remote assistance partner ${partnerId} in tenant ${tenantId}, so there is nothing to adopt. ` +
      (partners.length > 0
        ? `The tenant's partners: ${describePartners(partners)}.`
        : "The tenant has no partners: remove partnerId to create one."),
  );
}

/**
 * The tenant's one partner named `displayName` (ignoring letter case), for `adopt: true`; never creates one.
 * None or several of that name is an error listing the tenant's partners.
 */
export async function adoptByName(api: PartnersApi, displayName: string, tenantId: string): Promise<Partner> {
  const partners = await api.list();
  const named = partners.filter((p) => sameName(p.displayName, displayName));
  if (named.length === 1) return named[0];
  const listed =
    partners.length > 0
      ? `The tenant's partners: ${describePartners(partners)}.`
      : "The tenant has no partners.";
  throw new Error(
    named.length === 0
      ? `adopt: true found no remote assistance partner named '${displayName}' in tenant ${tenantId}, and ` +
          `never creates one. ${listed} Set displayName to the name of the one to adopt, or remove adopt to ` +
          "create a new partner."
      : `adopt: true found ${named.length} remote assistance partners named '${displayName}' in tenant ` +
          `${tenantId}: ${describePartners(named)}. Adopt one by its id instead: partnerId: "${named[0].id}".`,
  );
}

/** Partners as a person needs them to choose one: name, id and state. */
export function describePartners(partners: Partner[]): string {
  return partners.map((p) => `'${p.displayName}' (id ${p.id}, ${p.onboardingStatus})`).join(", ");
}

/**
 * POSTs a new partner after checking that no partner of the tenant holds its name. A POST whose answer was
 * lost is not re-sent blindly: the partner is looked for first, and extras a retry made are removed.
 */
export async function createPartner(
  api: PartnersApi,
  inputs: PartnerInputs & { displayName: string },
  tenantId: string,
): Promise<Partner> {
  const fields: PartnerFields = { displayName: inputs.displayName };
  if (inputs.onboardingUrl !== undefined) fields.onboardingUrl = inputs.onboardingUrl;
  const directory = directoryOf(tenantId);
  const windowInMs = settings().consistencyWindowInMs;
  // Creates begun together share one list: one begun up to a second before this create began serves it.
  const listedSinceInMs = Date.now() - LIST_REUSE_IN_MS;
  return withNameLock(tenantId, inputs.displayName, async () => {
    const before = await directory.assertNameFree(api, tenantId, inputs.displayName, {
      listedSinceInMs,
      windowInMs,
    });
    const known = new Set(before.map((p) => p.id));
    let created: Partner | undefined;
    for (let posts = 1; !created; posts++) {
      try {
        created = await api.create(fields);
      } catch (e) {
        if (!isGraphError(e) || !e.outcomeUnknown) throw refusedCreate(e, inputs.displayName, tenantId) ?? e;
        report(
          `the answer to creating '${inputs.displayName}' in tenant ${tenantId} was lost (${e.code}); looking for it in Graph`,
        );
        created = await findCreated(api, inputs.displayName, known);
        if (!created && posts >= 2) {
          throw new Error(
            `Creating '${inputs.displayName}' in tenant ${tenantId} got no answer twice (last: ${e.message}), and Graph ` +
              `shows no partner of that name after ${windowInMs / 1000} s: nothing was left behind. Run pulumi up again.`,
            { cause: e },
          );
        }
        if (!created)
          report(`Graph shows no '${inputs.displayName}': the create did not happen; sending it once more`);
      }
    }
    directory.written(created);
    return created;
  });
}

/**
 * After a create whose answer was lost: the partner(s) of that name that were not there before, reduced to
 * one; `undefined` when Graph, asked successfully through the consistency window, shows none.
 */
async function findCreated(
  api: PartnersApi,
  displayName: string,
  known: Set<string>,
): Promise<Partner | undefined> {
  let observed = false;
  let lastError: unknown;
  const mine = await poll(async () => {
    try {
      const found = (await api.list()).filter(
        (p) => sameName(p.displayName, displayName) && !known.has(p.id),
      );
      observed = true;
      return found.length > 0 ? found : undefined;
    } catch (e) {
      lastError = e;
      return undefined;
    }
  });
  if (!mine && !observed) {
    throw new Error(
      `The answer to creating '${displayName}' was lost, and Graph could not be asked whether the partner exists ` +
        `(${lastError instanceof Error ? lastError.message : String(lastError)}). If a partner of that name is in ` +
        `the tenant, adopt it with partnerId or delete it; then run pulumi up again.`,
      { cause: lastError },
    );
  }
  if (!mine) return undefined;
  const [keep, ...extra] = mine;
  for (const p of extra) {
    report(`removing duplicate partner ${p.id} ('${displayName}') left by a retried create`);
    await api
      .delete(p.id)
      .catch((e: Error) =>
        report(`could not remove duplicate partner ${p.id}: ${e.message}; delete it by hand`),
      );
  }
  return keep;
}
