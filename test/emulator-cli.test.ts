import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import fetch from "node-fetch";
import { alternatives } from "../emulator";
import { join } from "node:path";
import { ProviderHost, Stack, programInputs } from "../testing/engine";
import { REPO_ROOT } from "./support/repo";

/** Starts `npm run emulator -- <args>`; resolves its output once it has printed `until`; `all()` is all so far. */
function startCli(
  args: string[],
  until: string,
): { child: ChildProcess; output: Promise<string>; all: () => string } {
  const child = spawn(process.execPath, [join(REPO_ROOT, "bin/emulator/cli.js"), ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let text = "";
  const output = new Promise<string>((ok) => {
    child.stdout!.on("data", (d: Buffer) => {
      text += d.toString();
      if (text.includes(until)) ok(text);
    });
  });
  return { child, output, all: () => text };
}

/** Stops it as Ctrl-C would, expecting a clean exit. */
async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise<number | null>((ok) => child.once("exit", ok));
  child.kill("SIGTERM");
  assert.equal(await exited, 0);
}

const exported = (output: string) =>
  Object.fromEntries([...output.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));

describe("npm run emulator", function () {
  this.timeout(30_000);

  it("lists every option, each unconfirmed alternative among them, with --help", async () => {
    const { child, output } = startCli(["--help"], "/confirm");
    const text = await output;
    await new Promise((ok) => child.once("exit", ok));
    for (const flag of [
      "--profile optimistic|realistic",
      "--graph-port",
      "--login-port",
      "--onboarding-delay-ms",
      "--onboarding-expiry-ms",
      "--read-lag-ms",
      "--processing-ms",
      "--no-throttle",
      "--limit-shape",
      "--limit-window-ms",
      "--limit-share",
      "--bucket-burst-ms",
      "--count-rejected",
      "--no-teamviewer",
      "--log-requests",
      "--rewrite-onboarding-url",
      "--ignore-patch",
      "--refuse-create-delete",
      "--throttle-without-retry-after",
      "--app-only-onboarding-forbidden",
      "--configuration-permission",
    ])
      assert.ok(text.includes(`  ${flag}`), `--help lacks ${flag}`);
    assert.equal(alternatives.length, 6, "a new alternative needs its flag in --help");
  });

  it("refuses a --processing-ms that is not a range of milliseconds, saying what to give, and starts nothing", async () => {
    for (const bad of ["400-50", "fast", "50"]) {
      const child = spawn(
        process.execPath,
        [join(REPO_ROOT, "bin/emulator/cli.js"), "--processing-ms", bad],
        {
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let text = "";
      child.stdout!.on("data", (d: Buffer) => (text += d.toString()));
      child.stderr!.on("data", (d: Buffer) => (text += d.toString()));
      const code = await new Promise<number | null>((ok) => child.once("exit", ok));
      assert.equal(code, 2, bad);
      assert.ok(text.includes("--processing-ms must be a range of milliseconds A-B"), text);
      assert.ok(!text.includes("export "), `${bad}: it printed an environment`);
    }
  });

  it("starts the realistic profile with Intune's row, and confirms its onboarding by hand at the printed URL", async () => {
    const { child, output, all } = startCli(
      ["--profile", "realistic", "--ignore-patch", "--log-requests"],
      "curl -X POST",
    );
    try {
      const text = await output;
      assert.match(text, /^# Intune remote assistance emulator \(realistic, --ignore-patch\)/);
      const env = exported(text);
      const confirm = /curl -X POST (\S+)/.exec(text)![1];
      const rowId = /partners\/([^/]+)\/confirm$/.exec(confirm)![1];
      const host = await ProviderHost.start({ env });
      try {
        const stack = new Stack(host);
        await stack.up({
          tv: (await programInputs("tv", { adopt: true, displayName: "TeamViewer Connector" })).inputs,
        });
        assert.equal(stack.state.get("tv")!.id, rowId);
        assert.equal(stack.state.get("tv")!.outputs.onboardingStatus, "onboarding");
        const response = await fetch(confirm, { method: "POST" });
        assert.equal(await response.text(), `'TeamViewer Connector' (${rowId}) is onboarded\n`);
        await stack.refresh();
        assert.equal(stack.state.get("tv")!.outputs.onboardingStatus, "onboarded");
        await stack.destroy();
        // The emulator's lines reach this process through a pipe: wait for the destroy's to arrive.
        const disconnect = `POST /beta/deviceManagement/remoteAssistancePartners/${rowId}/disconnect 204`;
        for (let i = 0; i < 100 && !all().includes(disconnect); i++)
          await new Promise((r) => setTimeout(r, 20));
        const logged = all()
          .split("\n")
          .filter((l) => / (GET|POST|PATCH|DELETE) \//.test(l));
        assert.match(logged[0], /^\S+Z GET \/beta\/deviceManagement\/remoteAssistancePartners 200 tenant /);
        assert.ok(
          logged.some((l) => l.includes(disconnect)),
          logged.join("\n"),
        );
        assert.ok(!/Bearer|eyJ/.test(all()), "no token in the request log");
      } finally {
        await host.stop();
      }
    } finally {
      await stop(child);
    }
  });

  it("prints the environment to export, on which the dynamic-provider host creates and destroys a partner, and stops on SIGTERM", async () => {
    const { child, output } = startCli([], "NODE_EXTRA_CA_CERTS=");
    try {
      const env = exported(await output);
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
      await stop(child);
    }
  });
});
