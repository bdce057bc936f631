/**
 * One way to turn a caught value into text, for logs, events and error messages: the
 * message of an `Error`, the string form of anything else.
 *
 * @module
 */

/** The message of `error` when it is an `Error`, else its string form. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The stack of `error` when it has one (for unexpected failures), else its message. */
export function errorStack(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** `error` itself when it is an `Error`, else an `Error` carrying its string form. */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
