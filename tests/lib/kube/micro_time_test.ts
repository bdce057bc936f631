import { assertEquals, assertThrows } from "../../_harness/assert.ts";
import { formatMicroTime, formatTime, parseKubeTime } from "../../../lib/kube/mod.ts";

Deno.test("formatMicroTime writes exactly six fractional digits and Z", () => {
  assertEquals(
    formatMicroTime(new Date("2026-11-25T20:08:27.123Z")),
    "2026-11-25T20:08:27.123000Z",
  );
  assertEquals(formatMicroTime(new Date("2026-11-25T20:08:27Z")), "2026-11-25T20:08:27.000000Z");
  assertEquals(formatMicroTime(new Date(0)), "1970-01-01T00:00:00.000000Z");
  for (let i = 0; i < 100; i++) {
    const text = formatMicroTime(new Date(Math.floor(Math.random() * 4e12)));
    assertEquals(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(text), true, text);
  }
});

Deno.test("formatTime writes whole seconds", () => {
  assertEquals(formatTime(new Date("2026-11-25T20:08:27.999Z")), "2026-11-25T20:08:27Z");
});

Deno.test("parseKubeTime reads Time, MicroTime and offsets", () => {
  assertEquals(parseKubeTime("2026-11-25T20:08:27Z").toISOString(), "2026-11-25T20:08:27.000Z");
  assertEquals(
    parseKubeTime("2026-11-25T20:08:27.123456Z").toISOString(),
    "2026-11-25T20:08:27.123Z",
  );
  assertEquals(
    parseKubeTime("2026-11-25T22:08:27.5+02:00").toISOString(),
    "2026-11-25T20:08:27.500Z",
  );
  const now = new Date("2030-01-02T03:04:05.678Z");
  assertEquals(parseKubeTime(formatMicroTime(now)).getTime(), now.getTime());
});

Deno.test("parseKubeTime and formatting reject invalid input with what was found", () => {
  assertThrows(
    () => parseKubeTime("yesterday"),
    RangeError,
    'expected an RFC 3339 time such as 2026-11-25T20:08:27Z, found "yesterday"',
  );
  assertThrows(
    () => parseKubeTime("2026-02-30T00:00:00Z"),
    RangeError,
    'expected a valid calendar time, found "2026-02-30T00:00:00Z"',
  );
  assertThrows(() => formatMicroTime(new Date(NaN)), RangeError, "expected a valid Date");
});
