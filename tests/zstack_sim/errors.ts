/**
 * ZStack error codes as the management node sends them: the `{"error": {...}}`
 * object of a 503 answer, and the plain-text HTTP errors (400, 404, 405, 500)
 * of the REST layer.
 *
 * @module
 */

/** The ErrorCode object of a failed API, as serialized by Gson (absent fields are omitted). */
export interface ErrorCode {
  code: string;
  description: string;
  details?: string;
  cause?: ErrorCode;
}

/** Fixed descriptions, from ZStack's `conf/errorCodes/*.xml`. */
const DESCRIPTIONS: Record<string, string> = {
  "SYS.1000": "An internal error happened in system",
  "SYS.1001": "A message or a operation timeout",
  "SYS.1003": "A resource can not be found",
  "SYS.1006": "An operation failed",
  "SYS.1007": "One or more API argument is invalid",
  "SYS.1010": "Management server is not ready to serve",
  "SYS.1012": "The management node is unavailable",
  "SYS.1014": "The operation is not implemented or not supported yet",
  "ID.1000": "Unable to authenticate a user",
  "ID.1001": "The session is invalid, either wrong session id or the session has been expired",
  "ID.1002": "The user doesn't have permission to perform the operation",
  "ID.1006": "The number of sessions exceeds the maximum",
  "VM.1010": "VM is not in state that allows required operation",
  "HOST_ALLOCATION.1000": "No available host found",
};

/** Builds an ErrorCode with the fixed description of `code`. */
export function errorCode(code: string, details?: string, cause?: ErrorCode): ErrorCode {
  const error: ErrorCode = { code, description: DESCRIPTIONS[code] ?? code };
  if (details !== undefined) error.details = details;
  if (cause !== undefined) error.cause = cause;
  return error;
}

/** An API that ran and failed: answered 503 with `{"error": error}` (on the poll for async APIs). */
export class ApiError extends Error {
  /** The ErrorCode sent to the client. */
  readonly error: ErrorCode;

  /** Wraps `error`. */
  constructor(error: ErrorCode) {
    super(`${error.code}: ${error.details ?? error.description}`);
    this.name = "ApiError";
    this.error = error;
  }
}

/** A failure of the REST layer itself, answered with `status` and a plain-text body. */
export class HttpError extends Error {
  /** The HTTP status code. */
  readonly status: number;

  /** Creates an HTTP error answered with `status` and `message` as the body. */
  constructor(status: number, message: string) {
    super(message);
    this.name = "HttpError";
    this.status = status;
  }
}

/** SYS.1007, as argerr() gives it. */
export function invalidArgument(details: string): ApiError {
  return new ApiError(errorCode("SYS.1007", details));
}

/** SYS.1007 for a missing mandatory field of `apiClass` (e.g. `org.zstack.header.vm.APICreateVmInstanceMsg`). */
export function missingField(field: string, apiClass: string): ApiError {
  return invalidArgument(`field[${field}] of message[${apiClass}] is mandatory, can not be null`);
}

/** SYS.1003 for an unknown uuid in `field`, as the API validator words it. */
export function resourceNotFound(field: string, uuid: string, voType: string): ApiError {
  return new ApiError(
    errorCode(
      "SYS.1003",
      `invalid field[${field}], resource[uuid:${uuid}, type:${voType}] not found`,
    ),
  );
}

/** SYS.1006, as operr() gives it. */
export function operationError(details: string, cause?: ErrorCode): ApiError {
  return new ApiError(errorCode("SYS.1006", details, cause));
}

/** ID.1001, what the identity interceptor answers for an unknown or expired session. */
export function invalidSession(): ApiError {
  return new ApiError(errorCode("ID.1001", "Session expired"));
}
