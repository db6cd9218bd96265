import { randomBytes, randomUUID, createHash, X509Certificate } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { decodeJwt, signHs256, signRs256, verifyHs256, verifyRsaSignature } from "./jwt";

/** An app registration (or managed identity) the emulator's Entra knows. */
export interface AppRegistration {
  clientId: string;
  /** Tenants where the app is registered or consented (a multi-tenant app lists several). */
  tenants: string[];
  clientSecret?: string;
  /** PEM certificate whose private key signs client assertions. */
  certificatePem?: string;
  /** Federated credential: tokens from `issuer` with this `subject` are exchanged (workload identity). */
  federated?: { issuer: string; subject: string };
  /** A public client: may sign users in with device code. */
  publicClient?: boolean;
  /** A managed identity: tokens come from the emulator's App Service identity endpoint. */
  managedIdentity?: boolean;
  /** Graph permissions granted: application roles, or delegated scopes for signed-in users. */
  permissions: string[];
}

/** One token request, as the request log records it (never the secret or assertion). */
export interface LoggedTokenRequest {
  atMs: number;
  tenantId: string;
  clientId?: string;
  grantType: string;
  status: number;
  /** The form fields sent, values of secret fields replaced by their length. */
  fields: Record<string, string>;
}

/** Claims of the access tokens the emulator issues. */
export interface AccessTokenClaims {
  tid: string;
  aud: string;
  appid: string;
  roles?: string[];
  scp?: string;
  upn?: string;
  exp: number;
  iat: number;
  /** Issue sequence number, for revocation. */
  seq: number;
}

interface DeviceCode {
  tenantId: string;
  clientId: string;
  resource: string;
  userCode: string;
  expiresAtMs: number;
  approvedBy?: string;
}

const SECRET_FIELDS = new Set(["client_secret", "client_assertion", "refresh_token", "device_code", "code"]);

/** The Entra side of the emulator: OpenID discovery, the token endpoint, device code, managed identity. */
export class Entra {
  readonly apps = new Map<string, AppRegistration>();
  readonly tokenRequests: LoggedTokenRequest[] = [];
  /** Every access token issued, so that tests can search for them where they must not be. */
  readonly issuedTokens: string[] = [];
  /** The stand-in OIDC issuer whose tokens workload identity exchanges (like GitHub Actions' issuer). */
  readonly federatedIssuer: string;
  /** Secret expected in `X-IDENTITY-HEADER` by the managed identity endpoint. */
  readonly identityHeader = randomBytes(16).toString("hex");
  private readonly signingKey = randomBytes(32);
  private readonly deviceCodes = new Map<string, DeviceCode>();
  private readonly refreshTokens = new Map<string, { tenantId: string; clientId: string; upn: string }>();
  private readonly revokedBelow = new Map<string, number>();
  /** Verified domains (lower case) and the tenant GUID each names. */
  private readonly domains = new Map<string, string>();
  private seq = 0;

  constructor(
    readonly authorityHost: () => string,
    private readonly tokenLifetimeSeconds: () => number,
    private readonly federatedKeyPem: { privateKey: string; publicKey: string },
    /** Whether a tenant GUID exists (as Entra answers for it): one of the emulator's tenants. */
    private readonly tenantExists: (tenantId: string) => boolean = () => true,
  ) {
    this.federatedIssuer = "https://token.actions.githubusercontent.com.emulator";
  }

  /** Issues an access token directly (for tests of token handling). */
  issue(
    claims: Omit<AccessTokenClaims, "exp" | "iat" | "seq">,
    lifetimeSeconds = this.tokenLifetimeSeconds(),
  ) {
    const iat = Math.floor(Date.now() / 1000);
    const exp = iat + lifetimeSeconds;
    const token = signHs256({ ...claims, iat, nbf: iat, exp, seq: ++this.seq, ver: "1.0" }, this.signingKey);
    this.issuedTokens.push(token);
    return { token, exp };
  }

  /** Validates a bearer token for `audience`; an error text as Graph words it, or the claims. */
  validate(token: string, audience: string, nowMs = Date.now()): AccessTokenClaims | string {
    const claims = verifyHs256(token, this.signingKey) as AccessTokenClaims | undefined;
    if (!claims) return "Access token validation failure. Invalid signature.";
    if (claims.exp * 1000 <= nowMs) return "Lifetime validation failed, the token is expired.";
    if (claims.aud !== audience) return "Access token validation failure. Invalid audience.";
    if (claims.seq <= (this.revokedBelow.get(claims.tid) ?? 0)) return "The access token has been revoked.";
    return claims;
  }

  /** Every token issued so far for `tenantId` is refused from now on (Graph answers 401). */
  revokeTokens(tenantId: string): void {
    this.revokedBelow.set(tenantId, this.seq);
  }

  /** Completes a pending device-code sign-in as `upn`. */
  approveDeviceCode(userCode: string, upn = "admin@contoso.example"): void {
    const entry = [...this.deviceCodes.values()].find((d) => d.userCode === userCode);
    if (!entry) throw new Error(`no pending device code ${userCode}`);
    entry.approvedBy = upn;
  }

  /** A token from the stand-in OIDC issuer, as a CI system writes to `AZURE_FEDERATED_TOKEN_FILE`. */
  mintFederatedToken(subject: string, audience = "api://AzureADTokenExchange"): string {
    const now = Math.floor(Date.now() / 1000);
    return signRs256(
      { iss: this.federatedIssuer, sub: subject, aud: audience, iat: now, nbf: now, exp: now + 600 },
      this.federatedKeyPem.privateKey,
      "emulator-oidc",
    );
  }

  /** Makes `domain` a verified domain of `tenantId`: Entra then answers for it as for the GUID. */
  addDomain(tenantId: string, domain: string): void {
    this.domains.set(domain.toLowerCase(), tenantId);
  }

  handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? "/", this.authorityHost());
    const parts = url.pathname.split("/").filter(Boolean);
    const segment = decodeURIComponent(parts[0] ?? "");
    const rest = parts.slice(1).join("/");
    const isGuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(segment);
    const tenantId = isGuid ? segment.toLowerCase() : this.domains.get(segment.toLowerCase());
    if (!tenantId || !this.tenantExists(tenantId)) {
      return aadError(
        res,
        400,
        "invalid_tenant",
        90002,
        `Tenant '${segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    }
    if (req.method === "GET" && rest === "v2.0/.well-known/openid-configuration") {
      return json(res, 200, this.openIdConfiguration(tenantId));
    }
    if (req.method === "GET" && rest === "discovery/v2.0/keys") return json(res, 200, { keys: [] });
    const form = Object.fromEntries(new URLSearchParams(body));
    if (req.method === "POST" && rest === "oauth2/v2.0/devicecode")
      return this.deviceCode(res, tenantId, form);
    if (req.method === "POST" && rest === "oauth2/v2.0/token") return this.token(res, tenantId, form);
    json(res, 404, { error: "not_found", error_description: `No route ${req.method} ${url.pathname}` });
  }

  /** App Service managed identity endpoint (`IDENTITY_ENDPOINT`, API version 2019-08-01). */
  handleManagedIdentity(req: IncomingMessage, res: ServerResponse, graphAudience: string): void {
    const url = new URL(req.url ?? "/", "http://localhost");
    const clientId = url.searchParams.get("client_id") ?? url.searchParams.get("clientid") ?? undefined;
    const resource = (url.searchParams.get("resource") ?? "").replace(/\/+$/, "");
    const app = [...this.apps.values()].find(
      (a) => a.managedIdentity && (clientId === undefined || a.clientId === clientId),
    );
    const log = (status: number) =>
      this.tokenRequests.push({
        atMs: Date.now(),
        tenantId: app?.tenants[0] ?? "",
        clientId: app?.clientId,
        grantType: "managed_identity",
        status,
        fields: { resource },
      });
    if (req.headers["x-identity-header"] !== this.identityHeader) {
      log(401);
      return json(res, 401, {
        error: "invalid_request",
        error_description: "X-IDENTITY-HEADER is missing or wrong",
      });
    }
    if (!app) {
      log(400);
      return json(res, 400, {
        error: "invalid_request",
        error_description: "No managed identity is assigned",
      });
    }
    const { token, exp } = this.issue({
      tid: app.tenants[0],
      aud: resource || graphAudience,
      appid: app.clientId,
      roles: app.permissions,
    });
    log(200);
    json(res, 200, {
      access_token: token,
      expires_on: String(exp),
      resource,
      token_type: "Bearer",
      client_id: app.clientId,
    });
  }

  private openIdConfiguration(tenantId: string) {
    const base = `${this.authorityHost()}/${tenantId}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ["query", "fragment", "form_post"],
      subject_types_supported: ["pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
      scopes_supported: ["openid", "profile", "email", "offline_access"],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${base}/openid/userinfo`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ["sub", "iss", "aud", "exp", "iat", "tid"],
      tenant_region_scope: "EU",
      cloud_instance_name: "microsoftonline.com",
      cloud_graph_host_name: "graph.windows.net",
      msgraph_host: "graph.microsoft.com",
    };
  }

  private deviceCode(res: ServerResponse, tenantId: string, form: Record<string, string>): void {
    const app = this.apps.get(form.client_id ?? "");
    this.logToken(tenantId, form, "device_code_request", app?.publicClient ? 200 : 400);
    if (!app?.publicClient || !app.tenants.includes(tenantId)) {
      return aadError(
        res,
        400,
        "unauthorized_client",
        700016,
        `Application '${form.client_id}' is not a public client in '${tenantId}'.`,
      );
    }
    const deviceCode = randomBytes(24).toString("base64url");
    const userCode = randomBytes(4).toString("hex").toUpperCase();
    const verificationUri = `${this.authorityHost()}/devicelogin`;
    this.deviceCodes.set(deviceCode, {
      tenantId,
      clientId: app.clientId,
      resource: resourceOf(form.scope),
      userCode,
      expiresAtMs: Date.now() + 900_000,
    });
    json(res, 200, {
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: verificationUri,
      expires_in: 900,
      interval: 1,
      message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${userCode} to authenticate.`,
    });
  }

  private token(res: ServerResponse, tenantId: string, form: Record<string, string>): void {
    const grant = form.grant_type ?? "";
    const app = this.apps.get(form.client_id ?? "");
    const fail = (status: number, error: string, code: number, description: string) => {
      this.logToken(tenantId, form, grant, status);
      aadError(res, status, error, code, description);
    };
    if (!app || !app.tenants.includes(tenantId)) {
      return fail(
        400,
        "unauthorized_client",
        700016,
        `Application with identifier '${form.client_id}' was not found in the directory '${tenantId}'.`,
      );
    }
    if (grant === "client_credentials") {
      const problem = this.authenticateClient(app, tenantId, form);
      if (problem) return fail(401, "invalid_client", problem.code, problem.description);
      const resource = resourceOf(form.scope);
      if (!form.scope?.endsWith("/.default")) {
        return fail(
          400,
          "invalid_scope",
          1002012,
          `The provided value for scope ${form.scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.`,
        );
      }
      const { token } = this.issue({
        tid: tenantId,
        aud: resource,
        appid: app.clientId,
        roles: app.permissions,
      });
      this.logToken(tenantId, form, grant, 200);
      return json(res, 200, {
        token_type: "Bearer",
        expires_in: this.tokenLifetimeSeconds(),
        ext_expires_in: this.tokenLifetimeSeconds(),
        access_token: token,
      });
    }
    if (grant === "urn:ietf:params:oauth:grant-type:device_code" || grant === "device_code") {
      const entry = this.deviceCodes.get(form.device_code ?? "");
      if (!entry || entry.expiresAtMs < Date.now())
        return fail(400, "expired_token", 70020, "The device code has expired.");
      if (!entry.approvedBy)
        return fail(400, "authorization_pending", 70016, "The user has not yet completed sign-in.");
      this.deviceCodes.delete(form.device_code);
      return this.userTokens(res, tenantId, app, entry.resource, entry.approvedBy, form, grant);
    }
    if (grant === "refresh_token") {
      const entry = this.refreshTokens.get(form.refresh_token ?? "");
      if (!entry || entry.clientId !== app.clientId)
        return fail(400, "invalid_grant", 9002313, "Invalid refresh token.");
      return this.userTokens(res, tenantId, app, resourceOf(form.scope), entry.upn, form, grant);
    }
    fail(400, "unsupported_grant_type", 70003, `The grant type '${grant}' is not supported.`);
  }

  private userTokens(
    res: ServerResponse,
    tenantId: string,
    app: AppRegistration,
    resource: string,
    upn: string,
    form: Record<string, string>,
    grant: string,
  ): void {
    const oid = createHash("sha256").update(upn).digest("hex").slice(0, 32);
    const uid = `${oid.slice(0, 8)}-${oid.slice(8, 12)}-${oid.slice(12, 16)}-${oid.slice(16, 20)}-${oid.slice(20)}`;
    const { token } = this.issue({
      tid: tenantId,
      aud: resource,
      appid: app.clientId,
      scp: app.permissions.join(" "),
      upn,
    });
    const refreshToken = randomBytes(24).toString("base64url");
    this.refreshTokens.set(refreshToken, { tenantId, clientId: app.clientId, upn });
    const now = Math.floor(Date.now() / 1000);
    const idToken = [
      Buffer.from(JSON.stringify({ typ: "JWT", alg: "none" })).toString("base64url"),
      Buffer.from(
        JSON.stringify({
          aud: app.clientId,
          iss: `${this.authorityHost()}/${tenantId}/v2.0`,
          iat: now,
          nbf: now,
          exp: now + 3600,
          oid: uid,
          sub: uid,
          tid: tenantId,
          preferred_username: upn,
          name: upn,
          ver: "2.0",
        }),
      ).toString("base64url"),
      "",
    ].join(".");
    this.logToken(tenantId, form, grant, 200);
    json(res, 200, {
      token_type: "Bearer",
      scope: app.permissions.map((p) => `${resource}/${p}`).join(" "),
      expires_in: this.tokenLifetimeSeconds(),
      ext_expires_in: this.tokenLifetimeSeconds(),
      access_token: token,
      refresh_token: refreshToken,
      id_token: idToken,
      client_info: Buffer.from(JSON.stringify({ uid, utid: tenantId })).toString("base64url"),
    });
  }

  private authenticateClient(
    app: AppRegistration,
    tenantId: string,
    form: Record<string, string>,
  ): { code: number; description: string } | undefined {
    if (form.client_secret !== undefined) {
      return app.clientSecret !== undefined && form.client_secret === app.clientSecret
        ? undefined
        : {
            code: 7000215,
            description: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
          };
    }
    if (
      form.client_assertion_type !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" ||
      !form.client_assertion
    ) {
      return {
        code: 7000218,
        description:
          "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      };
    }
    const jwt = decodeJwt(form.client_assertion);
    if (!jwt) return { code: 50027, description: "JWT token is invalid or malformed." };
    const nowSeconds = Date.now() / 1000;
    if (typeof jwt.payload.exp !== "number" || jwt.payload.exp < nowSeconds) {
      return { code: 700024, description: "Client assertion is not within its valid time range." };
    }
    if (jwt.payload.iss === this.federatedIssuer) {
      const ok =
        app.federated !== undefined &&
        app.federated.issuer === jwt.payload.iss &&
        app.federated.subject === jwt.payload.sub &&
        jwt.payload.aud === "api://AzureADTokenExchange" &&
        verifyRsaSignature(jwt, this.federatedKeyPem.publicKey);
      return ok
        ? undefined
        : {
            code: 70021,
            description: `No matching federated identity record found for presented assertion subject '${String(jwt.payload.sub)}'.`,
          };
    }
    if (!app.certificatePem) return { code: 700027, description: "The app has no certificate credential." };
    const cert = new X509Certificate(app.certificatePem);
    const thumbprints = [
      Buffer.from(cert.fingerprint256.replace(/:/g, ""), "hex").toString("base64url"),
      Buffer.from(cert.fingerprint.replace(/:/g, ""), "hex").toString("base64url"),
    ];
    const presented = [jwt.header["x5t#S256"], jwt.header.x5t].filter((t) => typeof t === "string");
    const tokenEndpoint = `${this.authorityHost()}/${tenantId}/oauth2/v2.0/token`;
    const aud = jwt.payload.aud;
    if (
      !presented.some((t) =>
        thumbprints.includes(String(t).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_")),
      ) ||
      jwt.payload.iss !== app.clientId ||
      jwt.payload.sub !== app.clientId ||
      !(aud === tokenEndpoint || (Array.isArray(aud) && aud.includes(tokenEndpoint))) ||
      !verifyRsaSignature(jwt, cert.publicKey.export({ type: "spki", format: "pem" }).toString())
    ) {
      return { code: 700027, description: "Client assertion failed signature validation." };
    }
    return undefined;
  }

  private logToken(tenantId: string, form: Record<string, string>, grantType: string, status: number): void {
    const fields = Object.fromEntries(
      Object.entries(form).map(([k, v]) => [k, SECRET_FIELDS.has(k) ? `<${v.length} chars>` : v]),
    );
    this.tokenRequests.push({
      atMs: Date.now(),
      tenantId,
      clientId: form.client_id,
      grantType,
      status,
      fields,
    });
  }
}

function resourceOf(scope: string | undefined): string {
  const graphScope = (scope ?? "").split(" ").find((s) => s.includes("/")) ?? "";
  return graphScope.replace(/\/[^/]*$/, "");
}

function aadError(
  res: ServerResponse,
  status: number,
  error: string,
  code: number,
  description: string,
): void {
  const traceId = randomUUID();
  json(res, status, {
    error,
    error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`,
    error_codes: [code],
    timestamp: new Date().toISOString(),
    trace_id: traceId,
    correlation_id: randomUUID(),
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" });
  res.end(text);
}
