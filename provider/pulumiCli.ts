/**
 * Finding a Pulumi CLI the way `npm start`, `npm run pulumi-cli`, the tests and the `partners` command all do:
 * `pulumi` on PATH, then the builds `npm run pulumi-cli` leaves in a checkout's `.pulumi-cli/`, then where
 * Pulumi's installers put it (`~/.pulumi/bin`, and `~/.pulumi/versions/<v>/bin` for the Automation API's
 * `PulumiCommand.install`).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";

/** A Pulumi CLI that answered `pulumi version`. */
export interface PulumiCli {
  /** Absolute path of the `pulumi` binary (one found on PATH too). */
  path: string;
  /** Its version, without the `v`: `3.276.0`. */
  version: string;
  /** Where it was found, for messages: `PATH`, `.pulumi-cli`, `~/.pulumi`. */
  source: string;
}

/** This package's root (a checkout, or the installed package), from the compiled `bin/` or the sources alike. */
export const PACKAGE_ROOT = packageRootOf(__dirname);

function packageRootOf(dir: string): string {
  for (let d = dir; d !== dirname(d); d = dirname(d)) {
    const manifest = join(d, "package.json");
    if (
      existsSync(manifest) &&
      JSON.parse(readFileSync(manifest, "utf8")).name === "pulumi-intune-remote-assistance"
    )
      return d;
  }
  throw new Error(`no pulumi-intune-remote-assistance package.json above ${dir}`);
}

/** The folder where `npm run pulumi-cli` puts a CLI of `version` (`3.276.0`) in a checkout. */
export function localCliRoot(version: string, root = PACKAGE_ROOT): string {
  return join(root, ".pulumi-cli", `v${version}`);
}

/** The places a CLI is looked for, in order. */
export function cliCandidates(root = PACKAGE_ROOT, home = homedir()): { path: string; source: string }[] {
  const versionsOf = (dir: string) =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter((v) => /^v?\d+\.\d+\.\d+$/.test(v))
          .sort((a, b) => compareVersions(b, a))
      : [];
  const local = join(root, ".pulumi-cli");
  const installed = join(home, ".pulumi", "versions");
  return [
    { path: "pulumi", source: "PATH" },
    ...versionsOf(local).map((v) => ({ path: join(local, v, "bin", "pulumi"), source: ".pulumi-cli" })),
    { path: join(home, ".pulumi", "bin", "pulumi"), source: "~/.pulumi" },
    ...versionsOf(installed).map((v) => ({ path: join(installed, v, "bin", "pulumi"), source: "~/.pulumi" })),
  ];
}

/** Where {@link cliCandidates} looks, for messages. */
export function cliPlaces(root = PACKAGE_ROOT, home = homedir()): string {
  return `on PATH, in ${join(root, ".pulumi-cli")}, ${join(home, ".pulumi", "bin")} and ${join(home, ".pulumi", "versions")}`;
}

/** The version a CLI reports (`3.276.0`), or `undefined` when it does not run. */
export function cliVersion(path: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (path !== "pulumi" && !existsSync(path)) return undefined;
  const result = spawnSync(path, ["version"], {
    encoding: "utf8",
    env: { ...env, PULUMI_SKIP_UPDATE_CHECK: "true" },
    timeout: 30_000,
  });
  return result.status === 0 ? /v?(\d+\.\d+\.\d+\S*)/.exec(result.stdout)?.[1] : undefined;
}

/**
 * The first CLI found whose version is at least `minimum` (any version without one), or `undefined`; `tried`
 * receives a line for each place that did not do.
 */
export function findPulumiCli(
  options: { minimum?: string; root?: string; env?: NodeJS.ProcessEnv; tried?: string[] } = {},
): PulumiCli | undefined {
  for (const candidate of cliCandidates(options.root)) {
    const version = cliVersion(candidate.path, options.env);
    if (!version) {
      if (candidate.path === "pulumi") options.tried?.push("no pulumi on PATH");
      continue;
    }
    if (options.minimum && compareVersions(version, options.minimum) < 0) {
      options.tried?.push(
        `${candidate.path} (${candidate.source}) is ${version}, older than ${options.minimum}`,
      );
      continue;
    }
    const path = candidate.path === "pulumi" ? (onPath("pulumi", options.env) ?? "pulumi") : candidate.path;
    return { ...candidate, path, version };
  }
  return undefined;
}

/** The absolute path of the executable `name` on `env`'s PATH, or `undefined`. */
export function onPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return resolve(dir, name);
  }
  return undefined;
}

/** Compares two versions (`3.276.0`, `v3.99.1`) numerically; pre-release suffixes are ignored. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.replace(/^v/, "").split(/[.-]/).slice(0, 3).map(Number);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}
