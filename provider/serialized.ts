/**
 * The provider objects the resources serialize into state. Each method requires this package's host entry by
 * its name when it runs, in the dynamic-provider host (whose working directory is the Pulumi program's), so that
 * the state holds no code, credential or path of the machine that wrote it, and another checkout or a later
 * release refreshes and destroys what this one created.
 *
 * Keep this module free of imports (but types): the closure serializer copies these functions by value, and
 * they must capture nothing but each other and a string. A captured module object would be written as a
 * `require` of this file's own path, which the package's `exports` does not list (and must not become a
 * contract with every state ever written).
 */
import type * as pulumi from "@pulumi/pulumi";

/** The name under which `pulumi-intune-remote-assistance/host` exports each resource's provider. */
export type HostExport = "provider" | "remoteAssistanceSettings";

/** The provider object of one resource type, as it is serialized into state. */
export function serializedProvider(name: HostExport): pulumi.dynamic.ResourceProvider {
  const target = (): pulumi.dynamic.ResourceProvider => loadHost()[name];
  return {
    configure: (req) => target().configure!(req),
    check: (olds, news) => target().check!(olds, news),
    diff: (id, olds, news) => target().diff!(id, olds, news),
    create: (inputs) => target().create(inputs),
    read: (id, props) => target().read!(id, props),
    update: (id, olds, news) => target().update!(id, olds, news),
    delete: (id, props) => target().delete!(id, props),
  };
}

/**
 * This package's host entry, required by its name. Not found, it says what to install and where: a destroy run
 * from a checkout without `npm install` must not end in a bare "Cannot find module".
 */
function loadHost(): Record<HostExport, pulumi.dynamic.ResourceProvider> {
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
