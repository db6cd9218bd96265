/**
 * `npm run pulumi-cli`: finds or builds the Pulumi CLI for the @pulumi/pulumi in package-lock.json and prints its
 * absolute path as the last line of stdout (progress goes to stderr):
 *
 * 1. `pulumi` on PATH (or a CLI found where Pulumi's installers put it), at least that version;
 * 2. a CLI for that version in `.pulumi-cli/v<version>/` installed or built before;
 * 3. `PulumiCommand.install` from https://get.pulumi.com: the official CLI with its language plugins, wherever
 *    the internet is reachable (it fails at once where it is not);
 * 4. a build with Go, from the Go modules `tools/pulumi-cli` requires (the first takes minutes, later ones are
 *    step 2 and take a second).
 *
 * A build brings this project's launchers for the plugins a Node program needs beside the CLI
 * (`tools/pulumi-cli/plugins`). The Node.js language plugin is not among them: its Go module is not served by
 * the module proxy here, so programs run inline (`npx pulumi-intune-remote-assistance pulumi`, provider/inline.ts).
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
} from "node:fs";
import { dirname, join } from "node:path";
import {
  cliVersion,
  compareVersions,
  findPulumiCli,
  localCliRoot,
  onPath,
  PACKAGE_ROOT as root,
  type PulumiCli,
} from "../provider/pulumiCli";
import { hasNodeLanguagePlugin } from "../provider/runPulumi";

const toolsDir = join(root, "tools", "pulumi-cli");
const yamlToolsDir = join(root, "tools", "pulumi-language-yaml");
const log = (line: string) => process.stderr.write(`${line}\n`);

/** The @pulumi/pulumi version package-lock.json holds: the CLI is built at this version. */
export function lockedSdkVersion(): string {
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as {
    packages: Record<string, { version?: string }>;
  };
  const version = lock.packages["node_modules/@pulumi/pulumi"]?.version;
  if (!version) throw new Error("package-lock.json holds no node_modules/@pulumi/pulumi");
  return version;
}

/** The pkg/v3 version tools/pulumi-cli/go.mod requires (`3.276.0`). */
export function goModVersion(): string | undefined {
  const goMod = readFileSync(join(toolsDir, "go.mod"), "utf8");
  return /github\.com\/pulumi\/pulumi\/pkg\/v3 v(\d+\.\d+\.\d+)/.exec(goMod)?.[1];
}

/** Copies this project's plugin launchers beside a CLI built or installed in `bin`. */
function addPlugins(bin: string): void {
  for (const plugin of readdirSync(join(toolsDir, "plugins"))) {
    copyFileSync(join(toolsDir, "plugins", plugin), join(bin, plugin));
    chmodSync(join(bin, plugin), 0o755);
  }
}

/** The `go build` arguments that build `pulumi` at `version` into `output`, run in tools/pulumi-cli. */
export function goBuildArgs(version: string, output: string): string[] {
  return [
    "build",
    "-trimpath",
    "-ldflags",
    `-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${version}`,
    "-o",
    output,
    "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
  ];
}

/** Builds `pulumi` at `version` with Go into `.pulumi-cli/v<version>/bin`; an Error saying why it could not. */
function buildWithGo(version: string): string {
  const goModAt = goModVersion();
  if (goModAt !== version) {
    throw new Error(
      `tools/pulumi-cli/go.mod builds pkg/v3 v${goModAt}, but package-lock.json holds @pulumi/pulumi ${version}: ` +
        `in tools/pulumi-cli run go get github.com/pulumi/pulumi/pkg/v3@v${version} github.com/pulumi/pulumi/sdk/v3@v${version} && go mod tidy`,
    );
  }
  const bin = join(localCliRoot(version, root), "bin");
  mkdirSync(bin, { recursive: true });
  const started = Date.now();
  log(
    `Building the Pulumi CLI v${version} with Go from its modules (tools/pulumi-cli; the first build takes minutes)...`,
  );
  const result = spawnSync("go", goBuildArgs(version, join(bin, "pulumi.partial")), {
    cwd: toolsDir,
    stdio: ["ignore", "inherit", "pipe"],
    encoding: "utf8",
  });
  if (result.error || result.status !== 0) {
    throw new Error(
      `go build failed: ${result.error?.message ?? result.stderr.trim().split("\n").slice(-5).join("; ")}`,
    );
  }
  renameSync(join(bin, "pulumi.partial"), join(bin, "pulumi"));
  addPlugins(bin);
  log(`Built in ${((Date.now() - started) / 1000).toFixed(0)} s: ${join(bin, "pulumi")}`);
  return join(bin, "pulumi");
}

/**
 * Builds Pulumi's YAML language host beside a CLI built from Go modules in `bin` (`pulumi-language-yaml`, from
 * tools/pulumi-language-yaml), so that the CLI runs YAML projects; the official CLI ships its own. Nothing when
 * it is there already; an Error saying why it could not.
 */
export function buildLanguageYaml(bin: string): string {
  const output = join(bin, "pulumi-language-yaml");
  if (existsSync(output)) return output;
  const started = Date.now();
  log("Building Pulumi's YAML language host with Go from its module (tools/pulumi-language-yaml)...");
  const result = spawnSync(
    "go",
    ["build", "-trimpath", "-ldflags", "-s -w", "-o", `${output}.partial`, YAML_HOST_PACKAGE],
    { cwd: yamlToolsDir, stdio: ["ignore", "inherit", "pipe"], encoding: "utf8" },
  );
  if (result.error || result.status !== 0) {
    throw new Error(
      `go build of the YAML language host failed: ${result.error?.message ?? result.stderr.trim().split("\n").slice(-5).join("; ")}`,
    );
  }
  renameSync(`${output}.partial`, output);
  log(`Built in ${((Date.now() - started) / 1000).toFixed(0)} s: ${output}`);
  return output;
}

/** The Go package of Pulumi's YAML language host. */
export const YAML_HOST_PACKAGE = "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml";

/** Installs the CLI with the Automation API (downloads from get.pulumi.com); an Error saying why it could not. */
async function install(version: string): Promise<string> {
  const { PulumiCommand } = await import("@pulumi/pulumi/automation");
  const cliRoot = localCliRoot(version, root);
  log(
    `Installing the Pulumi CLI v${version} into ${cliRoot} with PulumiCommand.install (from https://get.pulumi.com)...`,
  );
  const semver = require(require.resolve("semver", { paths: [require.resolve("@pulumi/pulumi")] }));
  const cli = await PulumiCommand.install({ root: cliRoot, version: new semver.SemVer(version) });
  addPlugins(join(cliRoot, "bin"));
  return cli.command;
}

/** What kind of CLI `cli` is, for the person who asked for one: whether it runs a Node.js project itself. */
export function cliKind(cli: string): string {
  return hasNodeLanguagePlugin(cli)
    ? `A full Pulumi CLI (its Node.js language plugin is there): pulumi up runs a Node.js project as it is.`
    : `A Pulumi CLI without the Node.js language plugin (built from its Go modules): in your project's folder, ` +
        "run its commands as npx pulumi-intune-remote-assistance pulumi up (preview, refresh, destroy, --policy-pack " +
        "<folder>), which runs the program inline; plain pulumi up fails with no language plugin 'pulumi-language-nodejs'.";
}

/** Finds or makes the CLI; throws one error naming each way tried. */
export async function pulumiCli(version = lockedSdkVersion()): Promise<PulumiCli> {
  const tried: string[] = [];
  const found = findPulumiCli({ minimum: version, root, tried });
  if (found) return found;
  try {
    const path = await install(version);
    return { path, version, source: "PulumiCommand.install" };
  } catch (e) {
    const reason = (e as Error).message.split("\n")[0];
    tried.push(`installing it with PulumiCommand.install: ${reason}`);
    log(`No official download (${reason}).`);
  }
  if (onPath("go")) {
    try {
      const path = buildWithGo(version);
      return { path, version: cliVersion(path) ?? version, source: "built with Go" };
    } catch (e) {
      tried.push(`building it with Go: ${(e as Error).message}`);
    }
  } else {
    tried.push("building it with Go: no go on PATH");
  }
  throw new Error(
    `No Pulumi CLI ${version} or later could be found or made:\n${tried.map((t) => `  - ${t}`).join("\n")}\n` +
      "Install one by hand (https://www.pulumi.com/docs/install/: curl -fsSL https://get.pulumi.com | sh), or " +
      "install Go 1.26 (https://go.dev/dl/) and run npm run pulumi-cli again.",
  );
}

if (require.main === module) {
  pulumiCli().then(
    (cli) => {
      if (compareVersions(cli.version, lockedSdkVersion()) !== 0)
        log(`Using ${cli.source}'s pulumi ${cli.version} (the SDK is ${lockedSdkVersion()}).`);
      if (cli.source === "built with Go" || cli.source === ".pulumi-cli") {
        try {
          buildLanguageYaml(dirname(cli.path));
        } catch (e) {
          log(`${(e as Error).message}: YAML projects will not run with this CLI.`);
        }
      }
      log(cliKind(cli.path));
      console.log(cli.path);
    },
    (e: unknown) => {
      log((e as Error).message);
      process.exit(1);
    },
  );
}
