/**
 * Kubernetes time formats: `Time` (RFC 3339, seconds) and `MicroTime` (six
 * fractional digits), as the API server expects them.
 *
 * @module
 */

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

function assertValidDate(date: Date): void {
  if (Number.isNaN(date.getTime())) {
    throw new RangeError("expected a valid Date, found an invalid Date");
  }
}

/** Formats a date as a Kubernetes `MicroTime`, e.g. `2026-11-25T20:08:27.123000Z`. */
export function formatMicroTime(date: Date): string {
  assertValidDate(date);
  return `${date.toISOString().slice(0, 23)}000Z`;
}

/** Formats a date as a Kubernetes `Time` (whole seconds), e.g. `2026-11-25T20:08:27Z`. */
export function formatTime(date: Date): string {
  assertValidDate(date);
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** Parses a Kubernetes `Time` or `MicroTime` string (RFC 3339); precision beyond milliseconds is dropped. */
export function parseKubeTime(value: string): Date {
  const match = RFC3339.exec(value);
  if (match === null) {
    throw new RangeError(
      `expected an RFC 3339 time such as 2026-11-25T20:08:27Z, found ${JSON.stringify(value)}`,
    );
  }
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const fraction = match[7];
  const millis = fraction === undefined ? 0 : Number(fraction.padEnd(3, "0").slice(0, 3));
  const local = new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis));
  if (
    local.getUTCMonth() !== month - 1 || local.getUTCDate() !== day ||
    local.getUTCHours() !== hour || local.getUTCMinutes() !== minute
  ) {
    throw new RangeError(`expected a valid calendar time, found ${JSON.stringify(value)}`);
  }
  const offset = match[8];
  if (offset === "Z" || offset === "z") return local;
  const sign = offset.startsWith("-") ? -1 : 1;
  const offsetMinutes = Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6));
  return new Date(local.getTime() - sign * offsetMinutes * 60_000);
}
