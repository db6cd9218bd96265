/**
 * Every transition of a partner's identity, played through the real dynamic-provider host with the engine's
 * sequences: (adopted or created) × (`partnerId` removed, added, changed) × (tenant explicit, this machine's
 * default changed, no default) × `deleteOnDestroy`. Each asserts the exact Graph calls, and that nothing
 * connected is disconnected unless the program asked for it.
 */
import { strict as assert } from "node:assert";
import type { RemoteAssistancePartnerArgs } from "../provider";
import { ProviderHost, Stack, programInputs, type Props, type UpOutcome } from "../testing/engine";
import { useEmulator } from "./support/emulator";

const P = "/remoteAssistancePartners";

type Ownership = "adopted" | "created";
type TenantMode = "explicit" | "default changed" | "default missing";

interface Transition {
  ownership: Ownership;
  /** What happens to `partnerId`, as the test's name says it. */
  change: string;
  /** The programs after the first `up`, in order; `target` is the other partner's id, `own` the partner's. */
  programs: (ids: { own: string; target: string }) => Partial<RemoteAssistancePartnerArgs>[];
  /** Whether the program points at another partner: a replacement. */
  replaces: boolean;
}

const transitions: Transition[] = [
  {
    ownership: "adopted",
    change: "partnerId removed",
    programs: () => [{}],
    replaces: false,
  },
  {
    ownership: "adopted",
    change: "partnerId removed, then added back",
    programs: ({ own }) => [{}, { partnerId: own }],
    replaces: false,
  },
  {
    ownership: "adopted",
    change: "partnerId changed to another partner",
    programs: ({ target }) => [{ partnerId: target }],
    replaces: true,
  },
  {
    ownership: "created",
    change: "partnerId added as its own id",
    programs: ({ own }) => [{ partnerId: own }],
    replaces: false,
  },
  {
    ownership: "created",
    change: "partnerId added as its own id, then removed",
    programs: ({ own }) => [{ partnerId: own }, {}],
    replaces: false,
  },
  {
    ownership: "created",
    change: "partnerId added as another partner's id",
    programs: ({ target }) => [{ partnerId: target }],
    replaces: true,
  },
];

describe("partner identity transitions through the dynamic-provider host", function () {
  this.timeout(60_000);
  const emu = useEmulator({ onboardingDelayMs: null });
  // One tenant where every cell's partners live (T), another machine's default tenant (U), and three hosts:
  // this machine (default T), another machine (default U), a machine with no default tenant.
  let T: string;
  let U: string;
  const hosts = {} as Record<"T" | "U" | "none", ProviderHost>;

  before(async () => {
    T = emu().newTenant();
    U = emu().newTenant();
    const env: Record<string, string> = { ...emu().env(), INTUNE_AUTH: "clientSecret" };
    const noDefault = Object.fromEntries(Object.entries(env).filter(([k]) => k !== "AZURE_TENANT_ID"));
    [hosts.T, hosts.U, hosts.none] = await Promise.all([
      ProviderHost.start({ env: { ...env, AZURE_TENANT_ID: T } }),
      ProviderHost.start({ env: { ...env, AZURE_TENANT_ID: U } }),
      ProviderHost.start({ env: noDefault }),
    ]);
    for (const host of Object.values(hosts)) await host.configure({ "intune:consistencyWindowSeconds": "1" });
  });
  after(async () => {
    await Promise.all(Object.values(hosts).map((h) => h?.stop()));
  });

  let cell = 0;
  for (const t of transitions) {
    for (const mode of ["explicit", "default changed", "default missing"] as TenantMode[]) {
      for (const deleteOnDestroy of [true, false]) {
        const outcome = !t.replaces
          ? "keeps managing the same partner in place with no Graph call"
          : mode === "explicit"
            ? `adopts the other partner first, then releases the ${t.ownership} one as destroy would`
            : "fails before any Graph call in the recorded tenant, the partner untouched";
        it(`${t.ownership}, ${t.change}, tenant ${mode}, deleteOnDestroy ${deleteOnDestroy}: ${outcome}`, async () => {
          const n = ++cell;
          const store = emu().tenant(T);
          const stack = new Stack(hosts.T);
          const tenant = mode === "explicit" ? { tenantId: T } : {};
          const name = `cell-${n}`;
          const other = store.seed({ displayName: `cell-${n}-other`, status: "notOnboarded" });
          const seeded =
            t.ownership === "adopted"
              ? store.seed({ displayName: name, status: "onboarded", onboardingUrl: "https://tv.example/a" })
              : undefined;
          const program = async (args: Partial<RemoteAssistancePartnerArgs>): Promise<Props> =>
            (await programInputs("tv", { displayName: name, deleteOnDestroy, ...tenant, ...args })).inputs;

          await stack.up({ tv: await program(seeded ? { partnerId: seeded.id } : {}) });
          const own = stack.state.get("tv")!.id;
          assert.equal(store.find(own)?.status === "notOnboarded", false, "connected after the first up");

          stack.host = mode === "default missing" ? hosts.none : hosts.U;
          emu().clearLog();
          const steps = t.programs({ own, target: other.id });
          const outcomes: (UpOutcome | Error)[] = [];
          for (const args of steps) {
            const renamed = args.partnerId === other.id ? { displayName: other.displayName! } : {};
            outcomes.push(
              await stack.upOne("tv", await program({ ...args, ...renamed })).catch((e: Error) => e),
            );
          }

          if (!t.replaces) {
            assert.deepEqual(
              outcomes,
              steps.map(() => "same"),
            );
            assert.deepEqual(emu().calls(), []);
            const { id, outputs } = stack.state.get("tv")!;
            assert.equal(id, own);
            assert.equal(outputs.tenantId, T, "the partner stays in the tenant recorded in state");
            assert.equal(outputs.adopted, t.ownership === "adopted", "ownership is what state recorded");
            assert.equal(outputs.deleteOnDestroy, deleteOnDestroy);
            assert.notEqual(store.find(own)?.status, "notOnboarded", "nothing disconnected");
            assert.deepEqual(await stack.refresh(), [], "no drift after a refresh on this machine either");
            assert.deepEqual(await stack.preview({ tv: await program(steps.at(-1)!) }), []);
          } else if (mode === "explicit") {
            assert.deepEqual(outcomes, ["replace"]);
            assert.deepEqual(emu().calls({ tenantId: T }), [
              `GET ${P}/${other.id}`,
              `POST ${P}/${other.id}/beginOnboarding`,
              `POST ${P}/${own}/disconnect`,
              ...(deleteOnDestroy ? [`DELETE ${P}/${own}`] : []),
            ]);
            assert.equal(stack.state.get("tv")!.id, other.id);
            assert.equal(store.find(other.id)?.status, "onboarding");
            assert.equal(store.find(own)?.status, deleteOnDestroy ? undefined : "notOnboarded");
          } else {
            const [error] = outcomes as Error[];
            assert.ok(error instanceof Error, String(error));
            assert.match(
              error.message,
              mode === "default missing"
                ? /No tenant: set the resource's tenantId/
                : new RegExp(`No remote assistance partner ${other.id} in tenant ${U}`),
            );
            assert.deepEqual(emu().calls({ tenantId: T }), [], "nothing sent to the recorded tenant");
            assert.equal(stack.state.get("tv")!.id, own);
            assert.notEqual(store.find(own)?.status, "notOnboarded", "nothing disconnected");
            assert.equal(store.find(other.id)?.status, "notOnboarded");
          }
        });
      }
    }
  }
});
