/**
 * vSphere faults and what they mean for the agent: a SOAP fault (or a task's error) names
 * a `MethodFault` subtype, such as `ManagedObjectNotFound` or `InvalidPowerState`;
 * {@linkcode toProviderError} turns it into the typed provider error the controllers act on.
 *
 * @module
 */

import {
  AlreadyExistsError,
  findProviderError,
  InvalidInputError,
  NotFoundError,
  type ProviderError,
  ResourceExhaustedError,
  UnavailableError,
} from "../../lib/provider.ts";
import { errorMessage } from "../../lib/provider_kit/mod.ts";

/** A fault vSphere answered with, from a SOAP call or a task. */
export class VsphereFault extends Error {
  /** The fault type, such as `InvalidPowerState` (the `Fault` suffix of the element dropped). */
  readonly fault: string;
  /** The vSphere method or task that failed, such as `PowerOnVM_Task`. */
  readonly method: string;

  /** Creates the error; `message` is vSphere's own text (faultstring or localizedMessage). */
  constructor(method: string, fault: string, message: string) {
    super(`${method}: ${fault}${message && message !== fault ? `: ${message}` : ""}`);
    this.name = "VsphereFault";
    this.fault = fault;
    this.method = method;
  }
}

/** An HTTP answer that is not SOAP (a proxy's error page, a 503 while vCenter starts). */
export class VsphereHttpError extends Error {
  /** HTTP status. */
  readonly status: number;

  /** Creates the error. */
  constructor(status: number, message: string) {
    super(message);
    this.name = "VsphereHttpError";
    this.status = status;
  }
}

const notFound = new Set(["ManagedObjectNotFound", "NotFound", "InvalidDatastorePath"]);
const alreadyExists = new Set(["DuplicateName", "AlreadyExists", "FileAlreadyExists"]);
const capacity = new Set([
  "InsufficientResourcesFault",
  "InsufficientMemoryResourcesFault",
  "InsufficientCpuResourcesFault",
  "InsufficientHostCapacityFault",
  "InsufficientHostCpuCapacityFault",
  "InsufficientHostMemoryCapacityFault",
  "InsufficientStorageSpace",
  "NoDiskSpace",
  "OutOfBounds",
]);
const quota = new Set(["NotEnoughLicenses", "LicenseExpired"]);
const invalid = new Set([
  "InvalidArgument",
  "InvalidName",
  "InvalidPowerState",
  "InvalidState",
  "InvalidVmConfig",
  "InvalidDeviceSpec",
  "NotSupported",
  "VmConfigIncompatibleForRecordReplay",
  "MigrationFault",
  "VMotionInterfaceIssue",
  "CannotAccessNetwork",
  "CustomizationFault",
  "InvalidLogin",
  "NoPermission",
]);

/** Whether `error` (or a cause) is a fault of one of `types`. */
export function isFault(error: unknown, ...types: string[]): boolean {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof VsphereFault && types.includes(cause.fault)) return true;
  }
  return false;
}

/**
 * The provider error for `error`, with `context` (what vkedge was doing) in front: typed
 * errors pass through, faults map by type (unknown ones, network errors and HTTP errors
 * are `UnavailableError`: trying again later may help).
 */
export function toProviderError(error: unknown, context: string): ProviderError {
  const typed = findProviderError(error);
  if (typed !== undefined) return typed;
  const message = `${context}: ${errorMessage(error)}`;
  if (error instanceof VsphereFault) {
    if (notFound.has(error.fault)) return new NotFoundError(message, { cause: error });
    if (alreadyExists.has(error.fault)) return new AlreadyExistsError(message, { cause: error });
    if (capacity.has(error.fault)) {
      return new ResourceExhaustedError(message, { cause: error, resource: "capacity" });
    }
    if (quota.has(error.fault)) {
      return new ResourceExhaustedError(message, { cause: error, resource: "quota" });
    }
    if (invalid.has(error.fault)) return new InvalidInputError(message, { cause: error });
  }
  return new UnavailableError(message, { cause: error });
}
