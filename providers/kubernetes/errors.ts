/**
 * Errors of the lower cluster's API as the provider contract's typed errors, in one place:
 * a missing object is `NotFoundError`, a taken name `AlreadyExistsError`, a request the
 * lower API server rejects `InvalidInputError` (with its message), an exceeded quota
 * `ResourceExhaustedError`, refused credentials `UnauthenticatedError`, and everything
 * transient (unreachable, 5xx, 429, a conflict,
 * a namespace being deleted, a ServiceAccount not made yet) `UnavailableError`.
 *
 * @module
 */

import {
  AlreadyExistsError,
  InvalidInputError,
  NotFoundError,
  type ProviderError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
} from "../../lib/provider.ts";
import {
  errorMessage,
  KubeAlreadyExistsError,
  KubeApiError,
  KubeBadRequestError,
  KubeForbiddenError,
  KubeInvalidError,
  KubeNotFoundError,
  KubeTooManyRequestsError,
  KubeUnauthorizedError,
} from "../../lib/provider_kit/mod.ts";

/** Whether a Forbidden answer is transient (a namespace going away, a ServiceAccount to come). */
function transientForbidden(message: string): boolean {
  return /is being terminated|serviceaccount .* not found|error looking up service account/i
    .test(message);
}

/**
 * `error` (from the lower cluster's client) as a provider error whose message starts with
 * `what` (such as `create pod ns/name in the lower cluster`).
 */
export function toProviderError(error: unknown, what: string): ProviderError {
  const message = `${what}: ${errorMessage(error)}`;
  const options = { cause: error };
  if (!(error instanceof KubeApiError)) return new UnavailableError(message, options);
  if (error instanceof KubeNotFoundError) return new NotFoundError(message, options);
  if (error instanceof KubeAlreadyExistsError) return new AlreadyExistsError(message, options);
  if (error instanceof KubeInvalidError || error instanceof KubeBadRequestError) {
    return new InvalidInputError(message, options);
  }
  if (error instanceof KubeForbiddenError) {
    const text = error.status.message ?? "";
    if (/exceeded quota/i.test(text)) {
      return new ResourceExhaustedError(message, { ...options, resource: "quota" });
    }
    if (transientForbidden(text)) return new UnavailableError(message, options);
    return new InvalidInputError(
      `${message} (the lower cluster's credentials need the rules in deploy/kubernetes-provider.yaml)`,
      options,
    );
  }
  if (error instanceof KubeUnauthorizedError) {
    return new UnauthenticatedError(
      `${message} (the lower cluster does not accept the credentials of the configured kubeconfig)`,
      options,
    );
  }
  if (error instanceof KubeTooManyRequestsError) {
    const seconds = error.retryAfterSeconds;
    return new UnavailableError(message, {
      ...options,
      ...(seconds === undefined ? {} : { retryAfterMs: seconds * 1000 }),
    });
  }
  return new UnavailableError(message, options);
}
