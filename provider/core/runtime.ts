/**
 * What one dynamic-provider process shares between operations: the settings from `configure` and the
 * environment, and per tenant one Graph client (its token cache and pacer) and what else a resource keeps per
 * tenant ({@link perTenant}).
 */
import type * as pulumi from "@pulumi/pulumi";
import { CachedTokenSource, createCredential, discoverTenantGuid } from "../graph/auth";
import { grantsOf, GraphClient, type ApiVersion } from "../graph/client";
import { isReadOnly } from "../graph/errors";
import { Pacer } from "../graph/pacer";
import { PartnersApi } from "../graph/partners";
import { RemoteHelpApi } from "../graph/remoteHelp";
import { isUnknown } from "./inputs";
import { engineGate } from "./lifeline";
import { report } from "./progress";
import { resolveSettings, type ConfigLookup, type Settings } from "./settings";
import { compareTenants, isTenantId } from "./tenants";

let lookup: ConfigLookup = () => undefined;
let configured: string | undefined;
let cachedSettings: Settings | undefined;
const clients = new Map<string, GraphClient>();
const tokenSources = new Map<string, CachedTokenSource>();
const scoped = new Map<string, unknown>();
const tenantGuids = new Map<string, Promise<string>>();

/** Settings from the last `configure` and the environment, resolved on first use. */
export function settings(): Settings {
  cachedSettings ??= resolveSettings(lookup, process.env);
  return cachedSettings;
}

/** The default tenant of this process, or `undefined` when there is none or the settings are bad. */
export function defaultTenant(): string | undefined {
  try {
    return settings().tenantId;
  } catch {
    return undefined;
  }
}

/**
 * Takes the stack config. Only synchronous work: the host may run other calls before this resolves (see the
 * configure race in the reference), and credentials are created when a call needs them. The host configures
 * once per distinct serialized provider, so state written by another release configures again mid-deployment:
 * the same settings keep every tenant's token cache, pacer and memory of recent creates and deletes.
 */
export function configure(req: pulumi.dynamic.ConfigureRequest): void {
  const next: ConfigLookup = (key) => {
    try {
      const value: unknown = req.config.get(key);
      return value === undefined || value === null ? undefined : String(value);
    } catch {
      return undefined;
    }
  };
  const fingerprint = fingerprintOf(next);
  if (fingerprint === configured) return;
  lookup = next;
  configured = fingerprint;
  cachedSettings = undefined;
  clients.clear();
  tokenSources.clear();
  scoped.clear();
  tenantGuids.clear();
}

/** What decides the settings: equal fingerprints, equal settings. Held in memory only (it holds secrets). */
function fingerprintOf(config: ConfigLookup): string {
  try {
    return JSON.stringify(resolveSettings(config, process.env));
  } catch (e) {
    return `invalid: ${(e as Error).message}`;
  }
}

const tenantKey = (tenantId: string) => tenantId.trim().toLowerCase();

/** The Graph client of a tenant: its token cache and its pacer are shared by every operation of the process. */
function graphFor(tenantId: string): GraphClient {
  let client = clients.get(tenantKey(tenantId));
  if (!client) {
    const s = settings();
    const credential = { ...s.credential, prompt: report };
    const tokens = new CachedTokenSource(
      () => createCredential(credential, tenantId),
      `${s.graphEndpoint}/.default`,
      tenantId,
      `intune:auth ${s.credential.kind}${s.credential.chosenBecause ? ` (${s.credential.chosenBecause})` : ""}`,
      Date.now,
      s.credential.authorityHost,
    );
    tokenSources.set(tenantKey(tenantId), tokens);
    let reportedAtInMs = 0;
    const pacer =
      s.pacing &&
      new Pacer(s.pacing, (event) => {
        const windowSeconds = s.pacing!.windowMs / 1000;
        if (event.kind === "decreased") {
          report(
            `Graph throttled ${event.write ? "writes" : "requests"} to tenant ${tenantId} below the documented limit; pacing them at ${event.allowed} per ${windowSeconds} s (it accepted ${event.accepted} in the last window)`,
          );
        } else if (event.waitedInMs > 2_000 && Date.now() - reportedAtInMs > 10_000) {
          reportedAtInMs = Date.now();
          report(
            `pacing requests to tenant ${tenantId} (${event.allowed.writes} writes and ${event.allowed.requests} requests per ${windowSeconds} s); a request waited ${(event.waitedInMs / 1000).toFixed(1)} s`,
          );
        }
      });
    client = new GraphClient({
      graphEndpoint: s.graphEndpoint,
      tokens,
      retry: s.retry,
      requestTimeoutInMs: s.requestTimeoutInMs,
      onRetry: report,
      pacer,
      beforeAttempt: engineGate,
    });
    clients.set(tenantKey(tenantId), client);
  }
  return client;
}

/**
 * Whether this process's identity in a tenant can read but not write (a reader, as previews and drift checks
 * run with), by the permissions its current token grants; `false` when no token was obtained yet.
 */
export function readOnlyIn(tenantId: string): boolean {
  const token = tokenSources.get(tenantKey(tenantId))?.heldToken();
  return token !== undefined && isReadOnly(grantsOf(token));
}

/** The partners API of a tenant in an API version. */
export function partnersFor(tenantId: string, apiVersion: ApiVersion): PartnersApi {
  return new PartnersApi(graphFor(tenantId), apiVersion);
}

/** The Remote Help settings API of a tenant (beta only). */
export function remoteHelpFor(tenantId: string): RemoteHelpApi {
  return new RemoteHelpApi(graphFor(tenantId));
}

/**
 * The one `T` of a tenant that `name` keeps for the process (made by `make` on first use), kept as long as the
 * settings stay the same, as the tenant's Graph client is.
 */
export function perTenant<T>(name: string, tenantId: string, make: () => T): T {
  const key = `${name}|${tenantKey(tenantId)}`;
  if (!scoped.has(key)) scoped.set(key, make());
  return scoped.get(key) as T;
}

/** The tenant a new resource goes to: its own `tenantId`, else the default; an error saying how to set one. */
export function tenantOf(explicit: string | undefined): string {
  const tenantId = explicit ?? settings().tenantId;
  if (!tenantId) {
    throw new Error(
      "No tenant: set the resource's tenantId, the stack config intune:tenantId (pulumi config set intune:tenantId <tenant>) or AZURE_TENANT_ID.",
    );
  }
  return tenantId;
}

/**
 * Whether a declared tenant id names the recorded one where the spellings cannot be compared offline (a
 * domain), by asking Entra; `undefined` where no asking is needed. When Entra cannot answer, an error that
 * says nothing was changed.
 */
export async function sameTenantByEntra(
  recorded: unknown,
  declared: unknown,
  label: string,
): Promise<boolean | undefined> {
  if (typeof recorded !== "string" || typeof declared !== "string" || isUnknown(declared)) return undefined;
  if (compareTenants(recorded, declared) !== "unknown") return undefined;
  if (!isTenantId(recorded) || !isTenantId(declared)) return false;
  try {
    const [a, b] = await Promise.all([tenantGuidOf(recorded), tenantGuidOf(declared)]);
    return a === b;
  } catch (e) {
    throw new Error(
      `${label}: tenantId is ${declared} in the program and ${recorded} in state, and asking Entra whether they ` +
        `name one tenant failed (${(e as Error).message}). Nothing was changed: write tenantId as in state ` +
        `("${recorded}") to keep it where it is, or run again when Entra answers.`,
      { cause: e },
    );
  }
}

/** The GUID of the tenant a GUID or domain names, asked of Entra once per process. */
export function tenantGuidOf(tenantId: string): Promise<string> {
  let guid = tenantGuids.get(tenantKey(tenantId));
  if (!guid) {
    guid = discoverTenantGuid(settings().credential.authorityHost, tenantId);
    guid.catch(() => tenantGuids.delete(tenantKey(tenantId)));
    tenantGuids.set(tenantKey(tenantId), guid);
  }
  return guid;
}

/**
 * What to add to a change's explanation when this process's identity in the tenant state recorded is a reader
 * (a drift check): that the writer's `up` repairs it, so that drift reads as work to do, not as a failure.
 */
export function repairNote(recordedTenantId: unknown): string {
  return typeof recordedTenantId === "string" && readOnlyIn(recordedTenantId)
    ? ". This identity is read-only (a preview or drift check): pulumi up with the writer's identity makes the change (in the GitHub workflow: the apply job)"
    : "";
}
