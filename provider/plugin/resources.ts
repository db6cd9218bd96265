/**
 * What the `intune` plugin serves, by type token: each resource's operations (the same ones the dynamic-provider
 * host runs) and each function. The protocol is in `server.ts`; no Graph call is made in this folder.
 */
import type { Operations } from "../core/operations";
import { findPartner, listPartners } from "../partner/lookups";
import { partnerOperations } from "../partner/operations";
import { settingsOperations } from "../remoteHelp/operations";
import { GET_PARTNER_TOKEN, GET_PARTNERS_TOKEN, intuneSchema, PARTNER_TOKEN, SETTINGS_TOKEN } from "./schema";

/** A resource type the plugin serves. */
export interface ServedResource {
  operations: Operations;
  /** Its input names and output names, from the schema (what a preview fills in or marks unknown). */
  inputs: string[];
  outputs: string[];
}

const schema = intuneSchema("0.0.0");
const served = (
  token: typeof PARTNER_TOKEN | typeof SETTINGS_TOKEN,
  operations: Operations,
): ServedResource => ({
  operations,
  inputs: Object.keys(schema.resources[token].inputProperties),
  outputs: Object.keys(schema.resources[token].properties),
});

export const RESOURCES: Record<string, ServedResource> = {
  [PARTNER_TOKEN]: served(PARTNER_TOKEN, partnerOperations),
  [SETTINGS_TOKEN]: served(SETTINGS_TOKEN, settingsOperations),
};

export const FUNCTIONS: Record<string, (args: Record<string, unknown>) => Promise<object>> = {
  [GET_PARTNERS_TOKEN]: listPartners,
  [GET_PARTNER_TOKEN]: findPartner,
};
