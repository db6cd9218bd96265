import * as pulumi from "@pulumi/pulumi";

export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

/**
 * Runs a Pulumi program under `pulumi.runtime.setMocks` with the given stack config and returns what it
 * registered (with the real serialized `__provider`) and its resolved exports. Mocks never run provider code.
 */
export async function runProgram(
  path: string,
  project: string,
  config: Record<string, string>,
): Promise<{ registered: Registered[]; exports: Record<string, unknown> }> {
  const registered: Registered[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        return {
          id: "partner-1",
          state: { ...args.inputs, partnerId: "partner-1", onboardingStatus: "onboarding" },
        };
      },
      call: () => ({}),
    },
    project,
    "dev",
  );
  pulumi.runtime.setAllConfig(config);
  delete require.cache[require.resolve(path)];
  const program = require(path) as Record<string, unknown>;
  const exports: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(program)) {
    exports[key] = await resolve(value);
  }
  return { registered, exports };
}

async function resolve(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) return new Promise((ok) => value.apply(ok));
  if (Array.isArray(value)) return Promise.all(value.map(resolve));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolve(v)])),
    );
  }
  return value;
}
