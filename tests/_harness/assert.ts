/**
 * Assertions for the tests, named as in Deno's standard library (which cannot
 * be fetched here) and built on `node:assert/strict`.
 *
 * @module
 */

import nodeAssert from "node:assert/strict";

/** Asserts that `value` is truthy. */
export function assert(value: unknown, message?: string): asserts value {
  nodeAssert.ok(value, message);
}

/** Asserts deep, strict equality. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, message);
}

/** Asserts deep, strict inequality. */
export function assertNotEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, message);
}

/** Asserts that `actual` contains `expected`. */
export function assertStringIncludes(actual: string, expected: string, message?: string): void {
  nodeAssert.ok(
    actual.includes(expected),
    message ?? `expected ${JSON.stringify(actual)} to include ${JSON.stringify(expected)}`,
  );
}

/** Asserts that `actual` matches `pattern`. */
export function assertMatch(actual: string, pattern: RegExp, message?: string): void {
  nodeAssert.match(actual, pattern, message);
}

/** Asserts that `value` is an instance of `type` and narrows it. */
export function assertInstanceOf<T>(
  value: unknown,
  // deno-lint-ignore no-explicit-any
  type: abstract new (...args: any[]) => T,
  message?: string,
): asserts value is T {
  nodeAssert.ok(
    value instanceof type,
    message ?? `expected an instance of ${type.name}, got ${describe(value)}`,
  );
}

function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  return typeof value === "object" ? String(value?.constructor?.name) : typeof value;
}

/** Asserts that `fn` throws an instance of `type` (with `includes` in its message) and returns it. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  type?: abstract new (...args: any[]) => E,
  includes?: string,
): E {
  try {
    fn();
  } catch (error) {
    return checkError(error, type, includes);
  }
  throw new nodeAssert.AssertionError({ message: "expected the function to throw" });
}

/** Asserts that `fn` rejects with an instance of `type` (with `includes` in its message) and returns it. */
export async function assertRejects<E extends Error = Error>(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  type?: abstract new (...args: any[]) => E,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    return checkError(error, type, includes);
  }
  throw new nodeAssert.AssertionError({ message: "expected the promise to reject" });
}

function checkError<E extends Error>(
  error: unknown,
  // deno-lint-ignore no-explicit-any
  type: (abstract new (...args: any[]) => E) | undefined,
  includes: string | undefined,
): E {
  if (type && !(error instanceof type)) {
    throw new nodeAssert.AssertionError({
      message: `expected ${type.name}, got ${describe(error)}`,
    });
  }
  if (!(error instanceof Error)) {
    throw new nodeAssert.AssertionError({ message: `expected an Error, got ${describe(error)}` });
  }
  if (includes !== undefined && !error.message.includes(includes)) {
    throw new nodeAssert.AssertionError({
      message: `expected the error message to include ${JSON.stringify(includes)}, got ${
        JSON.stringify(error.message)
      }`,
    });
  }
  return error as E;
}
