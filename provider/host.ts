/**
 * The providers as they run in the dynamic-provider host. The provider serialized into state only holds
 * `require("pulumi-intune-remote-assistance/host")` and the name of one export below: this module's path and
 * these two names are a contract with every state ever written, so that another checkout or a later release
 * refreshes and destroys it.
 */
export { partnerOperations as provider } from "./partner/operations";
export { settingsOperations as remoteAssistanceSettings } from "./remoteHelp/operations";
