/**
 * `npm run sdk`: the `intune` package's SDKs for Node.js, Python and Go, written by Pulumi's own code generators
 * from the plugin's schema (`tools/pulumi-sdkgen`, a Go module requiring `github.com/pulumi/pulumi/pkg/v3` at the
 * CLI's version). Writes `sdk/schema.json` and `sdk/nodejs`, `sdk/python`, `sdk/go`, each replaced whole;
 * nothing there is edited by hand. Run `npm run build` first (the schema comes from the compiled plugin).
 *
 * The SDKs are committed: users install them from a checkout or the repository as they are, a change to the
 * schema shows in review as the code it changes, and `test/sdk.test.ts` fails when they differ from what the
 * generators write.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PACKAGE_ROOT as root } from "../provider/pulumiCli";

export const LANGUAGES = ["nodejs", "python", "go"] as const;

const SDK_README = `# Generated SDKs: do not edit

Everything in this folder is written by \`npm run sdk\` (scripts/sdk.ts): \`schema.json\` is the \`intune\`
plugin's schema, and \`nodejs/\`, \`python/\` and \`go/\` are what Pulumi's own code generators
(tools/pulumi-sdkgen) write from it. Change the schema (provider/plugin/schema.ts) and run \`npm run sdk\`;
test/sdk.test.ts fails when this folder differs from what the generators write.
`;

/** The generator, built with Go once per checkout (`.pulumi-cli/pulumi-sdkgen`); its path. */
export function sdkGenerator(): string {
  const binary = join(root, ".pulumi-cli", "pulumi-sdkgen");
  const sources = join(root, "tools", "pulumi-sdkgen");
  execFileSync("go", ["build", "-o", binary, "."], { cwd: sources, stdio: ["ignore", "ignore", "inherit"] });
  return binary;
}

/** Writes the schema and the three SDKs under `out` (default: the checkout's `sdk/`). */
export function generateSdks(out = join(root, "sdk")): void {
  const schemaModule = join(root, "bin", "provider", "plugin", "schema.js");
  if (!existsSync(schemaModule)) throw new Error(`${schemaModule} is missing: run npm run build first`);
  const { intuneSchema } = require(schemaModule) as typeof import("../provider/plugin/schema");
  const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  mkdirSync(out, { recursive: true });
  const schema = join(out, "schema.json");
  writeFileSync(schema, `${JSON.stringify(intuneSchema(version), null, 2)}\n`);
  writeFileSync(join(out, "README.md"), SDK_README);
  for (const language of LANGUAGES) rmSync(join(out, language), { recursive: true, force: true });
  execFileSync(sdkGenerator(), [schema, out], { stdio: "inherit" });
}

if (require.main === module) {
  try {
    generateSdks();
    process.stdout.write(`${join(root, "sdk")}\n`);
  } catch (e) {
    process.stderr.write(`sdk: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
