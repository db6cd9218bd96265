/**
 * The `intune` package's Pulumi schema: both resources, both functions and the provider's configuration, as
 * GetSchema serves it (`pulumi package get-schema pulumi-resource-intune`). `test/schema.test.ts` holds it
 * against the TypeScript types (the dynamic resources' args and outputs, the settings the provider reads).
 */

/** The type tokens of the plugin's resources and functions. */
export const PARTNER_TOKEN = "intune:index:RemoteAssistancePartner";
export const SETTINGS_TOKEN = "intune:index:RemoteAssistanceSettings";
export const GET_PARTNERS_TOKEN = "intune:index:getPartners";
export const GET_PARTNER_TOKEN = "intune:index:getPartner";

/** A property as Pulumi's schema spells it (the CLI drops what the spec does not hold: no inline enums). */
type Property = {
  type?: "string" | "boolean" | "number" | "integer" | "array" | "object";
  $ref?: string;
  items?: TypeRef;
  additionalProperties?: TypeRef;
  secret?: boolean;
  description: string;
};
/** The type of an array's items or a map's values: no description of its own. */
type TypeRef = { type?: "string"; $ref?: string };
type Properties = Record<string, Property>;

const text = (description: string): Property => ({ type: "string", description });
const flag = (description: string): Property => ({ type: "boolean", description });
const seconds = (description: string): Property => ({ type: "number", description });
const count = (description: string): Property => ({ type: "integer", description });

const tenantId = text(
  "Tenant GUID or domain. Default: the provider's tenantId (stack config intune:tenantId, else AZURE_TENANT_ID). " +
    "Once created, a resource stays in the tenant its state records: only a tenantId naming another tenant moves it.",
);
const apiVersion = text('Graph API version: "beta" (default) or "v1.0".');

/** The provider's configuration: the stack config keys `intune:<key>`, or the arguments of `intune.Provider`. */
export const CONFIG: Properties = {
  tenantId: text("Default tenant (GUID or domain) for resources without tenantId. Env: AZURE_TENANT_ID."),
  clientId: text("App (or user-assigned managed identity) client id. Env: AZURE_CLIENT_ID."),
  clientSecret: {
    ...text("Client secret; set, it selects the clientSecret credential. Env: AZURE_CLIENT_SECRET."),
    secret: true,
  },
  clientCertificatePath: text(
    "PEM file with private key and certificate. Env: AZURE_CLIENT_CERTIFICATE_PATH.",
  ),
  clientCertificatePassword: {
    ...text("Password of the certificate's key. Env: AZURE_CLIENT_CERTIFICATE_PASSWORD."),
    secret: true,
  },
  federatedTokenFile: text("Workload identity token file. Env: AZURE_FEDERATED_TOKEN_FILE."),
  auth: text(
    "Credential: default, clientSecret, clientCertificate, workloadIdentity, managedIdentity, azureCli, deviceCode. Env: INTUNE_AUTH.",
  ),
  cloud: text("global (default), usgov, usgovdod or china. Env: INTUNE_CLOUD."),
  graphEndpoint: text("Graph root, e.g. the emulator's. Default: the cloud's. Env: INTUNE_GRAPH_ENDPOINT."),
  authorityHost: text("Entra authority. Default: the cloud's. Env: AZURE_AUTHORITY_HOST."),
  requestTimeoutSeconds: seconds("One Graph attempt's timeout (default 60)."),
  retryDeadlineSeconds: seconds("One Graph request with its retries and their waits (default 300)."),
  maxRetries: count("Retries of one request (default 8; of a server error at most 3)."),
  consistencyWindowSeconds: seconds("How long Intune may take to show a write (default 30)."),
  onboardingWaitSeconds: seconds(
    "How long create and update wait for onboarding to be confirmed (default 0).",
  ),
  writesPerWindow: count("Pacing: the most writes per tenant per window (default 100; 0 turns pacing off)."),
  requestsPerWindow: count(
    "Pacing: the most requests per tenant per window (default 1000; 0 turns pacing off).",
  ),
  rateWindowSeconds: seconds("The pacing window (default 20: Intune's limits are per 20 s)."),
};

const PARTNER_INPUTS: Properties = {
  displayName: text(
    'The partner\'s name in Intune, e.g. "TeamViewer Connector"; unique per tenant ignoring case. Required but when adopting by partnerId.',
  ),
  onboardingUrl: text(
    "https URL of the partner's portal where onboarding is completed. Omitted: left as Graph has it.",
  ),
  adopt: flag(
    "Adopt the tenant's existing partner named displayName instead of creating one; never creates.",
  ),
  partnerId: text("Adopt this existing partner by its id instead of creating one."),
  connected: flag("Desired connection state. Default true; false disconnects the connector."),
  deleteOnDestroy: flag(
    "DELETE the partner on destroy (it is always disconnected). Default: true when created, false when adopted or imported.",
  ),
  tenantId,
  apiVersion,
};

const NOT_KEPT: Properties = {
  displayName: text("The declared name Graph did not keep."),
  onboardingUrl: text("The declared onboarding URL Graph did not keep."),
};

const PARTNER_OUTPUTS: Properties = {
  ...PARTNER_INPUTS,
  onboardingUrl: text("The partner's onboarding URL as Graph has it."),
  connected: flag("Whether the connector is up (onboarding or onboarded) as last seen."),
  partnerId: text("Graph id of the partner; also the resource id."),
  onboardingStatus: text("notOnboarded, onboarding or onboarded."),
  lastConnectionDateTime: text("When the connector last connected."),
  onboardingRequestExpiryDateTime: text("beta only: when a pending onboarding request expires."),
  adopted: flag("True when this resource adopted (or imported) an existing partner rather than creating it."),
  notKept: {
    $ref: "#/types/intune:index:NotKept",
    description: "Declared values Graph did not keep, by property: left as Graph has them.",
  },
};
delete (PARTNER_OUTPUTS as Partial<Properties>).adopt;

const SETTINGS_INPUTS: Properties = {
  remoteAssistanceState: text('Whether Remote Help is on for the tenant: "enabled" or "disabled".'),
  allowSessionsToUnenrolledDevices: flag(
    "Whether Remote Help sessions may reach devices not enrolled in Intune.",
  ),
  blockChat: flag("Whether chat is blocked in Remote Help sessions."),
  tenantId,
};

const SETTINGS_OUTPUTS: Properties = {
  ...SETTINGS_INPUTS,
  managed: {
    type: "array",
    items: { type: "string" },
    description: "The fields this resource manages: the ones its program declares.",
  },
  original: {
    type: "object",
    additionalProperties: { $ref: "pulumi.json#/Any" },
    description: "The managed fields' values from before the stack managed them: what destroy puts back.",
  },
  instance: text("Which resource this is, so that two resources of one tenant are told apart."),
};

const PARTNER_INFO: Properties = {
  partnerId: text("Graph id of the partner."),
  displayName: text("The partner's name."),
  onboardingUrl: text("The partner's onboarding URL."),
  onboardingStatus: text("notOnboarded, onboarding or onboarded."),
  connected: flag("Whether the connector is up."),
  lastConnectionDateTime: text("When the connector last connected."),
};

/** Outputs Graph may leave empty (`null`): not required. */
const NULLABLE = ["onboardingUrl", "lastConnectionDateTime", "onboardingRequestExpiryDateTime", "notKept"];

const object = (description: string, properties: Properties, required: string[] = []) => ({
  description,
  type: "object" as const,
  properties,
  ...(required.length > 0 ? { required } : {}),
});

/** The Go SDK's module path (sdk/go). */
export const GO_MODULE = "github.com/pulumi-intune-remote-assistance/pulumi-intune-remote-assistance/sdk/go";

/** The schema served by GetSchema, at the plugin's version. */
export function intuneSchema(version: string) {
  return {
    name: "intune",
    displayName: "Intune remote assistance",
    version,
    description:
      "Intune remote assistance: the partner connection (the TeamViewer connector) and Remote Help's tenant settings, through Microsoft Graph.",
    keywords: ["intune", "microsoft-graph", "teamviewer", "remote-assistance", "category/utility"],
    license: "Apache-2.0",
    repository: "https://github.com/pulumi-intune-remote-assistance/pulumi-intune-remote-assistance",
    publisher: "pulumi-intune-remote-assistance",
    config: { variables: CONFIG },
    provider: {
      description:
        "An Intune tenant's Graph connection: a tenant and a credential (the settings of stack config intune:*).",
      inputProperties: CONFIG,
    },
    types: {
      "intune:index:NotKept": object("Declared values Graph did not keep.", NOT_KEPT),
      "intune:index:PartnerInfo": object(
        "A remote assistance partner of a tenant.",
        PARTNER_INFO,
        Object.keys(PARTNER_INFO),
      ),
    },
    resources: {
      [PARTNER_TOKEN]: {
        description:
          "An Intune remote assistance partner connection, created, adopted or imported, kept connected or disconnected as declared. Destroy disconnects it, then deletes it when deleteOnDestroy.",
        inputProperties: PARTNER_INPUTS,
        properties: PARTNER_OUTPUTS,
        required: Object.keys(PARTNER_OUTPUTS).filter((k) => !NULLABLE.includes(k)),
      },
      [SETTINGS_TOKEN]: {
        description:
          "Remote Help's tenant settings (beta), one per tenant: create records what the tenant has and PATCHes only the declared fields; destroy puts back what the stack changed.",
        inputProperties: SETTINGS_INPUTS,
        properties: SETTINGS_OUTPUTS,
        required: Object.keys(SETTINGS_OUTPUTS),
      },
    },
    functions: {
      [GET_PARTNERS_TOKEN]: {
        description: "Every remote assistance partner of a tenant: what to adopt, by name or id.",
        inputs: object("Arguments.", { tenantId, apiVersion }),
        outputs: object(
          "The tenant's partners.",
          {
            tenantId: text("The tenant asked."),
            partners: {
              type: "array",
              items: { $ref: "#/types/intune:index:PartnerInfo" },
              description: "Its partners.",
            },
          },
          ["tenantId", "partners"],
        ),
      },
      [GET_PARTNER_TOKEN]: {
        description: "One remote assistance partner of a tenant, by id or by name (ignoring case).",
        inputs: object("Arguments: partnerId or displayName.", {
          partnerId: text("The partner's id."),
          displayName: text("The partner's name."),
          tenantId,
          apiVersion,
        }),
        outputs: object("The partner.", { ...PARTNER_INFO, tenantId: text("The tenant asked.") }, [
          ...Object.keys(PARTNER_INFO),
          "tenantId",
        ]),
      },
    },
    // The SDKs `npm run sdk` generates (sdk/): their versions are the plugin's, and the Go SDK is a module of
    // its own (sdk/go).
    meta: { supportPack: true },
    language: {
      nodejs: {
        packageName: "@pulumi-intune-remote-assistance/intune",
        dependencies: { "@pulumi/pulumi": "^3.139.0" },
        respectSchemaVersion: true,
      },
      python: { packageName: "pulumi_intune", respectSchemaVersion: true },
      go: {
        importBasePath: `${GO_MODULE}/intune`,
        respectSchemaVersion: true,
      },
    },
  };
}
