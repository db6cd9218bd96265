import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import {
  CachedTokenSource,
  createCredential,
  type CredentialSettings,
  type Discovery,
  explainAuthFailure,
  refreshAtInMs,
} from "../provider/graph/auth";
import { GraphClient } from "../provider/graph/client";
import { PartnersApi } from "../provider/graph/partners";
import { standInAzureCli, useEmulator } from "./support/emulator";
import { withEnv } from "./support/env";

const READ_WRITE = ["DeviceManagementServiceConfig.ReadWrite.All"];

describe("authentication with real @azure/identity credentials against the emulator's Entra", () => {
  const emu = useEmulator({ throttle: false });
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "intune-auth-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Registers an app in a new tenant, gets a token with `settings`, and lists partners with it. */
  async function listWith(
    settings: Omit<CredentialSettings, "authorityHost" | "disableInstanceDiscovery">,
    tenantId: string,
  ): Promise<CachedTokenSource> {
    const tokens = new CachedTokenSource(
      () =>
        createCredential(
          { ...settings, authorityHost: emu().authorityHost, disableInstanceDiscovery: true },
          tenantId,
        ),
      `${emu().graphEndpoint}/.default`,
      tenantId,
      settings.kind,
    );
    emu().clearLog();
    await new PartnersApi(new GraphClient({ graphEndpoint: emu().graphEndpoint, tokens }), "beta").list();
    assert.deepEqual(
      emu().requests.map((r) => [r.tenantId, r.status]),
      [[tenantId, 200]],
    );
    return tokens;
  }

  it("gets an app-only token with ClientSecretCredential", async () => {
    const tenantId = randomUUID();
    emu().registerApp({
      clientId: "secret-app",
      tenants: [tenantId],
      clientSecret: "s3cret",
      permissions: READ_WRITE,
    });
    await listWith({ kind: "clientSecret", clientId: "secret-app", clientSecret: "s3cret" }, tenantId);
    assert.deepEqual(
      emu().tokenRequests.map((t) => t.grantType),
      ["client_credentials"],
    );
  });

  it("gets an app-only token with ClientCertificateCredential (a signed client assertion)", async () => {
    const tenantId = randomUUID();
    const selfsigned = require("selfsigned") as typeof import("selfsigned");
    const pems = await selfsigned.generate([{ name: "commonName", value: "intune-automation" }], {
      keySize: 2048,
      algorithm: "sha256",
    });
    const path = join(dir, "client.pem");
    writeFileSync(path, `${pems.private}\n${pems.cert}`);
    emu().registerApp({
      clientId: "cert-app",
      tenants: [tenantId],
      certificatePem: pems.cert,
      permissions: READ_WRITE,
    });
    await listWith(
      { kind: "clientCertificate", clientId: "cert-app", clientCertificatePath: path },
      tenantId,
    );
    const [request] = emu().tokenRequests;
    assert.equal(request.status, 200);
    assert.equal(
      request.fields.client_assertion_type,
      "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    );
  });

  it("exchanges a federated token file with WorkloadIdentityCredential (GitHub Actions OIDC)", async () => {
    const tenantId = randomUUID();
    const subject = "repo:contoso/intune:ref:refs/heads/main";
    emu().registerApp({
      clientId: "oidc-app",
      tenants: [tenantId],
      federated: { issuer: emu().entra.federatedIssuer, subject },
      permissions: READ_WRITE,
    });
    const file = join(dir, "federated-token");
    writeFileSync(file, emu().entra.mintFederatedToken(subject));
    await listWith({ kind: "workloadIdentity", clientId: "oidc-app", federatedTokenFile: file }, tenantId);
    assert.equal(emu().tokenRequests[0].status, 200);
  });

  it("refuses a federated token for another subject", async () => {
    const tenantId = randomUUID();
    emu().registerApp({
      clientId: "oidc-app-2",
      tenants: [tenantId],
      federated: { issuer: emu().entra.federatedIssuer, subject: "repo:contoso/intune:ref:refs/heads/main" },
      permissions: READ_WRITE,
    });
    const file = join(dir, "other-token");
    writeFileSync(file, emu().entra.mintFederatedToken("repo:mallory/fork:pull_request"));
    await assert.rejects(
      listWith({ kind: "workloadIdentity", clientId: "oidc-app-2", federatedTokenFile: file }, tenantId),
      /Could not get a Microsoft Graph token for tenant .* with workloadIdentity: .*No matching federated identity record/s,
    );
  });

  it("gets a token with ManagedIdentityCredential from the App Service identity endpoint", async () => {
    const tenantId = randomUUID();
    emu().registerApp({
      clientId: "mi-app",
      tenants: [tenantId],
      managedIdentity: true,
      permissions: READ_WRITE,
    });
    await withEnv(emu().managedIdentityEnv(), () =>
      listWith({ kind: "managedIdentity", clientId: "mi-app" }, tenantId),
    );
    assert.deepEqual(
      emu().tokenRequests.map((t) => [t.grantType, t.status]),
      [["managed_identity", 200]],
    );
  });

  it("signs a user in with DeviceCodeCredential: delegated access", async () => {
    const tenantId = randomUUID();
    emu().registerApp({
      clientId: "public-app",
      tenants: [tenantId],
      publicClient: true,
      permissions: READ_WRITE,
    });
    const prompts: string[] = [];
    await listWith(
      {
        kind: "deviceCode",
        clientId: "public-app",
        prompt: (message) => {
          prompts.push(message);
          emu().entra.approveDeviceCode(
            /enter the code (\w+)/.exec(message)![1],
            "intune-admin@contoso.example",
          );
        },
      },
      tenantId,
    );
    assert.equal(prompts.length, 1);
    assert.match(
      prompts[0],
      /To sign in, use a web browser to open the page https:\/\/127\.0\.0\.1:\d+\/devicelogin/,
    );
    assert.ok(emu().tokenRequests.some((t) => t.grantType.endsWith("device_code") && t.status === 200));
  });

  it("uses the Azure CLI's signed-in user with AzureCliCredential: delegated access", async function () {
    if (process.platform === "win32") this.skip(); // the stand-in az below is a POSIX shell script
    const tenantId = randomUUID();
    emu().registerApp({ clientId: "cli-user-tenant", tenants: [tenantId], permissions: READ_WRITE });
    standInAzureCli(emu(), tenantId, dir);
    await withEnv({ PATH: `${dir}:${process.env.PATH}` }, () => listWith({ kind: "azureCli" }, tenantId));
  });

  it("uses DefaultAzureCredential with the standard AZURE_* environment", async () => {
    const tenantId = randomUUID();
    emu().registerApp({
      clientId: "env-app",
      tenants: [tenantId],
      clientSecret: "env-secret",
      permissions: READ_WRITE,
    });
    await withEnv(
      {
        AZURE_TENANT_ID: tenantId,
        AZURE_CLIENT_ID: "env-app",
        AZURE_CLIENT_SECRET: "env-secret",
        AZURE_FEDERATED_TOKEN_FILE: undefined,
      },
      () => listWith({ kind: "default" }, tenantId),
    );
  });

  it("reaches a second tenant with one multi-tenant app through DefaultAzureCredential", async () => {
    const home = randomUUID();
    const customer = randomUUID();
    emu().registerApp({
      clientId: "msp-app",
      tenants: [home, customer],
      clientSecret: "msp-secret",
      permissions: READ_WRITE,
    });
    await withEnv(
      { AZURE_TENANT_ID: home, AZURE_CLIENT_ID: "msp-app", AZURE_CLIENT_SECRET: "msp-secret" },
      () => listWith({ kind: "default" }, customer),
    );
    assert.equal(emu().tokenRequests[0].tenantId, customer);
  });

  it("says which credential and tenant failed, without the secret", async () => {
    const tenantId = randomUUID();
    emu().registerApp({
      clientId: "canary-app",
      tenants: [tenantId],
      clientSecret: "right",
      permissions: READ_WRITE,
    });
    const canary = `CANARY-${randomUUID()}`;
    const error = await listWith(
      { kind: "clientSecret", clientId: "canary-app", clientSecret: canary },
      tenantId,
    ).then(
      () => assert.fail("expected a failure"),
      (e: Error) => e,
    );
    assert.match(
      error.message,
      new RegExp(`tenant ${tenantId} with clientSecret: .*AADSTS7000215: Invalid client secret`, "s"),
    );
    const everything = `${error.message}\n${error.stack}\n${JSON.stringify(error)}\n${String(error.cause)}\n${(error.cause as Error).stack}`;
    assert.ok(!everything.includes(canary), "the secret appears in the error");
  });
});

describe("CachedTokenSource", () => {
  const emu = useEmulator({ throttle: false, tokenLifetimeSeconds: 600 });
  const source = (now: () => number) =>
    new CachedTokenSource(
      () =>
        createCredential(
          {
            kind: "clientSecret",
            clientId: "22222222-2222-4222-8222-222222222222",
            clientSecret: "emulator-client-secret",
            authorityHost: emu().authorityHost,
            disableInstanceDiscovery: true,
          },
          "11111111-1111-4111-8111-111111111111",
        ),
      `${emu().graphEndpoint}/.default`,
      "11111111-1111-4111-8111-111111111111",
      "clientSecret",
      now,
    );
  beforeEach(() => emu().clearLog());

  it("makes one token request for many concurrent callers", async () => {
    const tokens = source(Date.now);
    const all = await Promise.all(Array.from({ length: 20 }, () => tokens.getToken()));
    assert.equal(new Set(all).size, 1);
    assert.equal(emu().tokenRequests.length, 1);
  });

  it("reuses the token until two minutes before expiry, then renews it", async () => {
    let now = Date.now();
    const tokens = source(() => now);
    const first = await tokens.getToken();
    now += 470_000;
    assert.equal(await tokens.getToken(), first);
    assert.equal(tokens.requests, 1);
    now += 20_000;
    await tokens.getToken();
    // Asked the credential again; MSAL, on the real clock, may still answer from its own cache.
    assert.equal(tokens.requests, 2);
  });

  it("skips every cache, MSAL's included, when forced", async () => {
    const tokens = source(Date.now);
    const first = await tokens.getToken();
    const second = await tokens.getToken({ forceRefresh: true });
    assert.notEqual(first, second);
    assert.equal(emu().tokenRequests.length, 2);
  });

  it("renews at refreshAfterTimestamp when Entra gives one, else before expiry", () => {
    assert.equal(
      refreshAtInMs({ token: "t", expiresOnTimestamp: 3_600_000, refreshAfterTimestamp: 1_800_000 }, 0),
      1_800_000,
    );
    assert.equal(refreshAtInMs({ token: "t", expiresOnTimestamp: 3_600_000 }, 0), 3_480_000);
    assert.equal(refreshAtInMs({ token: "t", expiresOnTimestamp: 60_000 }, 0), 30_000);
  });
});

describe("explaining a failed token request", () => {
  const msal =
    "endpoints_resolution_error: See https://aka.ms/msal.js.errors#endpoints_resolution_error for details";
  const table: [string, Discovery | undefined, RegExp, RegExp?][] = [
    [
      "an unknown tenant, from Entra's answer",
      { kind: "refused", status: 400, description: "AADSTS90002: Tenant 'x' not found." },
      /^Entra does not know tenant contoso\.example \(AADSTS90002: Tenant 'x' not found\.\)\. Check tenantId/,
      /NODE_EXTRA_CA_CERTS/,
    ],
    [
      "an untrusted certificate, from the probe's TLS error",
      { kind: "untrusted", code: "DEPTH_ZERO_SELF_SIGNED_CERT" },
      /does not trust the authority's TLS certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\)\. Against the emulator, export NODE_EXTRA_CA_CERTS as `npx pulumi-intune-remote-assistance emulator` prints it/,
    ],
    [
      "an unreachable authority, from the probe's network error",
      { kind: "unreachable", code: "ECONNREFUSED", authorityHost: "https://login.example" },
      /Entra's authority https:\/\/login\.example cannot be reached \(ECONNREFUSED\): check intune:authorityHost/,
      /NODE_EXTRA_CA_CERTS/,
    ],
    [
      "no probe: both causes named",
      undefined,
      /does not trust the authority's TLS certificate, or cannot reach it/,
    ],
  ];
  for (const [name, discovery, expected, absent] of table)
    it(`tells ${name}`, () => {
      const message = explainAuthFailure(msal, "contoso.example", discovery);
      assert.match(message, expected);
      if (absent) assert.doesNotMatch(message, absent);
    });
});
