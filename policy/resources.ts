/**
 * The resources the rules match, by the type tokens pulumi-intune-remote-assistance writes into every state (a
 * contract of the package: they never change). Declared here rather than imported, so that the pack needs no
 * install of the package: copy this folder into any program's repository (`npm install --prefix policy`).
 */
import type * as pulumi from "@pulumi/pulumi";

/** The inputs of a RemoteAssistancePartner that the rules read. */
export interface PartnerInputs {
  displayName?: string;
  onboardingUrl?: string;
  adopt?: boolean;
  partnerId?: string;
  connected?: boolean;
  deleteOnDestroy?: boolean;
  tenantId?: string;
}

/** The inputs of a RemoteAssistanceSettings that the rules read. */
export interface SettingsInputs {
  remoteAssistanceState?: "enabled" | "disabled";
  allowSessionsToUnenrolledDevices?: boolean;
  blockChat?: boolean;
  tenantId?: string;
}

type MatchedBy<TArgs> = new (name: string, args: TArgs) => pulumi.CustomResource;

/** RemoteAssistancePartner as `validateResourceOfType` matches it: by its type token. */
export const RemoteAssistancePartner = {
  __pulumiType: "pulumi-nodejs:dynamic/intune:RemoteAssistancePartner",
} as unknown as MatchedBy<PartnerInputs>;

/** RemoteAssistanceSettings as `validateResourceOfType` matches it: by its type token. */
export const RemoteAssistanceSettings = {
  __pulumiType: "pulumi-nodejs:dynamic/intune:RemoteAssistanceSettings",
} as unknown as MatchedBy<SettingsInputs>;
