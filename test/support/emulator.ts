import { writeFileSync } from "node:fs";
import { join } from "node:path";
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

/**
 * A stand-in for the Azure CLI in `dir`: `az account get-access-token` answers, for exactly the arguments
 * `AzureCliCredential` must pass, a delegated token of an administrator of `tenantId` (put `dir` first on PATH).
 */
export function standInAzureCli(emulator: Emulator, tenantId: string, dir: string): void {
  const { token, exp } = emulator.entra.issue({
    tid: tenantId,
    aud: emulator.graphEndpoint,
    appid: "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
    scp: "DeviceManagementServiceConfig.ReadWrite.All",
    upn: "admin@contoso.example",
  });
  const answer = JSON.stringify({
    accessToken: token,
    expires_on: exp,
    tenant: tenantId,
    tokenType: "Bearer",
  });
  writeFileSync(
    join(dir, "az"),
    `#!/bin/sh\ncase "$*" in\n  "account get-access-token --output json --resource ${emulator.graphEndpoint} --tenant ${tenantId}") echo '${answer}' ;;\n  *) echo "unexpected: $*" >&2; exit 1 ;;\nesac\n`,
    { mode: 0o755 },
  );
}
