import { generateKeyPairSync, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { Entra, type AppRegistration, type LoggedTokenRequest } from "./entra";
import { FaultPlan } from "./faults";
import { alternatives, GraphService, type GraphBehaviour, type LoggedRequest } from "./graph";
import { TenantStore, type StoredPartner, type StoreTiming } from "./store";
import { intuneLimits, Throttle, type ThrottleLimits } from "./throttle";

export type { AppRegistration, LoggedTokenRequest } from "./entra";
export type { Fault, FaultMatch } from "./faults";
export { alternatives, type Alternative, type LoggedRequest, type GraphBehaviour } from "./graph";
export type { StoredPartner, OnboardingStatus } from "./store";
export {
  intuneLimits,
  limitShape,
  limitShapes,
  limitsAt,
  type LimitShape,
  type ThrottleLimits,
} from "./throttle";
export { seededRandom } from "./faults";

/** The tenant, app and secret the emulator registers unless told otherwise. */
export const defaultTenantId = "11111111-1111-4111-8111-111111111111";
export const defaultClientId = "22222222-2222-4222-8222-222222222222";
export const defaultClientSecret = "emulator-client-secret";

/**
 * `optimistic`: the guesses that make things easy (an empty tenant, onboarding that confirms itself).
 * `realistic`: what a real tenant most likely is: every tenant holds Intune's own "TeamViewer Connector" row,
 * not onboarded, and onboarding waits for a person to confirm it (it expires meanwhile). The unconfirmed
 * alternatives are switches of their own ({@link alternatives}), off unless set, in either profile.
 */
export type Profile = "optimistic" | "realistic";
export const profiles: readonly Profile[] = ["optimistic", "realistic"];

/** The name Intune's own remote assistance row most likely has (unconfirmed). */
export const INTUNE_ROW_NAME = "TeamViewer Connector";

export interface EmulatorOptions extends Partial<StoreTiming>, Partial<GraphBehaviour> {
  /** Default `optimistic`. */
  profile?: Profile;
  /** Loopback address to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port of the Graph (http) server; 0 picks a free one. */
  graphPort?: number;
  /** Port of the Entra (https) server; 0 picks a free one. */
  loginPort?: number;
  /** Intune's throttling limits, `false` for none. Default: the documented limits. */
  throttle?: ThrottleLimits | false;
  /** Lifetime of issued access tokens. Default 3600 s. */
  tokenLifetimeSeconds?: number;
  /** Register the default tenant and app. Default true. */
  defaultTenant?: boolean;
  /** Put an onboarded "TeamViewer" partner in the default tenant, as a real tenant has. Default false. */
  seedTeamViewer?: boolean;
  /** Serve Graph over https too (clients that refuse plain http, such as the Graph JS SDK). Default false. */
  graphHttps?: boolean;
  /** Receives one line per Graph request answered: method, path, status (never a header or a token). */
  logRequests?: (line: string) => void;
}

/** Temp folders of emulators not closed yet: removed when the process exits, whatever the path to it. */
const openDirs = new Set<string>();
process.on("exit", () => {
  for (const dir of openDirs) rmSync(dir, { recursive: true, force: true });
});

/** A running Graph + Entra emulator. Everything is in memory; `close()` frees the ports. */
export class Emulator {
  /** Graph root, e.g. `http://127.0.0.1:41234`: `INTUNE_GRAPH_ENDPOINT`. */
  graphEndpoint = "";
  /** Entra authority, e.g. `https://127.0.0.1:41235`: `AZURE_AUTHORITY_HOST`. */
  authorityHost = "";
  /** PEM file of the emulator's self-signed TLS certificate: `NODE_EXTRA_CA_CERTS`. */
  readonly caCertPath: string;
  readonly faults = new FaultPlan();
  readonly entra: Entra;
  readonly timing: StoreTiming;
  readonly behaviour: GraphBehaviour;
  readonly profile: Profile;
  throttle?: Throttle;
  private readonly graph: GraphService;
  private readonly tenants = new Map<string, TenantStore>();
  private readonly servers: http.Server[] = [];
  private readonly dir: string;

  constructor(
    private readonly options: EmulatorOptions,
    readonly caCertPem: string,
    private readonly tlsKeyPem: string,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), "intune-emulator-"));
    openDirs.add(this.dir);
    this.caCertPath = join(this.dir, "ca.pem");
    writeFileSync(this.caCertPath, caCertPem);
    this.profile = options.profile ?? "optimistic";
    const realistic = this.profile === "realistic";
    this.timing = {
      onboardingDelayMs:
        options.onboardingDelayMs === undefined ? (realistic ? null : 2_000) : options.onboardingDelayMs,
      onboardingExpiryMs: options.onboardingExpiryMs ?? 15 * 60_000,
      readLagMs: options.readLagMs ?? 0,
    };
    this.behaviour = {
      pageSize: options.pageSize ?? 100,
      processingMs: options.processingMs ?? [0, 0],
      patchStatus: options.patchStatus ?? 200,
      actionInWrongState: options.actionInWrongState ?? "noContent",
      extraResponseProperties: options.extraResponseProperties ?? true,
      ...Object.fromEntries(alternatives.map((a) => [a, options[a] ?? false])),
    } as GraphBehaviour;
    const limits = options.throttle === undefined ? intuneLimits : options.throttle;
    this.throttle = limits ? new Throttle(limits) : undefined;
    const federatedKey = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
    });
    this.entra = new Entra(
      () => this.authorityHost,
      () => options.tokenLifetimeSeconds ?? 3600,
      federatedKey,
      (tenantId) => [...this.tenants.keys()].some((t) => t.toLowerCase() === tenantId),
    );
    this.graph = new GraphService(
      () => this.graphEndpoint,
      this.entra,
      (id) => this.tenants.get(id),
      this.faults,
      () => this.throttle,
      () => this.behaviour,
      options.logRequests &&
        ((r) =>
          options.logRequests!(
            `${new Date(r.atMs).toISOString()} ${r.method} /${r.apiVersion}${r.path}${r.query} ${r.status === -1 ? "connection dropped" : r.status}${r.fault ? ` (injected ${r.fault})` : ""}${r.tenantId ? ` tenant ${r.tenantId}` : ""}`,
          )),
    );
  }

  /** Every Graph request so far, oldest first. */
  get requests(): LoggedRequest[] {
    return this.graph.requests;
  }

  /** Every token request so far (secret fields reduced to their length). */
  get tokenRequests(): LoggedTokenRequest[] {
    return this.entra.tokenRequests;
  }

  /**
   * The Graph calls made, as `METHOD /path` below `/deviceManagement` (e.g. `POST
   * /remoteAssistancePartners/<id>/disconnect`), optionally for one tenant: what tests assert.
   */
  calls(filter: { tenantId?: string } = {}): string[] {
    return this.requests
      .filter((r) => filter.tenantId === undefined || r.tenantId === filter.tenantId)
      .map((r) => `${r.method} ${r.path.replace(/^\/deviceManagement/, "")}`);
  }

  /** Forgets the request logs (not the partners): all of them, or a tenant's (tests running side by side). */
  clearLog(filter: { tenantId?: string } = {}): void {
    if (filter.tenantId === undefined) {
      this.graph.requests.length = 0;
      this.entra.tokenRequests.length = 0;
      return;
    }
    const keep = <T extends { tenantId?: string }>(log: T[]) =>
      log.splice(0, log.length, ...log.filter((r) => r.tenantId !== filter.tenantId));
    keep(this.graph.requests);
    keep(this.entra.tokenRequests);
  }

  /**
   * The partner store of a tenant, created with an Intune licence on first use; under the realistic profile it
   * starts with Intune's own row.
   */
  tenant(tenantId: string): TenantStore {
    let store = this.tenants.get(tenantId);
    if (!store) {
      store = new TenantStore(() => this.timing);
      this.tenants.set(tenantId, store);
      if (this.profile === "realistic") store.seed({ displayName: INTUNE_ROW_NAME, status: "notOnboarded" });
    }
    return store;
  }

  /** Intune's own row of a tenant under the realistic profile (the first partner named like it). */
  intuneRow(tenantId: string): StoredPartner | undefined {
    return this.tenant(tenantId)
      .all()
      .find((p) => p.displayName === INTUNE_ROW_NAME);
  }

  /** Registers an app (or adds tenants to it); its tenants get a partner store. */
  registerApp(app: AppRegistration): AppRegistration {
    const existing = this.entra.apps.get(app.clientId);
    const merged = existing
      ? { ...existing, ...app, tenants: [...new Set([...existing.tenants, ...app.tenants])] }
      : app;
    this.entra.apps.set(app.clientId, merged);
    for (const t of merged.tenants) this.tenant(t);
    return merged;
  }

  /** A new tenant, with an Intune licence, where the default app is consented: its id. */
  newTenant(): string {
    const tenantId = randomUUID();
    this.registerApp({
      clientId: defaultClientId,
      tenants: [tenantId],
      permissions: ["DeviceManagementServiceConfig.ReadWrite.All"],
    });
    return tenantId;
  }

  /** Gives a tenant a verified domain, such as `contoso.onmicrosoft.com`, usable wherever its GUID is. */
  addDomain(tenantId: string, domain: string): void {
    this.entra.addDomain(tenantId, domain);
  }

  /** The environment a shell or child process needs to use the emulator with client-secret credentials. */
  env(app: { tenantId?: string; clientId?: string; clientSecret?: string } = {}): Record<string, string> {
    return {
      AZURE_AUTHORITY_HOST: this.authorityHost,
      AZURE_TENANT_ID: app.tenantId ?? defaultTenantId,
      AZURE_CLIENT_ID: app.clientId ?? defaultClientId,
      AZURE_CLIENT_SECRET: app.clientSecret ?? defaultClientSecret,
      INTUNE_GRAPH_ENDPOINT: this.graphEndpoint,
      NODE_EXTRA_CA_CERTS: this.caCertPath,
    };
  }

  /** `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` for `ManagedIdentityCredential` (App Service source). */
  managedIdentityEnv(): Record<string, string> {
    return {
      IDENTITY_ENDPOINT: `${this.graphEndpoint}/msi/token`,
      IDENTITY_HEADER: this.entra.identityHeader,
    };
  }

  /**
   * Makes this process trust the emulator's certificate (child processes use `NODE_EXTRA_CA_CERTS` from
   * {@link env} instead). Needs Node ≥ 22.19. Emulators started in one process share one certificate, so
   * trusting the first is enough; a certificate made by another process (`npm run emulator`) is best trusted
   * through `NODE_EXTRA_CA_CERTS` in a new process.
   */
  trustInProcess(): void {
    const current = tls.getCACertificates("default");
    if (!current.includes(this.caCertPem)) tls.setDefaultCACertificates([...current, this.caCertPem]);
  }

  /**
   * Another app's steady traffic in `tenants`, counted against the tenants' budgets as real requests are (for
   * benchmarks where other apps share a tenant's limits). Returns the function that stops it.
   */
  otherAppLoad(tenants: string[], perWindow: { writes: number; requests: number }): () => void {
    const throttle = this.throttle;
    if (!throttle) return () => undefined;
    const tickMs = throttle.limits.windowMs / perWindow.requests;
    const writeEvery = Math.max(1, Math.round(perWindow.requests / Math.max(1, perWindow.writes)));
    const isWrite = (n: number) => perWindow.writes > 0 && n % writeEvery === 0;
    // The window already holds the last window's worth of it: the load is steady from the first request on.
    const startedAtMs = Date.now();
    for (let n = 0; n < perWindow.requests; n++) {
      for (const t of tenants)
        throttle.admit(t, "other-app", isWrite(n), startedAtMs - throttle.limits.windowMs + n * tickMs);
    }
    let sent = 0;
    const timer = setInterval(
      () => {
        // As many requests as the elapsed time allows at the steady rate, each admitted or refused like a real one.
        for (const due = Math.floor((Date.now() - startedAtMs) / tickMs); sent < due; sent++) {
          for (const t of tenants)
            throttle.admit(t, "other-app", perWindow.writes > 0 && sent % writeEvery === 0);
        }
      },
      Math.max(5, tickMs),
    );
    return () => clearInterval(timer);
  }

  /** The URL that confirms a pending onboarding, as a person signing in at the partner's site would. */
  confirmUrl(tenantId: string, partnerId: string): string {
    return `${this.graphEndpoint}/_emulator/tenants/${tenantId}/partners/${partnerId}/confirm`;
  }

  /** `POST /_emulator/tenants/{tenant}/partners/{id}/confirm`: {@link TenantStore.confirmOnboarding} by hand. */
  private control(req: http.IncomingMessage, res: http.ServerResponse): void {
    const match = /^\/_emulator\/tenants\/([^/]+)\/partners\/([^/]+)\/confirm$/.exec(req.url ?? "");
    const store = match && this.tenants.get(decodeURIComponent(match[1]));
    if (req.method !== "POST" || !match || !store) {
      res
        .writeHead(404, { "Content-Type": "text/plain" })
        .end("POST /_emulator/tenants/{tenant}/partners/{id}/confirm\n");
      return;
    }
    try {
      const p = store.confirmOnboarding(decodeURIComponent(match[2]));
      res.writeHead(200, { "Content-Type": "text/plain" }).end(`'${p.displayName}' (${p.id}) is onboarded\n`);
    } catch (e) {
      res.writeHead(409, { "Content-Type": "text/plain" }).end(`${(e as Error).message}\n`);
    }
  }

  async listen(): Promise<void> {
    const host = this.options.host ?? "127.0.0.1";
    const graphHandler: http.RequestListener = (req, res) =>
      collect(req, (body) =>
        (req.url ?? "").startsWith("/msi/token")
          ? this.entra.handleManagedIdentity(req, res, this.graphEndpoint)
          : (req.url ?? "").startsWith("/_emulator/")
            ? this.control(req, res)
            : this.graph.handle(req, res, body),
      );
    const graphServer = this.options.graphHttps
      ? https.createServer({ key: this.tlsKeyPem, cert: this.caCertPem }, graphHandler)
      : http.createServer(graphHandler);
    const loginServer = https.createServer({ key: this.tlsKeyPem, cert: this.caCertPem }, (req, res) =>
      collect(req, (body) => this.entra.handle(req, res, body)),
    );
    const name = host.includes(":") ? `[${host}]` : host;
    const graphPort = await listenOn(graphServer, host, this.options.graphPort ?? 0);
    const loginPort = await listenOn(loginServer, host, this.options.loginPort ?? 0);
    this.servers.push(graphServer, loginServer);
    this.graphEndpoint = `${this.options.graphHttps ? "https" : "http"}://${name}:${graphPort}`;
    this.authorityHost = `https://${name}:${loginPort}`;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
    openDirs.delete(this.dir);
  }
}

/** Starts an emulator on loopback. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? "127.0.0.1";
  const { cert, key } = await tlsCertificate(host);
  const emulator = new Emulator(options, cert, key);
  if (options.defaultTenant !== false) {
    emulator.registerApp({
      clientId: defaultClientId,
      tenants: [defaultTenantId],
      clientSecret: defaultClientSecret,
      permissions: ["DeviceManagementServiceConfig.ReadWrite.All"],
    });
    if (options.seedTeamViewer) {
      emulator.tenant(defaultTenantId).seed({
        displayName: "TeamViewer Connector",
        onboardingUrl: "https://login.teamviewer.com/nav/intune",
        status: "onboarded",
      });
    }
  }
  await emulator.listen();
  return emulator;
}

let cachedCertificate: Promise<{ cert: string; key: string }> | undefined;

/** A self-signed certificate for loopback (localhost, 127.0.0.1, ::1), made once per process. */
function tlsCertificate(host: string): Promise<{ cert: string; key: string }> {
  cachedCertificate ??= (async () => {
    const selfsigned = require("selfsigned") as typeof import("selfsigned");
    const notAfter = new Date(Date.now() + 30 * 24 * 3600_000);
    const pems = await selfsigned.generate([{ name: "commonName", value: "Intune emulator (loopback)" }], {
      keySize: 2048,
      algorithm: "sha256",
      notAfterDate: notAfter,
      extensions: [
        { name: "basicConstraints", cA: true },
        { name: "keyUsage", digitalSignature: true, keyEncipherment: true, keyCertSign: true },
        { name: "extKeyUsage", serverAuth: true },
        {
          name: "subjectAltName",
          altNames: [
            { type: 2, value: "localhost" },
            { type: 7, ip: "127.0.0.1" },
            { type: 7, ip: "::1" },
            ...(host === "127.0.0.1" || host === "::1" || host === "localhost"
              ? []
              : [{ type: 7 as const, ip: host }]),
          ],
        },
      ],
    });
    return { cert: pems.cert, key: pems.private };
  })();
  return cachedCertificate;
}

function collect(req: http.IncomingMessage, then: (body: string) => void): void {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => then(Buffer.concat(chunks).toString("utf8")));
}

function listenOn(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}
