import { ProviderHost } from "../../testing/engine";

/** Starts one dynamic-provider host for a `describe` block, on `env()` when it starts, and stops it after. */
export function useHost(env: () => Record<string, string>): () => ProviderHost {
  let host: ProviderHost | undefined;
  before(async () => (host = await ProviderHost.start({ env: env() })));
  after(() => host?.stop());
  return () => {
    if (!host) throw new Error("the host is not started");
    return host;
  };
}
