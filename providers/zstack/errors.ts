/**
 * The errors of the ZStack client and their translation into contract errors.
 *
 * The client throws {@linkcode ZStackApiError} when an API ran and failed (a 503 with an
 * `ErrorCode`), {@linkcode ZStackHttpError} for the plain-text 4xx/5xx answers, and the
 * contract's `UnavailableError` when the management node cannot be reached. Callers turn
 * the first two into contract errors with {@linkcode toProviderError}, which knows what
 * they were doing.
 *
 * @module
 */

import {
  type ExhaustedResource,
  InvalidInputError,
  NotFoundError,
  type ProviderError,
  ResourceExhaustedError,
  UnavailableError,
} from "../../lib/provider.ts";
import type { ZStackErrorCode } from "./api_types.ts";

/** Code of a session that is unknown or expired. */
export const invalidSessionCode = "ID.1001";
/** Code of a resource that does not exist. */
export const notFoundCode = "SYS.1003";
/** 503 codes of a management node that cannot serve now (not ready, unavailable). */
export const unavailableCodes: ReadonlySet<string> = new Set(["SYS.1010", "SYS.1012"]);
/** 503 codes worth repeating a sync call or a submission for (internal error, timeout). */
export const transientCodes: ReadonlySet<string> = new Set(["SYS.1000", "SYS.1001"]);

/** Codes and prefixes that mean "no room" on hosts or storage, and a quota refusal. */
const capacityCodes = /^(HOST_ALLOCATION|PRIMARY_STORAGE_ALLOCATION|ALLOCATION)\./;
const quotaCodes = /^QUOTA\.|^ID\.1003$/;
const capacityWords =
  /\bno (?:available |candidate |suitable )?hosts?\b|insufficient|not enough|capacity/i;

/** Formats an `ErrorCode` with its causes: `SYS.1006 details (cause VM.1010 details)`. */
export function describeErrorCode(error: ZStackErrorCode): string {
  const text = `${error.code} ${error.details ?? error.description ?? ""}`.trim();
  const causes = [error.cause, ...(error.causes ?? [])].filter((cause) =>
    cause !== undefined
  ) as ZStackErrorCode[];
  if (causes.length === 0) return text;
  return `${text} (cause ${causes.map(describeErrorCode).join("; ")})`;
}

/** An API ran and failed: a 503 with `{"error": ErrorCode}`, directly or from a job. */
export class ZStackApiError extends Error {
  /** The error as ZStack reported it. */
  readonly error: ZStackErrorCode;
  /** HTTP status (503). */
  readonly status: number;
  /** What was called, such as `POST /v1/vm-instances`. */
  readonly operation: string;

  /** Creates the error. */
  constructor(operation: string, status: number, error: ZStackErrorCode) {
    super(`${operation} failed: ${describeErrorCode(error)}`);
    this.name = "ZStackApiError";
    this.error = error;
    this.status = status;
    this.operation = operation;
  }

  /** The top-level code, such as `SYS.1003`. */
  get code(): string {
    return this.error.code;
  }

  /** Every code in the error and its causes. */
  get codes(): string[] {
    const codes: string[] = [];
    const visit = (error: ZStackErrorCode | undefined, depth: number): void => {
      if (error === undefined || depth > 8) return;
      codes.push(error.code);
      visit(error.cause, depth + 1);
      for (const cause of error.causes ?? []) visit(cause, depth + 1);
    };
    visit(this.error, 0);
    return codes;
  }
}

/** A plain-text HTTP answer: bad request (400), no route or expired job (404), 405, 500, … */
export class ZStackHttpError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** The body, trimmed to 500 characters. */
  readonly body: string;
  /** What was called. */
  readonly operation: string;

  /** Creates the error. */
  constructor(operation: string, status: number, body: string) {
    super(`${operation}: expected a JSON reply, found HTTP ${status} "${body}"`);
    this.name = "ZStackHttpError";
    this.status = status;
    this.body = body;
    this.operation = operation;
  }
}

function errorTexts(error: ZStackErrorCode, depth = 0): string[] {
  if (depth > 8) return [];
  return [
    `${error.code} ${error.description ?? ""} ${error.details ?? ""} ${error.elaboration ?? ""}`,
    ...(error.cause === undefined ? [] : errorTexts(error.cause, depth + 1)),
    ...(error.causes ?? []).flatMap((cause) => errorTexts(cause, depth + 1)),
  ];
}

/** What a failed API call says there is no room for: a quota, or hosts and storage. */
export function exhaustedResource(error: ZStackApiError): ExhaustedResource | undefined {
  const texts = errorTexts(error.error);
  if (error.codes.some((code) => quotaCodes.test(code)) || texts.some((t) => /quota/i.test(t))) {
    return "quota";
  }
  if (
    error.codes.some((code) => capacityCodes.test(code)) ||
    texts.some((text) => capacityWords.test(text))
  ) {
    return "capacity";
  }
  return undefined;
}

/** Options of {@linkcode toProviderError}. */
export interface ToProviderErrorOptions {
  /** What an unknown resource means: `NotFoundError` (default) or, for inputs, `InvalidInputError`. */
  notFound?: "not-found" | "invalid-input";
}

/**
 * Turns what the client threw into a contract error: a quota or capacity refusal becomes
 * `ResourceExhaustedError` (retried: it may fit later), invalid arguments
 * `InvalidInputError`, an unknown resource `NotFoundError` (or `InvalidInputError`
 * when `notFound` says the missing resource was an input, such as an image), everything
 * else (management node down, wrong VM state, session trouble) `UnavailableError`.
 * `what` starts the message, such as `creating VM for pod default/web`.
 */
export function toProviderError(
  error: unknown,
  what: string,
  options: ToProviderErrorOptions = {},
): ProviderError | unknown {
  if (error instanceof ZStackApiError) {
    const message = `${what}: ${error.message}`;
    const exhausted = exhaustedResource(error);
    if (exhausted !== undefined) {
      return new ResourceExhaustedError(message, { cause: error, resource: exhausted });
    }
    if (error.code === "SYS.1007") return new InvalidInputError(message, { cause: error });
    if (error.code === notFoundCode) {
      return options.notFound === "invalid-input"
        ? new InvalidInputError(message, { cause: error })
        : new NotFoundError(message, { cause: error });
    }
    return new UnavailableError(message, { cause: error });
  }
  if (error instanceof ZStackHttpError) {
    const message = `${what}: ${error.message}`;
    if (error.status === 400) return new InvalidInputError(message, { cause: error });
    return new UnavailableError(message, { cause: error });
  }
  return error;
}
