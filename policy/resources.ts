/**
 * The resources the rules match, by the type tokens pulumi-intune-remote-assistance writes into every state (a
 * contract of the package: they never change). Declared here rather than imported, so that the pack needs no
 * install of the package: copy this folder into any program's repository (`npm install --prefix policy`).
 */
import type {
  ReportViolation,
  ResourceRemediation,
  ResourceValidation,
  ResourceValidationArgs,
} from "@pulumi/policy";

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

/**
 * The type tokens of each resource: the dynamic provider's (Node.js programs) and the `intune` plugin's (YAML,
 * Python, Go, C# programs). A rule applies to both.
 */
export const PARTNER_TYPES = [
  "pulumi-nodejs:dynamic/intune:RemoteAssistancePartner",
  "intune:index:RemoteAssistancePartner",
];
export const SETTINGS_TYPES = [
  "pulumi-nodejs:dynamic/intune:RemoteAssistanceSettings",
  "intune:index:RemoteAssistanceSettings",
];

/** A validation of the resources of `types`, their inputs typed as `TArgs`. */
export function validateResourcesOf<TArgs>(
  types: string[],
  validate: (props: TArgs, args: ResourceValidationArgs, reportViolation: ReportViolation) => void,
): ResourceValidation {
  return (args, reportViolation) => {
    if (types.includes(args.type)) validate(args.props as TArgs, args, reportViolation);
  };
}

/** A remediation of the resources of `types`: the inputs to use instead, or `undefined` to keep them. */
export function remediateResourcesOf<TArgs>(
  types: string[],
  remediate: (props: TArgs, args: ResourceValidationArgs) => Record<string, unknown> | undefined,
): ResourceRemediation {
  return (args) => (types.includes(args.type) ? remediate(args.props as TArgs, args) : undefined);
}
