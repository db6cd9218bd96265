/**
 * The policy rules for RemoteAssistancePartner and RemoteAssistanceSettings, each a small factory, matched by the
 * resource's type tokens (the dynamic provider's and the plugin's).
 * `index.ts` wires them into the pack; the tests call them with hand-built arguments.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import {
  PARTNER_TYPES,
  remediateResourcesOf,
  SETTINGS_TYPES,
  validateResourcesOf,
  type PartnerInputs,
  type SettingsInputs,
} from "./resources";

/** Onboarding hosts allowed when the policy config names none: TeamViewer's. */
export const DEFAULT_ALLOWED_HOSTS = ["login.teamviewer.com", "*.teamviewer.com"];

/** True when `name` matches `pattern`, case-insensitively, `*` standing for any run of characters. */
export function matches(name: string, pattern: string): boolean {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`, "i").test(name);
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

/** Mandatory: a partner's onboarding URL points at an allowed partner host. */
export function allowedOnboardingHosts(): ResourceValidationPolicy {
  return {
    name: "intune-onboarding-host-allowed",
    description: "A remote assistance partner's onboardingUrl must point at an allowed partner host.",
    enforcementLevel: "mandatory",
    configSchema: {
      properties: {
        allowedOnboardingHosts: { type: "array", items: { type: "string" }, default: DEFAULT_ALLOWED_HOSTS },
      },
    },
    validateResource: validateResourcesOf<PartnerInputs>(PARTNER_TYPES, (partner, args, reportViolation) => {
      const url = partner.onboardingUrl;
      if (typeof url !== "string") return; // unmanaged, or unknown during preview
      const allowed =
        args.getConfig<{ allowedOnboardingHosts?: string[] }>().allowedOnboardingHosts ??
        DEFAULT_ALLOWED_HOSTS;
      const host = hostOf(url);
      if (!host || !allowed.some((pattern) => matches(host, pattern))) {
        reportViolation(
          `onboardingUrl host '${host ?? url}' is not one of the allowed partner hosts: ${allowed.join(", ")}.`,
        );
      }
    }),
  };
}

/** Mandatory: onboarding happens over https only. */
export function httpsOnboardingUrl(): ResourceValidationPolicy {
  return {
    name: "intune-onboarding-url-https",
    description: "A remote assistance partner's onboardingUrl must use https.",
    enforcementLevel: "mandatory",
    validateResource: validateResourcesOf<PartnerInputs>(PARTNER_TYPES, (partner, _args, reportViolation) => {
      const url = partner.onboardingUrl;
      if (typeof url === "string" && !url.toLowerCase().startsWith("https://")) {
        reportViolation(
          `onboardingUrl '${url}' must use https: an administrator authorises the connector there.`,
        );
      }
    }),
  };
}

/** The config of {@link teardownByPolicy}. */
export interface TeardownConfig {
  /** Display names (with `*` wildcards) allowed to stay connected. Absent: every partner is allowed. */
  allowedPartners?: string[];
  /** Disconnect every partner, allowed or not. */
  teardown?: boolean;
}

/** Whether a partner named `displayName` must be disconnected under `config`. */
export function mustTearDown(displayName: string, config: TeardownConfig): boolean {
  if (config.teardown) return true;
  return config.allowedPartners !== undefined && !config.allowedPartners.some((p) => matches(displayName, p));
}

/**
 * Remediation: sets `connected: false` on every partner the stack's policy config does not allow (not on the
 * allowlist, or a teardown declared), so that the next `pulumi up` disconnects it.
 */
export function teardownByPolicy(): ResourceValidationPolicy {
  return {
    name: "intune-partner-teardown",
    description: "Partners the policy config does not allow are disconnected on the next pulumi up.",
    enforcementLevel: "remediate",
    configSchema: {
      properties: {
        allowedPartners: { type: "array", items: { type: "string" } },
        teardown: { type: "boolean", default: false },
      },
    },
    remediateResource: remediateResourcesOf<PartnerInputs>(PARTNER_TYPES, (partner, args) => {
      if (partner.connected === false) return undefined;
      const config = args.getConfig<TeardownConfig>();
      // A partner adopted by id may declare no name: only a teardown reaches it (see intune-partner-name-declared).
      const name = typeof partner.displayName === "string" ? partner.displayName : undefined;
      if (name === undefined ? !config.teardown : !mustTearDown(name, config)) return undefined;
      return { ...args.props, connected: false };
    }),
  };
}

/**
 * Advisory: every partner declares its `displayName`, since the teardown allowlist matches declared names and
 * a partner adopted by `partnerId` alone is out of its reach (but for a teardown of all).
 */
export function nameDeclared(): ResourceValidationPolicy {
  return {
    name: "intune-partner-name-declared",
    description: "A partner declares its displayName, so that the teardown allowlist can match it.",
    enforcementLevel: "advisory",
    validateResource: validateResourcesOf<PartnerInputs>(PARTNER_TYPES, (partner, _args, reportViolation) => {
      if (partner.displayName === undefined) {
        reportViolation(
          `Partner ${partner.partnerId ?? ""} declares no displayName: the intune-partner-teardown allowlist matches declared names, so it cannot tell whether this partner is allowed. Declare its displayName.`,
        );
      }
    }),
  };
}

/** Advisory: an adopted connector in production is protected, or at least not deleted on destroy. */
export function protectAdoptedProduction(): ResourceValidationPolicy {
  return {
    name: "intune-adopted-production-protected",
    description: "An adopted production connector should be protected, or keep deleteOnDestroy: false.",
    enforcementLevel: "advisory",
    configSchema: { properties: { production: { type: "boolean", default: false } } },
    validateResource: validateResourcesOf<PartnerInputs>(PARTNER_TYPES, (partner, args, reportViolation) => {
      const adopts = partner.partnerId !== undefined || partner.adopt === true;
      if (!args.getConfig<{ production?: boolean }>().production || !adopts) return;
      if (!args.opts.protect && partner.deleteOnDestroy === true) {
        reportViolation(
          `'${partner.displayName}' adopts the tenant's connector with deleteOnDestroy: true and no protect: a destroy would delete it. Set protect: true, or leave deleteOnDestroy false.`,
        );
      }
    }),
  };
}

/** The organisation's choice for Remote Help sessions, from the policy config; an omitted one is no choice. */
export interface RemoteHelpChoice {
  blockChat?: boolean;
  allowSessionsToUnenrolledDevices?: boolean;
}

/** The inputs a RemoteAssistanceSettings must declare to match `choice`; `undefined` when it does already. */
export function remoteHelpRemediation(
  props: Record<string, unknown>,
  choice: RemoteHelpChoice,
): Record<string, unknown> | undefined {
  const wrong = (["blockChat", "allowSessionsToUnenrolledDevices"] as const).filter(
    (key) => choice[key] !== undefined && props[key] !== choice[key],
  );
  return wrong.length === 0
    ? undefined
    : { ...props, ...Object.fromEntries(wrong.map((k) => [k, choice[k]])) };
}

/**
 * Remediation: Remote Help's chat and sessions to unenrolled devices match the organisation's choice (policy
 * config): a RemoteAssistanceSettings that declares otherwise, or nothing, is made to declare it, so that the
 * next `pulumi up` puts it in place.
 */
export function remoteHelpChoice(): ResourceValidationPolicy {
  return {
    name: "intune-remote-help-choice",
    description: "Remote Help's chat and unenrolled-device sessions match the organisation's choice.",
    enforcementLevel: "remediate",
    configSchema: {
      properties: {
        blockChat: { type: "boolean" },
        allowSessionsToUnenrolledDevices: { type: "boolean" },
      },
    },
    remediateResource: remediateResourcesOf<SettingsInputs>(SETTINGS_TYPES, (_settings, args) =>
      remoteHelpRemediation(args.props, args.getConfig<RemoteHelpChoice>()),
    ),
  };
}

/** Every rule of the pack. */
export function intunePolicies(): ResourceValidationPolicy[] {
  return [
    allowedOnboardingHosts(),
    httpsOnboardingUrl(),
    teardownByPolicy(),
    nameDeclared(),
    protectAdoptedProduction(),
    remoteHelpChoice(),
  ];
}
