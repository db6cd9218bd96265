// Adopt the TeamViewer connector a tenant already has (pulumi import cannot work for dynamic resources):
//   pulumi config set partnerId <id>     # the id from Graph, or from the error a duplicate name gives
//   pulumi config set connected false    # the next `pulumi up` disconnects it
// Destroying this stack disconnects the connector but keeps it (deleteOnDestroy defaults to false when adopting);
// `protect` makes an accidental destroy fail instead.
import * as pulumi from "@pulumi/pulumi";
import { RemoteAssistancePartner } from "pulumi-intune-remote-assistance";

const config = new pulumi.Config();

const connector = new RemoteAssistancePartner(
  "teamviewer",
  {
    partnerId: config.require("partnerId"),
    displayName: config.get("displayName") ?? "TeamViewer Connector",
    connected: config.getBoolean("connected") ?? true,
  },
  { protect: config.getBoolean("protect") ?? true },
);

export const partnerId = connector.partnerId;
export const onboardingStatus = connector.onboardingStatus;
export const lastConnectionDateTime = connector.lastConnectionDateTime;
