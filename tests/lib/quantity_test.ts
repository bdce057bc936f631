import { assertEquals, assertThrows } from "../_harness/assert.ts";
import { parseQuantity, quantityMilliValue, quantityValue } from "../../lib/quantity.ts";

Deno.test("parseQuantity reads plain, decimal-SI, binary-SI and exponent quantities", () => {
  const cases: [string, number][] = [
    ["1", 1],
    ["0", 0],
    ["100m", 0.1],
    ["1.5", 1.5],
    [".5", 0.5],
    ["2.", 2],
    ["+3", 3],
    ["-2k", -2000],
    ["250u", 0.00025],
    ["7n", 7e-9],
    ["500M", 500_000_000],
    ["3G", 3e9],
    ["1T", 1e12],
    ["1P", 1e15],
    ["1E", 1e18],
    ["128Ki", 131_072],
    ["64Mi", 67_108_864],
    ["2Gi", 2_147_483_648],
    ["1Ti", 2 ** 40],
    ["1Pi", 2 ** 50],
    ["1Ei", 2 ** 60],
    ["1.5Gi", 1_610_612_736],
    ["1e3", 1000],
    ["1E3", 1000],
    ["12e-2", 0.12],
    ["5e+1", 50],
  ];
  for (const [quantity, expected] of cases) {
    assertEquals(parseQuantity(quantity), expected, quantity);
  }
});

Deno.test("parseQuantity rejects what is not a quantity, saying what it expected", () => {
  for (
    const quantity of ["", "m", "1x", "1 Gi", " 1", "1e", "1.2.3", "1KI", "0x10", "1Mb", "1e9999"]
  ) {
    assertThrows(() => parseQuantity(quantity), SyntaxError, `found "${quantity}"`);
  }
});

Deno.test("quantityValue rounds up to a whole number exactly", () => {
  const cases: [string, number][] = [
    ["100m", 1],
    ["1", 1],
    ["1.0001", 2],
    ["2Gi", 2_147_483_648],
    ["0.5Ki", 512],
    ["1e3", 1000],
    ["0", 0],
    ["-1.5", -1],
  ];
  for (const [quantity, expected] of cases) {
    assertEquals(quantityValue(quantity), expected, quantity);
  }
});

Deno.test("quantityMilliValue counts thousandths without floating-point drift", () => {
  const cases: [string, number][] = [
    ["0.1", 100],
    ["100m", 100],
    ["1.1", 1100],
    ["250u", 1],
    ["2", 2000],
    ["1Ki", 1_024_000],
    ["3e-3", 3],
  ];
  for (const [quantity, expected] of cases) {
    assertEquals(quantityMilliValue(quantity), expected, quantity);
  }
});
