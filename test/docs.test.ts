/**
 * The documentation's snippets run as written: each TypeScript program of the README and docs/ through the
 * dynamic-provider host against the emulator, each test written with the testing kit as a mocha run of its own;
 * and the packed tarball installs into a fresh program where the README's example type-checks.
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INTUNE_ROW_NAME } from "../emulator";
import { ProviderHost, Stack } from "../testing/engine";
import { useEmulator } from "./support/emulator";
import { runProgram } from "./support/program";
import { REPO_ROOT } from "./support/repo";

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

/** Runs a command asynchronously (the emulator in this process must answer); resolves its exit code and output. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(command, args, { cwd, env });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  return new Promise<{ status: number | null; output: string }>((ok) =>
    child.on("close", (status) => ok({ status, output })),
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
          for (const { stack, resources } of stacks) {
            await stack.up(Object.fromEntries(resources.map((r) => [r.name, r.inputs])));
            for (const r of resources) assert.ok(stack.state.get(r.name)?.id, r.name);
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

describe("the packed package", function () {
  this.timeout(300_000);

  it("installs into a fresh program, where the README's example and the testing kit's type-check", async () => {
    const dir = mkdtempSync(join(tmpdir(), "intune-fresh-program-"));
    try {
      const packed = await run("npm", ["pack", "--pack-destination", dir, "--ignore-scripts"], REPO_ROOT);
      assert.equal(packed.status, 0, packed.output);
      const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"))!;
      const version = (name: string) =>
        (
          JSON.parse(readFileSync(join(REPO_ROOT, "node_modules", name, "package.json"), "utf8")) as {
            version: string;
          }
        ).version;
      writeFileSync(
        join(dir, "package.json"),
        JSON.stringify({
          name: "fresh-program",
          private: true,
          dependencies: {
            "pulumi-intune-remote-assistance": `file:./${tarball}`,
            "@pulumi/pulumi": version("@pulumi/pulumi"),
          },
          devDependencies: {
            typescript: version("typescript"),
            "@types/node": version("@types/node"),
            "@types/mocha": version("@types/mocha"),
          },
        }),
      );
      const installed = await run(
        "npm",
        ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"],
        dir,
      );
      assert.equal(installed.status, 0, installed.output);
      const shipped = join(dir, "node_modules", "pulumi-intune-remote-assistance");
      assert.deepEqual(
        readdirSync(join(shipped, "bin")).sort(),
        ["emulator", "provider", "testing"],
        "only the compiled package ships",
      );
      const map = JSON.parse(readFileSync(join(shipped, "bin", "provider", "host.js.map"), "utf8"));
      assert.ok(map.sourcesContent?.[0], "source maps carry their sources");
      const [example] = snippets().filter((s) => s.where.startsWith("README.md"));
      const [kit] = snippets().filter((s) => s.code.includes("/testing"));
      writeFileSync(join(dir, "index.ts"), example.code);
      writeFileSync(join(dir, "kit.test.ts"), kit.code);
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            target: "ES2022",
            module: "commonjs",
            esModuleInterop: true,
            skipLibCheck: true,
            noEmit: true,
            types: ["node", "mocha"],
          },
          files: ["index.ts", "kit.test.ts"],
        }),
      );
      const checked = await run(
        process.execPath,
        [join(dir, "node_modules", "typescript", "bin", "tsc"), "-p", dir],
        dir,
      );
      assert.equal(checked.status, 0, checked.output);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
