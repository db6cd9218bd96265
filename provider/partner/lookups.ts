/**
 * The functions of the `intune` package: what `npx pulumi-intune-remote-assistance partners` prints, for a
 * program. Reads only.
 */
import { describe } from "../core/inputs";
import { partnersFor, tenantOf } from "../core/runtime";
import { apiVersions, type ApiVersion } from "../graph/client";
import type { Partner } from "../graph/partners";
import { describePartners } from "./create";
import { isConnected, sameName } from "./lifecycle";

/** A partner as the functions return it. */
export interface PartnerInfo {
  partnerId: string;
  displayName: string;
  onboardingUrl: string | null;
  onboardingStatus: Partner["onboardingStatus"];
  connected: boolean;
  lastConnectionDateTime: string | null;
}

/** `getPartners`: every partner of the tenant (`tenantId`, else the provider's). */
export async function listPartners(args: Record<string, unknown>): Promise<{
  tenantId: string;
  partners: PartnerInfo[];
}> {
  const { tenantId, apiVersion } = scope(args, ["tenantId", "apiVersion"]);
  const partners = await partnersFor(tenantId, apiVersion).list();
  return { tenantId, partners: partners.map(info) };
}

/** `getPartner`: the tenant's partner `partnerId`, or its one partner named `displayName` (ignoring case). */
export async function findPartner(
  args: Record<string, unknown>,
): Promise<PartnerInfo & { tenantId: string }> {
  const { tenantId, apiVersion } = scope(args, ["tenantId", "apiVersion", "partnerId", "displayName"]);
  const { partnerId, displayName } = args;
  if (
    (partnerId === undefined) === (displayName === undefined) ||
    ![partnerId ?? displayName].every(isText)
  ) {
    throw new Error("getPartner takes one of partnerId or displayName, a non-empty string");
  }
  const api = partnersFor(tenantId, apiVersion);
  const found = typeof partnerId === "string" ? await api.get(partnerId) : undefined;
  const partners = found ? [found] : await api.list();
  const named = found ? [found] : partners.filter((p) => sameName(p.displayName, displayName));
  if (named.length === 1) return { tenantId, ...info(named[0]) };
  const asked = partnerId !== undefined ? `partner ${partnerId}` : `partner named '${displayName}'`;
  throw new Error(
    named.length === 0
      ? `No remote assistance ${asked} in tenant ${tenantId}. ` +
          (partners.length > 0
            ? `The tenant's partners: ${describePartners(partners)}.`
            : "The tenant has none.")
      : `${named.length} partners are named '${displayName}' in tenant ${tenantId}: ${describePartners(named)}. Ask by partnerId.`,
  );
}

function scope(args: Record<string, unknown>, names: string[]): { tenantId: string; apiVersion: ApiVersion } {
  const extra = Object.keys(args).filter((k) => !names.includes(k));
  if (extra.length > 0)
    throw new Error(`unknown argument ${extra.join(", ")} (arguments: ${names.join(", ")})`);
  if (args.tenantId !== undefined && !isText(args.tenantId))
    throw new Error(`tenantId must be a tenant GUID or domain, not ${describe(args.tenantId)}`);
  const apiVersion = args.apiVersion ?? "beta";
  if (!(apiVersions as readonly unknown[]).includes(apiVersion))
    throw new Error(`apiVersion must be "beta" or "v1.0", not ${describe(apiVersion)}`);
  return { tenantId: tenantOf(args.tenantId as string | undefined), apiVersion: apiVersion as ApiVersion };
}

const isText = (v: unknown): v is string => typeof v === "string" && v.trim() !== "";

function info(p: Partner): PartnerInfo {
  return {
    partnerId: p.id,
    displayName: p.displayName ?? "",
    onboardingUrl: p.onboardingUrl,
    onboardingStatus: p.onboardingStatus,
    connected: isConnected(p.onboardingStatus, p.onboardingRequestExpiryDateTime, Date.now()),
    lastConnectionDateTime: p.lastConnectionDateTime ?? null,
  };
}
