import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./repo";

const made = new Set<string>();

/**
 * Another checkout: this package's files at another path, sharing the dependencies by symlink; without the
 * package itself, a checkout where `npm install` of it was never run. Removed when this process exits.
 */
export function otherCheckout(options: { withPackage: boolean } = { withPackage: true }): string {
  const dir = mkdtempSync(join(tmpdir(), "intune-checkout-"));
  if (made.size === 0)
    process.once("exit", () => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
  made.add(dir);
  for (const name of ["package.json", "package-lock.json", "bin"])
    cpSync(join(REPO_ROOT, name), join(dir, name), { recursive: true });
  mkdirSync(join(dir, "node_modules"));
  for (const name of readdirSync(join(REPO_ROOT, "node_modules"))) {
    if (name === "pulumi-intune-remote-assistance" || name.startsWith(".")) continue;
    symlinkSync(join(REPO_ROOT, "node_modules", name), join(dir, "node_modules", name));
  }
  if (options.withPackage) symlinkSync("..", join(dir, "node_modules", "pulumi-intune-remote-assistance"));
  return dir;
}
