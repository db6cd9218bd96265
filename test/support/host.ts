import { FakeEngine, ProviderHost, type Secret } from "../../testing/engine";

/**
 * Starts one dynamic-provider host (or, with `plugin`, the `intune` plugin) for a `describe` block, on `env()` when it starts, configured with `config`
 * as the engine would (the whole stack config), its log lines received by `engine` when given; stops both after.
 */
export function useHost(
  env: () => Record<string, string>,
  options: { config?: Record<string, string | Secret>; engine?: FakeEngine; plugin?: boolean } = {},
): () => ProviderHost {
  let host: ProviderHost | undefined;
  before(async () => {
    await options.engine?.start();
    host = await ProviderHost.start({ env: env(), engine: options.engine, plugin: options.plugin });
    if (options.config) await host.configure(options.config);
  });
  after(async () => {
    await host?.stop();
    options.engine?.stop();
  });
  return () => {
    if (!host) throw new Error("the host is not started");
    return host;
  };
}
