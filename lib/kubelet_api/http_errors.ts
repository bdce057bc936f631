/**
 * The one place where errors become HTTP status codes for the kubelet API: provider errors
 * by class (NotFound → 404, InvalidInput → 400, Unavailable → 503, …), `HttpError` by its
 * own status, anything else 500. The body is the error message, as in the kubelet.
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

/** Response for a failed request: the mapped status and the error message. */
export function errorResponse(error: unknown): Response {
  const status = statusForError(error);
  const message = errorMessage(error);
  const providerError = findProviderError(error);
  const headers: Record<string, string> = {};
  if (providerError instanceof UnavailableError && providerError.retryAfterMs !== undefined) {
    headers["retry-after"] = String(Math.max(1, Math.ceil(providerError.retryAfterMs / 1000)));
  }
  return textResponse(status, message, headers);
}
