/**
 * The one place where errors become HTTP status codes for the kubelet API: provider errors
 * by class (NotFound → 404, InvalidInput → 400, Unavailable → 503, …), `HttpError` by its
 * own status, anything else 500. The body is the error message: plain text, as in the
 * kubelet, or a `metav1.Status` for failed upgrades, which streaming clients decode.
 *
 * @module
 */

import {
  AlreadyExistsError,
  findProviderError,
  InvalidInputError,
  NotFoundError,
  NotImplementedError,
  ResourceExhaustedError,
  UnavailableError,
} from "../provider.ts";
import { errorMessage } from "../errors.ts";

/** An error that already knows its HTTP status (bad query, missing capability, …). */
export class HttpError extends Error {
  /** HTTP status code. */
  readonly status: number;

  /** Creates an error answered with `status` and `message` as the body. */
  constructor(status: number, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HttpError";
    this.status = status;
  }
}

/** HTTP status for `error`. */
export function statusForError(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  const providerError = findProviderError(error);
  if (providerError instanceof NotFoundError) return 404;
  if (providerError instanceof InvalidInputError) return 400;
  if (providerError instanceof AlreadyExistsError) return 409;
  if (providerError instanceof UnavailableError) return 503;
  if (providerError instanceof ResourceExhaustedError) return 503;
  if (providerError instanceof NotImplementedError) return 501;
  return 500;
}

/** Plain-text response for `status` with `message` as the body. */
export function textResponse(status: number, message: string, headers: HeadersInit = {}): Response {
  const all = new Headers(headers);
  all.set("content-type", "text/plain; charset=utf-8");
  all.set("x-content-type-options", "nosniff");
  return new Response(message.endsWith("\n") ? message : `${message}\n`, { status, headers: all });
}

/** A refusal or failure to answer with: status, message and extra headers. */
export interface HttpFailure {
  /** HTTP status code. */
  status: number;
  /** What went wrong, as the body says it. */
  message: string;
  /** Extra response headers, such as `retry-after`. */
  headers?: Record<string, string>;
}

/** The status, message and headers `error` is answered with. */
export function failureOf(error: unknown): HttpFailure {
  const failure: HttpFailure = { status: statusForError(error), message: errorMessage(error) };
  const providerError = findProviderError(error);
  if (providerError instanceof UnavailableError && providerError.retryAfterMs !== undefined) {
    failure.headers = {
      "retry-after": String(Math.max(1, Math.ceil(providerError.retryAfterMs / 1000))),
    };
  }
  return failure;
}

/** Response for a failed request: the mapped status and the error message. */
export function errorResponse(error: unknown): Response {
  const failure = failureOf(error);
  return textResponse(failure.status, failure.message, failure.headers);
}

const statusReasons: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  409: "AlreadyExists",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
};

/**
 * The failure as a `metav1.Status` (JSON), for answers to upgrade requests: client-go reads
 * the body of a refused upgrade as a Status and would show plain text such as `a: b` (valid
 * YAML) as an empty message.
 */
export function statusResponse(failure: HttpFailure): Response {
  const reason = statusReasons[failure.status];
  const message = failure.message.replace(/\n$/, "");
  return Response.json({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    ...(reason === undefined ? {} : { reason }),
    code: failure.status,
  }, { status: failure.status, headers: failure.headers });
}
