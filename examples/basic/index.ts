// Create a new remote assistance partner and keep it connected, for a tenant that lets partners be created
// (most tenants hold only Intune's own TeamViewer connector: examples/adopt-teamviewer manages that one).
//   pulumi config set connected false   # the next `pulumi up` disconnects it
import * as pulumi from "@pulumi/pulumi";
import { RemoteAssistancePartner } from "pulumi-intune-remote-assistance";

const config = new pulumi.Config();

const partner = new RemoteAssistancePartner("teamviewer", {
  displayName: config.get("displayName") ?? "TeamViewer (managed by Pulumi)",
  onboardingUrl: config.get("onboardingUrl") ?? "https://login.teamviewer.com/nav/intune",
  connected: config.getBoolean("connected") ?? true,
});

export const partnerId = partner.partnerId;
export const onboardingStatus = partner.onboardingStatus;
export const onboardingUrl = partner.onboardingUrl;
