import { strict as assert } from "node:assert";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { Emulator } from "../emulator";
import { grantsOf, GraphClient } from "../provider/graph/client";
import { GraphError, isGraphError, isReadOnly } from "../provider/graph/errors";
import { PARTNERS_PATH, PartnersApi } from "../provider/graph/partners";
import { clientFor, tokensFor, useEmulator } from "./support/emulator";

const LIST = "GET /remoteAssistancePartners";
const CREATE = "POST /remoteAssistancePartners";

async function rejection(promise: Promise<unknown>): Promise<GraphError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(isGraphError(e), `expected a GraphError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected a rejection");
}

describe("GraphClient against the emulator", () => {
  const emu = useEmulator({ throttle: false });
  let tenantId: string;
  beforeEach(() => {
    emu().faults.clear();
    emu().clearLog();
    tenantId = emu().newTenant();
  });
  const setup = (options: Parameters<typeof clientFor>[1] = {}) => {
    const c = clientFor(emu(), { tokens: tokensFor(emu(), { tenantId }), ...options });
    return { ...c, api: new PartnersApi(c.client, "beta") };
  };

  describe("requests", () => {
    it("sends a bearer token, Accept: application/json and a fresh client-request-id GUID every time", async () => {
      const { api } = setup();
      await api.list();
      await api.list();
      const [a, b] = emu().requests;
      assert.equal(a.headers.accept, "application/json");
      assert.match(
        a.headers["client-request-id"],
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      assert.notEqual(a.headers["client-request-id"], b.headers["client-request-id"]);
      assert.equal(a.tenantId, tenantId, "the token authenticated as the tenant");
    });

    it("accepts a PATCH answered 200 with the entity and one answered 204", async () => {
      const { api } = setup();
      const p = await api.create({ displayName: "A" });
      await api.update(p.id, { displayName: "B" });
      emu().behaviour.patchStatus = 204;
      try {
        await api.update(p.id, { displayName: "C" });
      } finally {
        emu().behaviour.patchStatus = 200;
      }
      assert.deepEqual(
        emu().requests.map((r) => r.status),
        [201, 200, 204],
      );
      assert.equal((await api.get(p.id))?.displayName, "C");
    });

    it("follows @odata.nextLink to the end of a list", async () => {
      emu().behaviour.pageSize = 2;
      try {
        const { api } = setup();
        for (const n of [1, 2, 3, 4, 5])
          emu()
            .tenant(tenantId)
            .seed({ displayName: `P${n}` });
        const all = await api.list();
        assert.deepEqual(all.map((p) => p.displayName).sort(), ["P1", "P2", "P3", "P4", "P5"]);
        assert.deepEqual(emu().calls(), [LIST, LIST, LIST]);
        assert.deepEqual(
          emu().requests.map((r) => r.query),
          ["", "?$top=2&$skiptoken=2", "?$top=2&$skiptoken=4"],
        );
      } finally {
        emu().behaviour.pageSize = 100;
      }
    });

    it("keeps only the properties it knows and ignores unknown ones", async () => {
      const { api } = setup();
      emu().tenant(tenantId).seed({ displayName: "Known" });
      const [p] = await api.list();
      assert.deepEqual(Object.keys(p).sort(), [
        "displayName",
        "id",
        "lastConnectionDateTime",
        "onboardingRequestExpiryDateTime",
        "onboardingStatus",
        "onboardingUrl",
      ]);
    });

    it("addresses v1.0 when asked, where the beta-only expiry is absent", async () => {
      const { client } = setup();
      emu().tenant(tenantId).seed({ displayName: "V1" });
      const [p] = await new PartnersApi(client, "v1.0").list();
      assert.equal(emu().requests[0].apiVersion, "v1.0");
      assert.equal(p.onboardingRequestExpiryDateTime, undefined);
    });
  });

  describe("transient faults are retried", () => {
    const forms: [string, { retryAfter?: string; retryAfterMs?: number }][] = [
      ["Retry-After in seconds", { retryAfter: "0" }],
      ["Retry-After in fractional seconds", { retryAfter: "0.05" }],
      ["Retry-After as an HTTP date", { retryAfter: new Date(Date.now() - 1000).toUTCString() }],
      ["retry-after-ms", { retryAfterMs: 20 }],
      ["no Retry-After (backoff)", {}],
    ];
    for (const [name, form] of forms) {
      it(`retries a 429 with ${name}, then succeeds`, async () => {
        const { api, retries } = setup();
        emu().faults.add({ kind: "status", status: 429, ...form }, { method: "GET" });
        assert.deepEqual(await api.list(), []);
        assert.deepEqual(emu().calls(), [LIST, LIST]);
        assert.deepEqual(
          emu().requests.map((r) => r.status),
          [429, 200],
        );
        assert.equal(retries.length, 1);
        assert.match(retries[0], /met HTTP 429 \(request-id [0-9a-f-]+\); retry 1\/8 in/);
      });
    }

    it("waits as long as Retry-After says", async () => {
      const { api } = setup();
      emu().faults.add({ kind: "status", status: 429, retryAfter: "0.4" }, { method: "GET" });
      await api.list();
      const [first, second] = emu().requests;
      assert.ok(second.atMs - first.atMs >= 390, `waited ${second.atMs - first.atMs} ms`);
    });

    const transient: [string, Parameters<Emulator["faults"]["add"]>[0]][] = [
      ["a 503 with a non-JSON body", { kind: "status", status: 503, body: "text" }],
      ["a 504", { kind: "status", status: 504 }],
      ["a 502", { kind: "status", status: 502 }],
      ["a connection dropped before the server acted", { kind: "drop", when: "beforeCommit" }],
      ["a connection dropped after the server answered", { kind: "drop", when: "afterCommit" }],
      ["an answer slower than the timeout", { kind: "slow", delayMs: 1_000 }],
      ["a truncated JSON body", { kind: "malformed" }],
    ];
    for (const [name, fault] of transient) {
      it(`retries a GET after ${name}`, async () => {
        const { api, retries } = setup({ requestTimeoutInMs: 300 });
        emu().tenant(tenantId).seed({ displayName: "Seen" });
        emu().faults.add(fault, { method: "GET" });
        const all = await api.list();
        assert.deepEqual(
          all.map((p) => p.displayName),
          ["Seen"],
        );
        assert.deepEqual(emu().calls(), [LIST, LIST]);
        assert.equal(retries.length, 1);
      });
    }

    it("retries disconnect, an action that converges, after a dropped connection", async () => {
      const { api } = setup();
      const p = emu().tenant(tenantId).seed({ displayName: "Connected", status: "onboarded" });
      emu().faults.add({ kind: "drop", when: "afterCommit" }, { path: "/disconnect" });
      assert.equal(await api.disconnect(p.id), true);
      assert.deepEqual(emu().calls(), [
        `POST /remoteAssistancePartners/${p.id}/disconnect`,
        `POST /remoteAssistancePartners/${p.id}/disconnect`,
      ]);
      assert.equal(emu().tenant(tenantId).find(p.id)?.status, "notOnboarded");
    });

    it("gives up after maxRetries and reports the last answer", async () => {
      const { api } = setup({ retry: { maxRetries: 2, retryDelayInMs: 1, maxRetryDelayInMs: 1 } });
      emu().faults.add({ kind: "status", status: 503 }, { method: "GET" }, 10);
      const e = await rejection(api.list());
      assert.equal(e.statusCode, 503);
      assert.equal(e.code, "ServiceUnavailable");
      assert.deepEqual(emu().calls(), [LIST, LIST, LIST]);
    });

    it("fails at once, without waiting, when Retry-After exceeds the retry deadline", async () => {
      const { api } = setup({ retry: { deadlineInMs: 5_000 } });
      emu().faults.add({ kind: "status", status: 429, retryAfter: "120" }, { method: "GET" });
      const started = Date.now();
      const e = await rejection(api.list());
      assert.ok(Date.now() - started < 1_000);
      assert.equal(e.code, GraphError.RETRY_DEADLINE);
      assert.equal(e.statusCode, 429);
      assert.match(
        e.message,
        /a retry would wait 120 s, more than the [\d.]+ s left of the 5\.0 s retry deadline/,
      );
      assert.ok(e.requestId, "keeps the request-id of the throttled answer");
      assert.deepEqual(emu().calls(), [LIST]);
    });

    it("retries a connection refused by a port nobody listens on, then reports ConnectionFailed", async () => {
      const server = http.createServer();
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      const port = (server.address() as AddressInfo).port;
      await new Promise((r) => server.close(r));
      const { client, retries } = setup({
        graphEndpoint: `http://127.0.0.1:${port}`,
        retry: { maxRetries: 2 },
      });
      const e = await rejection(new PartnersApi(client, "beta").create({ displayName: "X" }));
      assert.equal(e.code, GraphError.CONNECTION_FAILED);
      assert.equal(e.outcomeUnknown, false, "a request never sent did nothing");
      assert.equal(retries.length, 2, "a create that never reached the server is safe to re-send");
    });
  });

  describe("a create is never re-sent blindly", () => {
    it("reports a create whose connection dropped after commit as outcome unknown, sent once", async () => {
      const { api } = setup();
      emu().faults.add({ kind: "drop", when: "afterCommit" }, { method: "POST" });
      const e = await rejection(api.create({ displayName: "Lost" }));
      assert.equal(e.outcomeUnknown, true);
      assert.equal(e.code, GraphError.CONNECTION_FAILED);
      assert.deepEqual(emu().calls(), [CREATE]);
      assert.equal(emu().tenant(tenantId).all().length, 1, "the server did create it");
    });

    it("reports a create answered 503 as outcome unknown, sent once", async () => {
      const { api } = setup();
      emu().faults.add({ kind: "status", status: 503 }, { method: "POST" });
      const e = await rejection(api.create({ displayName: "Maybe" }));
      assert.equal(e.outcomeUnknown, true);
      assert.deepEqual(emu().calls(), [CREATE]);
    });

    it("reports a create that timed out as outcome unknown, sent once", async () => {
      const { api } = setup({ requestTimeoutInMs: 200 });
      emu().faults.add({ kind: "slow", delayMs: 600 }, { method: "POST" });
      const e = await rejection(api.create({ displayName: "Slow" }));
      assert.equal(e.code, GraphError.TIMEOUT);
      assert.equal(e.outcomeUnknown, true);
      assert.deepEqual(emu().calls(), [CREATE]);
    });

    it("re-sends a throttled create, which Intune refused before acting, and creates exactly one", async () => {
      const { api } = setup();
      emu().faults.add({ kind: "status", status: 429, retryAfter: "0" }, { method: "POST" });
      const p = await api.create({ displayName: "Throttled" });
      assert.deepEqual(emu().calls(), [CREATE, CREATE]);
      assert.deepEqual(
        emu()
          .tenant(tenantId)
          .all()
          .map((x) => x.id),
        [p.id],
      );
    });
  });

  describe("tokens", () => {
    it("renews a revoked token once and repeats the request once", async () => {
      const { api, tokens } = setup();
      await api.list();
      emu().entra.revokeTokens(tenantId);
      await api.list();
      assert.deepEqual(
        emu().requests.map((r) => r.status),
        [200, 401, 200],
      );
      assert.equal(tokens.requests, 2);
      assert.equal(emu().tokenRequests.filter((t) => t.tenantId === tenantId).length, 2);
    });

    it("reports a second 401 after the renewal instead of looping", async () => {
      const { api, tokens } = setup();
      emu().faults.add({ kind: "status", status: 401 }, { method: "GET" }, 2);
      const e = await rejection(api.list());
      assert.equal(e.statusCode, 401);
      assert.equal(e.code, "InvalidAuthenticationToken");
      assert.deepEqual(emu().calls(), [LIST, LIST]);
      assert.equal(tokens.requests, 2);
    });
  });

  describe("permanent failures are one clear GraphError", () => {
    it("retries a 500 three times, then unwraps Intune's nested message and keeps every attempt's request-id", async () => {
      const { api } = setup();
      emu().faults.add({ kind: "status", status: 500, body: "intune" }, { method: "GET" }, 10);
      const e = await rejection(api.list());
      const attempts = emu().requests;
      const last = attempts.at(-1)!;
      assert.deepEqual(emu().calls(), [LIST, LIST, LIST, LIST], "1 + 3 retries");
      assert.equal(e.statusCode, 500);
      assert.equal(e.code, "InternalServerError");
      assert.match(
        e.message,
        /^Graph GET \/deviceManagement\/remoteAssistancePartners failed: 500 InternalServerError: An error has occurred - Operation ID/,
      );
      assert.doesNotMatch(e.message, /_version|\\r\\n/);
      assert.equal(e.requestId, last.requestId);
      assert.equal(e.clientRequestId, last.clientRequestId);
      assert.match(e.date ?? "", /^\d{4}-\d\d-\d\dT/);
      assert.match(
        e.message,
        new RegExp(
          `request-id ${last.requestId}, client-request-id ${last.clientRequestId}, date .*, earlier attempts: ${attempts
            .slice(0, 3)
            .map((a) => a.requestId)
            .join(", ")}\\)$`,
        ),
      );
      assert.deepEqual(
        e.earlierRequestIds,
        attempts.slice(0, 3).map((a) => a.requestId),
      );
    });

    it("names the permission, licence and role needed on a 403", async () => {
      emu().registerApp({
        clientId: "no-permission-app",
        tenants: [tenantId],
        clientSecret: "s",
        permissions: [],
      });
      const { api } = setup({
        tokens: tokensFor(emu(), { tenantId, clientId: "no-permission-app", clientSecret: "s" }),
      });
      const e = await rejection(api.list());
      assert.equal(e.statusCode, 403);
      assert.match(e.message, /Grant DeviceManagementServiceConfig\.ReadWrite\.All/);
      assert.match(e.message, /active Intune licence/);
      assert.match(e.message, /Intune or Global administrator/);
      assert.deepEqual(emu().calls(), [LIST]);
    });

    it("says a reader's token is read-only when it is refused a write, from the permissions it grants", async () => {
      emu().registerApp({
        clientId: "reader-app",
        tenants: [tenantId],
        clientSecret: "reader-secret",
        permissions: ["DeviceManagementServiceConfig.Read.All"],
      });
      const { api } = setup({
        tokens: tokensFor(emu(), { tenantId, clientId: "reader-app", clientSecret: "reader-secret" }),
      });
      assert.deepEqual(await api.list(), [], "reads work with Read.All");
      const e = await rejection(api.create({ displayName: "Denied" }));
      assert.equal(e.statusCode, 403);
      assert.match(
        e.message,
        /This identity is read-only: its token grants DeviceManagementServiceConfig\.Read\.All, not DeviceManagementServiceConfig\.ReadWrite\.All/,
      );
      assert.doesNotMatch(e.message, /eyJ/, "no token in the message");
      assert.deepEqual(emu().calls(), [LIST, CREATE]);
    });

    it("reports a 404 with Graph's code", async () => {
      const { client } = setup();
      const e = await rejection(
        client.send({ method: "GET", path: `${PARTNERS_PATH}/missing`, apiVersion: "beta" }),
      );
      assert.equal(e.statusCode, 404);
      assert.equal(e.code, "ResourceNotFound");
      assert.match(e.message, /No remoteAssistancePartner with id missing exists/);
    });

    it("reports a 409 without retrying", async () => {
      const { api } = setup();
      emu().faults.add({ kind: "status", status: 409 }, { method: "GET" });
      const e = await rejection(api.list());
      assert.equal(e.code, "Conflict");
      assert.deepEqual(emu().calls(), [LIST]);
    });

    it("reports a 400 for a property Graph does not know", async () => {
      const { client } = setup();
      const e = await rejection(
        client.send({
          method: "POST",
          path: PARTNERS_PATH,
          apiVersion: "beta",
          body: { displayName: "X", colour: "red" },
        }),
      );
      assert.equal(e.statusCode, 400);
      assert.match(e.message, /'colour' does not exist/);
    });

    it("refuses an @odata.nextLink to another origin, so that the token stays with Graph", async () => {
      const server = http.createServer((_req, res) => {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ value: [], "@odata.nextLink": "https://attacker.example/v1.0/steal" }));
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      try {
        const client = new GraphClient({
          graphEndpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          tokens: { getToken: async () => "token" },
        });
        const e = await rejection(client.list(PARTNERS_PATH, "beta"));
        assert.equal(e.code, GraphError.FOREIGN_ORIGIN);
      } finally {
        await new Promise((r) => server.close(r));
      }
    });
  });
});

describe("a reader's permissions", () => {
  const table: [string, string[] | undefined, boolean][] = [
    ["an app with Read.All only is read-only", ["DeviceManagementServiceConfig.Read.All"], true],
    [
      "a user whose scopes read only is read-only",
      ["openid", "DeviceManagementServiceConfig.Read.All"],
      true,
    ],
    [
      "ReadWrite.All writes",
      ["DeviceManagementServiceConfig.Read.All", "DeviceManagementServiceConfig.ReadWrite.All"],
      false,
    ],
    [
      "the alternative configuration permission writes",
      ["DeviceManagementConfiguration.ReadWrite.All"],
      false,
    ],
    ["no remote-assistance permission is not a reader", ["User.Read"], false],
    ["an unreadable token is not a reader", undefined, false],
  ];
  for (const [name, grants, expected] of table) it(name, () => assert.equal(isReadOnly(grants), expected));

  it("reads an app's roles and a user's scopes from a token, and nothing from what is not a JWT", () => {
    const jwt = (claims: object) =>
      ["e30", Buffer.from(JSON.stringify(claims)).toString("base64url"), "sig"].join(".");
    assert.deepEqual(grantsOf(jwt({ roles: ["A.Read.All"] })), ["A.Read.All"]);
    assert.deepEqual(grantsOf(jwt({ scp: "openid B.Read.All" })), ["openid", "B.Read.All"]);
    assert.equal(grantsOf("not-a-jwt"), undefined);
  });
});
