/**
 * Typed errors of the Kubernetes API, mapped from a `Status` in one place so
 * that callers decide retry or give up by class, never by string matching.
 *
 * @module
 */

import type { Status } from "kubernetes-types/meta/v1.d.ts";
import { errorMessage } from "../errors.ts";

const MAX_MESSAGE_LENGTH = 1000;

/** An error answered by the Kubernetes API (or a failure to reach it), carrying the API `Status`. */
export class KubeApiError extends Error {
  /** The HTTP status code of the response; 0 when no response arrived. */
  readonly httpCode: number;
  /** The API `Status` describing the failure (synthesised when the body was not a Status). */
  readonly status: Status;

  /** Creates an error from the HTTP code and the API `Status`. */
  constructor(httpCode: number, status: Status, options?: ErrorOptions) {
    const reason = status.reason ?? "Unknown";
    const text = status.message ?? "";
    super(`${reason} (HTTP ${httpCode}): ${truncate(text)}`, options);
    this.name = new.target.name;
    this.httpCode = httpCode;
    this.status = status;
  }

  /** The machine-readable reason, e.g. `NotFound` or `Conflict`. */
  get reason(): string {
    return this.status.reason ?? "Unknown";
  }

  /** The status code the API server reported, falling back to the HTTP code. */
  get code(): number {
    return this.status.code ?? this.httpCode;
  }
}

/** The object does not exist (HTTP 404). */
export class KubeNotFoundError extends KubeApiError {}

/** An object with that name already exists (HTTP 409, reason AlreadyExists). */
export class KubeAlreadyExistsError extends KubeApiError {}

/** The write lost a race: stale resourceVersion, precondition mismatch or apply conflict (HTTP 409). */
export class KubeConflictError extends KubeApiError {}

/** The requested resourceVersion is too old (HTTP 410, reason Expired or Gone); relist. */
export class KubeGoneError extends KubeApiError {}

/** The caller is authenticated but not allowed (HTTP 403). */
export class KubeForbiddenError extends KubeApiError {}

/** The caller's credentials were not accepted (HTTP 401). */
export class KubeUnauthorizedError extends KubeApiError {}

/** The object failed validation (HTTP 422); `status.details.causes` names the fields. */
export class KubeInvalidError extends KubeApiError {}

/** The request was malformed (HTTP 400). */
export class KubeBadRequestError extends KubeApiError {}

/** The server asked the client to slow down (HTTP 429); the request was not processed. */
export class KubeTooManyRequestsError extends KubeApiError {
  /** Seconds the server asked to wait, from `Retry-After` or `status.details.retryAfterSeconds`. */
  readonly retryAfterSeconds: number | undefined;

  /** Creates the error with the server's requested delay, if any. */
  constructor(
    httpCode: number,
    status: Status,
    options?: ErrorOptions & { retryAfterSeconds?: number },
  ) {
    super(httpCode, status, options);
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

/** The API server could not be reached or failed (HTTP 500, 502, 503, 504, or a network error). */
export class KubeUnavailableError extends KubeApiError {}

/** Options of {@linkcode errorFromStatus}. */
export interface ErrorFromStatusOptions {
  /** The value of the `Retry-After` response header, if present. */
  retryAfter?: string | null;
}

function isStatus(body: unknown): body is Status {
  return typeof body === "object" && body !== null && !Array.isArray(body) &&
    (body as { kind?: unknown }).kind === "Status";
}

function truncate(text: string): string {
  return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}…` : text;
}

function defaultReason(httpCode: number): string {
  switch (httpCode) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return "Unknown";
  }
}

function parseRetryAfter(status: Status, header: string | null | undefined): number | undefined {
  if (header !== null && header !== undefined && /^\d+$/.test(header.trim())) {
    return Number(header.trim());
  }
  return status.details?.retryAfterSeconds;
}

/**
 * Maps an HTTP code and a response body (a parsed `Status`, other JSON, or
 * text) to the matching {@linkcode KubeApiError} subclass.
 */
export function errorFromStatus(
  httpCode: number,
  body: unknown,
  options: ErrorFromStatusOptions = {},
): KubeApiError {
  const status: Status = isStatus(body) ? body : {
    kind: "Status",
    apiVersion: "v1",
    status: "Failure",
    code: httpCode,
    reason: defaultReason(httpCode),
    message: typeof body === "string"
      ? truncate(body.trim()) || `the server answered HTTP ${httpCode} with an empty body`
      : `the server answered HTTP ${httpCode} with ${truncate(JSON.stringify(body) ?? "")}`,
  };
  const code = status.code !== undefined && status.code !== 0 ? status.code : httpCode;
  const reason = status.reason ?? "";
  if (reason === "AlreadyExists") return new KubeAlreadyExistsError(httpCode, status);
  if (code === 410 || reason === "Expired" || reason === "Gone") {
    return new KubeGoneError(httpCode, status);
  }
  if (code === 429 || reason === "TooManyRequests") {
    return new KubeTooManyRequestsError(httpCode, status, {
      retryAfterSeconds: parseRetryAfter(status, options.retryAfter),
    });
  }
  switch (code) {
    case 400:
      return new KubeBadRequestError(httpCode, status);
    case 401:
      return new KubeUnauthorizedError(httpCode, status);
    case 403:
      return new KubeForbiddenError(httpCode, status);
    case 404:
      return new KubeNotFoundError(httpCode, status);
    case 409:
      return new KubeConflictError(httpCode, status);
    case 422:
      return new KubeInvalidError(httpCode, status);
    case 500:
    case 502:
    case 503:
    case 504:
      return new KubeUnavailableError(httpCode, status);
    default:
      return new KubeApiError(httpCode, status);
  }
}

/**
 * The messages of `error` and of its `cause` chain, joined: `fetch` rejects with a bare
 * "fetch failed" whose cause says what failed (the URL, connection refused, a DNS or TLS
 * error).
 */
function messageWithCauses(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 5; depth++) {
    const message = errorMessage(e);
    if (message !== "" && !parts.some((part) => part.includes(message))) parts.push(message);
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(": ");
}

/**
 * Wraps a failure to reach the API server (DNS, TCP, TLS, timeout) as an
 * {@linkcode KubeUnavailableError} whose message names the request and the causes.
 */
export function networkError(cause: unknown, what: string): KubeUnavailableError {
  const detail = messageWithCauses(cause);
  return new KubeUnavailableError(0, {
    kind: "Status",
    apiVersion: "v1",
    status: "Failure",
    code: 503,
    reason: "ServiceUnavailable",
    message: `${what}: ${truncate(detail)}`,
  }, { cause });
}
