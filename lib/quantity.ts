/**
 * Kubernetes resource quantities (`100m`, `2Gi`, `500M`, `1e3`): a signed
 * decimal number followed by an optional binary-SI, decimal-SI or decimal
 * exponent suffix, as in `k8s.io/apimachinery/pkg/api/resource`.
 *
 * @module
 */

interface Parts {
  /** The digits of the number without its decimal point. */
  digits: bigint;
  /** The power of ten the digits are multiplied by (decimal point and suffix). */
  exp10: number;
  /** The power of two the digits are multiplied by (binary suffixes). */
  exp2: number;
}

const NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?(.*)$/;
const EXPONENT = /^[eE]([+-]?\d+)$/;
/** Bounds the work exact arithmetic may do for an absurd exponent such as `1e999999`. */
const MAX_EXPONENT = 400;

const SUFFIXES: Record<string, { exp10?: number; exp2?: number }> = {
  "": {},
  n: { exp10: -9 },
  u: { exp10: -6 },
  m: { exp10: -3 },
  k: { exp10: 3 },
  M: { exp10: 6 },
  G: { exp10: 9 },
  T: { exp10: 12 },
  P: { exp10: 15 },
  E: { exp10: 18 },
  Ki: { exp2: 10 },
  Mi: { exp2: 20 },
  Gi: { exp2: 30 },
  Ti: { exp2: 40 },
  Pi: { exp2: 50 },
  Ei: { exp2: 60 },
};

function parts(quantity: string): Parts {
  const match = NUMBER.exec(quantity);
  const [, sign, whole, fraction, suffix] = match ?? [];
  if (!match || whole + (fraction ?? "") === "") throw invalid(quantity);
  const exponent = EXPONENT.exec(suffix);
  const scale = exponent
    ? { exp10: Number(exponent[1]) }
    : Object.hasOwn(SUFFIXES, suffix)
    ? SUFFIXES[suffix]
    : undefined;
  const exp10 = (scale?.exp10 ?? 0) - (fraction?.length ?? 0);
  if (!scale || Math.abs(exp10) > MAX_EXPONENT) throw invalid(quantity);
  const magnitude = BigInt(whole + (fraction ?? ""));
  return { digits: sign === "-" ? -magnitude : magnitude, exp10, exp2: scale.exp2 ?? 0 };
}

function invalid(quantity: string): SyntaxError {
  return new SyntaxError(
    `expected a Kubernetes quantity such as "100m", "2Gi", "500M" or "1e3", found "${quantity}"`,
  );
}

/** `ceil(quantity × 10^scale)`, computed exactly. */
function scaled(quantity: string, scale: number): number {
  const { digits, exp10, exp2 } = parts(quantity);
  let numerator = digits * 2n ** BigInt(exp2);
  let denominator = 1n;
  const power = exp10 + scale;
  if (power >= 0) numerator *= 10n ** BigInt(power);
  else denominator = 10n ** BigInt(-power);
  const quotient = numerator / denominator;
  const roundUp = numerator % denominator > 0n ? 1n : 0n;
  return Number(quotient + roundUp);
}

/**
 * The value of a quantity as a number (`"100m"` → 0.1, `"2Gi"` → 2147483648).
 * Throws a `SyntaxError` for anything that is not a quantity.
 */
export function parseQuantity(quantity: string): number {
  const { digits, exp10, exp2 } = parts(quantity);
  return Number(`${digits}e${exp10}`) * 2 ** exp2;
}

/** The value of a quantity rounded up to a whole number, like Go's `Quantity.Value()` (`"100m"` → 1). */
export function quantityValue(quantity: string): number {
  return scaled(quantity, 0);
}

/** The value of a quantity in thousandths rounded up, like Go's `Quantity.MilliValue()` (`"0.1"` → 100). */
export function quantityMilliValue(quantity: string): number {
  return scaled(quantity, 3);
}
