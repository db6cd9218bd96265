import { strict as assert } from "node:assert";
import { resolveSettings, SettingsError } from "../provider/core/settings";

const config = (values: Record<string, string>) => (key: string) => values[key];
const none = config({});

describe("resolveSettings", () => {
  it("defaults to the global cloud and DefaultAzureCredential with Microsoft's instance discovery", () => {
    const s = resolveSettings(none, {});
    assert.equal(s.graphEndpoint, "https://graph.microsoft.com");
    assert.equal(s.credential.authorityHost, "https://login.microsoftonline.com");
    assert.equal(s.credential.kind, "default");
    assert.equal(s.credential.disableInstanceDiscovery, false);
    assert.equal(s.tenantId, undefined);
  });

  const cloudTable: [string, string, string][] = [
    ["usgov", "https://graph.microsoft.us", "https://login.microsoftonline.us"],
    ["usgovdod", "https://dod-graph.microsoft.us", "https://login.microsoftonline.us"],
    ["china", "https://microsoftgraph.chinacloudapi.cn", "https://login.chinacloudapi.cn"],
  ];
  for (const [cloud, graph, authority] of cloudTable) {
    it(`chooses Graph root and authority together for intune:cloud ${cloud}`, () => {
      const s = resolveSettings(config({ "intune:cloud": cloud }), {});
      assert.equal(s.graphEndpoint, graph);
      assert.equal(s.credential.authorityHost, authority);
      assert.equal(s.credential.disableInstanceDiscovery, false);
    });
  }

  it("reads INTUNE_CLOUD when the stack config is silent, and prefers the stack config", () => {
    assert.equal(resolveSettings(none, { INTUNE_CLOUD: "china" }).cloud, "china");
    assert.equal(
      resolveSettings(config({ "intune:cloud": "usgov" }), { INTUNE_CLOUD: "china" }).cloud,
      "usgov",
    );
  });

  it("falls back to the standard AZURE_* variables and INTUNE_GRAPH_ENDPOINT", () => {
    const s = resolveSettings(none, {
      AZURE_TENANT_ID: "contoso.onmicrosoft.com",
      AZURE_CLIENT_ID: "app",
      AZURE_AUTHORITY_HOST: "https://127.0.0.1:8443/",
      INTUNE_GRAPH_ENDPOINT: "http://127.0.0.1:8080/",
    });
    assert.equal(s.tenantId, "contoso.onmicrosoft.com");
    assert.equal(s.credential.clientId, "app");
    assert.equal(s.graphEndpoint, "http://127.0.0.1:8080");
    assert.equal(s.credential.authorityHost, "https://127.0.0.1:8443");
    assert.equal(
      s.credential.disableInstanceDiscovery,
      true,
      "a non-Microsoft authority disables instance discovery",
    );
  });

  it("chooses the client-secret credential when the secret is in stack config", () => {
    const s = resolveSettings(config({ "intune:clientId": "app", "intune:clientSecret": "x" }), {});
    assert.equal(s.credential.kind, "clientSecret");
  });

  it("chooses the credential from the resolved settings, whatever their source", () => {
    const table: [Record<string, string>, Record<string, string>, string][] = [
      [{}, { AZURE_CLIENT_ID: "app", AZURE_CLIENT_SECRET: "x" }, "clientSecret"],
      [
        { "intune:tenantId": "contoso.onmicrosoft.com", "intune:clientId": "app" },
        { AZURE_CLIENT_SECRET: "x" },
        "clientSecret",
      ],
      [{ "intune:clientId": "app" }, { AZURE_CLIENT_CERTIFICATE_PATH: "/cert.pem" }, "clientCertificate"],
      [{ "intune:federatedTokenFile": "/token" }, { AZURE_CLIENT_ID: "app" }, "workloadIdentity"],
      [{ "intune:auth": "default" }, { AZURE_CLIENT_ID: "app", AZURE_CLIENT_SECRET: "x" }, "clientSecret"],
      [
        { "intune:auth": "managedIdentity" },
        { AZURE_CLIENT_ID: "app", AZURE_CLIENT_SECRET: "x" },
        "managedIdentity",
      ],
      [{ "intune:clientId": "app" }, {}, "default"],
    ];
    for (const [stack, env, kind] of table) {
      assert.equal(resolveSettings(config(stack), env).credential.kind, kind, JSON.stringify([stack, env]));
    }
  });

  it("names both keys when a secret is set without a client id", () => {
    assert.throws(
      () => resolveSettings(none, { AZURE_CLIENT_SECRET: "x" }),
      /intune:auth clientSecret \(chosen because intune:auth is default and a client secret is set \(intune:clientSecret or AZURE_CLIENT_SECRET\)\) needs intune:clientId \(AZURE_CLIENT_ID\)/,
    );
  });

  it("reads the tuning knobs in seconds", () => {
    const s = resolveSettings(
      config({
        "intune:requestTimeoutSeconds": "5",
        "intune:retryDeadlineSeconds": "90",
        "intune:maxRetries": "3",
      }),
      {},
    );
    assert.equal(s.requestTimeoutInMs, 5_000);
    assert.equal(s.retry.deadlineInMs, 90_000);
    assert.equal(s.retry.maxRetries, 3);
  });

  it("paces at Intune's per-app limits by default, as configured, or not at all", () => {
    assert.deepEqual(resolveSettings(none, {}).pacing, { windowMs: 20_000, writes: 100, requests: 1000 });
    const custom = config({
      "intune:writesPerWindow": "40",
      "intune:requestsPerWindow": "400",
      "intune:rateWindowSeconds": "10",
    });
    assert.deepEqual(resolveSettings(custom, {}).pacing, { windowMs: 10_000, writes: 40, requests: 400 });
    assert.equal(resolveSettings(config({ "intune:writesPerWindow": "0" }), {}).pacing, undefined);
    assert.throws(
      () => resolveSettings(config({ "intune:writesPerWindow": "many" }), {}),
      /intune:writesPerWindow must be a whole number/,
    );
  });

  const invalid: [string, Record<string, string>, Record<string, string>, RegExp][] = [
    [
      "an unknown cloud",
      { "intune:cloud": "mars" },
      {},
      /intune:cloud 'mars' is not one of global, usgov, usgovdod, china/,
    ],
    [
      "an unknown credential",
      { "intune:auth": "magic" },
      {},
      /intune:auth 'magic' is not one of default, clientSecret/,
    ],
    [
      "a malformed tenant",
      { "intune:tenantId": "not a tenant" },
      {},
      /intune:tenantId 'not a tenant' is not a tenant GUID or domain/,
    ],
    [
      "a client secret credential without a secret",
      { "intune:auth": "clientSecret", "intune:clientId": "a" },
      {},
      /intune:auth clientSecret needs intune:clientSecret \(AZURE_CLIENT_SECRET\)/,
    ],
    [
      "workload identity without a token file",
      { "intune:auth": "workloadIdentity", "intune:clientId": "a" },
      {},
      /needs intune:federatedTokenFile/,
    ],
    [
      "a plain-http Graph endpoint off loopback",
      {},
      { INTUNE_GRAPH_ENDPOINT: "http://graph.example.com" },
      /intune:graphEndpoint .* must use https \(plain http is allowed only on loopback\)/,
    ],
    [
      "a plain-http authority off loopback",
      { "intune:authorityHost": "http://login.example.com" },
      {},
      /intune:authorityHost .* must use https/,
    ],
    [
      "credentials inside an endpoint URL",
      { "intune:graphEndpoint": "https://user:pw@graph.example.com" },
      {},
      /must not carry credentials in the URL/,
    ],
    [
      "a zero timeout",
      { "intune:requestTimeoutSeconds": "0" },
      {},
      /intune:requestTimeoutSeconds must be a positive number of seconds/,
    ],
  ];
  for (const [name, cfg, env, message] of invalid) {
    it(`refuses ${name}, naming the key`, () => {
      assert.throws(
        () => resolveSettings(config(cfg), env),
        (e: Error) => e instanceof SettingsError && message.test(e.message),
      );
    });
  }

  it("lists every problem at once", () => {
    assert.throws(
      () => resolveSettings(config({ "intune:cloud": "mars", "intune:auth": "magic" }), {}),
      /intune:cloud 'mars'.*; intune:auth 'magic'/,
    );
  });

  it("never repeats a secret in its errors", () => {
    assert.throws(
      () => resolveSettings(config({ "intune:clientSecret": "CANARY-S3CRET", "intune:cloud": "mars" }), {}),
      (e: Error) => !e.message.includes("CANARY-S3CRET"),
    );
  });

  it("allows plain http on every loopback form", () => {
    for (const host of ["127.0.0.1", "127.8.9.10", "localhost", "[::1]"]) {
      assert.equal(
        resolveSettings(none, { INTUNE_GRAPH_ENDPOINT: `http://${host}:1234` }).graphEndpoint,
        `http://${host}:1234`,
      );
    }
  });
});
