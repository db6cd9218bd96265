/** What a failed Graph request tells the person who has to act on it. */
export interface GraphErrorDetails {
  /** HTTP status; absent when no answer arrived (connection failure, timeout). */
  statusCode?: number;
  /** Graph's `error.code`, or one of the static codes on {@link GraphError}. */
  code: string;
  /** Readable message, Intune's JSON-inside-the-message already unwrapped. */
  message: string;
  method: string;
  /** Request path below the API version, e.g. `/deviceManagement/remoteAssistancePartners/{id}`. */
  path: string;
  /** Graph's `request-id`: what Microsoft support asks for. */
  requestId?: string;
  /** The GUID this client sent as `client-request-id`. */
  clientRequestId?: string;
  /** Graph's `date` for the failure. */
  date?: string;
  /**
   * True when the request may have been carried out although no usable answer arrived (a dropped
   * connection, a timeout or a 5xx after the server may have committed). Callers that must not repeat a
   * non-idempotent request reconcile from live state instead.
   */
  outcomeUnknown?: boolean;
  /** The request-ids (or client-request-ids) of the attempts retried before this one. */
  earlierRequestIds?: string[];
  /** The permissions the request's token granted (its `roles` or `scp`), when it could be read. */
  grants?: string[];
  cause?: unknown;
}

/**
 * The one error type of the Graph client. Check it with {@link isGraphError} (by `name`, so it works across
 * copies of this package). It never carries a token, a secret or an `Authorization` header.
 */
export class GraphError extends Error {
  /** No TCP connection or no answer at all. */
  static readonly CONNECTION_FAILED = "ConnectionFailed";
  /** No answer within the per-attempt timeout. */
  static readonly TIMEOUT = "Timeout";
  /** Graph asked for a wait longer than the retry deadline leaves. */
  static readonly RETRY_DEADLINE = "RetryDeadlineExceeded";
  /** A success status whose body is not the JSON Graph documents. */
  static readonly INVALID_RESPONSE = "InvalidResponse";
  /** A redirect or `@odata.nextLink` to another origin, refused so that the token stays with Graph. */
  static readonly FOREIGN_ORIGIN = "ForeignOrigin";
  /** The caller's abort signal fired. */
  static readonly ABORTED = "Aborted";

  override readonly name = "GraphError";
  readonly statusCode?: number;
  readonly code: string;
  readonly method: string;
  readonly path: string;
  readonly requestId?: string;
  readonly clientRequestId?: string;
  readonly date?: string;
  readonly outcomeUnknown: boolean;
  readonly earlierRequestIds: string[];

  constructor(details: GraphErrorDetails) {
    super(formatMessage(details), details.cause === undefined ? undefined : { cause: details.cause });
    this.statusCode = details.statusCode;
    this.code = details.code;
    this.method = details.method;
    this.path = details.path;
    this.requestId = details.requestId;
    this.clientRequestId = details.clientRequestId;
    this.date = details.date;
    this.outcomeUnknown = details.outcomeUnknown ?? false;
    this.earlierRequestIds = details.earlierRequestIds ?? [];
  }
}

/** True for a {@link GraphError} from any copy of this package. */
export function isGraphError(e: unknown): e is GraphError {
  return e instanceof Error && e.name === "GraphError";
}

/** The permission every write needs; reads also work with `DeviceManagementServiceConfig.Read.All`. */
export const WRITE_PERMISSION = "DeviceManagementServiceConfig.ReadWrite.All";

/** Permissions that let an identity write remote assistance partners and settings. */
const WRITE_PERMISSIONS = [WRITE_PERMISSION, "DeviceManagementConfiguration.ReadWrite.All"];

/** Whether permissions read from a token let it read remote assistance, but not write it. */
export function isReadOnly(grants: readonly string[] | undefined): boolean {
  return (
    grants !== undefined &&
    grants.some((g) => /^DeviceManagement\w*\.Read(Write)?\.All$/.test(g)) &&
    !grants.some((g) => WRITE_PERMISSIONS.includes(g))
  );
}

/**
 * Whether a 403 is a reader's attempt to write: the token granted a read permission and no write one. The
 * reader is what previews and drift checks run with; only an `up` (or destroy) needs the writer.
 */
export function isReadOnlyRefusal(d: Pick<GraphErrorDetails, "statusCode" | "method" | "grants">): boolean {
  return d.statusCode === 403 && d.method !== "GET" && isReadOnly(d.grants);
}

const READ_ONLY_HINT =
  `This identity is read-only: its token grants DeviceManagementServiceConfig.Read.All, not ${WRITE_PERMISSION}. ` +
  "Previews, refreshes and drift checks need no more; nothing was written. Run the pulumi up (or destroy) that " +
  `changes the tenant with the identity that holds ${WRITE_PERMISSION} (in the GitHub workflow: the apply job, ` +
  "in the production environment).";

const FORBIDDEN_HINT =
  `Grant ${WRITE_PERMISSION} (reads: DeviceManagementServiceConfig.Read.All) to the app (application ` +
  `permission, admin consent) or to the signed-in user (delegated permission); the tenant needs an active ` +
  `Intune licence, and onboarding TeamViewer needs an Intune or Global administrator.`;

function formatMessage(d: GraphErrorDetails): string {
  const status = d.statusCode === undefined ? d.code : `${d.statusCode} ${d.code}`;
  const ids = [
    d.requestId && `request-id ${d.requestId}`,
    d.clientRequestId && `client-request-id ${d.clientRequestId}`,
    d.date && `date ${d.date}`,
    d.earlierRequestIds?.length && `earlier attempts: ${d.earlierRequestIds.join(", ")}`,
  ].filter(Boolean);
  const hint = isReadOnlyRefusal(d) ? ` ${READ_ONLY_HINT}` : d.statusCode === 403 ? ` ${FORBIDDEN_HINT}` : "";
  const idText = ids.length > 0 ? ` (${ids.join(", ")})` : "";
  return `Graph ${d.method} ${d.path} failed: ${status}: ${d.message}${hint}${idText}`;
}

/** The parts of Graph's error envelope `{error:{code,message,innerError:{…}}}` that a client uses. */
export interface GraphErrorBody {
  code?: string;
  message?: string;
  requestId?: string;
  date?: string;
}

/** Reads Graph's error envelope from a response text; `undefined` when it is not one. */
export function parseErrorBody(text: string): GraphErrorBody | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const error = (parsed as { error?: unknown } | null)?.error;
  if (typeof error !== "object" || error === null) return undefined;
  const e = error as Record<string, unknown>;
  const inner = (e.innerError ?? e.innererror ?? {}) as Record<string, unknown>;
  return {
    code: typeof e.code === "string" ? e.code : undefined,
    message: typeof e.message === "string" ? unwrapIntuneMessage(e.message) : undefined,
    requestId: typeof inner["request-id"] === "string" ? inner["request-id"] : undefined,
    date: typeof inner.date === "string" ? inner.date : undefined,
  };
}

/**
 * Intune serializes its own error as JSON inside Graph's `error.message`
 * (`{"_version":3,"Message":"An error has occurred - Operation ID …"}`); returns that inner `Message`, or the
 * text unchanged when it is plain.
 */
export function unwrapIntuneMessage(message: string): string {
  const trimmed = message.trim();
  if (!trimmed.startsWith("{")) return message;
  try {
    const inner = JSON.parse(trimmed) as Record<string, unknown>;
    return typeof inner.Message === "string" && inner.Message !== "" ? inner.Message : message;
  } catch {
    return message;
  }
}
