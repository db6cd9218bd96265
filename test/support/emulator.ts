import {
  defaultClientId,
  defaultClientSecret,
  defaultTenantId,
  startEmulator,
  type Emulator,
  type EmulatorOptions,
} from "../../emulator";
import { CachedTokenSource, createCredential } from "../../provider/graph/auth";
import { GraphClient, type GraphClientOptions } from "../../provider/graph/client";

/** Starts one emulator for a `describe` block (trusted in this process) and closes it after. */
export function useEmulator(options: EmulatorOptions = {}): () => Emulator {
  let emulator: Emulator | undefined;
  before(async () => {
    emulator = await startEmulator(options);
    emulator.trustInProcess();
  });
  after(async () => emulator?.close());
  return () => {
    if (!emulator) throw new Error("the emulator is not started");
    return emulator;
  };
}

/** Real client-secret tokens from the emulator's Entra for one tenant. */
export function tokensFor(
  emulator: Emulator,
  app: { tenantId?: string; clientId?: string; clientSecret?: string } = {},
): CachedTokenSource {
  const tenantId = app.tenantId ?? defaultTenantId;
  return new CachedTokenSource(
    () =>
      createCredential(
        {
          kind: "clientSecret",
          clientId: app.clientId ?? defaultClientId,
          clientSecret: app.clientSecret ?? defaultClientSecret,
          authorityHost: emulator.authorityHost,
          disableInstanceDiscovery: true,
        },
        tenantId,
      ),
    `${emulator.graphEndpoint}/.default`,
    tenantId,
    "ClientSecretCredential",
  );
}

/** A Graph client on the emulator with short backoff, collecting its retry lines. */
export function clientFor(
  emulator: Emulator,
  options: Partial<GraphClientOptions> = {},
): { client: GraphClient; retries: string[]; tokens: CachedTokenSource } {
  const retries: string[] = [];
  const tokens = (options.tokens as CachedTokenSource | undefined) ?? tokensFor(emulator);
  const client = new GraphClient({
    graphEndpoint: emulator.graphEndpoint,
    requestTimeoutInMs: 2_000,
    onRetry: (line) => retries.push(line),
    ...options,
    tokens,
    retry: { retryDelayInMs: 10, maxRetryDelayInMs: 50, ...options.retry },
  });
  return { client, retries, tokens };
}
