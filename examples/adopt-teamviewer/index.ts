// Manage the TeamViewer connector the tenant already has: Intune keeps its own row (most likely named
// "TeamViewer Connector", not onboarded until an administrator connects it). `adopt: true` finds it by name and
// never creates one; `npx pulumi-intune-remote-assistance partners` lists the tenant's partners.
//   pulumi config set displayName "<name>"   # another name to adopt
//   pulumi config set partnerId <id>         # or adopt by id (the name is then left as Intune has it)
//   pulumi config set connected false        # the next `pulumi up` disconnects it
// Destroying this stack disconnects the connector but keeps it (deleteOnDestroy is false for an adopted
// partner); `protect` (on unless `pulumi config set protect false`) makes an accidental destroy fail instead.
import * as pulumi from "@pulumi/pulumi";
import { RemoteAssistancePartner } from "pulumi-intune-remote-assistance";

const config = new pulumi.Config();
const partnerId = config.get("partnerId");

const connector = new RemoteAssistancePartner(
  "teamviewer",
  {
    ...(partnerId
      ? { partnerId, displayName: config.get("displayName") }
      : { adopt: true, displayName: config.get("displayName") ?? "TeamViewer Connector" }),
    connected: config.getBoolean("connected") ?? true,
  },
  { protect: config.getBoolean("protect") ?? true },
);

export const id = connector.partnerId;
export const onboardingStatus = connector.onboardingStatus;
export const onboardingUrl = connector.onboardingUrl;
export const lastConnectionDateTime = connector.lastConnectionDateTime;
