/**
 * A comparable JSON form of a value: object keys sorted, so that two objects with the
 * same content give the same text whatever order their keys were set in.
 *
 * @module
 */

/** Absent, null and empty lists all mean "not set" to the API server. */
function unset(value: unknown): boolean {
  return value === undefined || value === null || (Array.isArray(value) && value.length === 0);
}

/**
 * JSON of `value` with every object's keys sorted; with `omitUnset`, properties that are
 * null or an empty list are left out as well (as the API server stores them).
 */
export function canonicalJson(value: unknown, options: { omitUnset?: boolean } = {}): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (!inner || typeof inner !== "object" || Array.isArray(inner)) return inner;
    const entries = Object.entries(inner as Record<string, unknown>);
    return Object.fromEntries(
      (options.omitUnset ? entries.filter(([, v]) => !unset(v)) : entries)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  });
}
