import * as pulumi from "@pulumi/pulumi";
import { serializedProvider } from "../serialized";

/** The type token of {@link RemoteAssistanceSettings}: a contract with every state written. */
export const REMOTE_ASSISTANCE_SETTINGS_TYPE = "pulumi-nodejs:dynamic/intune:RemoteAssistanceSettings";

/** Inputs of {@link RemoteAssistanceSettings}: each optional, an omitted one left as the tenant has it. */
export interface RemoteAssistanceSettingsArgs {
  /** Whether Remote Help is on for the tenant: `"enabled"` or `"disabled"`. */
  remoteAssistanceState?: pulumi.Input<"enabled" | "disabled">;
  /** Whether Remote Help sessions may reach devices not enrolled in Intune. */
  allowSessionsToUnenrolledDevices?: pulumi.Input<boolean>;
  /** Whether chat is blocked in Remote Help sessions. */
  blockChat?: pulumi.Input<boolean>;
  /** Tenant GUID or domain. Default: stack config `intune:tenantId`, else `AZURE_TENANT_ID`. */
  tenantId?: pulumi.Input<string>;
}

// Built once: the SDK caches the serialization per provider object.
const remoteAssistanceSettingsProvider = serializedProvider("remoteAssistanceSettings");

/**
 * Remote Help's tenant settings (`/deviceManagement/remoteAssistanceSettings`, beta): one per tenant. Create
 * records what the tenant has and PATCHes only the declared fields that differ; refresh sees portal changes and
 * `up` puts the declared values back; destroy puts back what the tenant had, for the fields the stack managed.
 */
export class RemoteAssistanceSettings extends pulumi.dynamic.Resource {
  static readonly __pulumiType = REMOTE_ASSISTANCE_SETTINGS_TYPE;

  declare readonly remoteAssistanceState: pulumi.Output<"enabled" | "disabled">;
  declare readonly allowSessionsToUnenrolledDevices: pulumi.Output<boolean>;
  declare readonly blockChat: pulumi.Output<boolean>;
  declare readonly tenantId: pulumi.Output<string>;
  /** The fields this resource manages: the ones its program declares. */
  declare readonly managed: pulumi.Output<string[]>;
  /** The managed fields' values from before the stack managed them: what destroy puts back. */
  declare readonly original: pulumi.Output<Record<string, unknown>>;

  constructor(name: string, args: RemoteAssistanceSettingsArgs = {}, opts?: pulumi.CustomResourceOptions) {
    if (opts?.import !== undefined) {
      throw new Error(
        `RemoteAssistanceSettings '${name}' cannot be imported with the import option: Pulumi cannot import dynamic ` +
          "resources, and it needs no import: its create reads the tenant's settings and changes only the fields " +
          "the program declares. Remove import.",
      );
    }
    super(
      remoteAssistanceSettingsProvider,
      name,
      {
        remoteAssistanceState: undefined,
        allowSessionsToUnenrolledDevices: undefined,
        blockChat: undefined,
        tenantId: undefined,
        ...args,
        managed: undefined,
        original: undefined,
      },
      opts,
      "intune",
      "RemoteAssistanceSettings",
    );
  }
}
