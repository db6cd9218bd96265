/**
 * Credentials set half in stack config, half in the environment, through the dynamic-provider host: each
 * credential kind the README lists is built from the resolved settings, whatever their source.
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AppRegistration } from "../emulator";
import { FakeEngine, ProviderHost, Stack, programInputs, secret, type Secret } from "../testing/engine";
import { standInAzureCli, useEmulator } from "./support/emulator";

const READ_WRITE = ["DeviceManagementServiceConfig.ReadWrite.All"];

describe("credentials split between stack config and environment, through the dynamic-provider host", function () {
  this.timeout(60_000);
  const emu = useEmulator({ onboardingDelayMs: null });
  const engine = new FakeEngine();
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "intune-credentials-"));
    await engine.start();
  });
  after(() => {
    engine.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Creates a partner with the default tenant, through a host with `env` and stack config `config`. */
  async function upWith(
    tenantId: string,
    env: Record<string, string>,
    config: Record<string, string | Secret>,
    whileRunning: () => Promise<void> = async () => undefined,
  ): Promise<void> {
    const base = emu().env();
    const host = await ProviderHost.start({
      engine,
      env: {
        AZURE_AUTHORITY_HOST: base.AZURE_AUTHORITY_HOST,
        INTUNE_GRAPH_ENDPOINT: base.INTUNE_GRAPH_ENDPOINT,
        NODE_EXTRA_CA_CERTS: base.NODE_EXTRA_CA_CERTS,
        ...env,
      },
    });
    try {
      await host.configure(config);
      const stack = new Stack(host);
      emu().clearLog();
      await Promise.all([
        stack.up({ p: (await programInputs("p", { displayName: "Split credentials" })).inputs }),
        whileRunning(),
      ]);
      assert.equal(stack.state.get("p")!.outputs.tenantId, tenantId);
      assert.ok(emu().requests.every((r) => r.tenantId === tenantId && r.status < 400));
      await stack.destroy();
    } finally {
      await host.stop();
    }
  }

  /** A new tenant where `app` is registered with the write permission. */
  const newTenant = (app: Omit<AppRegistration, "tenants" | "permissions">) => {
    const tenantId = emu().newTenant();
    emu().registerApp({ ...app, tenants: [tenantId], permissions: READ_WRITE });
    return tenantId;
  };

  it("client secret: tenant and client id in stack config, the secret in AZURE_CLIENT_SECRET", async () => {
    const tenantId = newTenant({ clientId: "split-secret-app", clientSecret: "split-s3cret" });
    await upWith(
      tenantId,
      { AZURE_CLIENT_SECRET: "split-s3cret" },
      { "intune:tenantId": tenantId, "intune:clientId": "split-secret-app" },
    );
    assert.deepEqual(
      emu().tokenRequests.map((t) => t.grantType),
      ["client_credentials"],
    );
  });

  it("client secret: the secret in stack config (a secret value), tenant and client id in the environment", async () => {
    const tenantId = newTenant({ clientId: "split-secret-app-2", clientSecret: "other-s3cret" });
    await upWith(
      tenantId,
      { AZURE_TENANT_ID: tenantId, AZURE_CLIENT_ID: "split-secret-app-2" },
      { "intune:clientSecret": secret("other-s3cret") },
    );
  });

  it("client certificate: client id in stack config, tenant and certificate path in the environment", async () => {
    const selfsigned = require("selfsigned") as typeof import("selfsigned");
    const pems = await selfsigned.generate([{ name: "commonName", value: "split" }], { keySize: 2048 });
    const path = join(dir, "split.pem");
    writeFileSync(path, `${pems.private}\n${pems.cert}`);
    const tenantId = newTenant({ clientId: "split-cert-app", certificatePem: pems.cert });
    await upWith(
      tenantId,
      { AZURE_TENANT_ID: tenantId, AZURE_CLIENT_CERTIFICATE_PATH: path },
      { "intune:clientId": "split-cert-app" },
    );
  });

  it("workload identity: the token file in stack config, tenant and client id in the environment", async () => {
    const subject = "repo:contoso/intune:ref:refs/heads/main";
    const tenantId = newTenant({
      clientId: "split-oidc-app",
      federated: { issuer: emu().entra.federatedIssuer, subject },
    });
    const file = join(dir, "split-token");
    writeFileSync(file, emu().entra.mintFederatedToken(subject));
    await upWith(
      tenantId,
      { AZURE_TENANT_ID: tenantId, AZURE_CLIENT_ID: "split-oidc-app" },
      { "intune:federatedTokenFile": file },
    );
  });

  it("managed identity: intune:auth and the client id in stack config, the identity endpoint in the environment", async () => {
    const tenantId = newTenant({ clientId: "split-mi-app", managedIdentity: true });
    await upWith(
      tenantId,
      { AZURE_TENANT_ID: tenantId, ...emu().managedIdentityEnv() },
      { "intune:auth": "managedIdentity", "intune:clientId": "split-mi-app" },
    );
  });

  it("Azure CLI: intune:auth and the tenant in stack config, the signed-in az on PATH", async function () {
    if (process.platform === "win32") this.skip(); // the stand-in az is a POSIX shell script
    const tenantId = newTenant({ clientId: "split-cli-app" });
    standInAzureCli(emu(), tenantId, dir);
    await upWith(
      tenantId,
      { PATH: `${dir}:${process.env.PATH}` },
      { "intune:auth": "azureCli", "intune:tenantId": tenantId },
    );
  });

  it("device code: the public client id in stack config, intune:auth and the tenant in the environment", async () => {
    const tenantId = newTenant({ clientId: "split-public-app", publicClient: true });
    engine.logs.length = 0;
    await upWith(
      tenantId,
      { INTUNE_AUTH: "deviceCode", AZURE_TENANT_ID: tenantId },
      { "intune:clientId": "split-public-app" },
      async () => {
        // The sign-in prompt reaches the person running `pulumi up` through the engine log.
        const [prompt] = await engine.settled(1, 20_000);
        emu().entra.approveDeviceCode(/enter the code (\w+)/.exec(prompt)![1]);
      },
    );
  });
});
