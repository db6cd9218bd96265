/**
 * pulumi-intune-remote-assistance: a Pulumi dynamic provider for Intune remote assistance partner connections.
 * The public surface, listed by name.
 */
export {
  RemoteAssistancePartner,
  REMOTE_ASSISTANCE_PARTNER_TYPE,
  type RemoteAssistancePartnerArgs,
} from "./resource";
export { GraphError, isGraphError } from "./graph/errors";
