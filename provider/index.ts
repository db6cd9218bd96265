/**
 * pulumi-intune-remote-assistance: Pulumi dynamic providers for Intune remote assistance: the partner connection
 * (the TeamViewer connector) and Remote Help's tenant settings.
 * The public surface, listed by name.
 */
export {
  RemoteAssistancePartner,
  REMOTE_ASSISTANCE_PARTNER_TYPE,
  type RemoteAssistancePartnerArgs,
} from "./partner/resource";
export {
  RemoteAssistanceSettings,
  REMOTE_ASSISTANCE_SETTINGS_TYPE,
  type RemoteAssistanceSettingsArgs,
} from "./remoteHelp/resource";
export { GraphError, isGraphError } from "./graph/errors";
