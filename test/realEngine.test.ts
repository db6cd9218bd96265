/**
 * The real Pulumi engine: the CLI (found or built by `npm run pulumi-cli`) runs programs written as someone else
 * would, installed from the packed tarball, against the emulator; each asserts the exact Graph calls. Every
 * sequence the harness (`testing/engine.ts`) plays has a twin here: the same steps through the CLI and through
 * the harness, in two tenants, must make the same calls and leave the same state.
 *
 * Runs wherever a CLI is found; fails when none is and INTUNE_REQUIRE_PULUMI_CLI=1 (CI), else says it did not run.
 */
import { strict as assert } from "node:assert";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { hasNodeLanguagePlugin, policyPackLauncher } from "../provider/runPulumi";
import { ProviderHost } from "../testing/engine";
import { INTUNE_ROW_NAME, type Emulator } from "../emulator";
import { useEmulator } from "./support/emulator";
import { overlapped } from "./support/overlapped";
import {
  copiedExample,
  freshDir,
  installedPolicyPack,
  installedProgram,
  LOCKED_SDK,
  run,
} from "./support/installed";
import { readmeMessageRows } from "./support/readme";
import { REPO_ROOT } from "./support/repo";
import {
  killedMidRequest,
  machineEnv,
  programText,
  realCli,
  RealStack,
  type Decl,
} from "./support/realEngine";
import { CliEngine, HarnessEngine, Labels, type Engine, type Outcome } from "./support/twins";
import { yamlUnavailable, YamlStack } from "./support/yaml";

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
      emu().clearLog({ tenantId });
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

  const test = overlapped(3);
  const noYaml = yamlUnavailable(cli, why);
  for (const sequence of sequences)
    test(`${sequence.name}: the CLI and the harness make the same Graph calls and leave the same state at each step, the YAML program through the intune plugin too`, async () => {
      if (noYaml && process.env.INTUNE_REQUIRE_PULUMI_CLI === "1")
        throw new Error(`INTUNE_REQUIRE_PULUMI_CLI=1, but ${noYaml}: npm run pulumi-cli builds it`);
      const dir = await installedProgram(LOCKED_SDK);
      const real = tenant(sequence.seed);
      const harness = tenant(sequence.seed);
      const yaml = tenant(sequence.seed);
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
            new CliEngine(((engine as CliEngine).stack as RealStack).onMachine(emu().env({ tenantId: t }))),
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
        if (noYaml) return console.log(`    (the YAML side not run: ${noYaml})`);
        const yamlSide = await play(
          sequence,
          new CliEngine(await YamlStack.create(cli!, stackName, emu().env({ tenantId: yaml.tenantId }))),
          async (engine, t) =>
            new CliEngine(
              await ((engine as CliEngine).stack as YamlStack).onMachine(emu().env({ tenantId: t })),
            ),
          yaml.tenantId,
          yaml.ids,
        );
        assert.deepEqual(
          yamlSide.calls,
          cliSide.calls,
          "the plugin makes the dynamic provider's Graph calls",
        );
        assert.deepEqual(yamlSide.states, cliSide.states, "the plugin leaves the dynamic provider's state");
      } finally {
        await Promise.all(hosts.map((h) => h.stop()));
      }
    });
});

describe("what users run, through the real Pulumi engine", function () {
  this.timeout(600_000);
  before(function () {
    if (cli) return;
    if (process.env.INTUNE_REQUIRE_PULUMI_CLI === "1")
      throw new Error(`INTUNE_REQUIRE_PULUMI_CLI=1, but ${why}`);
    console.log(`    (not run: ${why})`);
    this.skip();
  });
  const emu = useEmulator({ profile: "realistic" });
  const test = overlapped(3);
  const tv = (args: Record<string, unknown> = {}, opts?: Decl["opts"]): Decl[] => [
    partner("tv", { adopt: true, displayName: INTUNE_ROW_NAME, ...args }, opts),
  ];

  test("shows the preview's reasons in pulumi preview's text and --json, as the README shows them", async () => {
    const tenantId = emu().newTenant();
    const row = emu().intuneRow(tenantId)!;
    const stack = await RealStack.create(cli!, "reasons", emu().env({ tenantId }));
    const tv = (args: Record<string, unknown> = {}) => [
      partner("teamviewer", { adopt: true, displayName: INTUNE_ROW_NAME, ...args }),
    ];
    await stack.write(tv()).ok("up", "--yes");
    const reason = `intune: '${INTUNE_ROW_NAME}' (partner ${row.id}): update: connected: the program declares false, but the partner is onboarding: disconnect`;
    const text = await stack.write(tv({ connected: false })).ok("preview");
    assert.ok(text.stdout.includes(reason), text.stdout);
    if (process.env.INTUNE_PRINT_PREVIEW) console.log(text.stdout);
    const json = JSON.parse((await stack.ok("preview", "--json")).stdout) as {
      diagnostics?: { message: string }[];
    };
    assert.ok(
      json.diagnostics?.some((d) => d.message.includes(reason)),
      JSON.stringify(json.diagnostics),
    );
    // The README's block is a real run's output: each of its lines is in this one (ids and names aside).
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const block = /```text\n(\$ pulumi preview\n[\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(block, "the README shows a pulumi preview");
    const normalize = (s: string) =>
      s
        .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "ID")
        .replace(/someone-elses-program-reasons|intune-remote-assistance-dev/g, "STACK")
        .replace(/\((reasons|dev)\)/g, "(S)");
    const seen = normalize(text.stdout);
    for (const line of block
      .split("\n")
      .slice(1)
      .filter((l) => l.trim() && !l.startsWith("@")))
      assert.ok(
        seen.includes(normalize(line).trimEnd()),
        `the README's line is not in a real preview: ${line}`,
      );
  });

  test("keeps a credential from the environment out of the state: pulumi stack export --show-secrets holds none", async () => {
    const tenantId = emu().newTenant();
    const env = emu().env({ tenantId });
    const stack = await RealStack.create(cli!, "env-secret", env);
    await stack.write(tv()).ok("up", "--yes");
    const exported = (await stack.ok("stack", "export", "--show-secrets")).stdout;
    assert.ok(!exported.includes(env.AZURE_CLIENT_SECRET), "no client secret");
    assert.doesNotMatch(exported, /eyJ[\w-]+\.[\w-]+\.|Bearer/, "no token");
    await stack.ok("destroy", "--yes");
  });

  test("stores a credential set as secret config only encrypted: the engine records the config as the provider's inputs", async () => {
    const tenantId = emu().newTenant();
    const { AZURE_CLIENT_SECRET: secretValue, ...env } = emu().env({ tenantId });
    const stack = await RealStack.create(cli!, "config-secret", env);
    await stack.ok("config", "set", "--secret", "intune:clientSecret", secretValue);
    await stack.write(tv()).ok("up", "--yes");
    assert.equal(emu().intuneRow(tenantId)?.status, "onboarding", "the secret from config authenticated");
    const exported = (await stack.ok("stack", "export")).stdout;
    assert.ok(!exported.includes(secretValue), "no plaintext secret in the state");
    assert.doesNotMatch(exported, /eyJ[\w-]+\.[\w-]+\.|Bearer/, "no token");
    // Decrypted, it is there: under the default pulumi-nodejs provider, whose inputs are the stack config the
    // engine configures it with (Pulumi's doing, for every dynamic provider) — and nowhere else.
    const resources = (
      JSON.parse((await stack.ok("stack", "export", "--show-secrets")).stdout) as {
        deployment: { resources: { urn: string }[] };
      }
    ).deployment.resources;
    assert.deepEqual(
      resources
        .filter((r) => JSON.stringify(r).includes(secretValue))
        .map((r) => r.urn.split("::").slice(2).join("::")),
      ["pulumi:providers:pulumi-nodejs::default"],
    );
    await stack.ok("destroy", "--yes");
  });

  test("runs the policy pack with the real analyzer: a remediation makes the up disconnect, a mandatory violation writes nothing", async () => {
    const pack = await installedPolicyPack();
    const launcher = policyPackLauncher(pack);
    writeFileSync(
      join(pack, "teardown.json"),
      JSON.stringify({ "intune-partner-teardown": { teardown: true } }),
    );
    const tenantId = emu().newTenant();
    const row = emu().intuneRow(tenantId)!;
    const stack = await RealStack.create(cli!, "policy", emu().env({ tenantId }));
    await stack.write(tv()).ok("up", "--yes");
    emu().clearLog({ tenantId });
    const torn = await stack.ok(
      "up",
      "--yes",
      "--policy-pack",
      launcher,
      "--policy-pack-config",
      join(pack, "teardown.json"),
    );
    assert.match(torn.stdout, /\[remediate\] +intune-partner-teardown/);
    assert.deepEqual(emu().calls({ tenantId }), [`POST ${P}/${row.id}/disconnect`]);
    emu().clearLog({ tenantId });
    stack.write([
      ...tv({ connected: false }),
      partner("evil", { displayName: "Evil", onboardingUrl: "https://evil.example/onboard" }),
    ]);
    const refused = await stack.run([
      "up",
      "--yes",
      "--policy-pack",
      launcher,
      "--policy-pack-config",
      join(pack, "config.json"),
    ]);
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stdout,
      /\[mandatory\] +intune-onboarding-host-allowed[\s\S]*'evil\.example' is not one of the allowed partner hosts/,
    );
    assert.deepEqual(
      emu()
        .calls({ tenantId })
        .filter((c) => !c.startsWith("GET")),
      [],
      "nothing written",
    );
    assert.equal(emu().tenant(tenantId).all().length, 1, "no partner created");
  });

  test("a reader refreshes and checks drift with the policy pack, its up fails with nothing written, the writer repairs", async () => {
    const pack = await installedPolicyPack();
    const tenantId = emu().newTenant();
    const row = emu().intuneRow(tenantId)!;
    const reader = { clientId: randomUUID(), clientSecret: "reader-secret" };
    emu().registerApp({
      ...reader,
      tenants: [tenantId],
      permissions: ["DeviceManagementServiceConfig.Read.All"],
    });
    const writerStack = await RealStack.create(cli!, "least-privilege", emu().env({ tenantId }));
    await writerStack.write(tv()).ok("up", "--yes");
    emu().tenant(tenantId).disconnect(row.id); // in the portal
    const readerStack = writerStack.onMachine(emu().env({ tenantId, ...reader })).write(tv());
    const withPack = [
      "--policy-pack",
      policyPackLauncher(pack),
      "--policy-pack-config",
      join(pack, "config.json"),
    ];
    emu().clearLog({ tenantId });
    const check = await readerStack.run(["preview", "--refresh", "--expect-no-changes", ...withPack]);
    assert.notEqual(check.code, 0, "the drift check fails: the connector was disconnected in the portal");
    assert.match(
      check.stdout,
      /update: connected: the program declares true, but the partner is notOnboarded: beginOnboarding\. This identity is read-only \(a preview or drift check\): pulumi up with the writer's identity makes the change/,
    );
    const up = await readerStack.run(["up", "--yes", "--refresh", ...withPack]);
    assert.notEqual(up.code, 0);
    assert.match(
      up.stdout,
      /This identity is read-only: its token grants DeviceManagementServiceConfig\.Read\.All/,
    );
    assert.equal(emu().tenant(tenantId).find(row.id)?.status, "notOnboarded", "nothing written");
    assert.deepEqual(
      emu()
        .requests.filter((r) => r.tenantId === tenantId && r.method !== "GET")
        .map((r) => r.status),
      [403],
      "one write attempted, refused",
    );
    emu().clearLog({ tenantId });
    await writerStack.ok("up", "--yes", "--refresh", ...withPack);
    assert.deepEqual(emu().calls({ tenantId }), [
      `GET ${P}/${row.id}`,
      `GET ${P}/${row.id}`,
      `POST ${P}/${row.id}/beginOnboarding`,
    ]);
  });

  test("fans examples/automation out over three tenants, each stack adopting its tenant's connector", async () => {
    const dir = await copiedExample("automation");
    const tenants = [emu().newTenant(), emu().newTenant(), emu().newTenant()];
    writeFileSync(join(dir, "tenants.json"), JSON.stringify(tenants.map((tenantId) => ({ tenantId }))));
    const backend = freshDir("fanout-backend");
    const env = {
      ...process.env,
      ...emu().env(),
      PATH: [dirname(process.execPath), dirname(cli!.path), process.env.PATH].join(":"),
      PULUMI_BACKEND_URL: `file://${backend}`,
      PULUMI_HOME: freshDir("fanout-home"),
      PULUMI_CONFIG_PASSPHRASE: "fan-out",
      PULUMI_SKIP_UPDATE_CHECK: "true",
    };
    const fanout = (): ReturnType<typeof run> =>
      run(
        process.execPath,
        ["-r", "ts-node/register/transpile-only", "fanout.ts", "tenants.json", "3"],
        dir,
        env,
      );
    const first = await fanout();
    assert.equal(first.status, 0, first.output);
    for (const tenantId of tenants) {
      const row = emu().intuneRow(tenantId)!;
      assert.match(first.stdout, new RegExp(`^ok +${tenantId}: succeeded$`, "m"));
      assert.deepEqual(emu().calls({ tenantId }), [`GET ${P}`, `POST ${P}/${row.id}/beginOnboarding`]);
      assert.equal(row.status, "onboarding");
    }
    // Every run repairs drift: the next one reads each connector once (the Automation API's up skips the
    // preview, so its refresh is one pass) and writes nothing.
    for (const tenantId of tenants) emu().clearLog({ tenantId });
    const second = await fanout();
    assert.equal(second.status, 0, second.output);
    for (const tenantId of tenants) {
      const row = emu().intuneRow(tenantId)!;
      assert.deepEqual(emu().calls({ tenantId }), [`GET ${P}/${row.id}`]);
    }
  });

  test("after an up killed while Graph created a partner: no provider process is left, Graph hears nothing more, the stack is unlocked, the next up names the partner instead of creating a second, and adopting it finishes", async () => {
    const tenantId = emu().newTenant();
    const stack = await RealStack.create(cli!, "interrupted", emu().env({ tenantId }));
    const support = (args: Record<string, unknown> = {}) => [
      partner("support", { displayName: "Contoso Support", ...args }),
    ];
    const named = () =>
      emu()
        .tenant(tenantId)
        .all()
        .filter((p) => p.displayName === "Contoso Support");
    // Graph commits the POST and answers 3 s later: the CLI and its parent are killed in between, not the plugins.
    emu().faults.add(
      { kind: "slow", delayMs: 3_000 },
      { tenantId, method: "POST", path: new RegExp(`^/deviceManagement${P}$`) },
    );
    const sent = await killedMidRequest(emu(), stack.write(support()), ["up", "--yes"], tenantId, "POST");
    assert.deepEqual(sent, [`GET ${P}`, `POST ${P}`], "no read-back, no beginOnboarding after the kill");
    assert.equal(named().length, 1, "Graph created it");
    const id = named()[0].id;

    const locked = await stack.run(["up", "--yes"]);
    assertInterruptedRow("currently locked", locked.stderr);
    await stack.ok("cancel", "--yes");
    emu().clearLog({ tenantId });
    const again = await stack.run(["up", "--yes"]);
    assert.notEqual(again.code, 0);
    assertInterruptedRow("interrupted while creating", again.stdout);
    assertInterruptedRow("already exists", again.stdout);
    assert.match(
      again.stdout,
      /1 pending operations from previous deployment[\s\S]*interrupted while creating[\s\S]*`pulumi refresh` will need to be run interactively to clear pending CREATE operations/,
    );
    assert.match(
      again.stdout,
      new RegExp(
        `already exists in tenant ${tenantId} \\(id ${id}, notOnboarded\\)\\. To manage it, adopt it`,
      ),
    );
    assert.deepEqual(emu().calls({ tenantId }), [`GET ${P}`], "no second POST");
    await stack.ok("refresh", "--yes", "--clear-pending-creates");
    emu().clearLog({ tenantId });
    await stack.write(support({ partnerId: id, deleteOnDestroy: true })).ok("up", "--yes");
    assert.deepEqual(emu().calls({ tenantId }), [`GET ${P}/${id}`, `POST ${P}/${id}/beginOnboarding`]);
    emu().clearLog({ tenantId });
    await stack.ok("destroy", "--yes");
    assert.deepEqual(emu().calls({ tenantId }), [`POST ${P}/${id}/disconnect`, `DELETE ${P}/${id}`]);
    assert.equal(named().length, 0, "never two, and gone after the destroy");
  });

  test("after a destroy killed between disconnect and DELETE: no provider process is left, no DELETE is sent, and the next destroy finishes", async () => {
    const tenantId = emu().newTenant();
    const stack = await RealStack.create(cli!, "interrupted-destroy", emu().env({ tenantId }));
    await stack.write([partner("support", { displayName: "Contoso Support" })]).ok("up", "--yes");
    const id = emu()
      .tenant(tenantId)
      .all()
      .find((p) => p.displayName === "Contoso Support")!.id;
    emu().clearLog({ tenantId });
    emu().faults.add({ kind: "slow", delayMs: 3_000 }, { tenantId, method: "POST", path: "/disconnect" });
    const sent = await killedMidRequest(emu(), stack, ["destroy", "--yes"], tenantId, "POST");
    assert.deepEqual(sent, [`POST ${P}/${id}/disconnect`], "no DELETE after the kill");
    assert.equal(emu().tenant(tenantId).find(id)?.status, "notOnboarded");

    await stack.ok("cancel", "--yes");
    emu().clearLog({ tenantId });
    const destroyed = await stack.ok("destroy", "--yes");
    assertInterruptedRow("interrupted while deleting", destroyed.stdout);
    assert.deepEqual(emu().calls({ tenantId }), [`POST ${P}/${id}/disconnect`, `DELETE ${P}/${id}`]);
    assert.equal(emu().tenant(tenantId).find(id), undefined);
  });

  test("after a refresh killed mid-read: no provider process is left, Graph hears nothing more, and the next up keeps the connector as it is", async () => {
    const tenantId = emu().newTenant();
    const row = emu().intuneRow(tenantId)!;
    const stack = await RealStack.create(cli!, "interrupted-refresh", emu().env({ tenantId }));
    await stack.write(tv()).ok("up", "--yes");
    emu().clearLog({ tenantId });
    emu().faults.add({ kind: "slow", delayMs: 3_000 }, { tenantId, method: "GET", path: `${P}/${row.id}` });
    const sent = await killedMidRequest(emu(), stack, ["refresh", "--yes"], tenantId, "GET");
    assert.deepEqual(sent, [`GET ${P}/${row.id}`]);

    await stack.ok("cancel", "--yes");
    emu().clearLog({ tenantId });
    await stack.ok("up", "--yes", "--refresh");
    assert.deepEqual(
      emu().calls({ tenantId }),
      [`GET ${P}/${row.id}`, `GET ${P}/${row.id}`],
      "read by the preview's refresh and the update's, nothing written",
    );
    assert.equal(emu().intuneRow(tenantId)?.status, "onboarding");
  });

  test("runs a user's own project folder with the CLI npm run pulumi-cli provides, as the README says: npx pulumi-intune-remote-assistance pulumi up, preview, refresh (no diff), the shipped policy pack, destroy", async () => {
    const tenantId = emu().newTenant();
    const row = emu().intuneRow(tenantId)!;
    // A project of the test's own: its Pulumi.yaml and index.ts, the package installed from the tarball.
    const project = freshDir("own-project");
    symlinkSync(join(await installedProgram(LOCKED_SDK), "node_modules"), join(project, "node_modules"));
    writeFileSync(join(project, "Pulumi.yaml"), "name: my-connector\nruntime: nodejs\n");
    const settings: Decl = { kind: "settings", name: "remote-help", args: { blockChat: true } };
    // TypeScript, with no ts-node or typescript installed: the ones @pulumi/pulumi vendors, as its plugin does.
    writeFileSync(join(project, "index.ts"), programText([...tv(), settings]));
    const pack = await installedPolicyPack();
    writeFileSync(
      join(pack, "teardown.json"),
      JSON.stringify({ "intune-partner-teardown": { teardown: true } }),
    );
    const env = {
      ...machineEnv(freshDir("backend-own"), emu().env({ tenantId })),
      PATH: [dirname(cli!.path), process.env.PATH].join(delimiter),
    };
    const npx = async (...args: string[]) => {
      const result = await run("npx", ["pulumi-intune-remote-assistance", "pulumi", ...args], project, env);
      assert.equal(result.status, 0, result.output);
      return result.stdout;
    };
    await npx("stack", "init", "dev", "--non-interactive");
    emu().clearLog({ tenantId });
    await npx("up", "--yes", "--non-interactive");
    const sorted = () => emu().calls({ tenantId }).sort();
    assert.deepEqual(sorted(), [`GET ${P}`, `GET ${S}`, `PATCH ${S}`, `POST ${P}/${row.id}/beginOnboarding`]);
    emu().clearLog({ tenantId });
    const preview = await npx("preview", "--non-interactive", "--expect-no-changes");
    assert.match(preview, /3 unchanged/);
    for (const flags of [[], ["--run-program"]]) {
      const refreshed = await npx("refresh", "--yes", "--non-interactive", ...flags);
      assert.doesNotMatch(refreshed, /\[diff:/, `unchanged resources show no diff (refresh ${flags})`);
    }
    assert.deepEqual(
      sorted(),
      [...Array(4).fill(`GET ${P}/${row.id}`), ...Array(4).fill(`GET ${S}`)],
      "two passes each",
    );
    emu().clearLog({ tenantId });
    const torn = await npx(
      "up",
      "--yes",
      "--non-interactive",
      "--policy-pack",
      pack,
      "--policy-pack-config",
      join(pack, "teardown.json"),
    );
    assert.match(torn, /\[remediate\] +intune-partner-teardown/);
    assert.deepEqual(emu().calls({ tenantId }), [`POST ${P}/${row.id}/disconnect`]);
    emu().clearLog({ tenantId });
    await npx("destroy", "--yes", "--non-interactive");
    assert.equal(emu().intuneRow(tenantId)?.status, "notOnboarded", "adopted: left in the tenant");
    assert.ok(emu().intuneRow(tenantId), "never deleted");
  });

  test("refuses the import option before anything runs, and says how to adopt instead", async () => {
    const tenantId = emu().newTenant();
    const row = emu().intuneRow(tenantId)!;
    const stack = await RealStack.create(cli!, "import", emu().env({ tenantId }));
    emu().clearLog({ tenantId });
    const result = await stack.write(tv({}, { import: row.id })).run(["up", "--yes"]);
    assert.notEqual(result.code, 0);
    assert.match(
      result.stdout,
      new RegExp(
        `RemoteAssistancePartner 'tv' cannot be imported with the import option: .*Adopt the partner instead: partnerId: "${row.id}"`,
      ),
    );
    assert.deepEqual(emu().calls({ tenantId }), []);
  });

  test("pulumi import of a partner fails without a Graph write, where the CLI can run it", async () => {
    const tenantId = emu().newTenant();
    const row = emu().intuneRow(tenantId)!;
    const stack = await RealStack.create(cli!, "pulumi-import", emu().env({ tenantId }));
    emu().clearLog({ tenantId });
    const result = await stack.run([
      "import",
      "pulumi-nodejs:dynamic/intune:RemoteAssistancePartner",
      "tv",
      row.id,
      "--yes",
    ]);
    assert.notEqual(result.code, 0, "Pulumi cannot import dynamic resources");
    assert.deepEqual(
      emu()
        .calls({ tenantId })
        .filter((c) => !c.startsWith("GET")),
      [],
    );
    if (!hasNodeLanguagePlugin(cli!.path))
      assert.match(
        result.stderr,
        /no language plugin 'pulumi-language-nodejs'/,
        "this CLI cannot run it at all",
      );
  });
});

describe("a YAML project (runtime: yaml) run by the CLI with the YAML language host npm run pulumi-cli provides", function () {
  this.timeout(120_000);

  it("runs pulumi up in project mode, through npx pulumi-intune-remote-assistance pulumi as well, and reads the config", async function () {
    const dirs = cli ? [dirname(cli.path), ...(process.env.PATH ?? "").split(delimiter)] : [];
    if (!dirs.some((d) => d && existsSync(join(d, "pulumi-language-yaml")))) {
      const reason = cli ? `no pulumi-language-yaml beside ${cli.path} or on PATH` : why;
      if (process.env.INTUNE_REQUIRE_PULUMI_CLI === "1")
        throw new Error(`INTUNE_REQUIRE_PULUMI_CLI=1, but ${reason}: npm run pulumi-cli builds it`);
      console.log(`    (not run: ${reason})`);
      this.skip();
    }
    const project = freshDir("yaml-project");
    writeFileSync(
      join(project, "Pulumi.yaml"),
      "name: yaml-smoke\nruntime: yaml\nconfig:\n  greeting:\n    type: string\n    default: hello\noutputs:\n  message: ${greeting}, intune\n",
    );
    const env = {
      ...machineEnv(freshDir("backend-yaml"), {}),
      PATH: [dirname(cli!.path), process.env.PATH].join(delimiter),
    };
    const pulumi = async (...args: string[]) => {
      const result = await run(cli!.path, [...args, "--non-interactive"], project, env);
      assert.equal(result.status, 0, result.output);
      return result.stdout;
    };
    await pulumi("stack", "init", "dev");
    await pulumi("up", "--yes");
    assert.equal((await pulumi("stack", "output", "message")).trim(), "hello, intune");
    await pulumi("config", "set", "greeting", "hi");
    const viaPackage = await run(
      process.execPath,
      [join(REPO_ROOT, "bin", "provider", "cli.js"), "pulumi", "up", "--yes", "--non-interactive"],
      project,
      env,
    );
    assert.equal(viaPackage.status, 0, viaPackage.output);
    assert.equal((await pulumi("stack", "output", "message")).trim(), "hi, intune");
  });
});

describe("a Pulumi.yaml project run by the CLI's own Node.js language plugin", function () {
  this.timeout(300_000);
  const emu = useEmulator({ profile: "realistic" });

  it("adopts the tenant's connector with pulumi up and only disconnects it on destroy", async function () {
    if (!cli || !hasNodeLanguagePlugin(cli.path)) {
      // The CLI built here from Go modules has none (its module is not served): every other test runs inline.
      console.log(`    (not run: ${cli ? `no pulumi-language-nodejs beside ${cli.path} or on PATH` : why})`);
      this.skip();
    }
    const tenantId = emu().newTenant();
    const row = emu().intuneRow(tenantId)!;
    const stack = await RealStack.create(cli!, "project", emu().env({ tenantId }));
    writeFileSync(
      join(stack.dir, "index.js"),
      programText([partner("tv", { adopt: true, displayName: INTUNE_ROW_NAME })]),
    );
    emu().clearLog({ tenantId });
    await stack.ok("up", "--yes");
    assert.deepEqual(emu().calls({ tenantId }), [`GET ${P}`, `POST ${P}/${row.id}/beginOnboarding`]);
    emu().clearLog({ tenantId });
    await stack.ok("destroy", "--yes");
    assert.deepEqual(emu().calls({ tenantId }), [`POST ${P}/${row.id}/disconnect`]);
  });
});

/** Asserts that the README's "After an interrupted run" row containing `key` is in `output`, as it says. */
function assertInterruptedRow(key: string, output: string): void {
  const rows = readmeMessageRows("### After an interrupted run").filter((r) => r.text.includes(key));
  assert.equal(rows.length, 1, `one row of "After an interrupted run" says ${key}`);
  for (const pattern of rows[0].patterns) assert.match(output, pattern);
}
