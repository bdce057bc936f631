/**
 * The errors of the OpenStack client and their translation into contract errors.
 *
 * Every OpenStack service answers a failure with a JSON body of its own shape: Nova
 * `{"itemNotFound": {"code": 404, "message": …}}` (one key naming the fault), Keystone
 * `{"error": {"code", "title", "message"}}`, Neutron `{"NeutronError": {"type",
 * "message"}}`, Glance `{"message", "code", "title"}` (or plain text), Placement
 * `{"errors": [{"status", "title", "detail"}]}`. {@linkcode faultOf} reads any of them;
 * the client throws {@linkcode OpenStackHttpError} with the message, the fault name and
 * the request id, and callers turn it into a contract error with
 * {@linkcode toProviderError}, which knows what they were doing.
 *
 * @module
 */

import {
  InvalidInputError,
  NotFoundError,
  type ProviderError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
} from "../../lib/provider.ts";

/** What a failure body says: the fault's name (Nova's key, Neutron's type) and its message. */
export interface Fault {
  /** Such as `itemNotFound`, `badRequest`, `forbidden`, `NetworkNotFound`. */
  name?: string;
  /** The human-readable message. */
  message: string;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

/** Reads the fault of a failure body of any OpenStack service; the raw text when unknown. */
export function faultOf(body: unknown, raw: string): Fault {
  if (typeof body === "object" && body !== null && !Array.isArray(body)) {
    const record = body as Record<string, unknown>;
    const errors = record.errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const first = errors[0] as Record<string, unknown>;
      const message = text(first.detail) ?? text(first.title) ?? raw;
      return { name: text(first.code) ?? text(first.title), message };
    }
    if (text(record.message) !== undefined) {
      return { name: text(record.title), message: text(record.message)! };
    }
    const keys = Object.keys(record);
    if (keys.length === 1 && typeof record[keys[0]] === "object" && record[keys[0]] !== null) {
      const inner = record[keys[0]] as Record<string, unknown>;
      const message = text(inner.message) ?? text(inner.detail) ?? text(inner.title);
      if (message !== undefined) {
        const name = keys[0] === "NeutronError" || keys[0] === "error"
          ? text(inner.type) ?? text(inner.title) ?? keys[0]
          : keys[0];
        return { name, message };
      }
    }
  }
  const plain = raw.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
  return { message: plain.slice(0, 500) || "(empty body)" };
}

/** An OpenStack service answered with an error status. */
export class OpenStackHttpError extends Error {
  /** The service type, such as `compute`. */
  readonly service: string;
  /** What was called, such as `POST /servers`. */
  readonly operation: string;
  /** HTTP status. */
  readonly status: number;
  /** The fault the body describes. */
  readonly fault: Fault;
  /** The request id the service logged (`x-openstack-request-id`), when it sent one. */
  readonly requestId?: string;

  /** Creates the error. */
  constructor(
    options: {
      service: string;
      operation: string;
      status: number;
      fault: Fault;
      requestId?: string;
    },
  ) {
    super(
      `${options.service} ${options.operation} answered ${options.status}${
        options.fault.name ? ` ${options.fault.name}` : ""
      }: ${options.fault.message}${options.requestId ? ` (request ${options.requestId})` : ""}`,
    );
    this.name = "OpenStackHttpError";
    this.service = options.service;
    this.operation = options.operation;
    this.status = options.status;
    this.fault = options.fault;
    this.requestId = options.requestId;
  }
}

const quotaWords = /quota exceeded|over ?quota|overlimit|exceeds? (?:the )?(?:allowed )?quota/i;
const policyWords = /policy|not authorized|not allowed|forbidden|permission/i;

/** Whether a 403/413 of Nova (or Neutron, Glance) is a quota refusal. */
export function isQuotaFault(error: OpenStackHttpError): boolean {
  return (error.status === 403 || error.status === 413) &&
    (quotaWords.test(error.fault.message) || /overLimit|OverQuota/.test(error.fault.name ?? ""));
}

/** Whether a 403 is the cloud's policy refusing the call to these credentials. */
export function isPolicyFault(error: OpenStackHttpError): boolean {
  return error.status === 403 && !isQuotaFault(error) &&
    (policyWords.test(error.fault.message) || error.fault.name === "forbidden");
}

/** Options of {@linkcode toProviderError}. */
export interface ToProviderErrorOptions {
  /** What a 404 means: `NotFoundError` (default) or, for inputs such as an image, `InvalidInputError`. */
  notFound?: "not-found" | "invalid-input";
}

/**
 * Turns what the client threw into a contract error. A quota refusal is
 * `ResourceExhaustedError` (`quota`: it may fit once the quota is raised), a bad request
 * `InvalidInputError`, a policy refusal `InvalidInputError` saying so (more of the same
 * credentials cannot help), a 404 `NotFoundError` (or `InvalidInputError` with
 * `notFound: "invalid-input"`), a 401 that survived a fresh token `UnauthenticatedError`,
 * a conflict (another task runs on the server) and anything else from the server side
 * `UnavailableError`. `what` starts the message, such as `creating the server of pod
 * default/web`. Errors of other kinds are returned as they are.
 */
export function toProviderError(
  error: unknown,
  what: string,
  options: ToProviderErrorOptions = {},
): ProviderError | unknown {
  if (!(error instanceof OpenStackHttpError)) return error;
  const message = `${what}: ${error.message}`;
  if (isQuotaFault(error)) {
    return new ResourceExhaustedError(message, { cause: error, resource: "quota" });
  }
  switch (error.status) {
    case 400:
      return new InvalidInputError(message, { cause: error });
    case 401:
      return new UnauthenticatedError(message, { cause: error });
    case 403:
      return new InvalidInputError(
        isPolicyFault(error)
          ? `${message}; the cloud's policy does not let these credentials do it: use credentials with the role it needs (often admin), or leave it to the operator`
          : message,
        { cause: error },
      );
    case 404:
      return options.notFound === "invalid-input"
        ? new InvalidInputError(message, { cause: error })
        : new NotFoundError(message, { cause: error });
    default:
      return new UnavailableError(message, { cause: error });
  }
}
