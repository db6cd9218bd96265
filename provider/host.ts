/**
 * The provider as it runs in the dynamic-provider host. The serialized provider stored in state only holds
 * `require("pulumi-intune-remote-assistance/host")`: this module's path and exports are a contract with every
 * state ever written, so that another checkout or a later release can refresh and destroy it.
 */
import type * as pulumi from "@pulumi/pulumi";
import { CachedTokenSource, createCredential } from "./graph/auth";
import { GraphClient, type ApiVersion } from "./graph/client";
import { Pacer } from "./graph/pacer";
import { isGraphError } from "./graph/errors";
import { PartnersApi, type Partner, type PartnerFields } from "./graph/partners";
import {
  checkInputs,
  diffPartner,
  planDelete,
  planUpdate,
  statusAfter,
  toOutputs,
  isConnected,
  type PartnerInputs,
  type PartnerOutputs,
  type Step,
} from "./lifecycle";
import { report } from "./progress";
import { resolveSettings, type ConfigLookup, type Settings } from "./settings";

let lookup: ConfigLookup = () => undefined;
let cachedSettings: Settings | undefined;
const clients = new Map<string, GraphClient>();
const directories = new Map<string, TenantDirectory>();
const locks = new Map<string, Promise<unknown>>();

/** Settings from the last `configure` and the environment, resolved on first use. */
export function settings(): Settings {
  cachedSettings ??= resolveSettings(lookup, process.env);
  return cachedSettings;
}

/**
 * Takes the stack config. Only synchronous assignments: the host may run other calls before this resolves
 * (see the configure race in the reference), and credentials are created when a call needs them.
 */
export function configure(req: pulumi.dynamic.ConfigureRequest): void {
  lookup = (key) => {
    try {
      return req.config.get(key);
    } catch {
      return undefined;
    }
  };
  cachedSettings = undefined;
  clients.clear();
  directories.clear();
}

/** The Graph client of a tenant: its token cache and its pacer are shared by every operation of the process. */
function graphFor(tenantId: string): GraphClient {
  let client = clients.get(tenantId);
  if (!client) {
    const s = settings();
    const credential = { ...s.credential, prompt: report };
    const tokens = new CachedTokenSource(
      () => createCredential(credential, tenantId),
      `${s.graphEndpoint}/.default`,
      tenantId,
      `intune:auth ${s.credential.kind}`,
    );
    const pacer = s.pacing && new Pacer(s.pacing);
    let reportedAtInMs = 0;
    client = new GraphClient({
      graphEndpoint: s.graphEndpoint,
      tokens,
      retry: s.retry,
      requestTimeoutInMs: s.requestTimeoutInMs,
      onRetry: report,
      beforeSend: async ({ method }) => {
        const waitedInMs = (await pacer?.acquire(method !== "GET")) ?? 0;
        if (waitedInMs > 2_000 && Date.now() - reportedAtInMs > 10_000) {
          reportedAtInMs = Date.now();
          report(
            `pacing requests to tenant ${tenantId} at Intune's limit (${s.pacing!.writes} writes and ${s.pacing!.requests} requests per ${s.pacing!.windowMs / 1000} s); a request waited ${(waitedInMs / 1000).toFixed(1)} s`,
          );
        }
      },
    });
    clients.set(tenantId, client);
  }
  return client;
}

function partnersFor(tenantId: string, apiVersion: ApiVersion): PartnersApi {
  return new PartnersApi(graphFor(tenantId), apiVersion);
}

function tenantOf(explicit: string | undefined): string {
  const tenantId = explicit ?? settings().tenantId;
  if (!tenantId) {
    throw new Error(
      "No tenant: set the resource's tenantId, the stack config intune:tenantId (pulumi config set intune:tenantId <tenant>) or AZURE_TENANT_ID.",
    );
  }
  return tenantId;
}

/** Runs `fn` after any other call holding `key`: two creates of one name in one process cannot both pass the duplicate check. */
async function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = locks.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  locks.set(key, settled);
  try {
    return await run;
  } finally {
    if (locks.get(key) === settled) locks.delete(key);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sameName = (a: string | null, b: string) => (a ?? "").trim().toLowerCase() === b.trim().toLowerCase();

/** Polls `probe` (at growing intervals) until it yields a value or the consistency window has passed. */
async function poll<T>(probe: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + settings().consistencyWindowInMs;
  for (let attempt = 0; ; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    await sleep(Math.min(left, 250 * 2 ** attempt, 5_000));
  }
}

/** The error the host turns into `ErrorResourceInitFailed`: the partner exists and stays in state. */
class PartnerInitError extends Error {
  constructor(
    cause: unknown,
    readonly id: string,
    readonly properties: Record<string, unknown>,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
  get reasons(): string[] {
    return [this.message];
  }
}

type Own = Parameters<typeof toOutputs>[1];

async function create(raw: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult<PartnerOutputs>> {
  const inputs = raw as unknown as PartnerInputs;
  const tenantId = tenantOf(inputs.tenantId);
  const api = partnersFor(tenantId, inputs.apiVersion);
  const adopted = inputs.partnerId !== undefined;
  const own: Own = {
    tenantId,
    apiVersion: inputs.apiVersion,
    deleteOnDestroy: inputs.deleteOnDestroy ?? !adopted,
    adopted,
  };
  // From the moment the partner exists, a failure keeps it in state (ErrorResourceInitFailed), so that the
  // next `up` finishes the job and `destroy` removes it: nothing is orphaned.
  const initFailed = (e: unknown, partner: Partner) =>
    new PartnerInitError(e, partner.id, {
      ...toOutputs(partner, own, Date.now()),
      __provider: raw.__provider,
    });
  let live = adopted
    ? await adopt(api, inputs.partnerId!, tenantId)
    : await createOnce(api, inputs, tenantId);
  try {
    // Intune is eventually consistent: wait (bounded) until Graph reads a new partner back.
    if (!adopted) live = (await poll(() => api.get(live.id))) ?? throwError(notReadBack(live.id));
    live = await converge(api, live, inputs, tenantId);
  } catch (e) {
    throw initFailed(e, live);
  }
  return { id: live.id, outs: toOutputs(live, own, Date.now()) };
}

function notReadBack(id: string): Error {
  const seconds = settings().consistencyWindowInMs / 1000;
  return new Error(
    `Graph created partner ${id} but did not read it back within ${seconds} s; the next pulumi up continues`,
  );
}

function throwError(e: Error): never {
  throw e;
}

async function adopt(api: PartnersApi, partnerId: string, tenantId: string): Promise<Partner> {
  const live = await poll(() => api.get(partnerId));
  if (live) return live;
  const names = (await api.list()).map((p) => `'${p.displayName}' (${p.id})`);
  throw new Error(
    `No remote assistance partner ${partnerId} in tenant ${tenantId}, so there is nothing to adopt. ` +
      (names.length > 0
        ? `The tenant's partners: ${names.join(", ")}.`
        : "The tenant has no partners: remove partnerId to create one."),
  );
}

async function createOnce(api: PartnersApi, inputs: PartnerInputs, tenantId: string): Promise<Partner> {
  const fields: PartnerFields = { displayName: inputs.displayName };
  if (inputs.onboardingUrl !== undefined) fields.onboardingUrl = inputs.onboardingUrl;
  const directory = directoryOf(tenantId);
  const startedAtInMs = Date.now();
  return withLock(`${tenantId}|${inputs.displayName.trim().toLowerCase()}`, async () => {
    const before = await directory.partners(api, startedAtInMs);
    const same = before.filter((p) => sameName(p.displayName, inputs.displayName));
    if (same.length > 0) {
      throw new Error(
        `A remote assistance partner named '${inputs.displayName}' already exists in tenant ${tenantId} ` +
          `(${same.map((p) => `id ${p.id}, ${p.onboardingStatus}`).join("; ")}). To manage it, adopt it: set ` +
          `partnerId: "${same[0].id}". This provider never adopts silently and never creates a duplicate.`,
      );
    }
    const known = new Set(before.map((p) => p.id));
    let created: Partner | undefined;
    for (let posts = 1; !created; posts++) {
      try {
        created = await api.create(fields);
      } catch (e) {
        if (!isGraphError(e) || !e.outcomeUnknown) throw e;
        report(
          `the answer to creating '${inputs.displayName}' in tenant ${tenantId} was lost (${e.code}); looking for it in Graph`,
        );
        created = await findCreated(api, inputs.displayName, known);
        if (!created && posts >= 2) {
          throw new Error(
            `Creating '${inputs.displayName}' in tenant ${tenantId} got no answer twice (last: ${e.message}), and Graph ` +
              `shows no partner of that name after ${settings().consistencyWindowInMs / 1000} s: nothing was left behind. Run pulumi up again.`,
            { cause: e },
          );
        }
        if (!created)
          report(`Graph shows no '${inputs.displayName}': the create did not happen; sending it once more`);
      }
    }
    directory.created(created);
    return created;
  });
}

/** How long before an operation began a shared list may have begun and still serve its duplicate check. */
const LIST_REUSE_IN_MS = 1_000;

/**
 * What this process knows of a tenant's partners for the duplicate-name check: one list request shared by
 * the creates that can use it, corrected by what this process itself created and deleted lately, which
 * Intune may not list (or may still list) for a while. Changes made elsewhere race with any check anyway;
 * the partners of this process never do.
 */
class TenantDirectory {
  private latest?: { startedAtInMs: number; partners: Promise<Partner[]> };
  private next?: Promise<Partner[]>;
  private readonly createdHere = new Map<string, { partner: Partner; atMs: number }>();
  private readonly deletedHere = new Map<string, number>();

  /** The tenant's partners as a create that began at `sinceInMs` must see them. */
  async partners(api: PartnersApi, sinceInMs: number): Promise<Partner[]> {
    const listed = await this.listSince(api, sinceInMs - LIST_REUSE_IN_MS);
    const horizon = Date.now() - settings().consistencyWindowInMs;
    const recent = [...this.createdHere.values()].filter((c) => c.atMs >= horizon).map((c) => c.partner);
    const gone = (id: string) => (this.deletedHere.get(id) ?? -Infinity) >= horizon;
    const seen = new Set(listed.map((p) => p.id));
    return [...listed.filter((p) => !gone(p.id)), ...recent.filter((p) => !seen.has(p.id) && !gone(p.id))];
  }

  created(partner: Partner): void {
    this.createdHere.set(partner.id, { partner, atMs: Date.now() });
  }

  deleted(id: string): void {
    this.createdHere.delete(id);
    this.deletedHere.set(id, Date.now());
  }

  /** A list that began at or after `sinceInMs`; concurrent callers share one request. */
  private listSince(api: PartnersApi, sinceInMs: number): Promise<Partner[]> {
    if (this.latest && this.latest.startedAtInMs >= sinceInMs) return this.latest.partners;
    this.next ??= (this.latest?.partners ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        this.latest = { startedAtInMs: Date.now(), partners: api.list() };
        return this.latest.partners;
      });
    return this.next;
  }
}

function directoryOf(tenantId: string): TenantDirectory {
  let directory = directories.get(tenantId);
  if (!directory) directories.set(tenantId, (directory = new TenantDirectory()));
  return directory;
}

/**
 * After a create whose answer was lost: the partner(s) of that name that were not there before, reduced to
 * one; `undefined` when Graph, asked successfully through the consistency window, shows none.
 */
async function findCreated(
  api: PartnersApi,
  displayName: string,
  known: Set<string>,
): Promise<Partner | undefined> {
  let observed = false;
  let lastError: unknown;
  const mine = await poll(async () => {
    try {
      const found = (await api.list()).filter(
        (p) => sameName(p.displayName, displayName) && !known.has(p.id),
      );
      observed = true;
      return found.length > 0 ? found : undefined;
    } catch (e) {
      lastError = e;
      return undefined;
    }
  });
  if (!mine && !observed) {
    throw new Error(
      `The answer to creating '${displayName}' was lost, and Graph could not be asked whether the partner exists ` +
        `(${lastError instanceof Error ? lastError.message : String(lastError)}). If a partner of that name is in ` +
        `the tenant, adopt it with partnerId or delete it; then run pulumi up again.`,
      { cause: lastError },
    );
  }
  if (!mine) return undefined;
  const [keep, ...extra] = mine;
  for (const p of extra) {
    report(`removing duplicate partner ${p.id} ('${displayName}') left by a retried create`);
    await api
      .delete(p.id)
      .catch((e: Error) =>
        report(`could not remove duplicate partner ${p.id}: ${e.message}; delete it by hand`),
      );
  }
  return keep;
}

/** Brings a live partner to the desired fields and connection state. */
async function converge(
  api: PartnersApi,
  live: Partner,
  desired: PartnerInputs,
  tenantId: string,
): Promise<Partner> {
  const connected = isConnected(live.onboardingStatus, live.onboardingRequestExpiryDateTime, Date.now());
  const steps = planUpdate({ ...live, connected }, desired);
  const after = await runSteps(api, live, steps, tenantId);
  return steps.some((s) => s.call === "beginOnboarding") ? awaitOnboarded(api, after) : after;
}

/** Carries out `steps` in order; returns the partner as it is after them. */
async function runSteps(api: PartnersApi, live: Partner, steps: Step[], tenantId: string): Promise<Partner> {
  let partner = live;
  for (const step of steps) {
    if (!(await perform(api, partner.id, step))) {
      throw new Error(
        `Partner ${partner.id} no longer exists in tenant ${tenantId} (deleted outside Pulumi). Run pulumi refresh, then pulumi up to create it again.`,
      );
    }
    const status = statusAfter(partner.onboardingStatus, [step]);
    partner = {
      ...partner,
      ...(step.call === "patch" ? step.fields : {}),
      onboardingStatus: status,
      onboardingRequestExpiryDateTime:
        status === "onboarding" && step.call === "beginOnboarding"
          ? undefined
          : partner.onboardingRequestExpiryDateTime,
    } as Partner;
  }
  return partner;
}

type Call = Step | { call: "delete" };

/**
 * One call on a partner; resolves `false` only when the partner is gone. Graph's answer is checked against
 * the live partner where it could mislead:
 * - a 404 gets a second opinion (a GET, then one more try when the partner is there): Intune is eventually
 *   consistent, and one 404 must not end a destroy early or fail an update;
 * - an error where the live partner already is the call's goal counts as done: an earlier attempt the client
 *   retried may have been carried out, and what Intune answers to an action in the "wrong" state (a 400?) is
 *   unconfirmed.
 */
async function perform(api: PartnersApi, id: string, step: Call): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    let found: boolean;
    try {
      found = await performOnce(api, id, step);
    } catch (e) {
      const live = await api.get(id).catch(() => {
        throw e;
      });
      if (!live) return false;
      if (reached(step, live)) return true;
      throw e;
    }
    if (found) return true;
    // The second opinion is a precaution: when it cannot be had, the 404 stands.
    if (attempt > 0 || !(await api.get(id).catch(() => undefined))) return false;
  }
}

function performOnce(api: PartnersApi, id: string, step: Call): Promise<boolean> {
  switch (step.call) {
    case "delete":
      return api.delete(id);
    case "patch":
      return api.update(id, step.fields);
    case "disconnect":
      return api.disconnect(id);
    case "beginOnboarding":
      return api.beginOnboarding(id);
  }
}

/** Whether a live partner already is what `step` is for. */
function reached(step: Call, live: Partner): boolean {
  switch (step.call) {
    case "delete":
      return false;
    case "patch":
      return Object.entries(step.fields).every(([k, v]) => live[k as keyof PartnerFields] === v);
    case "disconnect":
      return live.onboardingStatus === "notOnboarded";
    case "beginOnboarding":
      return live.onboardingStatus !== "notOnboarded";
  }
}

/** With `intune:onboardingWaitSeconds`, waits for the partner to confirm onboarding, telling the user where. */
async function awaitOnboarded(api: PartnersApi, partner: Partner): Promise<Partner> {
  const waitInMs = settings().onboardingWaitInMs;
  if (waitInMs <= 0) return partner;
  report(
    `waiting up to ${waitInMs / 1000} s for '${partner.displayName}' to confirm onboarding` +
      (partner.onboardingUrl ? `; complete it at ${partner.onboardingUrl}` : ""),
  );
  const deadline = Date.now() + waitInMs;
  let live = partner;
  while (Date.now() < deadline) {
    await sleep(Math.min(2_000, Math.max(0, deadline - Date.now())));
    live = (await api.get(partner.id)) ?? live;
    if (live.onboardingStatus === "onboarded") return live;
  }
  report(
    `'${partner.displayName}' is still ${live.onboardingStatus} after ${waitInMs / 1000} s; pulumi refresh will show when it is onboarded`,
  );
  return live;
}

async function read(
  id: string,
  props: Record<string, unknown>,
): Promise<pulumi.dynamic.ReadResult<PartnerOutputs>> {
  const olds = props as unknown as Partial<PartnerOutputs>;
  const tenantId = tenantOf(olds.tenantId);
  const apiVersion = olds.apiVersion ?? "beta";
  const api = partnersFor(tenantId, apiVersion);
  // One 404 is not "gone": Intune is eventually consistent. Gone means 404 throughout the window.
  const live = await poll(() => api.get(id));
  if (!live) return { id: "" };
  const own: Own = {
    tenantId,
    apiVersion,
    deleteOnDestroy: olds.deleteOnDestroy ?? !olds.adopted,
    adopted: olds.adopted ?? false,
  };
  return { id, props: toOutputs(live, own, Date.now()) };
}

async function update(
  id: string,
  rawOlds: Record<string, unknown>,
  rawNews: Record<string, unknown>,
): Promise<pulumi.dynamic.UpdateResult<PartnerOutputs>> {
  const olds = rawOlds as unknown as PartnerOutputs;
  const news = rawNews as unknown as PartnerInputs;
  const tenantId = tenantOf(olds.tenantId);
  const api = partnersFor(tenantId, news.apiVersion);
  const live: Partner = {
    id,
    displayName: olds.displayName,
    onboardingUrl: olds.onboardingUrl ?? null,
    onboardingStatus: olds.onboardingStatus ?? "notOnboarded",
    lastConnectionDateTime: olds.lastConnectionDateTime ?? undefined,
    onboardingRequestExpiryDateTime: olds.onboardingRequestExpiryDateTime ?? undefined,
  };
  const after = await converge(api, live, news, tenantId);
  const own: Own = {
    tenantId,
    apiVersion: news.apiVersion,
    deleteOnDestroy: news.deleteOnDestroy ?? olds.deleteOnDestroy ?? !olds.adopted,
    adopted: olds.adopted ?? false,
  };
  return { outs: toOutputs(after, own, Date.now()) };
}

async function deletePartner(id: string, props: Record<string, unknown>): Promise<void> {
  const olds = props as unknown as Partial<PartnerOutputs>;
  const tenantId = tenantOf(olds.tenantId);
  const api = partnersFor(tenantId, olds.apiVersion ?? "beta");
  const calls = planDelete(olds.deleteOnDestroy ?? !olds.adopted);
  for (const call of calls) {
    if (!(await perform(api, id, { call }))) break; // already gone: what a destroy wants
  }
  // Gone, or about to be: Intune may list it for a while, which must not block a create of the same name.
  if (calls.includes("delete")) directoryOf(tenantId).deleted(id);
}

/** The `pulumi.dynamic.ResourceProvider` the serialized provider delegates to. */
export const provider: Required<Omit<pulumi.dynamic.ResourceProvider, "configure">> & {
  configure(req: pulumi.dynamic.ConfigureRequest): Promise<void>;
} = {
  configure: async (req) => configure(req),
  check: async (_olds, news) => checkInputs(news),
  diff: async (_id, olds, news) => {
    let defaultTenantId: string | undefined;
    try {
      defaultTenantId = settings().tenantId;
    } catch {
      defaultTenantId = undefined; // bad settings are reported by the call that needs them, not by preview
    }
    const { changes, replaces, deleteBeforeReplace } = diffPartner(olds, news, defaultTenantId, Date.now());
    return { changes, replaces, deleteBeforeReplace };
  },
  create,
  read,
  update,
  delete: deletePartner,
};
