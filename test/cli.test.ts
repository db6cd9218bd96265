/**
 * `npx pulumi-intune-remote-assistance partners`: a tenant's partners, listed with the settings and
 * credentials the provider uses, so that nobody needs Graph Explorer to find what to adopt.
 */
import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { INTUNE_ROW_NAME } from "../emulator";
import { findPulumiCli } from "../provider/pulumiCli";
import { otherCheckout } from "./support/checkout";
import { REPO_ROOT } from "./support/repo";
import { useEmulator } from "./support/emulator";

describe("npx pulumi-intune-remote-assistance partners", function () {
  this.timeout(30_000);
  const emu = useEmulator({ profile: "realistic" });
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "intune-cli-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the command as a user would; asynchronously, so that the emulator in this process can answer. */
  const run = (
    args: string[],
    env: Record<string, string | undefined>,
    cwd = REPO_ROOT,
    bin = join(REPO_ROOT, "bin", "provider", "cli.js"),
  ) => {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(AZURE_|INTUNE_)/.test(k)),
    );
    const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...clean, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
      child.on("close", (status) => resolve({ status, stdout, stderr })),
    );
  };

  it("lists the tenant's partners with ids and states, and says how to adopt one", async () => {
    const tenantId = emu().newTenant();
    const row = emu().intuneRow(tenantId)!;
    const result = await run(["partners"], emu().env({ tenantId }));
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split("\n"), [
      `Remote assistance partners in tenant ${tenantId} (beta):`,
      "  ID                                    STATUS        NAME                  ONBOARDING URL",
      `  ${row.id}  notOnboarded  ${INTUNE_ROW_NAME}  (none)`,
      `To manage one: adopt: true with its displayName, or partnerId with its id ('${INTUNE_ROW_NAME}' (id ${row.id}, notOnboarded): partnerId: "${row.id}").`,
    ]);
    assert.deepEqual(emu().calls({ tenantId }), ["GET /remoteAssistancePartners"]);
  });

  it("prints the partners as JSON for scripts, for the tenant named by --tenant", async () => {
    const tenantId = emu().newTenant();
    const result = await run(["partners", "--json", "--tenant", tenantId], emu().env());
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(
      (JSON.parse(result.stdout) as { id: string; displayName: string }[]).map((p) => p.displayName),
      [INTUNE_ROW_NAME],
    );
  });

  it("reads the stack's intune:* config, secrets included, with the Pulumi CLI npm start uses", async function () {
    const cli = findPulumiCli();
    if (!cli) {
      console.log("    (not run: no Pulumi CLI found; npm run pulumi-cli makes one)");
      this.skip();
    }
    const tenantId = emu().newTenant();
    const env = emu().env({ tenantId });
    const project = mkdtempSync(join(tmpdir(), "intune-cli-project-"));
    writeFileSync(join(project, "Pulumi.yaml"), "name: cli-project\nruntime: nodejs\n");
    const pulumiEnv = {
      PULUMI_BACKEND_URL: `file://${project}`,
      PULUMI_CONFIG_PASSPHRASE: "passphrase",
      PULUMI_HOME: join(project, ".pulumi-home"),
      PULUMI_SKIP_UPDATE_CHECK: "true",
    };
    const pulumi = (...args: string[]) => {
      const result = spawnSync(cli!.path, args, {
        cwd: project,
        env: { ...process.env, ...pulumiEnv },
        encoding: "utf8",
      });
      assert.equal(result.status, 0, result.stderr);
    };
    try {
      pulumi("stack", "init", "dev");
      pulumi("config", "set", "intune:tenantId", tenantId);
      pulumi("config", "set", "intune:clientId", env.AZURE_CLIENT_ID);
      pulumi("config", "set", "--secret", "intune:clientSecret", env.AZURE_CLIENT_SECRET);
      // No pulumi on PATH (unless the machine has one) and no AZURE_* credentials: the stack's config is all it has.
      const result = await run(
        ["partners", "--stack", "dev"],
        {
          ...pulumiEnv,
          PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
          AZURE_AUTHORITY_HOST: env.AZURE_AUTHORITY_HOST,
          INTUNE_GRAPH_ENDPOINT: env.INTUNE_GRAPH_ENDPOINT,
          NODE_EXTRA_CA_CERTS: env.NODE_EXTRA_CA_CERTS,
        },
        project,
      );
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`Remote assistance partners in tenant ${tenantId}`));
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it("says that --stack needs the Pulumi CLI, and where it looked, when none is found", async () => {
    const checkout = otherCheckout();
    const result = await run(
      ["partners", "--stack", "dev"],
      {
        PATH: dirname(process.execPath),
        HOME: join(checkout, "home"),
      },
      checkout,
      join(checkout, "bin", "provider", "cli.js"),
    );
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      /^Reading the config of stack dev needs the Pulumi CLI, and none was found \(looked on PATH, in .*\.pulumi-cli, .*\.pulumi\/bin and .*\.pulumi\/versions\)\. Install it .*or pass --tenant/,
    );
  });

  it("fails within seconds, naming the endpoint, when nothing answers at the Graph endpoint", async () => {
    const started = Date.now();
    const result = await run(["partners"], { ...emu().env(), INTUNE_GRAPH_ENDPOINT: "http://127.0.0.1:1" });
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      /no connection to http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\): check intune:graphEndpoint \(INTUNE_GRAPH_ENDPOINT\)/,
    );
    assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
  });

  it("fails within seconds, naming the authority, when nothing answers at the token endpoint", async () => {
    const started = Date.now();
    const result = await run(["partners"], { ...emu().env(), AZURE_AUTHORITY_HOST: "https://127.0.0.1:1" });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /127\.0\.0\.1:1/);
    assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
  });

  it("says how to name a tenant when none is set, and exits 1", async () => {
    const result = await run(["partners"], { ...emu().env(), AZURE_TENANT_ID: undefined });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^No tenant: pass --tenant <tenant GUID or domain>, or --stack <stack>/);
  });

  it("lists its commands with --help, and exits 2 with them on an unknown command", async () => {
    const help = await run(["--help"], {});
    assert.equal(help.status, 0);
    assert.match(
      help.stdout,
      /partners +list a tenant's remote assistance partners[\s\S]*emulator +start the Graph/,
    );
    const unknown = await run(["adopt"], {});
    assert.equal(unknown.status, 2);
    assert.match(
      unknown.stderr,
      /^Unknown command 'adopt'\.\n\nnpx pulumi-intune-remote-assistance <command>/,
    );
  });

  it("answers an unknown flag with the usage, not a stack trace, and exits 2", async () => {
    const result = await run(["partners", "--tenat", "contoso.onmicrosoft.com"], {});
    assert.equal(result.status, 2);
    assert.match(
      result.stderr,
      /^Unknown option '--tenat'[\s\S]*npx pulumi-intune-remote-assistance partners \[options\]/,
    );
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });
});
