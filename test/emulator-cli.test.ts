import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ProviderHost, REPO_ROOT, Stack, programInputs } from "../testing/engine";

describe("npm run emulator", function () {
  this.timeout(30_000);

  it("prints the environment to export, on which the dynamic-provider host creates and destroys a partner, and stops on SIGTERM", async () => {
    const child = spawn(process.execPath, [join(REPO_ROOT, "bin/emulator/cli.js")], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const output = await new Promise<string>((ok) => {
        let text = "";
        child.stdout.on("data", (d: Buffer) => {
          text += d.toString();
          if (text.includes("NODE_EXTRA_CA_CERTS=")) ok(text);
        });
      });
      const env = Object.fromEntries([...output.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
      assert.deepEqual(Object.keys(env).sort(), [
        "AZURE_AUTHORITY_HOST",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_TENANT_ID",
        "INTUNE_GRAPH_ENDPOINT",
        "NODE_EXTRA_CA_CERTS",
      ]);
      // The printed environment is what a shell hands to `pulumi up`: the host, a new process, runs on it.
      const host = await ProviderHost.start({ env });
      try {
        const stack = new Stack(host);
        await stack.up({ p: (await programInputs("p", { displayName: "From the CLI emulator" })).inputs });
        assert.equal(stack.state.get("p")!.outputs.tenantId, env.AZURE_TENANT_ID);
        await stack.destroy();
      } finally {
        await host.stop();
      }
    } finally {
      const exited = new Promise<number | null>((ok) => child.once("exit", ok));
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
    }
  });
});
