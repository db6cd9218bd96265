/** Tenant ids as a program may write them: a GUID or a verified domain, compared without asking Entra. */

const TENANT_ID =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+)$/i;

/** A GUID, as Entra and Graph write tenant and object ids. */
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a tenant id Entra accepts: a GUID or a verified domain such as `contoso.onmicrosoft.com`. */
export function isTenantId(value: string): boolean {
  return TENANT_ID.test(value);
}

/**
 * How two tenant ids compare without asking Entra: equal ignoring letter case is the same tenant, two
 * different GUIDs are different tenants, and a domain against anything else is `unknown` (only Entra knows
 * which tenant a domain names).
 */
export function compareTenants(a: string, b: string): "same" | "different" | "unknown" {
  const [x, y] = [a.trim().toLowerCase(), b.trim().toLowerCase()];
  if (x === y) return "same";
  return GUID.test(x) && GUID.test(y) ? "different" : "unknown";
}
