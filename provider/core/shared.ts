import { dirname } from "node:path";

/**
 * A module as @pulumi/pulumi's generated gRPC stubs load it (the program's copy, not a second one), or, where
 * `@pulumi/pulumi` cannot be resolved (the plugin's single executable, a bundle), the copy `bundled` loads.
 */
export function shared<T>(id: string, bundled: () => T): T {
  let pulumiDir: string;
  try {
    pulumiDir = dirname(require.resolve("@pulumi/pulumi/package.json"));
  } catch {
    return bundled();
  }
  return require(require.resolve(id, { paths: [pulumiDir] })) as T;
}
