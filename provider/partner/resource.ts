import * as pulumi from "@pulumi/pulumi";
import { serializedProvider } from "../serialized";

/** The type token policy packs and `validateResourceOfType` match on. */
export const REMOTE_ASSISTANCE_PARTNER_TYPE = "pulumi-nodejs:dynamic/intune:RemoteAssistancePartner";

/** Inputs of a {@link RemoteAssistancePartner}. */
export interface RemoteAssistancePartnerArgs {
  /**
   * The partner's name in Intune, e.g. "TeamViewer Connector". Unique per tenant, ignoring letter case. Required
   * but when adopting by `partnerId`, where an omitted name is left as Graph has it.
   */
  displayName?: pulumi.Input<string>;
  /** https URL of the partner's portal where an administrator completes onboarding. Omitted: left as Graph has it. */
  onboardingUrl?: pulumi.Input<string>;
  /**
   * Adopt the tenant's existing partner named `displayName` (Intune's own TeamViewer connector, say) instead of
   * creating one; never creates. Only matters when the resource is created: afterwards it is the same partner.
   */
  adopt?: pulumi.Input<boolean>;
  /**
   * Adopt this existing partner by its id instead of creating one: the import path, since `pulumi import` does
   * not work for dynamic resources.
   */
  partnerId?: pulumi.Input<string>;
  /** Desired connection state. Default `true`; `false` disconnects the connector. */
  connected?: pulumi.Input<boolean>;
  /** DELETE the partner on destroy (it is always disconnected). Default: `true` when created, `false` when adopted. */
  deleteOnDestroy?: pulumi.Input<boolean>;
  /** Tenant GUID or domain. Default: stack config `intune:tenantId`, else `AZURE_TENANT_ID`. */
  tenantId?: pulumi.Input<string>;
  /** Graph API version. Default `"beta"`. */
  apiVersion?: pulumi.Input<"beta" | "v1.0">;
}

// Built once: the SDK caches the serialization per provider object.
const remoteAssistancePartnerProvider = serializedProvider("provider");

/**
 * An Intune remote assistance partner connection (`/deviceManagement/remoteAssistancePartners`), created or
 * adopted, kept connected or disconnected as declared. Destroy disconnects it, then deletes it when
 * `deleteOnDestroy`.
 */
export class RemoteAssistancePartner extends pulumi.dynamic.Resource {
  static readonly __pulumiType = REMOTE_ASSISTANCE_PARTNER_TYPE;

  declare readonly displayName: pulumi.Output<string>;
  declare readonly onboardingUrl: pulumi.Output<string | null>;
  /** Graph id of the partner; also the resource id. */
  declare readonly partnerId: pulumi.Output<string>;
  /** Whether the connector is up (`onboarding` or `onboarded`) as last seen. */
  declare readonly connected: pulumi.Output<boolean>;
  declare readonly deleteOnDestroy: pulumi.Output<boolean>;
  declare readonly tenantId: pulumi.Output<string>;
  declare readonly apiVersion: pulumi.Output<"beta" | "v1.0">;
  /** `notOnboarded`, `onboarding` or `onboarded`. */
  declare readonly onboardingStatus: pulumi.Output<"notOnboarded" | "onboarding" | "onboarded">;
  declare readonly lastConnectionDateTime: pulumi.Output<string | null>;
  /** beta only: when a pending onboarding request expires. */
  declare readonly onboardingRequestExpiryDateTime: pulumi.Output<string | null>;
  /** True when this resource adopted an existing partner rather than creating it. */
  declare readonly adopted: pulumi.Output<boolean>;
  /**
   * Declared values Graph did not keep, by property (the service writes `onboardingUrl` itself, say): left as
   * Graph has them, and not written again while the program declares the same value.
   */
  declare readonly notKept: pulumi.Output<{ displayName?: string; onboardingUrl?: string }>;

  constructor(name: string, args: RemoteAssistancePartnerArgs, opts?: pulumi.CustomResourceOptions) {
    if (opts?.import !== undefined) {
      // The engine would read it without this provider's code (pulumi/pulumi#16175) and fail obscurely.
      throw new Error(
        `RemoteAssistancePartner '${name}' cannot be imported with the import option: Pulumi cannot import dynamic ` +
          `resources. Adopt the partner instead: partnerId: "${opts.import}" (or adopt: true with its displayName), ` +
          "and remove import. Adopting reads it, never creates one, and a destroy only disconnects it.",
      );
    }
    super(
      remoteAssistancePartnerProvider,
      name,
      {
        // Every output seeded, so that each exists on the resource even when its input is not given.
        displayName: undefined,
        onboardingUrl: undefined,
        adopt: undefined,
        partnerId: undefined,
        deleteOnDestroy: undefined,
        tenantId: undefined,
        ...args,
        // The defaults check applies, sent as the program's own: a refresh that runs the program then compares
        // like with like, and shows no diff on an unchanged partner.
        connected: args.connected ?? true,
        apiVersion: args.apiVersion ?? "beta",
        onboardingStatus: undefined,
        lastConnectionDateTime: undefined,
        onboardingRequestExpiryDateTime: undefined,
        adopted: undefined,
        notKept: undefined,
      },
      opts,
      "intune",
      "RemoteAssistancePartner",
    );
  }
}
