/**
 * The `intune` plugin through the real CLI: YAML programs in project mode (the YAML language host built here),
 * the plugin as users get it (`pulumi-resource-intune` from the packed package, on PATH), against the emulator.
 * The engine's sequences the dynamic provider is held to are played through the plugin in realEngine.test.ts;
 * here is what only the plugin can do: the YAML example, `preview --diff`, `pulumi import`, explicit
 * providers, and a plugin whose engine dies.
 */
import { strict as assert } from "node:assert";
import { readFileSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { INTUNE_ROW_NAME, defaultClientId, defaultClientSecret } from "../emulator";
import { useEmulator } from "./support/emulator";
import { buildPluginArchive } from "../scripts/plugin-archive";
import { intuneSchema } from "../provider/plugin/schema";
import { policyPackLauncher } from "../provider/runPulumi";
import { freshDir, installedPolicyPack, PROGRAM_NAME, run } from "./support/installed";
import {
  isRunning,
  killedMidRequest,
  machineEnv,
  needs,
  processTree,
  realCli,
  RealStack,
  type Decl,
} from "./support/realEngine";
import { REPO_ROOT } from "./support/repo";
import { pluginBin, yamlText, yamlUnavailable, YamlStack } from "./support/yaml";

const { version } = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };

const { cli, why } = realCli();
const P = "/remoteAssistancePartners";
const S = "/remoteAssistanceSettings";
const partner = (name: string, args: Record<string, unknown>, opts?: Decl["opts"]): Decl => ({
  kind: "partner",
  name,
  args,
  opts,
});

describe("the intune plugin through the real CLI, in YAML projects", function () {
  this.timeout(300_000);
  before(function () {
    needs(this, yamlUnavailable(cli, why));
  });
  const emu = useEmulator({ profile: "realistic" });

  it("pulumi package get-schema prints the plugin's schema at the package's version", async () => {
    const plugin = join(await pluginBin(), "pulumi-resource-intune");
    const result = await run(cli!.path, ["package", "get-schema", plugin], freshDir("get-schema"), {
      ...machineEnv(freshDir("backend"), {}),
      PATH: [dirname(process.execPath), process.env.PATH].join(delimiter),
    });
    assert.equal(result.status, 0, result.output);
    assert.deepEqual(JSON.parse(result.stdout), JSON.parse(JSON.stringify(intuneSchema(version))));
  });

  it("examples/yaml: up adopts the connector and sets Remote Help, preview --diff shows connected true => false, up disconnects once, up --refresh repairs a portal reconnect with one call, destroy only disconnects and puts Remote Help back", async () => {
    const tenantId = emu().newTenant();
    const row = emu().intuneRow(tenantId)!;
    const stack = await YamlStack.create(cli!, "dev", emu().env({ tenantId }), {
      project: "intune-yaml",
      program: join(REPO_ROOT, "examples", "yaml"),
    });
    const calls = () => emu().calls({ tenantId });
    const before = { ...emu().tenant(tenantId).remoteHelp };

    await stack.ok("up", "--yes");
    // The two resources run side by side: their calls interleave.
    const of = (path: string) => calls().filter((c) => c.split(" ")[1].startsWith(path));
    assert.deepEqual(of(P), [`GET ${P}`, `POST ${P}/${row.id}/beginOnboarding`]);
    assert.deepEqual(of(S), [`GET ${S}`, `PATCH ${S}`]);
    assert.equal((await stack.ok("stack", "output", "partnerId")).stdout.trim(), row.id);
    const state = stack.resources();
    assert.equal(state.teamviewer.outputs?.adopted, true);
    assert.equal(state.teamviewer.outputs?.deleteOnDestroy, false);
    assert.ok(!JSON.stringify(state).includes("__provider"), "no code in state");
    assert.equal(emu().tenant(tenantId).remoteHelp.blockChat, true);

    await stack.ok("config", "set", "connected", "false");
    emu().clearLog({ tenantId });
    const diff = await stack.ok("preview", "--diff");
    assert.match(
      diff.stdout,
      /~ intune:index:RemoteAssistancePartner: \(update\)[\s\S]*~ connected\s*: true => false/,
    );
    assert.deepEqual(calls(), [], "a preview asks Graph nothing");
    // The README shows this output: the same lines, but for the partner's id.
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const shown = /\*\*A detailed diff\.\*\*[\s\S]*?```text\n([\s\S]*?)```/.exec(readme)![1];
    const id = /\[id=([^\]]+)\]/;
    assert.ok(diff.stdout.includes(shown.replace(id.exec(shown)![1], row.id).trimEnd()), diff.stdout);
    await stack.ok("up", "--yes");
    assert.deepEqual(calls(), [`POST ${P}/${row.id}/disconnect`]);

    emu().clearLog({ tenantId });
    emu().tenant(tenantId).beginOnboarding(row.id); // someone reconnects it in the portal
    const drift = await stack.run(["preview", "--refresh", "--expect-no-changes"]);
    assert.notEqual(drift.code, 0, "the drift check fails");
    assert.match(
      drift.stdout,
      /~ +intune:index:RemoteAssistancePartner +teamviewer +update +\[diff: ~connected\]/,
    );
    emu().clearLog({ tenantId });
    await stack.ok("up", "--refresh", "--yes");
    assert.deepEqual(
      calls().filter((c) => !c.startsWith("GET")),
      [`POST ${P}/${row.id}/disconnect`],
      "one call repairs it",
    );
    emu().clearLog({ tenantId });
    await stack.ok("refresh", "--yes");
    assert.deepEqual(
      calls().filter((c) => !c.startsWith("GET")),
      [],
    );

    emu().clearLog({ tenantId });
    await stack.ok("destroy", "--yes");
    assert.deepEqual(of(P), [`POST ${P}/${row.id}/disconnect`]);
    assert.deepEqual(of(S), [`PATCH ${S}`]);
    assert.ok(emu().tenant(tenantId).find(row.id), "the adopted connector stays");
    assert.deepEqual(emu().tenant(tenantId).remoteHelp, before);
  });

  it("deploy/operator/program.yaml's Program, run as the operator runs it (a YAML project of its program), adopts the connector and sets Remote Help; destroy disconnects it and puts Remote Help back", async () => {
    const tenantId = emu().newTenant();
    const row = emu().intuneRow(tenantId)!;
    const manifests = parseAllDocuments(
      readFileSync(join(REPO_ROOT, "deploy/operator/program.yaml"), "utf8"),
    );
    const program = manifests.map((d) => d.toJS()).find((d) => d.kind === "Program").program;
    const stack = await YamlStack.create(cli!, "operator", emu().env({ tenantId }), {
      project: "operator-program",
    });
    writeFileSync(
      join(stack.dir, "Pulumi.yaml"),
      stringify({ name: stack.project, runtime: "yaml", ...program }),
    );
    await stack.ok("up", "--yes", "--refresh");
    const of = (path: string) =>
      emu()
        .calls({ tenantId })
        .filter((c) => c.split(" ")[1].startsWith(path));
    assert.deepEqual(of(P), [`GET ${P}`, `POST ${P}/${row.id}/beginOnboarding`]);
    assert.deepEqual(of(S), [`GET ${S}`, `PATCH ${S}`]);
    assert.equal((await stack.ok("stack", "output", "partnerId")).stdout.trim(), row.id);
    emu().clearLog({ tenantId });
    await stack.ok("up", "--yes", "--refresh");
    assert.deepEqual(
      emu()
        .calls({ tenantId })
        .filter((c) => !c.startsWith("GET")),
      [],
      "a resync with no drift writes nothing",
    );
    emu().clearLog({ tenantId });
    await stack.ok("destroy", "--yes");
    assert.deepEqual(of(P), [`POST ${P}/${row.id}/disconnect`]);
    assert.deepEqual(of(S), [`PATCH ${S}`]);
  });

  it("a created partner with connected: false is created without connecting, renamed with one PATCH, moved to another tenant only when its tenantId names one (created there first, then released), and destroyed with disconnect and DELETE", async () => {
    const tenantId = emu().newTenant();
    const other = emu().newTenant();
    const stack = await YamlStack.create(cli!, "created", emu().env({ tenantId }));
    const support = (args: Record<string, unknown> = {}) => [
      partner("support", { displayName: "Contoso Support", connected: false, ...args }),
    ];
    await stack.write(support()).ok("up", "--yes");
    const id = stack.resources().support.id!;
    assert.deepEqual(emu().calls({ tenantId }), [`GET ${P}`, `POST ${P}`, `GET ${P}/${id}`]);
    assert.equal(emu().tenant(tenantId).find(id)?.status, "notOnboarded");

    emu().clearLog({ tenantId });
    await stack.write(support({ displayName: "Contoso Helpdesk" })).ok("up", "--yes");
    assert.deepEqual(emu().calls({ tenantId }), [`GET ${P}`, `PATCH ${P}/${id}`, `GET ${P}/${id}`]);

    emu().clearLog({ tenantId });
    const moved = support({ displayName: "Contoso Helpdesk", tenantId: other });
    const preview = await stack.write(moved).ok("preview", "--diff");
    assert.match(
      preview.stdout,
      new RegExp(
        String.raw`\+-intune:index:RemoteAssistancePartner: \(replace\)[\s\S]*~ tenantId\s*: "${tenantId}" => "${other}"`,
      ),
    );
    await stack.ok("up", "--yes");
    const newId = stack.resources().support.id!;
    assert.deepEqual(emu().calls({ tenantId: other }), [`GET ${P}`, `POST ${P}`, `GET ${P}/${newId}`]);
    assert.deepEqual(emu().calls({ tenantId }), [`POST ${P}/${id}/disconnect`, `DELETE ${P}/${id}`]);

    emu().clearLog({ tenantId: other });
    await stack.ok("destroy", "--yes");
    assert.deepEqual(emu().calls({ tenantId: other }), [
      `POST ${P}/${newId}/disconnect`,
      `DELETE ${P}/${newId}`,
    ]);
  });

  it("pulumi import brings in an existing partner adopted, writes a YAML program that previews with no change, and destroy then only disconnects it; the import option does the same", async () => {
    const tenantId = emu().newTenant();
    const row = emu().intuneRow(tenantId)!;
    const seeded = emu().tenant(tenantId).seed({ displayName: "Fabrikam Remote", status: "onboarded" });
    const stack = await YamlStack.create(cli!, "import", emu().env({ tenantId }));
    const out = join(stack.dir, "imported.yaml");
    await stack.ok(
      "import",
      "intune:index:RemoteAssistancePartner",
      "teamviewer",
      row.id,
      "--yes",
      "--protect=false",
      "--out",
      out,
    );
    assert.deepEqual(emu().calls({ tenantId }), [`GET ${P}/${row.id}`, `GET ${P}/${row.id}`], "reads only");
    const generated = readFileSync(out, "utf8");
    assert.match(generated, /type: intune:RemoteAssistancePartner/);
    assert.match(generated, new RegExp(`displayName: ${INTUNE_ROW_NAME}`));
    assert.match(generated, /connected: false/);
    const imported = stack.resources().teamviewer;
    assert.equal(imported.outputs?.adopted, true);
    assert.equal(imported.outputs?.deleteOnDestroy, false);
    assert.equal(imported.outputs?.tenantId, tenantId);

    writeFileSync(join(stack.dir, "Pulumi.yaml"), `name: ${stack.project}\nruntime: yaml\n${generated}`);
    emu().clearLog({ tenantId });
    await stack.ok("preview", "--expect-no-changes");
    assert.deepEqual(emu().calls({ tenantId }), []);

    // The import option: the program's inputs must match the partner, and it is adopted the same way.
    const withOption = [
      partner("teamviewer", { displayName: INTUNE_ROW_NAME, connected: false }),
      partner("fabrikam", { displayName: "Fabrikam Remote" }, { import: seeded.id }),
    ];
    await stack.write(withOption).ok("up", "--yes");
    assert.deepEqual(
      emu().calls({ tenantId }),
      [`GET ${P}/${seeded.id}`, `GET ${P}/${seeded.id}`],
      "read by the preview and the update, nothing written",
    );
    assert.equal(stack.resources().fabrikam.outputs?.adopted, true);
    emu().clearLog({ tenantId });
    await stack.write(withOption.map((d) => ({ ...d, opts: {} }))).ok("preview", "--expect-no-changes");

    emu().clearLog({ tenantId });
    await stack.ok("destroy", "--yes");
    assert.deepEqual(
      emu().calls({ tenantId }).sort(),
      [`POST ${P}/${row.id}/disconnect`, `POST ${P}/${seeded.id}/disconnect`].sort(),
    );
    assert.ok(emu().tenant(tenantId).find(row.id) && emu().tenant(tenantId).find(seeded.id), "both stay");
  });

  it("the shipped policy pack reaches the plugin's partners as it does the dynamic ones: its teardown remediation makes the next up disconnect, with one call", async () => {
    const pack = await installedPolicyPack();
    writeFileSync(
      join(pack, "teardown.json"),
      JSON.stringify({ "intune-partner-teardown": { teardown: true } }),
    );
    const tenantId = emu().newTenant();
    const row = emu().intuneRow(tenantId)!;
    const stack = await YamlStack.create(cli!, "policy", emu().env({ tenantId }));
    await stack.write([partner("tv", { adopt: true, displayName: INTUNE_ROW_NAME })]).ok("up", "--yes");
    emu().clearLog({ tenantId });
    const torn = await stack.ok(
      "up",
      "--yes",
      "--policy-pack",
      policyPackLauncher(pack),
      "--policy-pack-config",
      join(pack, "teardown.json"),
    );
    assert.match(torn.stdout, /\[remediate\] +intune-partner-teardown/);
    assert.deepEqual(emu().calls({ tenantId }), [`POST ${P}/${row.id}/disconnect`]);
  });

  it("a YAML program reads partners with fn::invoke: getPartners lists the tenant's, getPartner finds one by name ignoring case; reads only", async () => {
    const tenantId = emu().newTenant();
    const row = emu().intuneRow(tenantId)!;
    const stack = await YamlStack.create(cli!, "functions", emu().env({ tenantId }));
    stack.write([], {
      variables: {
        all: { "fn::invoke": { function: "intune:getPartners", arguments: {}, return: "partners" } },
        one: {
          "fn::invoke": {
            function: "intune:getPartner",
            arguments: { displayName: INTUNE_ROW_NAME.toLowerCase() },
            return: "partnerId",
          },
        },
      },
      outputs: { names: "${all[0].displayName}", id: "${one}" },
    });
    await stack.ok("up", "--yes");
    assert.equal((await stack.ok("stack", "output", "id")).stdout.trim(), row.id);
    assert.equal((await stack.ok("stack", "output", "names")).stdout.trim(), INTUNE_ROW_NAME);
    assert.deepEqual(
      emu()
        .calls({ tenantId })
        .filter((c) => !c.startsWith("GET")),
      [],
    );
  });

  it("migrate-to-plugin moves a stack from the dynamic resources to the plugin with no Graph call: the YAML program previews clean, up writes nothing, destroy keeps what the stack created or adopted and what Remote Help had; run before the program changed, it puts the state back", async () => {
    const tenantId = emu().newTenant();
    const row = emu().intuneRow(tenantId)!;
    const before = { ...emu().tenant(tenantId).remoteHelp };
    const decls: Decl[] = [
      partner("tv", { adopt: true, displayName: INTUNE_ROW_NAME }),
      partner("support", { displayName: "Contoso Support" }),
      { kind: "settings", name: "rh", args: { remoteAssistanceState: "enabled", blockChat: true } },
    ];
    const node = await RealStack.create(cli!, "moving", emu().env({ tenantId }));
    await node.write(decls).ok("up", "--yes");
    const supportId = node.resources().support.id!;
    const migrate = (cwd: string, env: NodeJS.ProcessEnv) =>
      run(
        process.execPath,
        [join(REPO_ROOT, "bin", "provider", "cli.js"), "migrate-to-plugin", "--stack", "moving", "--yes"],
        cwd,
        env,
      );

    // Too early: the program still declares the dynamic resources, so the move is undone.
    emu().clearLog({ tenantId });
    const early = await migrate(node.dir, node.env);
    assert.notEqual(early.status, 0);
    assert.match(early.output, /the state was put back/);
    assert.deepEqual(
      Object.values(node.resources())
        .map((r) => r.type)
        .sort(),
      [
        "pulumi-nodejs:dynamic/intune:RemoteAssistancePartner",
        "pulumi-nodejs:dynamic/intune:RemoteAssistancePartner",
        "pulumi-nodejs:dynamic/intune:RemoteAssistanceSettings",
      ],
    );

    // The same project and stack as a YAML program declaring the plugin's resources under the same names.
    const yaml = new YamlStack(
      cli!,
      freshDir("moved"),
      "moving",
      {
        ...node.env,
        PATH: [await pluginBin(), dirname(cli!.path), node.env.PATH].join(delimiter),
      },
      PROGRAM_NAME,
    ).write(decls);
    const moved = await migrate(yaml.dir, yaml.env);
    assert.equal(moved.status, 0, moved.output);
    assert.match(moved.stdout, /Moved 3 resource\(s\); pulumi preview shows no change/);
    const state = yaml.resources();
    assert.deepEqual(Object.keys(state).sort(), ["rh", "support", "tv"]);
    assert.equal(state.tv.outputs?.adopted, true);
    assert.equal(state.support.outputs?.adopted, false);
    assert.equal(state.support.id, supportId);
    assert.ok(!JSON.stringify(state).includes("__provider"));
    await yaml.ok("up", "--yes");
    assert.deepEqual(
      emu()
        .calls({ tenantId })
        .filter((c) => !c.startsWith("GET")),
      [],
      "no Graph write",
    );

    emu().clearLog({ tenantId });
    await yaml.ok("destroy", "--yes");
    const calls = emu().calls({ tenantId });
    assert.deepEqual(
      calls.filter((c) => c.includes(row.id)),
      [`POST ${P}/${row.id}/disconnect`],
    );
    assert.deepEqual(
      calls.filter((c) => c.includes(supportId)),
      [`POST ${P}/${supportId}/disconnect`, `DELETE ${P}/${supportId}`],
    );
    assert.deepEqual(
      calls.filter((c) => c.includes(S)),
      [`PATCH ${S}`],
    );
    assert.deepEqual(
      emu().tenant(tenantId).remoteHelp,
      before,
      "Remote Help as it was before the first stack",
    );
  });

  it("two explicit providers in one program: each partner goes to its provider's tenant with its provider's credential, nothing to the machine's default tenant, and no secret in the state", async () => {
    const [contoso, fabrikam, machineDefault] = [emu().newTenant(), emu().newTenant(), emu().newTenant()];
    const fabrikamApp = emu().registerApp({
      clientId: "7f9c8b52-3c5e-4f2a-9d61-0b7e3a1c2d4f",
      clientSecret: "fabrikam's own secret",
      tenants: [fabrikam],
      permissions: [
        "DeviceManagementConfiguration.ReadWrite.All",
        "DeviceManagementServiceConfig.ReadWrite.All",
      ],
    });
    // The machine's own credential does not work: only the providers' do.
    const env = { ...emu().env({ tenantId: machineDefault }), AZURE_CLIENT_SECRET: "not this one" };
    const stack = await YamlStack.create(cli!, "providers", env);
    const provider = (tenantId: string, clientId: string, clientSecret: string) => ({
      type: "pulumi:providers:intune",
      properties: { tenantId, clientId, clientSecret: { "fn::secret": clientSecret } },
    });
    stack.write(
      [
        partner("a", { displayName: "Contoso Support" }, { provider: "${contoso}" }),
        partner("b", { displayName: "Fabrikam Support" }, { provider: "${fabrikam}" }),
      ],
      {
        resources: {
          contoso: provider(contoso, defaultClientId, defaultClientSecret),
          fabrikam: provider(fabrikam, fabrikamApp.clientId, fabrikamApp.clientSecret!),
        },
      },
    );
    await stack.ok("up", "--yes");
    const byApp = (tenantId: string) => [
      ...new Set(
        emu()
          .requests.filter((r) => r.tenantId === tenantId)
          .map((r) => r.clientId),
      ),
    ];
    assert.deepEqual(byApp(contoso), [defaultClientId]);
    assert.deepEqual(byApp(fabrikam), [fabrikamApp.clientId]);
    assert.deepEqual(emu().calls({ tenantId: machineDefault }), []);
    const state = stack.resources();
    assert.equal(state.a.outputs?.tenantId, contoso);
    assert.equal(state.b.outputs?.tenantId, fabrikam);
    const exported = (await stack.ok("stack", "export")).stdout;
    for (const secret of [defaultClientSecret, fabrikamApp.clientSecret!])
      assert.ok(!exported.includes(secret));

    await stack.ok("destroy", "--yes");
    assert.equal(
      emu()
        .tenant(contoso)
        .all()
        .filter((p) => p.displayName === "Contoso Support").length,
      0,
    );
    assert.equal(
      emu()
        .tenant(fabrikam)
        .all()
        .filter((p) => p.displayName === "Fabrikam Support").length,
      0,
    );
  });

  it("a plugin whose CLI is killed mid-create exits by itself, sends Graph nothing more, and the next up refuses a second partner naming the one Graph made", async () => {
    const tenantId = emu().newTenant();
    const stack = await YamlStack.create(cli!, "killed", emu().env({ tenantId }));
    emu().faults.add(
      { kind: "slow", delayMs: 3_000 },
      { tenantId, method: "POST", path: new RegExp(`^/deviceManagement${P}$`) },
    );
    const support = [partner("support", { displayName: "Contoso Support" })];
    /** Kills the CLI and its YAML host, never the plugin: it is left to notice. */
    const killCli = (pid: number) => {
      const [, ...children] = processTree(pid);
      const plugin = (p: number) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, "utf8").includes("pulumi-resource-intune");
        } catch {
          return false;
        }
      };
      const plugins = children.filter(plugin);
      for (const p of [pid, ...children.filter((c) => !plugin(c))])
        if (isRunning(p)) process.kill(p, "SIGKILL");
      return plugins;
    };
    const sent = await killedMidRequest(
      emu(),
      stack.write(support),
      ["up", "--yes"],
      tenantId,
      "POST",
      killCli,
    );
    assert.deepEqual(sent, [`GET ${P}`, `POST ${P}`]);
    await stack.ok("cancel", "--yes");
    emu().clearLog({ tenantId });
    const again = await stack.run(["up", "--yes"]);
    assert.notEqual(again.code, 0);
    assert.match(again.stdout, /already exists in tenant .* To manage it, adopt it/);
    assert.deepEqual(emu().calls({ tenantId }), [`GET ${P}`], "no second POST");
  });
});

describe("the intune plugin as one executable, installed with pulumi plugin install", function () {
  this.timeout(300_000);
  before(function () {
    needs(this, yamlUnavailable(cli, why));
  });
  const emu = useEmulator({ profile: "realistic" });

  it("npm run plugin-archive's archive installs with pulumi plugin install resource intune <version> --file, and a YAML project runs it where no Node.js is on PATH", async () => {
    const archive = await buildPluginArchive(freshDir("dist"));
    assert.match(archive, /pulumi-resource-intune-v\d+\.\d+\.\d+-linux-(amd64|arm64)\.tar\.gz$/);
    const tenantId = emu().newTenant();
    const row = emu().intuneRow(tenantId)!;
    const project = freshDir("no-node");
    writeFileSync(
      join(project, "Pulumi.yaml"),
      yamlText("no-node", [partner("tv", { displayName: INTUNE_ROW_NAME, adopt: true, connected: false })]),
    );
    // Only the CLI's folder (the CLI and the YAML host, both Go): no node, and no ambient plugin.
    const env = {
      ...machineEnv(freshDir("backend"), emu().env({ tenantId })),
      PATH: dirname(cli!.path),
      PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
    };
    const pulumi = async (...args: string[]) => {
      const result = await run(cli!.path, [...args, "--non-interactive", "--color", "never"], project, env);
      assert.equal(result.status, 0, result.output);
      return result.output;
    };
    await pulumi("plugin", "install", "resource", "intune", version, "--file", archive);
    assert.match(
      await pulumi("plugin", "ls"),
      new RegExp(`intune\\s+resource\\s+${version.replace(/\./g, "\\.")}`),
    );
    await pulumi("stack", "init", "dev");
    const up = await pulumi("up", "--yes");
    assert.doesNotMatch(up, /from \$PATH/, "the installed plugin, not an ambient one");
    assert.deepEqual(emu().calls({ tenantId }), [`GET ${P}`], "adopted, left disconnected as declared");
    emu().clearLog({ tenantId });
    await pulumi("destroy", "--yes");
    assert.deepEqual(emu().calls({ tenantId }), [`POST ${P}/${row.id}/disconnect`]);
  });
});
