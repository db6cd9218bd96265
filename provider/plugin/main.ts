#!/usr/bin/env node
/**
 * `pulumi-resource-intune`: the `intune` resource plugin. The engine starts it with its own address; it serves
 * the ResourceProvider protocol on a loopback port, prints the port alone on the first line of stdout, and exits
 * when the engine is gone (`core/lifeline.ts`), as the dynamic-provider host does with this package.
 */
import { exitWithEngine } from "../core/lifeline";
import { logToEngine } from "../core/progress";
import { serve } from "./server";

const { version } = require("../../../package.json") as { version: string };

async function main(engineAddress: string | undefined): Promise<void> {
  if (!engineAddress) {
    process.stderr.write(
      "pulumi-resource-intune is a Pulumi resource plugin: the Pulumi CLI starts it with its engine's address " +
        "(pulumi up in a project that uses intune resources). To see its schema: pulumi package get-schema pulumi-resource-intune\n",
    );
    process.exit(2);
  }
  exitWithEngine(engineAddress);
  logToEngine(engineAddress);
  const port = await serve(version);
  process.stdout.write(`${port}\n`);
}

main(process.argv[2]).catch((e: unknown) => {
  process.stderr.write(`pulumi-resource-intune: ${(e as Error).message}\n`);
  process.exit(1);
});
