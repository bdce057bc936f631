/**
 * The errors that cross the provider contract. Every provider throws these (or wraps an
 * error of its client in one, as `cause`), so that controllers choose between retrying and
 * giving up by class, never by matching strings, and the kubelet API maps them to HTTP
 * statuses in one place.
 *
 * | class                    | retryable | meaning                                             |
 * | ------------------------ | --------- | --------------------------------------------------- |
 * | `NotFoundError`          | no        | pod, container, VM or volume unknown to the backend |
 * | `AlreadyExistsError`     | no        | the object exists already                           |
 * | `InvalidInputError`      | no        | the request itself is wrong (pod spec, config)      |
 * | `NotImplementedError`    | no        | the backend cannot do this at all                   |
 * | `ResourceExhaustedError` | yes       | quota or capacity refused it; may fit later         |
 * | `UnavailableError`       | yes       | backend down, timed out or busy                     |
 *
 * Quota and capacity refusals are always `ResourceExhaustedError`: the same request can
 * succeed once a quota is raised or capacity is freed, so the pod stays Pending and is
 * retried with backoff rather than failed for good.
 *
 * @module
 */

/** Options of the provider error constructors. */
export interface ProviderErrorOptions {
  /** The underlying error. */
  cause?: unknown;
}

/**
 * Base class of every error a provider throws on purpose. `retryable` tells controllers
 * whether trying again later can succeed.
 */
export class ProviderError extends Error {
  /** Whether the same call may succeed later without any change to the request. */
  readonly retryable: boolean;

  /** Creates an error; most code throws one of the subclasses instead. */
  constructor(message: string, retryable: boolean, options: ProviderErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = retryable;
  }
}

/** The pod, container, VM or volume does not exist in the provider. Not retried. */
export class NotFoundError extends ProviderError {
  /** Creates the error. */
  constructor(message: string, options: ProviderErrorOptions = {}) {
    super(message, false, options);
  }
}

/** The object already exists in the provider. Not retried as such. */
export class AlreadyExistsError extends ProviderError {
  /** Creates the error. */
  constructor(message: string, options: ProviderErrorOptions = {}) {
    super(message, false, options);
  }
}

/** The request itself is wrong (for instance the pod spec); retrying cannot help. */
export class InvalidInputError extends ProviderError {
  /** Creates the error. */
  constructor(message: string, options: ProviderErrorOptions = {}) {
    super(message, false, options);
  }
}

/** The provider does not support this operation. Not retried. */
export class NotImplementedError extends ProviderError {
  /** Creates the error. */
  constructor(message: string, options: ProviderErrorOptions = {}) {
    super(message, false, options);
  }
}

/** The backend cannot serve now (IaaS down, timeout, overload); retry later. */
export class UnavailableError extends ProviderError {
  /** Suggested delay before retrying, when the backend said so. */
  readonly retryAfterMs?: number;

  /** Creates the error. */
  constructor(message: string, options: ProviderErrorOptions & { retryAfterMs?: number } = {}) {
    super(message, true, options);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * The backend refuses the agent's credentials (a wrong password, an expired or revoked
 * key): not an outage, and not fixed by waiting; the node says so in its own reason.
 */
export class UnauthenticatedError extends ProviderError {
  /** Creates the error. */
  constructor(message: string, options: ProviderErrorOptions = {}) {
    super(message, false, options);
  }
}

/** What ran out: a quota of the account, or room on the hosts or storage. */
export type ExhaustedResource = "quota" | "capacity";

/**
 * A quota or the backend's capacity refused the request. Retryable: the same request may
 * fit once a quota is raised or capacity is freed.
 */
export class ResourceExhaustedError extends ProviderError {
  /** Whether a quota or capacity refused the request. */
  readonly resource: ExhaustedResource;

  /** Creates the error. */
  constructor(
    message: string,
    options: ProviderErrorOptions & { resource: ExhaustedResource },
  ) {
    super(message, true, options);
    this.resource = options.resource;
  }
}

/**
 * Finds the first `ProviderError` in `error` or its chain of `cause`s, so that wrapped
 * errors keep their classification.
 */
export function findProviderError(error: unknown): ProviderError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 16 && current !== undefined && current !== null; depth++) {
    if (current instanceof ProviderError) return current;
    if (!(current instanceof Error)) return undefined;
    current = current.cause;
  }
  return undefined;
}

/**
 * Tells whether a failed call may succeed if repeated: `ProviderError`s say so themselves;
 * anything unclassified is assumed transient, as upstream virtual-kubelet does.
 */
export function isRetryable(error: unknown): boolean {
  return findProviderError(error)?.retryable ?? true;
}

/** Tells whether `error` (or a cause) is an `UnauthenticatedError`. */
export function isUnauthenticated(error: unknown): boolean {
  return findProviderError(error) instanceof UnauthenticatedError;
}

/** Tells whether `error` (or a cause) is a `NotFoundError`. */
export function isNotFound(error: unknown): boolean {
  return findProviderError(error) instanceof NotFoundError;
}

/** Tells whether `error` (or a cause) is an `AlreadyExistsError`. */
export function isAlreadyExists(error: unknown): boolean {
  return findProviderError(error) instanceof AlreadyExistsError;
}

/** Tells whether `error` (or a cause) is an `InvalidInputError`. */
export function isInvalidInput(error: unknown): boolean {
  return findProviderError(error) instanceof InvalidInputError;
}

/** Tells whether `error` (or a cause) is an `UnavailableError`. */
export function isUnavailable(error: unknown): boolean {
  return findProviderError(error) instanceof UnavailableError;
}

/** Tells whether `error` (or a cause) is a `NotImplementedError`. */
export function isNotImplemented(error: unknown): boolean {
  return findProviderError(error) instanceof NotImplementedError;
}

/** Tells whether `error` (or a cause) is a `ResourceExhaustedError`. */
export function isResourceExhausted(error: unknown): boolean {
  return findProviderError(error) instanceof ResourceExhaustedError;
}
