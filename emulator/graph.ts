import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AccessTokenClaims, Entra } from "./entra";
import type { Fault, FaultPlan } from "./faults";
import { toGraphEntity, type RemoteHelpSettings, type TenantStore } from "./store";
import type { Throttle } from "./throttle";

/** One Graph request as the emulator saw it. The Authorization header is never recorded. */
export interface LoggedRequest {
  atMs: number;
  method: string;
  /** Path below the API version, e.g. `/deviceManagement/remoteAssistancePartners/{id}/disconnect`. */
  path: string;
  query: string;
  apiVersion: string;
  tenantId?: string;
  clientId?: string;
  status: number;
  requestId: string;
  clientRequestId?: string;
  /** Request headers, `authorization` removed. */
  headers: Record<string, string>;
  body: string;
  /** The fault injected, if any. */
  fault?: Fault["kind"];
  /** Whether the request changed the store (a write that was carried out). */
  committed: boolean;
}

/** Behaviour switches of the Graph side. */
export interface GraphBehaviour {
  /** Page size of list answers. */
  pageSize: number;
  /** PATCH answers 200 with the entity (documented) or 204 (as other Intune endpoints do). */
  patchStatus: 200 | 204;
  /** An action in a state where it has nothing to do answers 204, or 400 as some Intune actions do. */
  actionInWrongState: "noContent" | "badRequest";
  /** Adds properties this client does not know to every entity, as newer Graph versions do. */
  extraResponseProperties: boolean;
  /**
   * How long Graph works on a request it admitted before answering, in ms, spread evenly over this range (it
   * counted the request against the limits on arrival); a 429 comes at once, from the throttle in front of it.
   */
  processingMs: readonly [number, number];
  // The unconfirmed alternatives of a real tenant (remote-assistance-api.md, "What a real tenant most likely holds").
  /** The service writes its own `onboardingUrl` when onboarding begins. */
  rewriteOnboardingUrl: boolean;
  /** PATCH is answered 204 but not applied. */
  ignorePatch: boolean;
  /** POST and DELETE of partners are refused (405): the tenant holds only Intune's own row. */
  refuseCreateDelete: boolean;
  /** 429 answers carry no `Retry-After`. */
  throttleWithoutRetryAfter: boolean;
  /** `beginOnboarding` with an app-only token is refused (403): onboarding needs a signed-in administrator. */
  appOnlyOnboardingForbidden: boolean;
  /** `DeviceManagementConfiguration.ReadWrite.All` is accepted as well as `DeviceManagementServiceConfig.*`. */
  configurationPermission: boolean;
}

/** The behaviour switches of the unconfirmed alternatives, by name, for the CLI and tests. */
export const alternatives = [
  "rewriteOnboardingUrl",
  "ignorePatch",
  "refuseCreateDelete",
  "throttleWithoutRetryAfter",
  "appOnlyOnboardingForbidden",
  "configurationPermission",
] as const;
export type Alternative = (typeof alternatives)[number];

const PARTNERS = "/deviceManagement/remoteAssistancePartners";
const SETTINGS = "/deviceManagement/remoteAssistanceSettings";
const READ = ["DeviceManagementServiceConfig.Read.All", "DeviceManagementServiceConfig.ReadWrite.All"];
const WRITE = ["DeviceManagementServiceConfig.ReadWrite.All"];
const CONFIGURATION = "DeviceManagementConfiguration.ReadWrite.All";
const WRITABLE = new Set(["displayName", "onboardingUrl"]);
const READ_ONLY = new Set([
  "id",
  "onboardingStatus",
  "lastConnectionDateTime",
  "onboardingRequestExpiryDateTime",
]);

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  committed: boolean;
}

/** The Graph side of the emulator: remoteAssistancePartners in `beta` and `v1.0`. */
export class GraphService {
  readonly requests: LoggedRequest[] = [];

  constructor(
    private readonly origin: () => string,
    private readonly entra: Entra,
    private readonly tenant: (id: string) => TenantStore | undefined,
    private readonly faults: FaultPlan,
    private readonly throttle: () => Throttle | undefined,
    private readonly behaviour: () => GraphBehaviour,
    /** Called once a request has been answered (or its connection dropped). */
    private readonly onAnswered?: (request: LoggedRequest) => void,
  ) {}

  handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? "/", this.origin());
    const [, apiVersion = "", ...segments] = url.pathname.split("/");
    const method = req.method ?? "GET";
    const path = `/${segments.map(decodeURIComponent).join("/")}`;
    const requestId = randomUUID();
    const clientRequestId = header(req, "client-request-id");
    const entry: LoggedRequest = {
      atMs: Date.now(),
      method,
      path,
      query: url.search,
      apiVersion,
      status: 0,
      requestId,
      clientRequestId,
      headers: Object.fromEntries(
        Object.entries(req.headers)
          .filter(([k]) => k !== "authorization")
          .map(([k, v]) => [k, String(v)]),
      ),
      body,
      committed: false,
    };
    this.requests.push(entry);
    res.once("close", () => this.onAnswered?.(entry));
    const respond = (answer: Answer, fault?: Fault) => {
      entry.status = answer.status;
      entry.committed = answer.committed;
      if (fault) entry.fault = fault.kind;
      this.write(res, answer, requestId, clientRequestId, fault);
    };

    if (apiVersion !== "beta" && apiVersion !== "v1.0") {
      return respond(error(400, "BadRequest", `Invalid version: ${apiVersion}`));
    }
    const auth = this.authenticate(req);
    if (typeof auth === "string") {
      return respond({
        ...error(401, "InvalidAuthenticationToken", auth),
        headers: {
          "WWW-Authenticate": `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`,
        },
      });
    }
    entry.tenantId = auth.tid;
    entry.clientId = auth.appid;
    const write = method !== "GET";
    const waitMs = this.throttle()?.admit(auth.tid, auth.appid, write) ?? 0;
    const behaviour = this.behaviour();
    if (waitMs > 0) {
      return respond({
        ...error(
          429,
          "TooManyRequests",
          intuneMessage("Too many requests. Retry after the time given in Retry-After."),
        ),
        headers: behaviour.throttleWithoutRetryAfter
          ? {}
          : { "Retry-After": String(Math.ceil(waitMs) / 1000) },
      });
    }
    const granted = new Set([...(auth.roles ?? []), ...(auth.scp ?? "").split(" ")]);
    const accepted = [
      ...(write ? WRITE : READ),
      ...(behaviour.configurationPermission ? [CONFIGURATION] : []),
    ];
    if (!accepted.some((p) => granted.has(p))) {
      return respond(
        error(
          403,
          "Forbidden",
          intuneMessage(
            `Application is not authorized to perform this operation. Application must have one of the following scopes: ${accepted.join(", ")}`,
          ),
        ),
      );
    }
    if (behaviour.appOnlyOnboardingForbidden && !auth.scp && path.endsWith("/beginOnboarding")) {
      return respond(
        error(
          403,
          "Forbidden",
          intuneMessage(
            "Onboarding a remote assistance partner requires a signed-in Intune or Global administrator; application permissions are not supported.",
          ),
        ),
      );
    }
    const fault = this.faults.take(method, path, auth.tid);
    if (fault?.kind === "status") return respond(faultAnswer(fault), fault);
    if (fault?.kind === "drop" && fault.when === "beforeCommit") {
      entry.fault = "drop";
      entry.status = -1;
      req.socket.destroy();
      return;
    }
    const store = this.tenant(auth.tid);
    const answer = store
      ? this.route(method, path, url, body, store, apiVersion, auth.tid)
      : error(403, "Forbidden", "The tenant has no Intune licence.");
    if (!fault) {
      const [quickest, longest] = behaviour.processingMs;
      if (longest <= 0) return respond(answer);
      setTimeout(
        () => {
          if (!res.destroyed) respond(answer);
        },
        quickest + Math.random() * (longest - quickest),
      );
      return;
    }
    entry.status = answer.status;
    entry.committed = answer.committed;
    entry.fault = fault.kind;
    if (fault.kind === "drop") {
      req.socket.destroy();
    } else if (fault.kind === "slow") {
      setTimeout(() => {
        if (!res.destroyed) this.write(res, answer, requestId, clientRequestId);
      }, fault.delayMs);
    } else {
      this.write(res, answer, requestId, clientRequestId, fault);
    }
  }

  private authenticate(req: IncomingMessage): AccessTokenClaims | string {
    const authorization = header(req, "authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match) return "Access token is empty.";
    return this.entra.validate(match[1], this.origin());
  }

  private route(
    method: string,
    path: string,
    url: URL,
    body: string,
    store: TenantStore,
    apiVersion: string,
    tenantId: string,
  ): Answer {
    const behaviour = this.behaviour();
    const refused = (what: string) =>
      error(
        405,
        "MethodNotAllowed",
        intuneMessage(`${what} remoteAssistancePartners is not supported in this tenant.`),
      );
    const entity = (p: Parameters<typeof toGraphEntity>[0]) => {
      const e = toGraphEntity(p, apiVersion);
      return behaviour.extraResponseProperties
        ? { ...e, "@odata.etag": `W/"${randomUUID()}"`, partnerFeatureFlags: ["futureValue"] }
        : e;
    };
    if (path === SETTINGS && apiVersion === "beta") return this.remoteHelp(method, body, store, behaviour);
    if (!path.startsWith(PARTNERS)) {
      return error(400, "BadRequest", `Resource not found for the segment '${path.split("/")[2] ?? ""}'.`);
    }
    const [id, action, ...extra] = path.slice(PARTNERS.length).split("/").filter(Boolean);
    if (extra.length > 0)
      return error(400, "BadRequest", `Resource not found for the segment '${extra[0]}'.`);
    const context = `${this.origin()}/${apiVersion}/$metadata#deviceManagement/remoteAssistancePartners`;

    if (id === undefined) {
      if (method === "GET") {
        const all = store.visible();
        const top = Number(url.searchParams.get("$top") ?? this.behaviour().pageSize);
        const skip = Number(url.searchParams.get("$skiptoken") ?? 0);
        const page = all.slice(skip, skip + top);
        const result: Record<string, unknown> = { "@odata.context": context, value: page.map(entity) };
        if (skip + top < all.length) {
          result["@odata.nextLink"] =
            `${this.origin()}/${apiVersion}${PARTNERS}?$top=${top}&$skiptoken=${skip + top}`;
        }
        return { status: 200, body: result, committed: false };
      }
      if (method === "POST") {
        if (behaviour.refuseCreateDelete) return refused("Creating");
        const fields = parseFields(body, apiVersion);
        if (typeof fields === "string") return error(400, "BadRequest", fields);
        const created = store.create(fields);
        return {
          status: 201,
          body: { "@odata.context": `${context}/$entity`, ...entity(created) },
          headers: { Location: `${this.origin()}/${apiVersion}${PARTNERS}/${created.id}` },
          committed: true,
        };
      }
      return error(405, "MethodNotAllowed", `${method} is not allowed on remoteAssistancePartners.`);
    }

    const partner = store.find(id);
    if (!partner) {
      return error(
        404,
        "ResourceNotFound",
        intuneMessage(`No remoteAssistancePartner with id ${id} exists.`),
      );
    }
    if (action === undefined) {
      if (method === "GET")
        return {
          status: 200,
          body: { "@odata.context": `${context}/$entity`, ...entity(partner) },
          committed: false,
        };
      if (method === "PATCH") {
        const fields = parseFields(body, apiVersion);
        if (typeof fields === "string") return error(400, "BadRequest", fields);
        if (behaviour.ignorePatch) return { status: 204, committed: false };
        store.update(id, fields);
        return behaviour.patchStatus === 204
          ? { status: 204, committed: true }
          : {
              status: 200,
              body: { "@odata.context": `${context}/$entity`, ...entity(store.find(id)!) },
              committed: true,
            };
      }
      if (method === "DELETE") {
        if (behaviour.refuseCreateDelete) return refused("Deleting");
        store.delete(id);
        return { status: 204, committed: true };
      }
      return error(405, "MethodNotAllowed", `${method} is not allowed on a remoteAssistancePartner.`);
    }
    if (method !== "POST" || (action !== "beginOnboarding" && action !== "disconnect")) {
      return error(400, "BadRequest", `Resource not found for the segment '${action}'.`);
    }
    if (body.trim() !== "") return error(400, "BadRequest", `The action '${action}' takes no request body.`);
    const hasWork =
      action === "beginOnboarding" ? partner.status === "notOnboarded" : partner.status !== "notOnboarded";
    if (!hasWork && behaviour.actionInWrongState === "badRequest") {
      return error(
        400,
        "BadRequest",
        intuneMessage(`The partner is ${partner.status}; ${action} is not valid now.`),
      );
    }
    if (action === "beginOnboarding") {
      store.beginOnboarding(id);
      if (hasWork && behaviour.rewriteOnboardingUrl) {
        store.update(id, {
          onboardingUrl: `https://login.teamviewer.com/nav/intune/onboard?tenant=${tenantId}&request=${randomUUID()}`,
        });
      }
    } else store.disconnect(id);
    return { status: 204, committed: hasWork };
  }

  /** `/deviceManagement/remoteAssistanceSettings`, beta only: GET and PATCH of a singleton. */
  private remoteHelp(method: string, body: string, store: TenantStore, behaviour: GraphBehaviour): Answer {
    const entity = () => ({
      "@odata.context": `${this.origin()}/beta/$metadata#deviceManagement/remoteAssistanceSettings/$entity`,
      "@odata.type": "#microsoft.graph.remoteAssistanceSettings",
      id: "remoteAssistanceSettings",
      ...store.remoteHelp,
    });
    if (method === "GET") return { status: 200, body: entity(), committed: false };
    if (method !== "PATCH") {
      return error(405, "MethodNotAllowed", `${method} is not allowed on remoteAssistanceSettings.`);
    }
    const fields = parseRemoteHelp(body);
    if (typeof fields === "string") return error(400, "BadRequest", fields);
    if (behaviour.ignorePatch) return { status: 204, committed: false };
    Object.assign(store.remoteHelp, fields);
    return behaviour.patchStatus === 204
      ? { status: 204, committed: true }
      : { status: 200, body: entity(), committed: true };
  }

  private write(
    res: ServerResponse,
    answer: Answer,
    requestId: string,
    clientRequestId: string | undefined,
    fault?: Fault,
  ): void {
    const date = new Date().toUTCString();
    const headers: Record<string, string> = {
      "request-id": requestId,
      "x-ms-ags-diagnostic": JSON.stringify({
        ServerInfo: { DataCenter: "Emulator", Slice: "E", Ring: "0" },
      }),
      "Strict-Transport-Security": "max-age=31536000",
      Date: date,
      ...answer.headers,
    };
    if (clientRequestId) headers["client-request-id"] = clientRequestId;
    if (answer.body === undefined) {
      res.writeHead(answer.status, headers);
      res.end();
      return;
    }
    let text: string;
    if (typeof answer.body === "string") {
      text = answer.body;
      headers["Content-Type"] ??= "text/plain";
    } else {
      const body = answer.body as { error?: { innerError?: Record<string, string> } };
      if (body.error)
        body.error.innerError = {
          date: new Date().toISOString().slice(0, 19),
          "request-id": requestId,
          "client-request-id": clientRequestId ?? "",
        };
      text = JSON.stringify(body);
      headers["Content-Type"] =
        "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";
      headers["OData-Version"] = "4.0";
    }
    if (fault?.kind === "malformed") text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
    res.writeHead(answer.status, headers);
    res.end(text);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function error(status: number, code: string, message: string): Answer {
  return { status, body: { error: { code, message } }, committed: false };
}

/** Intune's habit: its own error JSON serialized inside Graph's `error.message`. */
export function intuneMessage(message: string): string {
  return JSON.stringify(
    {
      _version: 3,
      Message: `${message} - Operation ID (for customer support): ${randomUUID()} - Activity ID: ${randomUUID()} - Url: https://fef.emulator.manage.microsoft.com/DeviceFE/StatelessDeviceFEService/deviceManagement/remoteAssistancePartners - CustomApiErrorPhrase: `,
      CustomApiErrorPhrase: "",
      RetryAfter: null,
      ErrorSourceService: "",
      HttpHeaders: "{}",
    },
    null,
    2,
  ).replace(/\n/g, "\r\n");
}

function faultAnswer(fault: Extract<Fault, { kind: "status" }>): Answer {
  const headers: Record<string, string> = {};
  if (fault.retryAfter !== undefined) headers["Retry-After"] = fault.retryAfter;
  if (fault.retryAfterMs !== undefined) headers["retry-after-ms"] = String(fault.retryAfterMs);
  const code = fault.code ?? defaultCode(fault.status);
  switch (fault.body ?? "graph") {
    case "graph":
      return {
        status: fault.status,
        headers,
        body: { error: { code, message: `Injected ${fault.status}.` } },
        committed: false,
      };
    case "intune":
      return {
        status: fault.status,
        headers,
        body: { error: { code, message: intuneMessage("An error has occurred") } },
        committed: false,
      };
    case "text":
      return {
        status: fault.status,
        headers: { ...headers, "Content-Type": "text/html" },
        body: `<html><body><h1>${fault.status} Service Unavailable</h1>The service is temporarily unavailable.</body></html>`,
        committed: false,
      };
    case "empty":
      return { status: fault.status, headers, committed: false };
  }
}

function defaultCode(status: number): string {
  const codes: Record<number, string> = {
    400: "BadRequest",
    401: "InvalidAuthenticationToken",
    403: "Forbidden",
    404: "ResourceNotFound",
    409: "Conflict",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
  };
  return codes[status] ?? "UnknownError";
}

/** A request body that must be a JSON object; the error text Graph gives when it is not. */
function jsonObject(body: string): Record<string, unknown> | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.";
  }
  return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : "The request body must be a JSON object.";
}

function parseFields(
  body: string,
  apiVersion: string,
): { displayName?: string | null; onboardingUrl?: string | null } | string {
  const parsed = jsonObject(body);
  if (typeof parsed === "string") return parsed;
  const fields: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (key === "@odata.type") {
      if (value !== "#microsoft.graph.remoteAssistancePartner")
        return `Invalid @odata.type '${String(value)}'.`;
      continue;
    }
    if (READ_ONLY.has(key) && (apiVersion === "beta" || key !== "onboardingRequestExpiryDateTime")) continue;
    if (!WRITABLE.has(key)) {
      return `Invalid JSON. A property with the name '${key}' does not exist on the type 'microsoft.graph.remoteAssistancePartner'.`;
    }
    if (value !== null && typeof value !== "string")
      return `Cannot convert the value of '${key}' to Edm.String.`;
    fields[key] = value;
  }
  return fields;
}

/** A PATCH body of remoteAssistanceSettings: its three properties, typed as Graph types them. */
function parseRemoteHelp(body: string): Partial<RemoteHelpSettings> | string {
  const parsed = jsonObject(body);
  if (typeof parsed === "string") return parsed;
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (key === "@odata.type" || key === "id") continue;
    if (key === "remoteAssistanceState") {
      if (value !== "enabled" && value !== "disabled")
        return `The value '${String(value)}' is not valid for remoteAssistanceState (enabled, disabled).`;
    } else if (key === "allowSessionsToUnenrolledDevices" || key === "blockChat") {
      if (typeof value !== "boolean") return `Cannot convert the value of '${key}' to Edm.Boolean.`;
    } else {
      return `Invalid JSON. A property with the name '${key}' does not exist on the type 'microsoft.graph.remoteAssistanceSettings'.`;
    }
    fields[key] = value;
  }
  return fields as Partial<RemoteHelpSettings>;
}
