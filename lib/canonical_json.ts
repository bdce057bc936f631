/**
 * A comparable JSON form of a value: object keys sorted, so that two objects with the
 * same content give the same text whatever order their keys were set in. Written directly
 * rather than through `JSON.stringify` with a replacer, which would build a sorted copy of
 * every object on the way; it runs for every pod on every sync and status report.
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
  const parts: string[] = [];
  if (!write(value, options.omitUnset === true, parts)) return "null";
  return parts.join("");
}

/** Appends the JSON of `value` to `parts`; false where `JSON.stringify` would leave it out. */
function write(value: unknown, omitUnset: boolean, parts: string[]): boolean {
  if (value === null || typeof value !== "object") {
    const json = JSON.stringify(value) as string | undefined;
    if (json === undefined) return false; // undefined, a function or a symbol
    parts.push(json);
    return true;
  }
  const withToJson = value as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === "function") {
    return write(withToJson.toJSON(), omitUnset, parts);
  }
  if (Array.isArray(value)) {
    parts.push("[");
    for (let i = 0; i < value.length; i++) {
      if (i > 0) parts.push(",");
      if (!write(value[i], omitUnset, parts)) parts.push("null");
    }
    parts.push("]");
    return true;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort();
  parts.push("{");
  let first = true;
  for (const key of keys) {
    const inner = object[key];
    if (omitUnset && unset(inner)) continue;
    const mark = parts.length;
    parts.push(first ? "" : ",", JSON.stringify(key), ":");
    if (write(inner, omitUnset, parts)) first = false;
    else parts.length = mark; // left out, as JSON.stringify leaves undefined out
  }
  parts.push("}");
  return true;
}
