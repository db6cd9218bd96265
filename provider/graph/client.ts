import { randomUUID } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import fetch, { type Response } from "node-fetch";
import type { TokenSource } from "./auth";
import type { Pacer } from "./pacer";
import { GraphError, parseErrorBody } from "./errors";
import {
  decideRetry,
  defaultRetryOptions,
  parseRetryAfterInMs,
  type AttemptOutcome,
  type RetryOptions,
} from "./retry";

export type ApiVersion = "beta" | "v1.0";
export const apiVersions: readonly ApiVersion[] = ["beta", "v1.0"];

export interface GraphClientOptions {
  /** Graph root, e.g. `https://graph.microsoft.com` (the emulator: `http://127.0.0.1:<port>`). */
  graphEndpoint: string;
  tokens: TokenSource;
  retry?: Partial<RetryOptions>;
  /** Time one attempt may take, body included. Default 60 s. */
  requestTimeoutInMs?: number;
  /** Receives one line per retry wait, for the person running `pulumi up`. */
  onRetry?: (message: string) => void;
  /** Awaited before each attempt is sent: a provider process whose engine is gone never sends it. */
  beforeAttempt?: () => Promise<void> | undefined;
  /** Client-side pacing around every attempt (a {@link Pacer}); none when undefined. */
  pacer?: Pick<Pacer, "acquire" | "settle">;
  /** Source of jitter; `Math.random` by default. */
  random?: () => number;
  userAgent?: string;
}

export interface GraphRequest {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Path below the API version, starting with `/`. */
  path: string;
  apiVersion: ApiVersion;
  /** JSON body; none when undefined. */
  body?: unknown;
  /** Whether repeating the request is harmless. Default: every method but POST. */
  idempotent?: boolean;
  abortSignal?: AbortSignal;
}

type Attempt =
  | { kind: "response"; response: Response; text: string }
  | { kind: "failure"; outcome: Exclude<AttemptOutcome, { kind: "status" | "unreadable" }>; error: unknown };

/** Connections kept alive and shared by every client of the process: all tenants talk to one Graph host. */
const agents = {
  "http:": new http.Agent({ keepAlive: true }),
  "https:": new https.Agent({ keepAlive: true }),
};

const NOT_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * A small Microsoft Graph client: JSON over node-fetch, a fresh `client-request-id` per request, bounded retries
 * of transient failures, one forced token refresh on 401, and {@link GraphError} for everything else.
 */
export class GraphClient {
  private readonly origin: string;
  private readonly retry: RetryOptions;
  private readonly timeoutInMs: number;
  private readonly random: () => number;

  constructor(private readonly options: GraphClientOptions) {
    this.origin = new URL(options.graphEndpoint).origin;
    this.retry = { ...defaultRetryOptions, ...options.retry };
    this.timeoutInMs = options.requestTimeoutInMs ?? 60_000;
    this.random = options.random ?? Math.random;
  }

  /** Sends one request; resolves the parsed JSON body, or `undefined` for an answer without one (204). */
  async send<T>(request: GraphRequest): Promise<T | undefined> {
    const url = `${this.options.graphEndpoint.replace(/\/+$/, "")}/${request.apiVersion}${request.path}`;
    return this.sendTo<T>(url, request);
  }

  /** GETs a collection and follows `@odata.nextLink` to the end, on Graph's origin only. */
  async list<T>(path: string, apiVersion: ApiVersion, abortSignal?: AbortSignal): Promise<T[]> {
    const items: T[] = [];
    const request: GraphRequest = { method: "GET", path, apiVersion, abortSignal };
    let page = await this.send<{ value?: T[]; "@odata.nextLink"?: string }>(request);
    for (;;) {
      items.push(...(page?.value ?? []));
      const next = page?.["@odata.nextLink"];
      if (!next) return items;
      if (new URL(next, this.origin).origin !== this.origin) {
        throw new GraphError({
          code: GraphError.FOREIGN_ORIGIN,
          message: `@odata.nextLink points to another origin (${new URL(next).origin}); not followed`,
          method: "GET",
          path,
        });
      }
      page = await this.sendTo(new URL(next, this.origin).href, request);
    }
  }

  private async sendTo<T>(url: string, request: GraphRequest): Promise<T | undefined> {
    const { method } = request;
    const idempotent = request.idempotent ?? method !== "POST";
    const path = request.path;
    let startedAtInMs = Date.now();
    let retries = 0;
    let tokenRefreshed = false;
    let freshConnection = false;
    const earlierRequestIds: string[] = [];
    for (;;) {
      const clientRequestId = randomUUID();
      const token = await this.options.tokens.getToken({ abortSignal: request.abortSignal });
      // The pacer's waits are scheduling, not retrying: they do not count against the retry deadline.
      const ticket = await this.options.pacer?.acquire(method !== "GET");
      startedAtInMs += ticket?.waitedInMs ?? 0;
      let attempt: Attempt | undefined;
      let retryAfterInMs: number | undefined;
      try {
        await this.options.beforeAttempt?.();
        attempt = await this.attempt(url, request, token, clientRequestId, freshConnection);
        if (attempt.kind === "response") {
          const { headers } = attempt.response;
          retryAfterInMs = parseRetryAfterInMs((n) => headers.get(n), Date.now());
        }
      } finally {
        const throttled = attempt?.kind === "response" && attempt.response.status === 429;
        if (ticket) this.options.pacer!.settle(ticket, { throttled, retryAfterInMs });
      }
      let outcome: AttemptOutcome;
      let error: GraphError;
      if (attempt.kind === "response") {
        const { response, text } = attempt;
        const ids = {
          requestId: response.headers.get("request-id") ?? undefined,
          clientRequestId,
          date: response.headers.get("date") ?? undefined,
        };
        if (response.status >= 200 && response.status < 300) {
          if (text.trim() === "") return undefined;
          try {
            return JSON.parse(text) as T;
          } catch (e) {
            outcome = { kind: "unreadable" };
            error = new GraphError({
              statusCode: response.status,
              code: GraphError.INVALID_RESPONSE,
              message: "the response body is not valid JSON",
              method,
              path,
              ...ids,
              outcomeUnknown: true,
              cause: e,
            });
          }
        } else if (response.status === 401 && !tokenRefreshed) {
          // A token that should still be valid was refused (revoked, or a CAE challenge): renew it once.
          tokenRefreshed = true;
          const claims = claimsChallenge(response.headers.get("www-authenticate"));
          await this.options.tokens.getToken({
            forceRefresh: true,
            claims,
            abortSignal: request.abortSignal,
          });
          continue;
        } else {
          outcome = { kind: "status", status: response.status, retryAfterInMs };
          error = httpError(response, text, method, path, ids, earlierRequestIds, token);
        }
      } else {
        outcome = attempt.outcome;
        error = transportError(
          attempt,
          { method, path, origin: new URL(url).origin },
          clientRequestId,
          this.timeoutInMs,
          earlierRequestIds,
        );
      }
      const decision = decideRetry(
        outcome,
        {
          retriesSoFar: retries,
          idempotent,
          remainingInMs: startedAtInMs + this.retry.deadlineInMs - Date.now(),
          random: this.random(),
        },
        this.retry,
      );
      if (decision.action === "fail") {
        if (decision.reason !== "deadline") throw error;
        throw new GraphError({
          statusCode: error.statusCode,
          code: GraphError.RETRY_DEADLINE,
          message:
            `after ${error.code}, a retry would wait ${seconds(decision.delayInMs)}, more than the ` +
            `${seconds(Math.max(0, startedAtInMs + this.retry.deadlineInMs - Date.now()))} left of the ` +
            `${seconds(this.retry.deadlineInMs)} retry deadline (intune:retryDeadlineSeconds)`,
          method,
          path,
          requestId: error.requestId,
          clientRequestId: error.clientRequestId,
          date: error.date,
          earlierRequestIds,
          cause: error,
        });
      }
      retries++;
      earlierRequestIds.push(error.requestId ?? `client-request-id ${clientRequestId}`);
      this.options.onRetry?.(
        `Graph ${method} ${path} met ${decision.because}` +
          (error.requestId ? ` (request-id ${error.requestId})` : "") +
          `; retry ${retries}/${this.retry.maxRetries} in ${seconds(decision.delayInMs)}`,
      );
      await sleep(decision.delayInMs, request.abortSignal).catch(() => {
        throw new GraphError({
          code: GraphError.ABORTED,
          message: "the operation was cancelled",
          method,
          path,
        });
      });
      // Graph asks for a new connection after a 503; a broken one is not reused either.
      freshConnection = outcome.kind !== "status" || outcome.status === 503;
    }
  }

  private async attempt(
    url: string,
    request: GraphRequest,
    token: string,
    clientRequestId: string,
    freshConnection: boolean,
  ): Promise<Attempt> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.timeoutInMs);
    const signal = request.abortSignal
      ? AbortSignal.any([request.abortSignal, timeout.signal])
      : timeout.signal;
    const headers: Record<string, string> = {
      Authorization: `Bearer ${token}`,
      Accept: "application/json",
      "client-request-id": clientRequestId,
      "User-Agent": this.options.userAgent ?? "pulumi-intune-remote-assistance",
    };
    if (request.body !== undefined) headers["Content-Type"] = "application/json";
    try {
      const response = await fetch(url, {
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        redirect: "manual",
        signal: signal as never,
        agent: (parsed: URL) =>
          freshConnection
            ? new (parsed.protocol === "https:" ? https : http).Agent({ keepAlive: false })
            : agents[parsed.protocol as "http:" | "https:"],
      });
      const text = await response.text();
      return { kind: "response", response, text };
    } catch (error) {
      if (request.abortSignal?.aborted) {
        throw new GraphError({
          code: GraphError.ABORTED,
          message: "the operation was cancelled",
          method: request.method,
          path: request.path,
          clientRequestId,
        });
      }
      if (timeout.signal.aborted) return { kind: "failure", outcome: { kind: "timeout" }, error };
      const code = (error as { code?: string }).code;
      const notSent = code !== undefined && NOT_SENT_CODES.has(code);
      return { kind: "failure", outcome: { kind: notSent ? "notSent" : "connectionLost" }, error };
    } finally {
      clearTimeout(timer);
    }
  }
}

function httpError(
  response: Response,
  text: string,
  method: string,
  path: string,
  ids: { requestId?: string; clientRequestId: string; date?: string },
  earlierRequestIds: string[],
  token?: string,
): GraphError {
  const body = parseErrorBody(text);
  const redirect = response.status >= 300 && response.status < 400;
  const message = redirect
    ? "Graph answered with a redirect, which is not followed so that the token stays with Graph"
    : (body?.message ?? (snippet(text) || response.statusText || "no error body"));
  return new GraphError({
    statusCode: response.status,
    code: body?.code ?? (response.statusText.replace(/\s+/g, "") || "HttpError"),
    message,
    method,
    path,
    requestId: body?.requestId ?? ids.requestId,
    clientRequestId: ids.clientRequestId,
    date: body?.date ?? ids.date,
    outcomeUnknown: response.status >= 500,
    earlierRequestIds: [...earlierRequestIds],
    grants: response.status === 403 && token ? grantsOf(token) : undefined,
  });
}

/**
 * The permissions an access token grants (`roles` of an app, `scp` of a user), read from its claims without
 * verifying it (Graph did); `undefined` when it is not a JWT. The token itself goes nowhere.
 */
export function grantsOf(token: string): string[] | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as {
      roles?: unknown;
      scp?: unknown;
    };
    const roles = Array.isArray(claims.roles) ? claims.roles.map(String) : [];
    const scopes = typeof claims.scp === "string" ? claims.scp.split(" ").filter(Boolean) : [];
    return roles.length + scopes.length > 0 ? [...roles, ...scopes] : undefined;
  } catch {
    return undefined;
  }
}

function transportError(
  attempt: Extract<Attempt, { kind: "failure" }>,
  { method, path, origin }: { method: string; path: string; origin: string },
  clientRequestId: string,
  timeoutInMs: number,
  earlierRequestIds: string[],
): GraphError {
  const timedOut = attempt.outcome.kind === "timeout";
  const code = (attempt.error as { code?: string }).code;
  return new GraphError({
    code: timedOut ? GraphError.TIMEOUT : GraphError.CONNECTION_FAILED,
    message: timedOut
      ? `no answer within ${seconds(timeoutInMs)} (intune:requestTimeoutSeconds)`
      : attempt.outcome.kind === "notSent"
        ? `no connection to ${origin}${code ? ` (${code})` : ""}: check intune:graphEndpoint (INTUNE_GRAPH_ENDPOINT) and the network`
        : `the connection failed${code ? ` (${code})` : ""}`,
    method,
    path,
    clientRequestId,
    outcomeUnknown: attempt.outcome.kind !== "notSent",
    earlierRequestIds: [...earlierRequestIds],
  });
}

/** The `claims` of a Continuous Access Evaluation challenge (`WWW-Authenticate: Bearer … claims="<base64>"`). */
export function claimsChallenge(header: string | null): string | undefined {
  const encoded = header?.match(/claims="([^"]+)"/)?.[1];
  return encoded === undefined ? undefined : Buffer.from(encoded, "base64").toString("utf8");
}

function snippet(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, 200);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

function sleep(ms: number, abortSignal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (abortSignal?.aborted) return reject(abortSignal.reason);
    const timer = setTimeout(done, ms);
    function done() {
      abortSignal?.removeEventListener("abort", abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(abortSignal!.reason);
    }
    abortSignal?.addEventListener("abort", abort, { once: true });
  });
}
