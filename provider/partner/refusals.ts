/**
 * Graph refusing an operation a real tenant may not allow, turned into what the person running `pulumi up`
 * should do about it. Each keeps Graph's own message (with its request-id) and the GraphError as `cause`.
 */
import { isGraphError } from "../graph/errors";

/** Statuses with which a service refuses an operation it does not allow (as opposed to failing at it). */
const REFUSALS = new Set([400, 403, 405, 501]);

const LISTING = "npx pulumi-intune-remote-assistance partners";

const sentence = (text: string) => (text.endsWith(".") ? text : `${text}.`);

/** A refused POST of a partner: this tenant may not let partners be created; adopt the existing one. */
export function refusedCreate(e: unknown, displayName: string, tenantId: string): Error | undefined {
  if (!isGraphError(e) || !REFUSALS.has(e.statusCode ?? 0)) return undefined;
  return new Error(
    `Graph refused to create partner '${displayName}' in tenant ${tenantId}: ${sentence(e.message)} This tenant may not ` +
      "let remote assistance partners be created: it holds Intune's own TeamViewer connector. Manage that one " +
      `instead: adopt: true with its displayName, or partnerId with its id (${LISTING} lists the tenant's ` +
      "partners). Nothing was created.",
    { cause: e },
  );
}

/** A refused DELETE after the disconnect succeeded: say what state the partner is in and what to change. */
export function refusedDelete(e: unknown, partnerId: string, tenantId: string): Error | undefined {
  if (!isGraphError(e) || !REFUSALS.has(e.statusCode ?? 0)) return undefined;
  return new Error(
    `Partner ${partnerId} is disconnected, but Graph refused to delete it: ${sentence(e.message)} It stays in tenant ` +
      `${tenantId}, disconnected, and in the stack's state. To finish without deleting it, set ` +
      "deleteOnDestroy: false on the resource, run pulumi up, then destroy again.",
    { cause: e },
  );
}

/** A 403 to `beginOnboarding`: connecting TeamViewer needs an administrator's delegated sign-in. */
export function refusedOnboarding(e: unknown, partnerId: string): Error | undefined {
  if (!isGraphError(e) || e.statusCode !== 403) return undefined;
  return new Error(
    `Graph refused to begin onboarding partner ${partnerId}: ${sentence(e.message)} Connecting TeamViewer needs an ` +
      "Intune or Global administrator's delegated sign-in, which an app-only credential is not: run the up " +
      "that connects it with intune:auth azureCli (after az login as that administrator) or intune:auth deviceCode.",
    { cause: e },
  );
}
