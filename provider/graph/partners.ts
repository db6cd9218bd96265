import type { ApiVersion, GraphClient } from "./client";
import { GraphError, isGraphError } from "./errors";

export const onboardingStatuses = ["notOnboarded", "onboarding", "onboarded"] as const;
/** `remoteAssistanceOnboardingStatus`. */
export type OnboardingStatus = (typeof onboardingStatuses)[number];

/** `microsoft.graph.remoteAssistancePartner`, the properties this provider reads; others are ignored. */
export interface Partner {
  id: string;
  displayName: string | null;
  onboardingUrl: string | null;
  onboardingStatus: OnboardingStatus;
  lastConnectionDateTime?: string;
  /** beta only. */
  onboardingRequestExpiryDateTime?: string;
}

/** Writable properties. */
export interface PartnerFields {
  displayName?: string;
  onboardingUrl?: string | null;
}

export const PARTNERS_PATH = "/deviceManagement/remoteAssistancePartners";

/** The remoteAssistancePartners surface of Graph, one method per documented operation. */
export class PartnersApi {
  constructor(
    private readonly client: GraphClient,
    readonly apiVersion: ApiVersion,
  ) {}

  async list(): Promise<Partner[]> {
    return (await this.client.list<Record<string, unknown>>(PARTNERS_PATH, this.apiVersion)).map(toPartner);
  }

  /** The partner, or `undefined` when Graph answers 404. */
  async get(id: string): Promise<Partner | undefined> {
    try {
      const body = await this.client.send<Record<string, unknown>>(this.request("GET", itemPath(id)));
      return body === undefined ? undefined : toPartner(body);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** POSTs a new partner. Never re-sent after an answer was lost: see `GraphError.outcomeUnknown`. */
  async create(fields: PartnerFields): Promise<Partner> {
    const body = await this.client.send<Record<string, unknown>>({
      ...this.request("POST", PARTNERS_PATH),
      body: { "@odata.type": "#microsoft.graph.remoteAssistancePartner", ...fields },
    });
    if (body === undefined || typeof body.id !== "string") {
      throw new GraphError({
        statusCode: 201,
        code: GraphError.INVALID_RESPONSE,
        message: "the created partner came back without an id",
        method: "POST",
        path: PARTNERS_PATH,
        outcomeUnknown: true,
      });
    }
    return toPartner(body);
  }

  /** PATCHes the given fields (Graph may answer 200 with the entity or 204). Resolves `false` on 404. */
  async update(id: string, fields: PartnerFields): Promise<boolean> {
    return this.call("PATCH", itemPath(id), fields);
  }

  /** DELETEs the partner; resolves `false` when it was already gone (404). */
  async delete(id: string): Promise<boolean> {
    return this.call("DELETE", itemPath(id));
  }

  /** `beginOnboarding`: `notOnboarded` → `onboarding`. Resolves `false` on 404. */
  async beginOnboarding(id: string): Promise<boolean> {
    return this.call("POST", `${itemPath(id)}/beginOnboarding`);
  }

  /** `disconnect`: removes the active connector, leaving `notOnboarded`. Resolves `false` on 404. */
  async disconnect(id: string): Promise<boolean> {
    return this.call("POST", `${itemPath(id)}/disconnect`);
  }

  private async call(
    method: "POST" | "PATCH" | "DELETE",
    path: string,
    body?: PartnerFields,
  ): Promise<boolean> {
    try {
      // Writes to one partner converge on the same state when repeated, so they are safe to retry.
      await this.client.send({ ...this.request(method, path), body, idempotent: true });
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  private request(method: "GET" | "POST" | "PATCH" | "DELETE", path: string) {
    return { method, path, apiVersion: this.apiVersion };
  }
}

function itemPath(id: string): string {
  return `${PARTNERS_PATH}/${encodeURIComponent(id)}`;
}

/** True for Graph's 404. */
export function isNotFound(e: unknown): boolean {
  return isGraphError(e) && e.statusCode === 404;
}

function toPartner(body: Record<string, unknown>): Partner {
  const text = (v: unknown) => (typeof v === "string" ? v : undefined);
  const status = text(body.onboardingStatus);
  return {
    id: String(body.id),
    displayName: text(body.displayName) ?? null,
    onboardingUrl: text(body.onboardingUrl) ?? null,
    onboardingStatus: (onboardingStatuses as readonly string[]).includes(status ?? "")
      ? (status as OnboardingStatus)
      : "notOnboarded",
    lastConnectionDateTime: text(body.lastConnectionDateTime),
    onboardingRequestExpiryDateTime: text(body.onboardingRequestExpiryDateTime),
  };
}
