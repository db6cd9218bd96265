/**
 * The documentation's snippets run as written: each TypeScript program of the README and docs/ through the
 * dynamic-provider host against the emulator, each test written with the testing kit as a mocha run of its own;
 * and the packed tarball installs into a fresh program where the README's example type-checks.
 */
import { strict as assert } from "node:assert";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { INTUNE_ROW_NAME } from "../emulator";
import { REMOTE_ASSISTANCE_PARTNER_TYPE } from "../provider";
import { ProviderHost, Stack } from "../testing/engine";
import { useEmulator } from "./support/emulator";
import { runProgram } from "./support/program";
import { freshDir, installedProgram, LOCKED_SDK, packedTarball, run } from "./support/installed";
import { REPO_ROOT } from "./support/repo";

const S_PATH = "/remoteAssistanceSettings";

/** Every ```ts block of the README and the pages of docs/, with where it is. */
function snippets(): { where: string; code: string }[] {
  const files = ["README.md", ...readdirSync(join(REPO_ROOT, "docs")).map((f) => join("docs", f))];
  return files.flatMap((file) =>
    [...readFileSync(join(REPO_ROOT, file), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => ({
      where: `${file} #${i + 1}`,
      code: m[1],
    })),
  );
}

const scratch = join(REPO_ROOT, ".scratch");

describe("the documentation's snippets", function () {
  this.timeout(120_000);
  const emu = useEmulator({ profile: "realistic" });
  before(() => mkdirSync(scratch, { recursive: true }));

  it("has programs and tests to run", () => {
    const all = snippets();
    assert.ok(all.some((s) => s.code.includes('from "pulumi-intune-remote-assistance"')));
    assert.ok(all.some((s) => s.code.includes('from "pulumi-intune-remote-assistance/testing"')));
  });

  for (const snippet of snippets()) {
    if (snippet.code.includes('from "pulumi-intune-remote-assistance/testing"')) {
      it(`${snippet.where}: a test with the testing kit passes as a mocha run of its own`, async () => {
        const file = join(scratch, `snippet-${snippet.where.replace(/\W+/g, "-")}.test.ts`);
        writeFileSync(file, snippet.code);
        const mocha = join(REPO_ROOT, "node_modules", "mocha", "bin", "mocha.js");
        const result = await run(
          process.execPath,
          [mocha, "--no-config", "-r", "ts-node/register/transpile-only", "--timeout", "60000", file],
          REPO_ROOT,
        );
        assert.equal(result.status, 0, result.output);
        assert.match(result.output, /1 passing/);
      });
    } else if (snippet.code.includes('from "pulumi-intune-remote-assistance"')) {
      it(`${snippet.where}: a program runs as written through the dynamic-provider host`, async () => {
        const file = join(scratch, `snippet-${snippet.where.replace(/\W+/g, "-")}.ts`);
        writeFileSync(file, snippet.code);
        const tenantId = emu().newTenant();
        const { registered } = await runProgram(file, "snippet", {});
        assert.ok(registered.length > 0);
        const host = await ProviderHost.start({ env: emu().env({ tenantId }) });
        try {
          // One stack per resource type, as the engine keeps each resource with its own type token.
          const stacks = [...new Set(registered.map((r) => r.type))].map((type) => ({
            stack: new Stack(host, type),
            resources: registered.filter((r) => r.type === type),
          }));
          emu().clearLog({ tenantId });
          for (const { stack, resources } of stacks) {
            await stack.up(Object.fromEntries(resources.map((r) => [r.name, r.inputs])));
            for (const r of resources) assert.ok(stack.state.get(r.name)?.id, r.name);
          }
          // The README's figure for a create with an onboardingUrl is what its own snippet makes (an adopt: 2).
          const partners = registered.filter((r) => r.type === REMOTE_ASSISTANCE_PARTNER_TYPE);
          const created = partners.filter((r) => r.inputs.adopt !== true && r.inputs.partnerId === undefined);
          if (
            snippet.where.startsWith("README.md") &&
            created.length === 1 &&
            created[0].inputs.onboardingUrl
          ) {
            const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
            const figure = Number(/create 4 \((\d+) with an `onboardingUrl`/.exec(readme)?.[1]);
            const adopts = partners.length - 1;
            const calls = emu()
              .calls({ tenantId })
              .filter((c) => !c.includes(S_PATH));
            assert.equal(calls.length - 2 * adopts, figure, calls.join("\n"));
          }
          const row = emu().intuneRow(tenantId)!;
          if (registered.some((r) => r.inputs.adopt === true))
            assert.equal(
              emu().tenant(tenantId).find(row.id)?.status,
              "onboarding",
              `${INTUNE_ROW_NAME} connected`,
            );
          for (const { stack } of stacks) await stack.destroy();
        } finally {
          await host.stop();
        }
      });
    }
  }
});

/** The fenced blocks of one language in a page, in order. */
function blocks(file: string, language: string): string[] {
  const text = readFileSync(join(REPO_ROOT, file), "utf8");
  return [...text.matchAll(new RegExp("```" + language + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]);
}

describe("the packed package", function () {
  this.timeout(300_000);

  it("docs/testing.md works as written in a fresh program: its install line, tsconfig, test and command", async () => {
    const [install, command] = blocks("docs/testing.md", "sh");
    const [tsconfig] = blocks("docs/testing.md", "json");
    const [test] = blocks("docs/testing.md", "ts");
    const dir = freshDir("testing-doc");
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({
        name: "a-pulumi-program",
        private: true,
        dependencies: {
          "@pulumi/pulumi": LOCKED_SDK,
          "pulumi-intune-remote-assistance": `file:${await packedTarball()}`,
        },
      }),
    );
    const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
    const installed = await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], dir, env);
    assert.equal(installed.status, 0, installed.output);
    const devInstalled = await run("bash", ["-ec", install], dir, env);
    assert.equal(devInstalled.status, 0, devInstalled.output);
    writeFileSync(join(dir, "tsconfig.json"), tsconfig);
    mkdirSync(join(dir, "test"));
    writeFileSync(join(dir, "test", "teamviewer.test.ts"), test);
    assert.match(command, /test\/teamviewer\.test\.ts/, "the command runs the file the page names");
    const result = await run("bash", ["-ec", command], dir, env);
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, /1 passing/);
  });

  it("installs into a fresh program, where the README's example type-checks", async () => {
    const dir = await installedProgram(LOCKED_SDK);
    const shipped = join(dir, "node_modules", "pulumi-intune-remote-assistance");
    assert.deepEqual(
      readdirSync(join(shipped, "bin")).sort(),
      ["emulator", "provider", "testing"],
      "only the compiled package ships",
    );
    const map = JSON.parse(readFileSync(join(shipped, "bin", "provider", "host.js.map"), "utf8"));
    assert.ok(map.sourcesContent?.[0], "source maps carry their sources");
    const [example] = snippets().filter((s) => s.where.startsWith("README.md"));
    writeFileSync(join(dir, "readme-example.ts"), example.code);
    writeFileSync(
      join(dir, "tsconfig.readme.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: "ES2022",
          module: "commonjs",
          esModuleInterop: true,
          skipLibCheck: true,
          noEmit: true,
          types: [],
        },
        files: ["readme-example.ts"],
      }),
    );
    const tsc = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
    const checked = await run(process.execPath, [tsc, "-p", join(dir, "tsconfig.readme.json")], dir);
    assert.equal(checked.status, 0, checked.output);
  });
});

describe("the files the docs tell users to take from the installed package", function () {
  this.timeout(120_000);

  it("are in it: every node_modules/pulumi-intune-remote-assistance/… path the docs and deploy files name", async () => {
    const dir = await installedProgram(LOCKED_SDK);
    const pages = [
      "README.md",
      ...readdirSync(join(REPO_ROOT, "docs")).map((f) => join("docs", f)),
      "deploy/github-actions/intune-remote-assistance.yml",
      "deploy/operator/stack.yaml",
    ];
    const named = new Set(
      pages.flatMap((page) =>
        [
          ...readFileSync(join(REPO_ROOT, page), "utf8").matchAll(
            /node_modules\/pulumi-intune-remote-assistance\/([\w./-]+)/g,
          ),
        ].map((m) => m[1].replace(/[.]$/, "")),
      ),
    );
    for (const expected of [
      "policy",
      "deploy/github-actions/intune-remote-assistance.yml",
      "deploy/operator/stack.yaml",
    ])
      assert.ok(named.has(expected), `the docs say where to get ${expected}`);
    for (const path of named)
      assert.ok(
        existsSync(join(dir, "node_modules", "pulumi-intune-remote-assistance", path)),
        `${path} ships`,
      );
    const pack = JSON.parse(
      readFileSync(
        join(dir, "node_modules", "pulumi-intune-remote-assistance", "policy", "package.json"),
        "utf8",
      ),
    );
    assert.deepEqual(Object.keys(pack.dependencies).sort(), [
      "@pulumi/policy",
      "@pulumi/pulumi",
      "typescript",
    ]);
  });
});
