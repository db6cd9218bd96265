/**
 * The one thing the providers serialized into state call: this package's runtime, required by its name in the
 * host process (whose working directory is the Pulumi program's) when a method runs, so that the state holds no
 * code, credential or path of the machine that wrote it. Not found, it says what to install and where: a destroy
 * run from a checkout without `npm install` must not end in a bare "Cannot find module". Keep this module free
 * of imports: it is serialized into state by value.
 */
export function runtime(): typeof import("./host") {
  try {
    return require("pulumi-intune-remote-assistance/host");
  } catch (e) {
    if ((e as { code?: string }).code !== "MODULE_NOT_FOUND") throw e;
    throw new Error(
      "This stack's Intune remote assistance resources are run by the npm package pulumi-intune-remote-assistance " +
        `(the state stores only its name), which cannot be loaded from ${process.cwd()}: ` +
        `${(e as Error).message.split("\n")[0]}. Install the Pulumi program's dependencies there (npm ci, or ` +
        "npm install pulumi-intune-remote-assistance) and run the command again.",
      { cause: e },
    );
  }
}
