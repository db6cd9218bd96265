/**
 * `npx pulumi-intune-remote-assistance partners`: a tenant's partners, listed with the settings and
 * credentials the provider uses, so that nobody needs Graph Explorer to find what to adopt.
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INTUNE_ROW_NAME } from "../emulator";
import { REPO_ROOT } from "./support/repo";
import { useEmulator } from "./support/emulator";

describe("npx pulumi-intune-remote-assistance partners", function () {
  this.timeout(30_000);
  const emu = useEmulator({ profile: "realistic" });
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "intune-cli-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the command as a user would; asynchronously, so that the emulator in this process can answer. */
  const run = (args: string[], env: Record<string, string | undefined>) => {
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(AZURE_|INTUNE_)/.test(k)),
    );
    const child = spawn("npx", ["pulumi-intune-remote-assistance", ...args], {
      cwd: REPO_ROOT,
      env: { ...clean, ...env },
    });
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

  it("reads the stack's intune:* config, secrets included, with the Pulumi CLI", async function () {
    if (process.platform === "win32") this.skip(); // the stand-in pulumi below is a POSIX shell script
    const tenantId = emu().newTenant();
    const env = emu().env({ tenantId });
    const config = JSON.stringify({
      "intune:tenantId": { value: tenantId, secret: false },
      "intune:clientId": { value: env.AZURE_CLIENT_ID, secret: false },
      "intune:clientSecret": { value: env.AZURE_CLIENT_SECRET, secret: true },
      "intune-remote-assistance:connected": { value: "true", secret: false },
    });
    writeFileSync(
      join(dir, "pulumi"),
      `#!/bin/sh\ncase "$*" in\n  "config --json --show-secrets --stack dev") echo '${config}' ;;\n  *) echo "unexpected: $*" >&2; exit 1 ;;\nesac\n`,
      { mode: 0o755 },
    );
    const result = await run(["partners", "--stack", "dev"], {
      PATH: `${dir}:${process.env.PATH}`,
      AZURE_AUTHORITY_HOST: env.AZURE_AUTHORITY_HOST,
      INTUNE_GRAPH_ENDPOINT: env.INTUNE_GRAPH_ENDPOINT,
      NODE_EXTRA_CA_CERTS: env.NODE_EXTRA_CA_CERTS,
    });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`Remote assistance partners in tenant ${tenantId}`));
  });

  it("says how to name a tenant when none is set, and exits 1", async () => {
    const result = await run(["partners"], { ...emu().env(), AZURE_TENANT_ID: undefined });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^No tenant: set the resource's tenantId, the stack config intune:tenantId/);
  });

  it("prints its usage with --help, and exits 2 on an unknown command", async () => {
    assert.match(
      (await run(["--help"], {})).stdout,
      /npx pulumi-intune-remote-assistance partners \[options\]/,
    );
    assert.equal((await run(["adopt"], {})).status, 2);
  });
});
