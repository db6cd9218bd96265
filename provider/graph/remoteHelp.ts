import type { GraphClient } from "./client";
import { GraphError } from "./errors";

export const remoteAssistanceStates = ["disabled", "enabled"] as const;
/** `remoteAssistanceState`: whether Remote Help is on for the tenant. */
export type RemoteAssistanceState = (typeof remoteAssistanceStates)[number];

/** `microsoft.graph.remoteAssistanceSettings` (beta): Remote Help's switches for a tenant. */
export interface RemoteHelpSettings {
  remoteAssistanceState: RemoteAssistanceState;
  allowSessionsToUnenrolledDevices: boolean;
  blockChat: boolean;
}

/** The settings' property names, each writable. */
export const REMOTE_HELP_FIELDS = [
  "remoteAssistanceState",
  "allowSessionsToUnenrolledDevices",
  "blockChat",
] as const;
export type RemoteHelpField = (typeof REMOTE_HELP_FIELDS)[number];

export const REMOTE_HELP_PATH = "/deviceManagement/remoteAssistanceSettings";

/** The remoteAssistanceSettings singleton of a tenant: GET and PATCH only, in beta only. */
export class RemoteHelpApi {
  constructor(private readonly client: GraphClient) {}

  async get(): Promise<RemoteHelpSettings> {
    return toSettings(
      await this.client.send<Record<string, unknown>>({
        method: "GET",
        path: REMOTE_HELP_PATH,
        apiVersion: "beta",
      }),
    );
  }

  /** PATCHes the given fields; resolves the settings when Graph answered with them (200), else `undefined` (204). */
  async update(fields: Partial<RemoteHelpSettings>): Promise<RemoteHelpSettings | undefined> {
    const body = await this.client.send<Record<string, unknown>>({
      method: "PATCH",
      path: REMOTE_HELP_PATH,
      apiVersion: "beta",
      body: fields,
    });
    return body === undefined ? undefined : toSettings(body);
  }
}

function toSettings(body: Record<string, unknown> | undefined): RemoteHelpSettings {
  const state = body?.remoteAssistanceState;
  if (
    (state !== "enabled" && state !== "disabled") ||
    typeof body?.allowSessionsToUnenrolledDevices !== "boolean" ||
    typeof body?.blockChat !== "boolean"
  ) {
    throw new GraphError({
      code: GraphError.INVALID_RESPONSE,
      message: "remoteAssistanceSettings came back without its three properties",
      method: "GET",
      path: REMOTE_HELP_PATH,
    });
  }
  return {
    remoteAssistanceState: state,
    allowSessionsToUnenrolledDevices: body.allowSessionsToUnenrolledDevices,
    blockChat: body.blockChat,
  };
}
