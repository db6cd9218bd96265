/**
 * Carrying out a plan on a live partner: each Graph call verified against the partner where its answer could
 * mislead, a rename checked against the tenant's other names first, progress reported as each call succeeds.
 */
import { report } from "../core/progress";
import { settings } from "../core/runtime";
import { directoryOf, withNameLock } from "./directory";
import type { PartnerFields, Partner, PartnersApi } from "../graph/partners";
import {
  isConnected,
  needsReadBack,
  notKeptAfter,
  planUpdate,
  statusAfter,
  type Desired,
  type NotKept,
  type PartnerInputs,
  type Step,
} from "./lifecycle";
import { refusedOnboarding } from "./refusals";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` (at growing intervals) until it yields a value or the consistency window has passed. */
export async function poll<T>(probe: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + settings().consistencyWindowInMs;
  for (let attempt = 0; ; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    await sleep(Math.min(left, 250 * 2 ** attempt, 5_000));
  }
}

/** The partner after a convergence, and the declared values Graph did not keep. */
export interface Converged {
  partner: Partner;
  notKept: NotKept;
}

/**
 * Brings a live partner to the desired fields and connection state. `onProgress` receives the partner as it
 * is after each call that succeeded, so that a failure midway can record exactly what Graph holds. A rename
 * onto a name another partner of the tenant holds is refused before any call. After a write whose effect is
 * unconfirmed, the partner is read back: a declared value Graph did not keep is reported once, and kept in
 * `notKept` so that it is not written again while the program declares it.
 */
export async function converge(
  api: PartnersApi,
  live: Partner,
  desired: PartnerInputs,
  tenantId: string,
  options: { notKept?: NotKept; onProgress?: (partner: Partner) => void } = {},
): Promise<Converged> {
  const onProgress = options.onProgress ?? (() => undefined);
  const connected = isConnected(live.onboardingStatus, live.onboardingRequestExpiryDateTime, Date.now());
  const steps = planUpdate({ ...live, connected, notKept: options.notKept }, desired);
  const rename = steps.some((s) => s.call === "patch" && s.fields.displayName !== undefined);
  const startedAtInMs = Date.now();
  let partner = rename
    ? await withNameLock(tenantId, desired.displayName!, async () => {
        const directory = directoryOf(tenantId);
        await directory.assertNameFree(api, tenantId, desired.displayName!, {
          listedSinceInMs: startedAtInMs, // renames are rare: each lists afresh
          windowInMs: settings().consistencyWindowInMs,
          rename: { id: live.id },
        });
        const renamed = await runSteps(api, live, steps, tenantId, onProgress);
        directory.written(renamed);
        return renamed;
      })
    : await runSteps(api, live, steps, tenantId, onProgress);
  let notKept = options.notKept ?? {};
  if (needsReadBack(steps, desired)) {
    partner = await readBack(api, live, partner, desired);
    onProgress(partner);
    const before = notKept;
    notKept = notKeptAfter(partner, desired);
    for (const [key, value] of Object.entries(notKept) as [keyof NotKept, string][]) {
      if (before[key] === value) continue;
      report(
        `Graph did not keep ${key} of partner ${live.id}: the program declares '${value}', Graph reads ` +
          `${partner[key] === null ? "none" : `'${partner[key]}'`}. It is left as Graph has it, and not written ` +
          "again while the program declares this value.",
      );
    }
  }
  if (steps.some((s) => s.call === "beginOnboarding")) partner = await awaitOnboarded(api, partner);
  return { partner, notKept };
}

/**
 * The partner as Graph reads it after the writes. Intune is eventually consistent: while a declared field still
 * reads as it was before the writes, it is read again through the consistency window; a field that reads as
 * neither was rewritten by the service, and is not waited for.
 */
async function readBack(
  api: PartnersApi,
  before: Partner,
  written: Partner,
  desired: Desired,
): Promise<Partner> {
  let last = written;
  const settledPartner = await poll(async () => {
    const live = await api.get(written.id);
    if (!live) return undefined;
    last = live;
    const stale = (Object.keys(notKeptAfter(live, desired)) as (keyof NotKept)[]).some(
      (key) => live[key] === before[key],
    );
    return stale ? undefined : live;
  });
  return settledPartner ?? last;
}

/** Carries out `steps` in order; returns the partner as it is after them. */
async function runSteps(
  api: PartnersApi,
  live: Partner,
  steps: Step[],
  tenantId: string,
  onProgress: (partner: Partner) => void,
): Promise<Partner> {
  let partner = live;
  for (const step of steps) {
    const found = await perform(api, partner.id, step).catch((e: unknown) => {
      throw (step.call === "beginOnboarding" && refusedOnboarding(e, partner.id)) || e;
    });
    if (!found) {
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
    onProgress(partner);
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
export async function perform(api: PartnersApi, id: string, step: Call): Promise<boolean> {
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
