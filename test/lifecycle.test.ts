import { strict as assert } from "node:assert";
import {
  checkInputs,
  INPUT_NAMES,
  deleteOnDestroyOf,
  diffPartner,
  isConnected,
  needsReadBack,
  notKeptAfter,
  planConnection,
  planDelete,
  planUpdate,
  statusAfter,
  type Desired,
  type LiveView,
  type PartnerOutputs,
  type Step,
} from "../provider/partner/lifecycle";
import { UNKNOWN } from "../provider/core/inputs";
import { compareTenants } from "../provider/core/tenants";

const NOW = Date.parse("2026-11-28T12:00:00Z");
const T = "11111111-1111-4111-8111-111111111111";

const state = (over: Partial<PartnerOutputs> = {}): PartnerOutputs => ({
  displayName: "TeamViewer",
  onboardingUrl: "https://login.teamviewer.com/a",
  partnerId: "p1",
  connected: true,
  deleteOnDestroy: true,
  tenantId: T,
  apiVersion: "beta",
  onboardingStatus: "onboarded",
  lastConnectionDateTime: null,
  onboardingRequestExpiryDateTime: null,
  adopted: false,
  ...over,
});

describe("checkInputs", () => {
  it("applies the defaults that do not depend on state: connected and beta", () => {
    assert.deepEqual(checkInputs({ displayName: "A" }), {
      inputs: { displayName: "A", connected: true, apiVersion: "beta" },
      failures: [],
    });
  });

  it("leaves deleteOnDestroy to the ownership recorded in state, adopting or not", () => {
    assert.equal("deleteOnDestroy" in checkInputs({ displayName: "A", partnerId: "p1" }).inputs, false);
    assert.equal("deleteOnDestroy" in checkInputs({ displayName: "A" }).inputs, false);
  });

  it("keeps an explicit deleteOnDestroy", () => {
    assert.equal(
      checkInputs({ displayName: "A", partnerId: "p1", deleteOnDestroy: true }).inputs.deleteOnDestroy,
      true,
    );
  });

  it("lets every unknown value through", () => {
    const news = Object.fromEntries(INPUT_NAMES.map((k) => [k, UNKNOWN]));
    assert.deepEqual(checkInputs(news).failures, []);
  });

  const invalid: [string, Record<string, unknown>, string, RegExp][] = [
    ["a missing displayName", { displayName: undefined }, "displayName", /displayName is required/],
    ["an empty displayName", { displayName: "  " }, "displayName", /non-empty string/],
    ["a numeric displayName", { displayName: 42 }, "displayName", /non-empty string/],
    ["a displayName over 256 characters", { displayName: "x".repeat(257) }, "displayName", /at most 256/],
    [
      "an http onboardingUrl",
      { onboardingUrl: "http://login.teamviewer.com" },
      "onboardingUrl",
      /must be an https URL .* not "http:\/\/login/,
    ],
    ["an onboardingUrl that is no URL", { onboardingUrl: "teamviewer" }, "onboardingUrl", /https URL/],
    [
      "an onboardingUrl with credentials",
      { onboardingUrl: "https://u:p@x.example" },
      "onboardingUrl",
      /https URL/,
    ],
    ["a partnerId with a slash", { partnerId: "a/b" }, "partnerId", /no spaces or slashes/],
    [
      "a non-boolean connected",
      { connected: "true" },
      "connected",
      /connected must be true or false, not "true"/,
    ],
    ["a non-boolean deleteOnDestroy", { deleteOnDestroy: 1 }, "deleteOnDestroy", /true or false/],
    ["a malformed tenantId", { tenantId: "contoso" }, "tenantId", /tenant GUID or a domain/],
    ["an unknown apiVersion", { apiVersion: "v2.0" }, "apiVersion", /"beta" or "v1.0", not "v2.0"/],
    ["an unknown property", { colour: "red" }, "colour", /'colour' is not an input/],
  ];
  for (const [name, extra, property, reason] of invalid) {
    it(`fails ${name}, naming ${property}`, () => {
      const { failures } = checkInputs({ displayName: "A", ...extra });
      const failure = failures.find((f) => f.property === property);
      assert.ok(failure, JSON.stringify(failures));
      assert.match(failure.reason, reason);
    });
  }

  it("keeps __provider and drops null inputs", () => {
    const { inputs } = checkInputs({ displayName: "A", onboardingUrl: null, __provider: "text" });
    assert.equal(inputs.__provider, "text");
    assert.equal("onboardingUrl" in inputs, false);
  });
});

describe("isConnected", () => {
  const table: [string, Parameters<typeof isConnected>, boolean][] = [
    ["onboarded", ["onboarded", null, NOW], true],
    ["onboarding with a future expiry", ["onboarding", "2026-11-28T12:10:00Z", NOW], true],
    ["onboarding with no expiry (v1.0)", ["onboarding", null, NOW], true],
    ["onboarding with Graph's 'never' expiry", ["onboarding", "0001-01-01T00:00:00Z", NOW], true],
    ["onboarding whose request expired", ["onboarding", "2026-11-28T11:59:00Z", NOW], false],
    ["notOnboarded", ["notOnboarded", null, NOW], false],
  ];
  for (const [name, args, expected] of table)
    it(`is ${expected} for ${name}`, () => assert.equal(isConnected(...args), expected));
});

describe("deleteOnDestroyOf", () => {
  it("follows the declared value, else deletes what the stack created and keeps what it adopted", () => {
    assert.equal(deleteOnDestroyOf(undefined, false), true);
    assert.equal(deleteOnDestroyOf(undefined, true), false);
    assert.equal(deleteOnDestroyOf(true, true), true);
    assert.equal(deleteOnDestroyOf(false, false), false);
  });
});

describe("compareTenants", () => {
  const G = "22222222-2222-4222-8222-222222222222";
  const table: [string, string, string, ReturnType<typeof compareTenants>][] = [
    [
      "one GUID in two letter cases",
      "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
      "AAAAAAAA-aaaa-4AAA-8aaa-AAAAAAAAAAAA",
      "same",
    ],
    ["two GUIDs", T, G, "different"],
    ["one domain in two letter cases", "Contoso.onmicrosoft.com", "contoso.OnMicrosoft.com", "same"],
    ["a domain and a GUID", "contoso.onmicrosoft.com", T, "unknown"],
    ["two domains", "contoso.onmicrosoft.com", "contoso.com", "unknown"],
  ];
  for (const [name, a, b, expected] of table)
    it(`says ${expected} for ${name}`, () => assert.equal(compareTenants(a, b), expected));
});

describe("diffPartner", () => {
  const news = (over: Record<string, unknown> = {}) => ({
    displayName: "TeamViewer",
    connected: true,
    apiVersion: "beta",
    ...over,
  });
  const table: [
    string,
    Partial<PartnerOutputs>,
    Record<string, unknown>,
    { changes: boolean; replaces: string[]; diffs: string[] },
  ][] = [
    ["nothing changed", {}, {}, { changes: false, replaces: [], diffs: [] }],
    [
      "nothing changed with the tenant declared",
      {},
      { tenantId: T },
      { changes: false, replaces: [], diffs: [] },
    ],
    [
      "an unmanaged onboardingUrl",
      {},
      { onboardingUrl: undefined },
      { changes: false, replaces: [], diffs: [] },
    ],
    [
      "a new displayName",
      {},
      { displayName: "New" },
      { changes: true, replaces: [], diffs: ["displayName"] },
    ],
    [
      "a new onboardingUrl",
      {},
      { onboardingUrl: "https://b.example" },
      { changes: true, replaces: [], diffs: ["onboardingUrl"] },
    ],
    [
      "connected: false on a connected partner",
      {},
      { connected: false },
      { changes: true, replaces: [], diffs: ["connected"] },
    ],
    [
      "a portal-side disconnect seen by refresh",
      { onboardingStatus: "notOnboarded" },
      {},
      { changes: true, replaces: [], diffs: ["connected"] },
    ],
    [
      "a portal-side reconnect seen by refresh",
      { onboardingStatus: "onboarded" },
      { connected: false },
      { changes: true, replaces: [], diffs: ["connected"] },
    ],
    [
      "an onboarding still pending",
      { onboardingStatus: "onboarding", onboardingRequestExpiryDateTime: "2026-11-28T12:30:00Z" },
      {},
      { changes: false, replaces: [], diffs: [] },
    ],
    [
      "an onboarding request that expired",
      { onboardingStatus: "onboarding", onboardingRequestExpiryDateTime: "2026-11-28T11:30:00Z" },
      {},
      { changes: true, replaces: [], diffs: ["connected"] },
    ],
    [
      "deleteOnDestroy flipped",
      {},
      { deleteOnDestroy: false },
      { changes: true, replaces: [], diffs: ["deleteOnDestroy"] },
    ],
    [
      "no deleteOnDestroy on a created partner: true, as recorded",
      {},
      {},
      { changes: false, replaces: [], diffs: [] },
    ],
    [
      "no deleteOnDestroy on an adopted partner: false, as recorded",
      { adopted: true, deleteOnDestroy: false },
      {},
      { changes: false, replaces: [], diffs: [] },
    ],
    ["apiVersion v1.0", {}, { apiVersion: "v1.0" }, { changes: true, replaces: [], diffs: ["apiVersion"] }],
    [
      "another tenant declared",
      {},
      { tenantId: "22222222-2222-4222-8222-222222222222" },
      { changes: true, replaces: ["tenantId"], diffs: ["tenantId"] },
    ],
    [
      "the recorded tenant in capitals: a new spelling, recorded in place",
      { tenantId: "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa" },
      { tenantId: "AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA" },
      { changes: true, replaces: [], diffs: ["tenantId"] },
    ],
    [
      "no tenant declared: the recorded one, whatever the default",
      { tenantId: "33333333-3333-4333-8333-333333333333" },
      {},
      { changes: false, replaces: [], diffs: [] },
    ],
    [
      "adopting another partner instead of the created one",
      {},
      { partnerId: "p2" },
      { changes: true, replaces: ["partnerId"], diffs: ["partnerId"] },
    ],
    [
      "the created partner's own id declared",
      {},
      { partnerId: "p1" },
      { changes: false, replaces: [], diffs: [] },
    ],
    [
      "an adopted partner whose partnerId was removed: still the same partner",
      { adopted: true, deleteOnDestroy: false },
      {},
      { changes: false, replaces: [], diffs: [] },
    ],
    [
      "the same adopted partner",
      { adopted: true, deleteOnDestroy: false },
      { partnerId: "p1", deleteOnDestroy: false },
      { changes: false, replaces: [], diffs: [] },
    ],
    [
      "an adopted partner pointed at another",
      { adopted: true, deleteOnDestroy: false },
      { partnerId: "p2" },
      { changes: true, replaces: ["partnerId"], diffs: ["partnerId"] },
    ],
    [
      "a GUID partner id in capitals",
      { partnerId: "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa" },
      { partnerId: "AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA" },
      { changes: false, replaces: [], diffs: [] },
    ],
    [
      "an unknown connected",
      {},
      { connected: UNKNOWN },
      { changes: true, replaces: [], diffs: ["connected"] },
    ],
    [
      "an unknown displayName",
      {},
      { displayName: UNKNOWN },
      { changes: true, replaces: [], diffs: ["displayName"] },
    ],
    [
      "an unknown partnerId",
      {},
      { partnerId: UNKNOWN },
      { changes: true, replaces: ["partnerId"], diffs: ["partnerId"] },
    ],
    [
      "an unknown tenantId",
      {},
      { tenantId: UNKNOWN },
      { changes: true, replaces: ["tenantId"], diffs: ["tenantId"] },
    ],
  ];
  for (const [name, olds, n, expected] of table) {
    it(`sees ${name}`, () => {
      const { changes, replaces, diffs, reasons } = diffPartner(state(olds), news(n), NOW);
      assert.deepEqual({ changes, replaces, diffs }, expected);
      assert.equal(reasons.length, diffs.length, "one reason per difference");
    });
  }

  it("takes Entra's word where a domain and a GUID cannot be compared offline", () => {
    const olds = state({ tenantId: "contoso.onmicrosoft.com" });
    assert.deepEqual(diffPartner(olds, news({ tenantId: T }), NOW, true).replaces, []);
    assert.deepEqual(diffPartner(olds, news({ tenantId: T }), NOW, false).replaces, ["tenantId"]);
    assert.throws(() => diffPartner(olds, news({ tenantId: T }), NOW), /cannot tell offline/);
  });

  it("gives each reason with the live or recorded value against the declared one", () => {
    const { reasons } = diffPartner(
      state({ onboardingStatus: "notOnboarded", adopted: true, deleteOnDestroy: false }),
      news({ displayName: "New", partnerId: "p2" }),
      NOW,
    );
    assert.deepEqual(reasons, [
      "displayName: the partner is named 'TeamViewer', the program declares 'New'",
      "connected: the program declares true, but the partner is notOnboarded: beginOnboarding",
      "partnerId: p1 in state, p2 declared: adopts p2 first, then releases partner p1 as destroy would (disconnect)",
    ]);
  });

  it("says how a move to another tenant releases the old partner", () => {
    const { reasons } = diffPartner(state(), news({ tenantId: "22222222-2222-4222-8222-222222222222" }), NOW);
    assert.deepEqual(reasons, [
      `tenantId: ${T} in state, 22222222-2222-4222-8222-222222222222 declared: creates the partner in 22222222-2222-4222-8222-222222222222 first, then releases partner p1 as destroy would (disconnect, DELETE) in ${T}`,
    ]);
  });
});

describe("planning Graph calls", () => {
  const live = (over: Partial<LiveView> = {}): LiveView => ({
    displayName: "TV",
    onboardingUrl: "https://a.example",
    connected: true,
    ...over,
  });
  const table: [string, LiveView, Desired, Step[]][] = [
    ["nothing for nothing changed", live(), { displayName: "TV", connected: true }, []],
    [
      "one disconnect for connected: false",
      live(),
      { displayName: "TV", connected: false },
      [{ call: "disconnect" }],
    ],
    [
      "one beginOnboarding for connected: true on a disconnected partner",
      live({ connected: false }),
      { displayName: "TV", connected: true },
      [{ call: "beginOnboarding" }],
    ],
    [
      "a PATCH of the changed field only",
      live(),
      { displayName: "TV2", onboardingUrl: "https://a.example", connected: true },
      [{ call: "patch", fields: { displayName: "TV2" } }],
    ],
    [
      "a PATCH alone for a new URL on a connected partner: never a disconnect",
      live(),
      { displayName: "TV", onboardingUrl: "https://b.example", connected: true },
      [{ call: "patch", fields: { onboardingUrl: "https://b.example" } }],
    ],
    [
      "disconnect then PATCH for a new URL with connected: false",
      live(),
      { displayName: "TV", onboardingUrl: "https://b.example", connected: false },
      [{ call: "disconnect" }, { call: "patch", fields: { onboardingUrl: "https://b.example" } }],
    ],
    [
      "PATCH then beginOnboarding for a new URL on a disconnected partner",
      live({ connected: false }),
      { displayName: "TV", onboardingUrl: "https://b.example", connected: true },
      [{ call: "patch", fields: { onboardingUrl: "https://b.example" } }, { call: "beginOnboarding" }],
    ],
    [
      "a PATCH alone for a new URL on a partner that stays disconnected",
      live({ connected: false }),
      { displayName: "TV", onboardingUrl: "https://b.example", connected: false },
      [{ call: "patch", fields: { onboardingUrl: "https://b.example" } }],
    ],
    ["nothing for a name in another letter case", live(), { displayName: "tv", connected: true }, []],
    ["nothing for an omitted name: left as Graph has it", live(), { connected: true }, []],
    [
      "nothing for values Graph did not keep, declared again",
      live({ notKept: { onboardingUrl: "https://b.example", displayName: "Mine" } }),
      { displayName: "Mine", onboardingUrl: "https://b.example", connected: true },
      [],
    ],
    [
      "a PATCH of a new value where an older one was not kept",
      live({ notKept: { onboardingUrl: "https://b.example" } }),
      { displayName: "TV", onboardingUrl: "https://c.example", connected: true },
      [{ call: "patch", fields: { onboardingUrl: "https://c.example" } }],
    ],
  ];
  for (const [name, l, desired, expected] of table)
    it(`plans ${name}`, () => assert.deepEqual(planUpdate(l, desired), expected));

  it("reads back after a PATCH, and after beginOnboarding only when the program declares an onboardingUrl", () => {
    assert.equal(needsReadBack([{ call: "patch", fields: { displayName: "A" } }], { connected: true }), true);
    assert.equal(needsReadBack([{ call: "beginOnboarding" }], { connected: true }), false);
    assert.equal(
      needsReadBack([{ call: "beginOnboarding" }], { connected: true, onboardingUrl: "https://a.example" }),
      true,
    );
    assert.equal(needsReadBack([{ call: "disconnect" }], { connected: false, displayName: "A" }), false);
  });

  it("names the declared values the live partner does not hold as not kept", () => {
    const desired = { displayName: "TV", onboardingUrl: "https://a.example", connected: true };
    assert.deepEqual(notKeptAfter({ displayName: "tv", onboardingUrl: "https://a.example" }, desired), {});
    assert.deepEqual(
      notKeptAfter({ displayName: "Other", onboardingUrl: "https://service.example" }, desired),
      {
        displayName: "TV",
        onboardingUrl: "https://a.example",
      },
    );
    assert.deepEqual(notKeptAfter({ displayName: "Other", onboardingUrl: null }, { connected: true }), {});
  });

  it("plans connection steps only when desired and live differ", () => {
    assert.deepEqual(planConnection(true, true), []);
    assert.deepEqual(planConnection(false, false), []);
    assert.deepEqual(planConnection(false, true), [{ call: "disconnect" }]);
    assert.deepEqual(planConnection(true, false), [{ call: "beginOnboarding" }]);
  });

  it("always disconnects on delete, and DELETEs only when asked", () => {
    assert.deepEqual(planDelete(true), ["disconnect", "delete"]);
    assert.deepEqual(planDelete(false), ["disconnect"]);
  });

  it("knows the status after the steps", () => {
    assert.equal(statusAfter("notOnboarded", [{ call: "beginOnboarding" }]), "onboarding");
    assert.equal(statusAfter("onboarded", [{ call: "beginOnboarding" }]), "onboarded");
    assert.equal(
      statusAfter("onboarded", [
        { call: "disconnect" },
        { call: "patch", fields: {} },
        { call: "beginOnboarding" },
      ]),
      "onboarding",
    );
  });
});
