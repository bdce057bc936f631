/**
 * The errors of the Engine API client and their translation into contract errors. The
 * client throws {@linkcode EngineHttpError} for every answer that is not a success, with
 * the Engine's own message; it throws `UnavailableError` when the Engine cannot be
 * reached. {@linkcode toProviderError} classifies the first by HTTP status and, for the
 * Swarm's 500s, by the gRPC code the manager put in the message.
 *
 * @module
 */

import {
  AlreadyExistsError,
  InvalidInputError,
  NotFoundError,
  ProviderError,
  ResourceExhaustedError,
  UnavailableError,
} from "../../lib/provider.ts";

/** The Engine answered a request with an error status. */
export class EngineHttpError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** What was called, such as `POST /services/create`. */
  readonly operation: string;
  /** The Engine's message. */
  readonly engineMessage: string;

  /** Creates the error. */
  constructor(operation: string, status: number, engineMessage: string) {
    super(`${operation} answered ${status}: ${engineMessage}`);
    this.name = "EngineHttpError";
    this.status = status;
    this.operation = operation;
    this.engineMessage = engineMessage;
  }
}

const grpcCode = /rpc error: code = (\w+) desc = /;

/**
 * The contract error for `error`, prefixed with `what` (such as `creating the service of
 * container default/web/app`); contract errors pass through unchanged.
 */
export function toProviderError(error: unknown, what: string): ProviderError {
  if (error instanceof ProviderError) return error;
  if (!(error instanceof EngineHttpError)) {
    return new UnavailableError(`${what}: ${error instanceof Error ? error.message : error}`, {
      cause: error,
    });
  }
  const message = `${what}: ${error.message}`;
  const code = grpcCode.exec(error.engineMessage)?.[1];
  if (error.status === 404 || code === "NotFound") {
    return new NotFoundError(message, { cause: error });
  }
  if (error.status === 409 || code === "AlreadyExists") {
    return new AlreadyExistsError(message, { cause: error });
  }
  if (code === "ResourceExhausted") {
    return new ResourceExhaustedError(message, { cause: error, resource: "capacity" });
  }
  if (error.status === 400 || code === "InvalidArgument") {
    return new InvalidInputError(message, { cause: error });
  }
  return new UnavailableError(message, { cause: error });
}
