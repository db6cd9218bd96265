/**
 * `npm run plugin-archive`: the `intune` plugin as one executable file that needs no Node.js (a Node.js
 * single-executable application), in the archive `pulumi plugin install resource intune <version> --file
 * <archive>` installs. Built for the platform it runs on: `dist/pulumi-resource-intune-v<version>-<os>-<arch>.tar.gz`.
 * Prints the archive's path as the last line of stdout.
 *
 * 1. esbuild bundles the compiled plugin (`bin/provider/plugin/main.js`, run `npm run build` first) and every
 *    module it loads into one CommonJS file;
 * 2. Node writes the single-executable blob of that file (`--experimental-sea-config`);
 * 3. postject injects the blob into a copy of this Node.js binary;
 * 4. tar packs it as `pulumi-resource-intune`, the name the CLI runs.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PACKAGE_ROOT as root } from "../provider/pulumiCli";

const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
const OS: Record<string, string> = { linux: "linux", darwin: "darwin", win32: "windows" };
const ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64" };

/** The archive's file name Pulumi's plugin tooling expects. */
export function archiveName(version: string, platform = process.platform, arch = process.arch): string {
  return `pulumi-resource-intune-v${version}-${OS[platform] ?? platform}-${ARCH[arch] ?? arch}.tar.gz`;
}

/** Builds the archive into `dist` (default: the checkout's `dist/`); resolves its path. */
export async function buildPluginArchive(dist = join(root, "dist")): Promise<string> {
  const entry = join(root, "bin", "provider", "plugin", "main.js");
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build first`);
  const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  const work = join(dist, ".plugin-archive");
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });

  const bundle = join(work, "plugin.js");
  const esbuild = require("esbuild") as typeof import("esbuild");
  await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    target: `node${process.versions.node.split(".")[0]}`,
    format: "cjs",
    outfile: bundle,
    logLevel: "warning",
    // Optional native helpers of @azure/identity's MSAL and of ws: absent, they are not used.
    external: ["keytar", "bufferutil", "utf-8-validate"],
    // Bundled, node-fetch's `require("punycode")` is no longer in node_modules, and Node would warn about it on
    // the plugin's stderr, which the CLI shows: nobody running the plugin can act on that warning.
    banner: { js: "process.noDeprecation = true;" },
  });

  const blob = join(work, "plugin.blob");
  const config = join(work, "sea-config.json");
  writeFileSync(
    config,
    JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: false }),
  );
  execFileSync(process.execPath, ["--experimental-sea-config", config], { stdio: "pipe" });

  const executable = join(
    work,
    process.platform === "win32" ? "pulumi-resource-intune.exe" : "pulumi-resource-intune",
  );
  copyFileSync(process.execPath, executable);
  chmodSync(executable, 0o755);
  const postject = join(root, "node_modules", "postject", "dist", "cli.js");
  execFileSync(process.execPath, [postject, executable, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE], {
    stdio: "pipe", // its warnings about ELF note sections are harmless; a failure throws with them
  });

  const archive = join(dist, archiveName(version));
  execFileSync("tar", ["-czf", archive, "-C", work, executable.slice(work.length + 1)]);
  rmSync(work, { recursive: true, force: true });
  return archive;
}

if (require.main === module) {
  buildPluginArchive().then(
    (archive) => process.stdout.write(`${archive}\n`),
    (e: unknown) => {
      process.stderr.write(`plugin-archive: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
