/**
 * A deep copy of a JSON value (API objects, provider pods): plain objects, arrays and
 * primitives, copied member by member. For this data it is several times cheaper than
 * `structuredClone`, which serialises into a buffer and back; it is what the hot paths
 * use (a pod is copied on every resolve and every notification).
 *
 * @module
 */

/** A deep copy of `value`, which holds only plain objects, arrays and primitives. */
export function cloneJson<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  const copy: Record<string, unknown> = {};
  const object = value as Record<string, unknown>;
  for (const key in object) {
    if (Object.hasOwn(object, key)) copy[key] = cloneJson(object[key]);
  }
  return copy as T;
}
