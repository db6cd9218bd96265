// Remote Help's tenant settings as code: Remote Help on, chat blocked, no sessions to unenrolled devices.
// A field left out is left as the tenant has it; destroy puts back what the tenant had for the fields declared.
//   pulumi config set blockChat false   # the next `pulumi up` allows chat again
import * as pulumi from "@pulumi/pulumi";
import { RemoteAssistanceSettings } from "pulumi-intune-remote-assistance";

const config = new pulumi.Config();

const remoteHelp = new RemoteAssistanceSettings("remote-help", {
  remoteAssistanceState: "enabled",
  blockChat: config.getBoolean("blockChat") ?? true,
  allowSessionsToUnenrolledDevices: false,
});

export const remoteAssistanceState = remoteHelp.remoteAssistanceState;
export const blockChat = remoteHelp.blockChat;
export const managed = remoteHelp.managed;
