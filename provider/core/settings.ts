import { credentialKinds, type CredentialKind, type CredentialSettings } from "../graph/auth";
import { intuneAppLimits, type PacingLimits } from "../graph/pacer";
import { defaultRetryOptions, type RetryOptions } from "../graph/retry";
import { isTenantId } from "./tenants";

/** Microsoft's clouds: the Graph root and the Entra authority go together. */
export const clouds = {
  global: {
    graphEndpoint: "https://graph.microsoft.com",
    authorityHost: "https://login.microsoftonline.com",
  },
  usgov: { graphEndpoint: "https://graph.microsoft.us", authorityHost: "https://login.microsoftonline.us" },
  usgovdod: {
    graphEndpoint: "https://dod-graph.microsoft.us",
    authorityHost: "https://login.microsoftonline.us",
  },
  china: {
    graphEndpoint: "https://microsoftgraph.chinacloudapi.cn",
    authorityHost: "https://login.chinacloudapi.cn",
  },
} as const;
export type CloudName = keyof typeof clouds;

/** Everything the provider needs to reach Graph, resolved from stack config and environment. */
export interface Settings {
  /** Default tenant for resources without `tenantId`. */
  tenantId?: string;
  cloud: CloudName;
  /** Graph root without trailing slash; the token scope is `<graphEndpoint>/.default`. */
  graphEndpoint: string;
  credential: CredentialSettings;
  requestTimeoutInMs: number;
  retry: RetryOptions;
  /** How long Intune may take to show a write (read-back after create, a lost create, a 404 before "gone"). */
  consistencyWindowInMs: number;
  /** How long create and update wait for the partner to confirm onboarding; 0 does not wait. */
  onboardingWaitInMs: number;
  /** Client-side pacing per tenant; `undefined` when turned off. */
  pacing?: PacingLimits;
}

/** Looks up a stack config key such as `intune:tenantId`. */
export type ConfigLookup = (key: string) => string | undefined;

/** Bad settings; the message lists every problem with the key to fix. */
export class SettingsError extends Error {
  override readonly name = "SettingsError";
  /** Each problem, naming its key (`intune:<key> …`). */
  constructor(readonly problems: string[]) {
    super(`Invalid provider settings: ${problems.join("; ")}.`);
  }
}

const MICROSOFT_AUTHORITIES = [
  "login.microsoftonline.com",
  "login.microsoft.com",
  "login.windows.net",
  "login.microsoftonline.us",
  "login.chinacloudapi.cn",
  "login.partner.microsoftonline.cn",
];

/** True for `localhost`, `127.0.0.0/8` and `::1`: the only hosts where plain http is allowed. */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Resolves settings from stack config (`intune:*`, read by the provider's `configure`) falling back to the
 * standard environment (`AZURE_*`, `INTUNE_*`). Pure. Throws {@link SettingsError} naming every bad key.
 */
export function resolveSettings(config: ConfigLookup, env: Record<string, string | undefined>): Settings {
  const problems: string[] = [];
  const pick = (key: string, envName?: string): string | undefined => {
    const value = config(`intune:${key}`) ?? (envName ? env[envName] : undefined);
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  };
  const seconds = (key: string, fallbackInMs: number, minimum: "positive" | "zero" = "positive"): number => {
    const raw = pick(key);
    if (raw === undefined) return fallbackInMs;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || (n === 0 && minimum === "positive")) {
      problems.push(
        `intune:${key} must be a ${minimum === "positive" ? "positive" : "non-negative"} number of seconds, not '${raw}'`,
      );
      return fallbackInMs;
    }
    return n * 1000;
  };

  const count = (key: string, fallback: number): number => {
    const raw = pick(key);
    if (raw === undefined) return fallback;
    if (/^\d+$/.test(raw)) return Number(raw);
    problems.push(`intune:${key} must be a whole number, not '${raw}'`);
    return fallback;
  };

  const cloudName = pick("cloud", "INTUNE_CLOUD") ?? "global";
  const cloud = cloudName in clouds ? (cloudName as CloudName) : undefined;
  if (!cloud) problems.push(`intune:cloud '${cloudName}' is not one of ${Object.keys(clouds).join(", ")}`);
  const defaults = clouds[cloud ?? "global"];

  const graphEndpoint = endpoint(pick("graphEndpoint", "INTUNE_GRAPH_ENDPOINT") ?? defaults.graphEndpoint);
  const authorityHost = endpoint(pick("authorityHost", "AZURE_AUTHORITY_HOST") ?? defaults.authorityHost);
  checkEndpoint("intune:graphEndpoint (INTUNE_GRAPH_ENDPOINT)", graphEndpoint, problems);
  checkEndpoint("intune:authorityHost (AZURE_AUTHORITY_HOST)", authorityHost, problems);

  const tenantId = pick("tenantId", "AZURE_TENANT_ID");
  if (tenantId !== undefined && !isTenantId(tenantId)) {
    problems.push(`intune:tenantId '${tenantId}' is not a tenant GUID or domain`);
  }

  // The credential is built from the resolved settings, whatever their source (stack config or environment,
  // as Terraform's Azure providers do): under `default`, a client id with a secret, a certificate or a
  // federated token file chooses that credential, so that config and environment may each hold a part.
  const clientSecret = pick("clientSecret", "AZURE_CLIENT_SECRET");
  const clientCertificatePath = pick("clientCertificatePath", "AZURE_CLIENT_CERTIFICATE_PATH");
  const federatedTokenFile = pick("federatedTokenFile", "AZURE_FEDERATED_TOKEN_FILE");
  const clientId = pick("clientId", "AZURE_CLIENT_ID");
  const kindName = pick("auth", "INTUNE_AUTH") ?? "default";
  const chosen = (credentialKinds as readonly string[]).includes(kindName)
    ? (kindName as CredentialKind)
    : undefined;
  if (!chosen) problems.push(`intune:auth '${kindName}' is not one of ${credentialKinds.join(", ")}`);
  const kind: CredentialKind | undefined =
    chosen !== "default"
      ? chosen
      : clientSecret
        ? "clientSecret"
        : clientCertificatePath
          ? "clientCertificate"
          : federatedTokenFile
            ? "workloadIdentity"
            : "default";
  const needs: Partial<Record<CredentialKind, [string, string | undefined][]>> = {
    clientSecret: [
      ["intune:clientId (AZURE_CLIENT_ID)", clientId],
      ["intune:clientSecret (AZURE_CLIENT_SECRET)", clientSecret],
    ],
    clientCertificate: [
      ["intune:clientId (AZURE_CLIENT_ID)", clientId],
      ["intune:clientCertificatePath (AZURE_CLIENT_CERTIFICATE_PATH)", clientCertificatePath],
    ],
    workloadIdentity: [
      ["intune:clientId (AZURE_CLIENT_ID)", clientId],
      ["intune:federatedTokenFile (AZURE_FEDERATED_TOKEN_FILE)", federatedTokenFile],
    ],
    deviceCode: [["intune:clientId (AZURE_CLIENT_ID)", clientId]],
  };
  const setting: Partial<Record<CredentialKind, string>> = {
    clientSecret: "a client secret is set (intune:clientSecret or AZURE_CLIENT_SECRET)",
    clientCertificate:
      "a client certificate is set (intune:clientCertificatePath or AZURE_CLIENT_CERTIFICATE_PATH)",
    workloadIdentity:
      "a federated token file is set (intune:federatedTokenFile or AZURE_FEDERATED_TOKEN_FILE)",
  };
  const chosenBecause =
    chosen === "default" && kind !== undefined && kind !== "default"
      ? `chosen because intune:auth is default and ${setting[kind]}`
      : undefined;
  const why = chosenBecause ? ` (${chosenBecause})` : "";
  for (const [key, value] of (kind && needs[kind]) || []) {
    if (value === undefined) problems.push(`intune:auth ${kind}${why} needs ${key}`);
  }

  const retry: RetryOptions = {
    ...defaultRetryOptions,
    deadlineInMs: seconds("retryDeadlineSeconds", defaultRetryOptions.deadlineInMs),
  };
  retry.maxRetries = count("maxRetries", retry.maxRetries);
  const requestTimeoutInMs = seconds("requestTimeoutSeconds", 60_000);
  const consistencyWindowInMs = seconds("consistencyWindowSeconds", 30_000);
  const onboardingWaitInMs = seconds("onboardingWaitSeconds", 0, "zero");
  const pacing: PacingLimits = {
    windowMs: seconds("rateWindowSeconds", intuneAppLimits.windowMs),
    writes: count("writesPerWindow", intuneAppLimits.writes),
    requests: count("requestsPerWindow", intuneAppLimits.requests),
  };

  if (problems.length > 0) throw new SettingsError(problems);
  return {
    tenantId,
    cloud: cloud!,
    graphEndpoint,
    credential: {
      kind: kind!,
      chosenBecause,
      clientId,
      clientSecret,
      clientCertificatePath,
      clientCertificatePassword: pick("clientCertificatePassword", "AZURE_CLIENT_CERTIFICATE_PASSWORD"),
      federatedTokenFile,
      authorityHost,
      disableInstanceDiscovery: !MICROSOFT_AUTHORITIES.includes(hostOf(authorityHost)),
    },
    requestTimeoutInMs,
    retry,
    consistencyWindowInMs,
    onboardingWaitInMs,
    pacing: pacing.writes > 0 && pacing.requests > 0 ? pacing : undefined,
  };
}

function endpoint(value: string): string {
  return value.replace(/\/+$/, "");
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return "";
  }
}

/** Graph and Entra only over https, except on loopback (the emulator): no token crosses a network in clear. */
function checkEndpoint(name: string, value: string, problems: string[]): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`${name} is not a URL`);
    return;
  }
  if (url.username || url.password) {
    problems.push(`${name} must not carry credentials in the URL`);
    return;
  }
  if (url.protocol === "https:") return;
  if (url.protocol === "http:" && isLoopback(url.hostname)) return;
  problems.push(`${name} '${value}' must use https (plain http is allowed only on loopback)`);
}
