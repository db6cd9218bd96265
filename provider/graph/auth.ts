import type { AccessToken, TokenCredential } from "@azure/identity";
import fetch from "node-fetch";

/** The credentials of `@azure/identity` this provider can use; `default` is `DefaultAzureCredential`. */
export const credentialKinds = [
  "default",
  "clientSecret",
  "clientCertificate",
  "workloadIdentity",
  "managedIdentity",
  "azureCli",
  "deviceCode",
] as const;
export type CredentialKind = (typeof credentialKinds)[number];

/** How to build a credential. Holds secrets: never log, serialize or put it in an error. */
export interface CredentialSettings {
  kind: CredentialKind;
  /** Why `kind` was chosen when `intune:auth` is `default`: what is set (`AZURE_CLIENT_SECRET`…). */
  chosenBecause?: string;
  clientId?: string;
  clientSecret?: string;
  clientCertificatePath?: string;
  clientCertificatePassword?: string;
  federatedTokenFile?: string;
  /** Entra authority, e.g. `https://login.microsoftonline.com`. */
  authorityHost: string;
  /** True for an authority that is not Microsoft's (the emulator): MSAL must not ask Microsoft about it. */
  disableInstanceDiscovery: boolean;
  /** Where the device-code sign-in instructions go. */
  prompt?: (message: string) => void;
}

/**
 * Builds the `@azure/identity` credential for one tenant. `@azure/identity` is loaded here, on first use,
 * never when the provider is serialized.
 */
export function createCredential(s: CredentialSettings, tenantId: string): TokenCredential {
  const identity = require("@azure/identity") as typeof import("@azure/identity");
  const common = {
    authorityHost: s.authorityHost,
    disableInstanceDiscovery: s.disableInstanceDiscovery,
    additionallyAllowedTenants: ["*"],
  };
  const clientId = s.clientId ?? "";
  switch (s.kind) {
    case "default":
      return new identity.DefaultAzureCredential({
        ...common,
        tenantId,
        managedIdentityClientId: s.clientId,
        workloadIdentityClientId: s.clientId,
      });
    case "clientSecret":
      return new identity.ClientSecretCredential(tenantId, clientId, s.clientSecret ?? "", common);
    case "clientCertificate":
      return new identity.ClientCertificateCredential(
        tenantId,
        clientId,
        { certificatePath: s.clientCertificatePath ?? "", certificatePassword: s.clientCertificatePassword },
        common,
      );
    case "workloadIdentity":
      return new identity.WorkloadIdentityCredential({
        ...common,
        tenantId,
        clientId: s.clientId,
        tokenFilePath: s.federatedTokenFile,
      });
    case "managedIdentity":
      return s.clientId === undefined
        ? new identity.ManagedIdentityCredential()
        : new identity.ManagedIdentityCredential({ clientId: s.clientId });
    case "azureCli":
      return new identity.AzureCliCredential({ tenantId, additionallyAllowedTenants: ["*"] });
    case "deviceCode":
      return new identity.DeviceCodeCredential({
        ...common,
        tenantId,
        clientId: s.clientId,
        userPromptCallback: (info) => (s.prompt ?? console.error)(info.message),
      });
  }
}

/** What the Graph client asks of authentication: a bearer token, fresh when it says so. */
export interface TokenSource {
  /**
   * Resolves an access token. `forceRefresh` (after Graph rejected a token that should still be valid) skips
   * every cache; `claims` answers a Continuous Access Evaluation challenge.
   */
  getToken(options?: { forceRefresh?: boolean; claims?: string; abortSignal?: AbortSignal }): Promise<string>;
}

/** Longest margin before expiry at which a cached token is renewed. */
export const REFRESH_MARGIN_IN_MS = 120_000;

/**
 * When a token obtained at `obtainedAtInMs` should be renewed: at `refreshAfterTimestamp` when Entra gave one,
 * else two minutes before expiry (half the lifetime for tokens shorter than four minutes).
 */
export function refreshAtInMs(token: AccessToken, obtainedAtInMs: number): number {
  const lifetimeInMs = token.expiresOnTimestamp - obtainedAtInMs;
  const beforeExpiry = token.expiresOnTimestamp - Math.min(REFRESH_MARGIN_IN_MS, lifetimeInMs / 2);
  return Math.min(token.refreshAfterTimestamp ?? Infinity, beforeExpiry);
}

/**
 * One tenant's token for one credential and scope, cached and renewed before expiry. Concurrent callers share
 * one token request, so a process makes one token request per tenant in the normal case.
 */
export class CachedTokenSource implements TokenSource {
  private credential?: TokenCredential;
  private cached?: { token: string; refreshAtInMs: number };
  private pending?: Promise<string>;
  /** Token requests made, for tests and benchmarks. */
  requests = 0;

  constructor(
    private readonly createCredential: () => TokenCredential,
    private readonly scope: string,
    private readonly tenantId: string,
    private readonly describe: string,
    private readonly now: () => number = Date.now,
    /** The Entra authority the credential asks: where a failed discovery is looked into. */
    private readonly authorityHost?: string,
  ) {}

  getToken(
    options: { forceRefresh?: boolean; claims?: string; abortSignal?: AbortSignal } = {},
  ): Promise<string> {
    if (options.forceRefresh) {
      // A new credential instance also drops MSAL's in-memory cache, which would hand back the same token.
      this.credential = undefined;
      this.cached = undefined;
      this.pending = undefined;
    }
    if (this.cached && this.now() < this.cached.refreshAtInMs) return Promise.resolve(this.cached.token);
    this.pending ??= this.fetch(options).finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** The token held now, if any (to read the permissions it grants; it goes nowhere else). */
  heldToken(): string | undefined {
    return this.cached?.token;
  }

  private async fetch(options: { claims?: string; abortSignal?: AbortSignal }): Promise<string> {
    this.credential ??= this.createCredential();
    this.requests++;
    const obtainedAtInMs = this.now();
    let token: AccessToken | null;
    try {
      token = await this.credential.getToken(this.scope, {
        tenantId: this.tenantId,
        claims: options.claims,
        abortSignal: options.abortSignal,
      });
    } catch (e) {
      // MSAL says only that it could not read Entra's discovery document: ask it why, once.
      const discovery =
        this.authorityHost && /endpoints_resolution_error/.test(e instanceof Error ? e.message : String(e))
          ? await probeDiscovery(this.authorityHost, this.tenantId)
          : undefined;
      throw new AuthenticationFailedError(this.describe, this.tenantId, e, discovery);
    }
    if (!token)
      throw new AuthenticationFailedError(this.describe, this.tenantId, new Error("no token returned"));
    this.cached = { token: token.token, refreshAtInMs: refreshAtInMs(token, obtainedAtInMs) };
    return token.token;
  }
}

/**
 * A credential could not produce a token. Its message names the credential and tenant, never a secret, and
 * says what to do where the cause is a known one.
 */
export class AuthenticationFailedError extends Error {
  override readonly name = "AuthenticationFailedError";
  constructor(credential: string, tenantId: string, cause: unknown, discovery?: Discovery) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      `Could not get a Microsoft Graph token for tenant ${tenantId} with ${credential}: ${explainAuthFailure(reason, tenantId, discovery)}`,
      { cause },
    );
  }
}

/** What asking for Entra's discovery document of a tenant gave, where MSAL could not read it. */
export type Discovery =
  | { kind: "answered" }
  | { kind: "refused"; status: number; description: string }
  | { kind: "untrusted"; code: string }
  | { kind: "unreachable"; code: string; authorityHost: string };

const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/i;

/** Asks for `tenant`'s OpenID discovery document at `authorityHost` (no credential) and says what came of it. */
export async function probeDiscovery(
  authorityHost: string,
  tenant: string,
  timeoutInMs = 10_000,
): Promise<Discovery> {
  const url = `${authorityHost.replace(/\/+$/, "")}/${encodeURIComponent(tenant)}/v2.0/.well-known/openid-configuration`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutInMs) as never });
    if (response.ok) return { kind: "answered" };
    const body = (await response.json().catch(() => ({}))) as { error_description?: string };
    return {
      kind: "refused",
      status: response.status,
      description: (body.error_description ?? "").split("\n")[0],
    };
  } catch (e) {
    const code = String((e as { code?: string }).code ?? (e as Error).name ?? "");
    return TLS_CODES.test(code) || TLS_CODES.test((e as Error).message)
      ? { kind: "untrusted", code }
      : { kind: "unreachable", code: code || (e as Error).message, authorityHost: new URL(url).origin };
  }
}

/** The credentials `DefaultAzureCredential` tries, by the names its errors use. */
const CHAIN =
  /^CredentialUnavailableError: (?:Error: )?(?:Unable to execute )?(\w+?Credential|Visual Studio Code|Azure CLI|Azure Developer CLI|PowerShell)/;

/**
 * A credential's failure, shortened where it is long and followed by the fix where the cause is known. Pure:
 * where MSAL could not read Entra's discovery document, `discovery` (a probe of it) tells an unknown tenant, an
 * unreachable authority and an untrusted certificate apart.
 */
export function explainAuthFailure(reason: string, tenantId?: string, discovery?: Discovery): string {
  const first = reason.split("\n")[0];
  if (discovery?.kind === "refused") {
    const code = /AADSTS(\d+)/.exec(discovery.description)?.[0];
    return code === "AADSTS90002"
      ? `Entra does not know tenant ${tenantId} (${discovery.description}). Check tenantId (intune:tenantId, ` +
          "AZURE_TENANT_ID): a tenant GUID, or a domain verified in that tenant; and intune:cloud, since each " +
          "national cloud has tenants of its own."
      : `Entra refused the discovery document of tenant ${tenantId} (HTTP ${discovery.status}${discovery.description ? `: ${discovery.description}` : ""}).`;
  }
  if (discovery?.kind === "unreachable") {
    return (
      `${first}. Entra's authority ${discovery.authorityHost} cannot be reached (${discovery.code}): check intune:authorityHost ` +
      "(AZURE_AUTHORITY_HOST), intune:cloud and the network."
    );
  }
  if (
    discovery?.kind === "untrusted" ||
    (discovery === undefined &&
      /endpoints_resolution_error|self[- ]signed certificate|unable to verify the first certificate/i.test(
        reason,
      ))
  ) {
    const why =
      discovery?.kind === "untrusted"
        ? `Node does not trust the authority's TLS certificate (${discovery.code})`
        : "Node does not trust the authority's TLS certificate, or cannot reach it";
    return (
      `${first}. Entra's discovery document could not be fetched: ${why}. Against the emulator, export ` +
      "NODE_EXTRA_CA_CERTS as " +
      "`npx pulumi-intune-remote-assistance emulator` prints it (`npm run emulator` in a checkout); behind a TLS-inspecting proxy, export NODE_EXTRA_CA_CERTS with its CA; " +
      "else check intune:authorityHost (AZURE_AUTHORITY_HOST) and the network."
    );
  }
  if (reason.startsWith("ChainedTokenCredential authentication failed")) {
    const tried = reason
      .split("\n")
      .map((line) => CHAIN.exec(line)?.[1])
      .filter((name): name is string => name !== undefined);
    return (
      `DefaultAzureCredential found no credential that works${tried.length > 0 ? ` (unavailable: ${tried.join(", ")})` : ""}. ` +
      "Set intune:auth to the credential you mean: clientSecret (intune:clientId and intune:clientSecret, or " +
      "AZURE_CLIENT_ID and AZURE_CLIENT_SECRET), clientCertificate, workloadIdentity, managedIdentity, azureCli " +
      "(after az login) or deviceCode."
    );
  }
  return reason;
}

/**
 * The GUID of the tenant that `tenant` (a GUID or a verified domain) names, read from the `issuer` of Entra's
 * OpenID discovery document (`<authorityHost>/<tenant>/v2.0/.well-known/openid-configuration`): public, no
 * credential needed. Throws an error naming the tenant and what Entra answered.
 */
export async function discoverTenantGuid(
  authorityHost: string,
  tenant: string,
  timeoutInMs = 10_000,
): Promise<string> {
  const url = `${authorityHost.replace(/\/+$/, "")}/${encodeURIComponent(tenant)}/v2.0/.well-known/openid-configuration`;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutInMs);
  try {
    const response = await fetch(url, { signal: abort.signal as never });
    const body = (await response.json().catch(() => ({}))) as { issuer?: string; error_description?: string };
    const guid = /\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\//i.exec(
      body.issuer ?? "",
    )?.[1];
    if (!response.ok || !guid) {
      throw new Error(
        `Entra's discovery document for tenant ${tenant} names no tenant (HTTP ${response.status}${body.error_description ? `: ${body.error_description.split("\n")[0]}` : ""})`,
      );
    }
    return guid.toLowerCase();
  } catch (e) {
    if (abort.signal.aborted)
      throw new Error(`Entra did not answer about tenant ${tenant} within ${timeoutInMs / 1000} s`);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
