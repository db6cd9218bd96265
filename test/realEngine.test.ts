/**
 * The real Pulumi engine: the CLI (found or built by `npm run pulumi-cli`) runs programs written as someone else
 * would, installed from the packed tarball, against the emulator; each asserts the exact Graph calls. Every
 * sequence the harness (`testing/engine.ts`) plays has a twin here: the same steps through the CLI and through
 * the harness, in two tenants, must make the same calls and leave the same state.
 *
 * Runs wherever a CLI is found; fails when none is and INTUNE_REQUIRE_PULUMI_CLI=1 (CI), else says it did not run.
 */
import { strict as assert } from "node:assert";
import { ProviderHost } from "../testing/engine";
import { INTUNE_ROW_NAME, type Emulator } from "../emulator";
import { useEmulator } from "./support/emulator";
import { installedProgram, LOCKED_SDK } from "./support/installed";
import { realCli, RealStack, type Decl } from "./support/realEngine";
import { CliEngine, HarnessEngine, Labels, type Engine, type Outcome } from "./support/twins";

const { cli, why } = realCli();
const P = "/remoteAssistancePartners";
const S = "/remoteAssistanceSettings";

/** One step of a sequence, with the Graph calls it must make (partner ids by label, see Labels). */
type Step =
  | { up: Decl[]; refresh?: boolean; calls: string[]; fails?: RegExp }
  | { preview: Decl[]; refresh?: boolean; expectNoChanges?: boolean; calls: string[]; fails?: RegExp }
  | { refresh: true; calls: string[] }
  | { destroy: true; calls: string[]; fails?: RegExp }
  /** Something done outside Pulumi (the portal, another app), or a change of machine. */
  | { act: (world: World) => void | Promise<void> };

/** What a step's `act` may touch: the emulator, the tenant, its seeded partners, and the engine. */
interface World {
  emulator: Emulator;
  tenantId: string;
  ids: Record<string, string>;
  engine: Engine;
  /** Moves the engine to another machine whose default tenant is `tenantId` (another PULUMI_HOME, environment). */
  moveTo(defaultTenant: string): Promise<void>;
}

interface Sequence {
  name: string;
  /** Partners to seed in the tenant besides Intune's own row (`row`), by label. */
  seed?: string[];
  steps: (ids: Record<string, string>) => Step[];
}

const partner = (name: string, args: Record<string, unknown>, opts?: Decl["opts"]): Decl => ({
  kind: "partner",
  name,
  args,
  opts,
});

/** The sequences of the harness, each with the calls a user would expect. */
const sequences: Sequence[] = [
  {
    name: "a created partner: create, no change, disconnect, rename, destroy",
    steps: (t) => {
      const support = (args: Record<string, unknown> = {}) => [
        partner("support", { displayName: "Contoso Support", tenantId: t.T, ...args }),
      ];
      return [
        {
          up: support(),
          calls: [`GET ${P}`, `POST ${P}`, `GET ${P}/new1`, `POST ${P}/new1/beginOnboarding`],
        },
        { preview: support(), expectNoChanges: true, calls: [] },
        { up: support({ connected: false }), calls: [`POST ${P}/new1/disconnect`] },
        {
          up: support({ connected: false, displayName: "Contoso Helpdesk" }),
          calls: [`GET ${P}`, `PATCH ${P}/new1`, `GET ${P}/new1`],
        },
        { destroy: true, calls: [`POST ${P}/new1/disconnect`, `DELETE ${P}/new1`] },
      ];
    },
  },
  {
    name: "partnerId pointed at another partner: the new one adopted first, then the old one released",
    seed: ["other"],
    steps: (t) => [
      {
        up: [partner("tv", { partnerId: t.row, tenantId: t.T })],
        calls: [`GET ${P}/row`, `POST ${P}/row/beginOnboarding`],
      },
      {
        up: [partner("tv", { partnerId: t.other, tenantId: t.T })],
        calls: [`GET ${P}/other`, `POST ${P}/other/beginOnboarding`, `POST ${P}/row/disconnect`],
      },
      { destroy: true, calls: [`POST ${P}/other/disconnect`] },
    ],
  },
  {
    name: "the user's deleteBeforeReplace, and the pending replacement a failed create leaves",
    seed: ["other"],
    steps: (t) => {
      const tv = (partnerId: string) => [
        partner("tv", { partnerId, tenantId: t.T }, { deleteBeforeReplace: true }),
      ];
      return [
        { up: tv(t.row), calls: [`GET ${P}/row`, `POST ${P}/row/beginOnboarding`] },
        {
          act: ({ emulator, tenantId, ids }) =>
            emulator.faults.add(
              { kind: "status", status: 403 },
              { tenantId, method: "GET", path: ids.other },
            ),
        },
        { up: tv(t.other), calls: [`POST ${P}/row/disconnect`, `GET ${P}/other`], fails: /403/ },
        { up: tv(t.other), calls: [`GET ${P}/other`, `POST ${P}/other/beginOnboarding`] },
        { destroy: true, calls: [`POST ${P}/other/disconnect`] },
      ];
    },
  },
  {
    name: "refresh sees a portal-side disconnect: the drift check fails, up --refresh repairs it with one call",
    steps: () => {
      const tv = [partner("tv", { adopt: true, displayName: INTUNE_ROW_NAME })];
      return [
        { up: tv, calls: [`GET ${P}`, `POST ${P}/row/beginOnboarding`] },
        { act: ({ emulator, tenantId, ids }) => emulator.tenant(tenantId).disconnect(ids.row) },
        { preview: tv, refresh: true, expectNoChanges: true, calls: [`GET ${P}/row`], fails: /./ },
        // The CLI refreshes twice: in the preview `up --yes` shows, and in the update.
        { up: tv, refresh: true, calls: [`GET ${P}/row`, `GET ${P}/row`, `POST ${P}/row/beginOnboarding`] },
        { preview: tv, refresh: true, expectNoChanges: true, calls: [`GET ${P}/row`] },
        { destroy: true, calls: [`POST ${P}/row/disconnect`] },
      ];
    },
  },
  {
    name: "protect refuses a destroy with no Graph call; unprotected, destroy only disconnects the adopted partner",
    steps: (t) => [
      {
        up: [partner("tv", { partnerId: t.row }, { protect: true })],
        calls: [`GET ${P}/row`, `POST ${P}/row/beginOnboarding`],
      },
      { destroy: true, calls: [], fails: /protect/ },
      { up: [partner("tv", { partnerId: t.row }, { protect: false })], calls: [] },
      { destroy: true, calls: [`POST ${P}/row/disconnect`] },
    ],
  },
  {
    name: "retainOnDelete forgets the partner on destroy, with no Graph call",
    steps: () => [
      {
        up: [partner("tv", { adopt: true, displayName: INTUNE_ROW_NAME }, { retainOnDelete: true })],
        calls: [`GET ${P}`, `POST ${P}/row/beginOnboarding`],
      },
      { destroy: true, calls: [] },
    ],
  },
  {
    name: "ignoreChanges keeps the recorded connection although the program says connected: false",
    steps: (t) => [
      {
        up: [partner("tv", { partnerId: t.row }, { ignoreChanges: ["connected"] })],
        calls: [`GET ${P}/row`, `POST ${P}/row/beginOnboarding`],
      },
      {
        up: [partner("tv", { partnerId: t.row, connected: false }, { ignoreChanges: ["connected"] })],
        calls: [],
      },
      {
        preview: [partner("tv", { partnerId: t.row, connected: false }, { ignoreChanges: ["connected"] })],
        expectNoChanges: true,
        calls: [],
      },
      { destroy: true, calls: [`POST ${P}/row/disconnect`] },
    ],
  },
  {
    name: "a second machine whose default tenant differs changes nothing, refreshes and destroys in the recorded tenant",
    steps: () => {
      const support = [partner("support", { displayName: "Contoso Support" })];
      return [
        { up: support, calls: [`GET ${P}`, `POST ${P}`, `GET ${P}/new1`, `POST ${P}/new1/beginOnboarding`] },
        { act: async (w) => w.moveTo(w.emulator.newTenant()) },
        { preview: support, expectNoChanges: true, calls: [] },
        { refresh: true, calls: [`GET ${P}/new1`, `GET ${P}/new1`] },
        { destroy: true, calls: [`POST ${P}/new1/disconnect`, `DELETE ${P}/new1`] },
      ];
    },
  },
  {
    name: "Remote Help's settings: create, a portal change repaired, destroy puts back what the tenant had",
    steps: (t) => {
      const rh = [
        {
          kind: "settings" as const,
          name: "rh",
          args: { remoteAssistanceState: "enabled", blockChat: true, tenantId: t.T },
        },
      ];
      return [
        { up: rh, calls: [`GET ${S}`, `PATCH ${S}`] },
        { act: ({ emulator, tenantId }) => void (emulator.tenant(tenantId).remoteHelp.blockChat = false) },
        { preview: rh, refresh: true, expectNoChanges: true, calls: [`GET ${S}`], fails: /./ },
        { up: rh, refresh: true, calls: [`GET ${S}`, `GET ${S}`, `PATCH ${S}`] },
        { destroy: true, calls: [`PATCH ${S}`] },
      ];
    },
  },
];

describe("the real Pulumi engine", function () {
  this.timeout(600_000);
  before(function () {
    if (cli) return;
    if (process.env.INTUNE_REQUIRE_PULUMI_CLI === "1")
      throw new Error(
        `INTUNE_REQUIRE_PULUMI_CLI=1, but ${why}: run npm run pulumi-cli and put its directory on PATH`,
      );
    console.log(`    (not run: ${why}; npm run pulumi-cli builds one)`);
    this.skip();
  });
  const emu = useEmulator({ profile: "realistic" });

  /** A tenant with Intune's row and the seeded partners; their ids by label. */
  function tenant(seed: string[] = []): { tenantId: string; ids: Record<string, string> } {
    const tenantId = emu().newTenant();
    const ids: Record<string, string> = { row: emu().intuneRow(tenantId)!.id };
    for (const label of seed)
      ids[label] = emu()
        .tenant(tenantId)
        .seed({ displayName: `${label} connector`, status: "notOnboarded" }).id;
    return { tenantId, ids };
  }

  /** Plays `sequence` on `engine` in a tenant of its own; the labelled calls of each step, and the final state. */
  async function play(
    sequence: Sequence,
    engine: Engine,
    moveTo: (engine: Engine, defaultTenant: string) => Promise<Engine>,
    tenantId: string,
    ids: Record<string, string>,
  ) {
    const labels = new Labels(tenantId, ids);
    const world: World = {
      emulator: emu(),
      tenantId,
      ids,
      engine,
      moveTo: async (t) => void (world.engine = await moveTo(world.engine, t)),
    };
    const steps = sequence.steps({ ...ids, T: tenantId });
    const calls: string[][] = [];
    const states: unknown[] = [];
    for (const [i, step] of steps.entries()) {
      if ("act" in step) {
        await step.act(world);
        continue;
      }
      emu().clearLog();
      const outcome: Outcome =
        "up" in step
          ? await world.engine.up(step.up, { refresh: step.refresh })
          : "preview" in step
            ? await world.engine.preview(step.preview, step)
            : "refresh" in step
              ? await world.engine.refresh()
              : await world.engine.destroy();
      const where = `${sequence.name}, step ${i + 1}`;
      if ("fails" in step && step.fails) {
        assert.equal(outcome.ok, false, `${where} should fail`);
        assert.match(outcome.message ?? "", step.fails, where);
      } else {
        assert.ok(outcome.ok, `${where} failed: ${outcome.message}`);
      }
      calls.push(labels.calls(emu()));
      assert.deepEqual(calls.at(-1), step.calls, `${where}: the Graph calls`);
      states.push(labels.state(await world.engine.state()));
    }
    return { calls, states };
  }

  for (const sequence of sequences)
    it(`${sequence.name}: the CLI and the harness make the same Graph calls and leave the same state at each step`, async () => {
      const dir = await installedProgram(LOCKED_SDK);
      const real = tenant(sequence.seed);
      const harness = tenant(sequence.seed);
      const stackName = `twin-${sequences.indexOf(sequence)}`;
      const realStack = await RealStack.create(cli!, stackName, emu().env({ tenantId: real.tenantId }));
      const hosts: ProviderHost[] = [];
      const hostFor = async (defaultTenant: string) => {
        const host = await ProviderHost.start({ cwd: dir, env: emu().env({ tenantId: defaultTenant }) });
        hosts.push(host);
        return host;
      };
      try {
        const cliSide = await play(
          sequence,
          new CliEngine(realStack),
          async (engine, t) =>
            new CliEngine((engine as CliEngine).stack.onMachine(emu().env({ tenantId: t }))),
          real.tenantId,
          real.ids,
        );
        const harnessSide = await play(
          sequence,
          new HarnessEngine(await hostFor(harness.tenantId)),
          async (engine, t) => (engine as HarnessEngine).onHost(await hostFor(t)),
          harness.tenantId,
          harness.ids,
        );
        assert.deepEqual(harnessSide.calls, cliSide.calls, "the same Graph calls, step by step");
        assert.deepEqual(harnessSide.states, cliSide.states, "the same state after each step");
      } finally {
        await Promise.all(hosts.map((h) => h.stop()));
      }
    });
});
