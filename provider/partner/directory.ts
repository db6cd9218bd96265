/**
 * One partner name per tenant: what this process knows of a tenant's partners, and the duplicate-name error
 * that a create and a rename give alike.
 */
import { perTenant } from "../core/runtime";
import type { Partner, PartnersApi } from "../graph/partners";
import { sameName } from "./lifecycle";

/** What this process knows of a tenant's partners, for the duplicate-name checks. */
export function directoryOf(tenantId: string): TenantDirectory {
  return perTenant("directory", tenantId, () => new TenantDirectory());
}

const locks = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` after any other call holding the name `displayName` in `tenantId` (case-insensitively): two
 * creates or renames to one name in one process cannot both pass the duplicate check.
 */
export async function withNameLock<T>(
  tenantId: string,
  displayName: string,
  fn: () => Promise<T>,
): Promise<T> {
  const key = `${tenantId.trim().toLowerCase()}|${displayName.trim().toLowerCase()}`;
  const previous = locks.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  locks.set(key, settled);
  try {
    return await run;
  } finally {
    if (locks.get(key) === settled) locks.delete(key);
  }
}

/**
 * What this process knows of a tenant's partners for the duplicate-name check: one list request shared by
 * the operations that can use it, corrected by what this process itself created, renamed and deleted lately,
 * which Intune may not list (or may still list) for a while. Changes made elsewhere race with any check
 * anyway; the partners of this process never do.
 */
export class TenantDirectory {
  private latest?: { startedAtInMs: number; partners: Promise<Partner[]> };
  private next?: Promise<Partner[]>;
  /** Partners this process created or renamed lately, as it left them. */
  private readonly writtenHere = new Map<string, { partner: Partner; atMs: number }>();
  private readonly deletedHere = new Map<string, number>();

  /**
   * The tenant's partners from a list begun at or after `listedSinceInMs`, corrected by this process's own
   * writes within `windowInMs`.
   */
  async partners(api: PartnersApi, listedSinceInMs: number, windowInMs: number): Promise<Partner[]> {
    const listed = await this.listSince(api, listedSinceInMs);
    const horizon = Date.now() - windowInMs;
    const recent = [...this.writtenHere.values()].filter((c) => c.atMs >= horizon).map((c) => c.partner);
    const gone = (id: string) => (this.deletedHere.get(id) ?? -Infinity) >= horizon;
    const mine = new Map(recent.map((p) => [p.id, p]));
    const seen = new Set(listed.map((p) => p.id));
    return [
      ...listed.filter((p) => !gone(p.id)).map((p) => mine.get(p.id) ?? p),
      ...recent.filter((p) => !seen.has(p.id) && !gone(p.id)),
    ];
  }

  /**
   * Throws the duplicate-name error when a partner (other than the one being renamed) holds `displayName`;
   * else resolves the tenant's partners as {@link partners} sees them.
   */
  async assertNameFree(
    api: PartnersApi,
    tenantId: string,
    displayName: string,
    options: { listedSinceInMs: number; windowInMs: number; rename?: { id: string } },
  ): Promise<Partner[]> {
    const all = await this.partners(api, options.listedSinceInMs, options.windowInMs);
    const holders = all.filter((p) => p.id !== options.rename?.id && sameName(p.displayName, displayName));
    if (holders.length > 0) throw duplicateNameError(displayName, tenantId, holders, options.rename);
    return all;
  }

  /** A partner this process created or renamed: its name is taken (and an old one free) whatever Intune lists. */
  written(partner: Partner): void {
    this.writtenHere.set(partner.id, { partner, atMs: Date.now() });
  }

  deleted(id: string): void {
    this.writtenHere.delete(id);
    this.deletedHere.set(id, Date.now());
  }

  /** A list that began at or after `sinceInMs`; concurrent callers share one request. */
  private listSince(api: PartnersApi, sinceInMs: number): Promise<Partner[]> {
    if (this.latest && this.latest.startedAtInMs >= sinceInMs) return this.latest.partners;
    this.next ??= (this.latest?.partners ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        this.latest = { startedAtInMs: Date.now(), partners: api.list() };
        return this.latest.partners;
      });
    return this.next;
  }
}

/**
 * The error for a second partner of one name: Intune would then hold two partners a person cannot tell apart.
 * For a create it says how to adopt the existing one; for a rename, what to change.
 */
export function duplicateNameError(
  displayName: string,
  tenantId: string,
  holders: Partner[],
  rename?: { id: string },
): Error {
  const found =
    `A remote assistance partner named '${displayName}' already exists in tenant ${tenantId} ` +
    `(${holders.map((p) => `id ${p.id}, ${p.onboardingStatus}`).join("; ")}).`;
  return new Error(
    rename
      ? `${found} Partner ${rename.id} is not renamed to it: the tenant would hold two partners of one name. ` +
          "Choose another displayName, or rename or remove the other partner first. Nothing was changed."
      : `${found} To manage it, adopt it: set ${holders.length === 1 ? "adopt: true, or " : ""}partnerId: ` +
          `"${holders[0].id}". This provider never adopts silently and never creates a duplicate.`,
  );
}
