import { randomUUID } from "node:crypto";

export type OnboardingStatus = "notOnboarded" | "onboarding" | "onboarded";

/** One remoteAssistancePartner as the emulator keeps it. Times in ms since the epoch. */
export interface StoredPartner {
  id: string;
  displayName: string | null;
  onboardingUrl: string | null;
  status: OnboardingStatus;
  createdAtMs: number;
  onboardingStartedAtMs?: number;
  onboardingExpiresAtMs?: number;
  lastConnectionAtMs?: number;
}

export interface StoreTiming {
  /**
   * After `beginOnboarding`, the partner confirms after this long; `null`: only when a person confirms it
   * ({@link TenantStore.confirmOnboarding}), as on a real tenant.
   */
  onboardingDelayMs: number | null;
  /** An unconfirmed onboarding request expires after this long and the partner is `notOnboarded` again. */
  onboardingExpiryMs: number;
  /** A created partner is invisible to reads for this long (Intune's eventual consistency). */
  readLagMs: number;
}

const NEVER = "0001-01-01T00:00:00Z";

/** `microsoft.graph.remoteAssistanceSettings`: Remote Help's switches for a tenant (a singleton). */
export interface RemoteHelpSettings {
  remoteAssistanceState: "disabled" | "enabled";
  allowSessionsToUnenrolledDevices: boolean;
  blockChat: boolean;
}

/** The partners of one tenant, with the onboarding state machine evaluated lazily from timestamps. */
export class TenantStore {
  private readonly partners = new Map<string, StoredPartner>();
  /** Remote Help's tenant settings (beta `remoteAssistanceSettings`), as a tenant starts: not configured. */
  readonly remoteHelp: RemoteHelpSettings = {
    remoteAssistanceState: "disabled",
    allowSessionsToUnenrolledDevices: false,
    blockChat: false,
  };

  constructor(private readonly timing: () => StoreTiming) {}

  /** Every partner, settled at `nowMs`, lagging ones included (the emulator's own view). */
  all(nowMs = Date.now()): StoredPartner[] {
    return [...this.partners.values()].map((p) => this.settle(p, nowMs));
  }

  /** What Graph shows at `nowMs`: partners still inside the read lag are hidden. */
  visible(nowMs = Date.now()): StoredPartner[] {
    return this.all(nowMs).filter((p) => nowMs >= p.createdAtMs + this.timing().readLagMs);
  }

  find(id: string, nowMs = Date.now()): StoredPartner | undefined {
    return this.visible(nowMs).find((p) => p.id === id);
  }

  create(
    fields: { displayName?: string | null; onboardingUrl?: string | null },
    nowMs = Date.now(),
  ): StoredPartner {
    const partner: StoredPartner = {
      id: randomUUID(),
      displayName: fields.displayName ?? null,
      onboardingUrl: fields.onboardingUrl ?? null,
      status: "notOnboarded",
      createdAtMs: nowMs,
    };
    this.partners.set(partner.id, partner);
    return partner;
  }

  /** Puts a partner in place as if it had existed for long (seeds, portal-side changes). */
  seed(partner: Partial<StoredPartner> & { displayName: string }): StoredPartner {
    const stored: StoredPartner = {
      id: randomUUID(),
      onboardingUrl: null,
      status: "notOnboarded",
      ...partner,
      createdAtMs: 0,
    };
    if (stored.status === "onboarded") stored.lastConnectionAtMs ??= Date.now();
    this.partners.set(stored.id, stored);
    return stored;
  }

  update(id: string, fields: { displayName?: string | null; onboardingUrl?: string | null }): void {
    const p = this.partners.get(id);
    if (p) Object.assign(p, fields);
  }

  delete(id: string): boolean {
    return this.partners.delete(id);
  }

  beginOnboarding(id: string, nowMs = Date.now()): void {
    const p = this.partners.get(id);
    if (!p || this.settle(p, nowMs).status !== "notOnboarded") return;
    p.status = "onboarding";
    p.onboardingStartedAtMs = nowMs;
    p.onboardingExpiresAtMs = nowMs + this.timing().onboardingExpiryMs;
  }

  /**
   * What an administrator signing in at the partner's site does: a pending onboarding becomes `onboarded`.
   * Throws when the partner is not waiting for it.
   */
  confirmOnboarding(id: string, nowMs = Date.now()): StoredPartner {
    const p = this.partners.get(id);
    if (!p) throw new Error(`no partner ${id}`);
    const status = this.settle(p, nowMs).status;
    if (status !== "onboarding") throw new Error(`partner ${id} is ${status}, not waiting for onboarding`);
    p.status = "onboarded";
    p.lastConnectionAtMs = nowMs;
    p.onboardingExpiresAtMs = undefined;
    return p;
  }

  disconnect(id: string): void {
    const p = this.partners.get(id);
    if (!p) return;
    p.status = "notOnboarded";
    p.onboardingStartedAtMs = undefined;
    p.onboardingExpiresAtMs = undefined;
  }

  /** Portal-side change (an admin in the Intune portal or the partner's console). */
  setStatus(id: string, status: OnboardingStatus, nowMs = Date.now()): void {
    const p = this.partners.get(id);
    if (!p) throw new Error(`no partner ${id}`);
    this.disconnect(id);
    p.status = status;
    if (status === "onboarded") p.lastConnectionAtMs = nowMs;
    if (status === "onboarding") {
      p.onboardingStartedAtMs = nowMs;
      p.onboardingExpiresAtMs = nowMs + this.timing().onboardingExpiryMs;
    }
  }

  private settle(p: StoredPartner, nowMs: number): StoredPartner {
    if (p.status !== "onboarding" || p.onboardingStartedAtMs === undefined) return p;
    const { onboardingDelayMs } = this.timing();
    const confirmedAtMs = onboardingDelayMs === null ? Infinity : p.onboardingStartedAtMs + onboardingDelayMs;
    if (nowMs >= confirmedAtMs && confirmedAtMs < (p.onboardingExpiresAtMs ?? Infinity)) {
      p.status = "onboarded";
      p.lastConnectionAtMs = confirmedAtMs;
      p.onboardingExpiresAtMs = undefined;
    } else if (nowMs >= (p.onboardingExpiresAtMs ?? Infinity)) {
      p.status = "notOnboarded";
      p.onboardingExpiresAtMs = undefined;
    }
    return p;
  }
}

/** The entity as Graph returns it for an API version. */
export function toGraphEntity(p: StoredPartner, apiVersion: string): Record<string, unknown> {
  const entity: Record<string, unknown> = {
    "@odata.type": "#microsoft.graph.remoteAssistancePartner",
    id: p.id,
    displayName: p.displayName,
    onboardingUrl: p.onboardingUrl,
    onboardingStatus: p.status,
    lastConnectionDateTime: p.lastConnectionAtMs ? new Date(p.lastConnectionAtMs).toISOString() : NEVER,
  };
  if (apiVersion === "beta") {
    entity.onboardingRequestExpiryDateTime = p.onboardingExpiresAtMs
      ? new Date(p.onboardingExpiresAtMs).toISOString()
      : NEVER;
  }
  return entity;
}
