/**
 * Property-based fuzzing of check and diff (fast-check, seeded): never throw, name the property of every
 * invalid input, let preview's unknowns through, and never call Graph. FUZZ_RUNS raises the run count.
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { provider } from "../provider/host";
import { UNKNOWN } from "../provider/core/inputs";
import { INPUT_NAMES } from "../provider/partner/lifecycle";
import { useEmulator } from "./support/emulator";
import { useEnv } from "./support/env";

const settings = { seed: 20261128, numRuns: Number(process.env.FUZZ_RUNS ?? 200) };

const anyValue = fc.oneof(fc.jsonValue(), fc.constant(UNKNOWN), fc.constant(undefined));
const anyProps = fc.dictionary(fc.oneof(fc.constantFrom(...INPUT_NAMES), fc.string()), anyValue);
const notA = (accept: (v: unknown) => boolean) =>
  fc.jsonValue().filter((v) => v !== null && v !== UNKNOWN && !accept(v));
const isHttpsUrl = (v: unknown) => {
  try {
    const u = new URL(String(v));
    return (
      typeof v === "string" && u.protocol === "https:" && u.hostname !== "" && !u.username && !u.password
    );
  } catch {
    return false;
  }
};

/** For each input, values that must be refused. */
const invalid: Record<string, fc.Arbitrary<unknown>> = {
  displayName: fc.oneof(
    notA((v) => typeof v === "string"),
    fc.constantFrom("", "   ", "x".repeat(257)),
  ),
  onboardingUrl: fc.oneof(notA(isHttpsUrl), fc.webUrl({ validSchemes: ["http", "ftp"] })),
  partnerId: fc.oneof(
    notA((v) => typeof v === "string"),
    fc.constantFrom("a b", "a/b", "", "x?y"),
  ),
  connected: notA((v) => typeof v === "boolean"),
  deleteOnDestroy: notA((v) => typeof v === "boolean"),
  tenantId: fc.oneof(
    notA((v) => typeof v === "string"),
    fc.constantFrom("contoso", "not a tenant", "-x-.com", ""),
  ),
  apiVersion: notA((v) => v === "beta" || v === "v1.0"),
};

const valid = fc.record(
  {
    displayName: fc.string({ minLength: 1, maxLength: 256 }).filter((s) => s.trim() !== ""),
    onboardingUrl: fc.webUrl({ validSchemes: ["https"] }).filter(isHttpsUrl),
    partnerId: fc.stringMatching(/^[A-Za-z0-9-]{1,40}$/),
    connected: fc.boolean(),
    deleteOnDestroy: fc.boolean(),
    tenantId: fc.oneof(fc.uuid(), fc.constantFrom("contoso.onmicrosoft.com", "fabrikam.example")),
    apiVersion: fc.constantFrom("beta", "v1.0"),
  },
  { requiredKeys: ["displayName"] },
);

describe("fuzzing check and diff", function () {
  this.timeout(60_000);
  const emu = useEmulator({ throttle: false });
  useEnv(() => emu().env());
  before(() => provider.configure({ config: { get: () => undefined, require: () => "" } }));
  after(() => {
    assert.equal(emu().requests.length, 0, "check and diff called Graph");
    assert.equal(emu().tokenRequests.length, 0, "check and diff asked for a token");
  });

  it("check never throws on arbitrary properties, and names only properties that exist or are required", async () => {
    await fc.assert(
      fc.asyncProperty(anyProps, async (news) => {
        const failures = (await provider.check({}, news)).failures ?? [];
        for (const f of failures) assert.ok(f.property in news || f.property === "displayName", f.property);
      }),
      settings,
    );
  });

  for (const [property, values] of Object.entries(invalid)) {
    it(`check refuses every invalid ${property} with a failure naming it`, async () => {
      await fc.assert(
        fc.asyncProperty(valid, values, async (base, value) => {
          const failures = (await provider.check({}, { ...base, [property]: value })).failures ?? [];
          assert.ok(
            failures.some((f) => f.property === property && f.reason.includes(property)),
            JSON.stringify(failures),
          );
        }),
        settings,
      );
    });
  }

  it("check refuses every property that is not an input, naming it", async () => {
    const unknownKey = fc
      .string({ minLength: 1 })
      .filter((k) => !INPUT_NAMES.includes(k) && k !== "__provider" && !(k in {}));
    await fc.assert(
      fc.asyncProperty(valid, unknownKey, fc.jsonValue(), async (base, key, value) => {
        fc.pre(value !== null);
        const failures = (await provider.check({}, { ...base, [key]: value })).failures ?? [];
        assert.ok(failures.some((f) => f.property === key));
      }),
      settings,
    );
  });

  it("check accepts every valid input and preview's unknown in any property", async () => {
    await fc.assert(
      fc.asyncProperty(valid, fc.subarray(INPUT_NAMES), async (base, unknowns) => {
        const news = { ...base, ...Object.fromEntries(unknowns.map((k) => [k, UNKNOWN])) };
        assert.deepEqual((await provider.check({}, news)).failures, []);
      }),
      settings,
    );
  });

  it("diff never throws on arbitrary olds and news, but to say Entra could not compare two tenants", async () => {
    await fc.assert(
      fc.asyncProperty(anyProps, anyProps, async (olds, news) => {
        try {
          const result = await provider.diff("id", olds, news);
          assert.equal(typeof result.changes, "boolean");
        } catch (e) {
          assert.match((e as Error).message, /asking Entra whether they name one tenant failed/);
        }
      }),
      settings,
    );
  });

  it("diff never answers 'no change' while an input is unknown", async () => {
    await fc.assert(
      // adopt only matters when a resource is created: an existing one is the same partner whatever it says.
      fc.asyncProperty(
        valid,
        fc.constantFrom(...INPUT_NAMES.filter((k) => k !== "adopt")),
        async (base, key) => {
          const { inputs } = await provider.check({}, base);
          const olds = {
            ...inputs,
            partnerId: "p",
            tenantId: (inputs.tenantId as string) ?? "t",
            onboardingStatus: "onboarded",
          };
          const result = await provider.diff("p", olds, { ...inputs, [key]: UNKNOWN });
          assert.equal(result.changes, true);
        },
      ),
      settings,
    );
  });
});
