/**
 * The error of environment resolution: a reference the kubelet refuses (a missing
 * mandatory ConfigMap or Secret, an unsupported `fieldRef`, an invalid
 * `resourceFieldRef`), with the event reason it is reported under.
 *
 * @module
 */

/**
 * Why a pod's environment cannot be resolved; `reason` is the event reason,
 * such as `MandatoryConfigMapNotFound`, `MandatorySecretKeyNotFound`,
 * `UnsupportedFieldPath` or `InvalidResourceFieldRef`.
 */
export class EnvResolutionError extends Error {
  /** The machine-readable reason, also used for the event. */
  readonly reason: string;

  /** Creates an error with an event `reason` and a human-readable `message`. */
  constructor(reason: string, message: string) {
    super(message);
    this.name = "EnvResolutionError";
    this.reason = reason;
  }
}
