/**
 * Label selectors in their string form, as `kubectl get -l` takes them: `k=v`, `k==v`,
 * `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`, joined by commas (all must match).
 * Parsed once into a predicate; a malformed selector is an error that says where.
 *
 * @module
 */

type Requirement = (labels: Record<string, string>) => boolean;

/** Thrown for a selector that does not parse. */
export class LabelSelectorError extends Error {
  override name = "LabelSelectorError";
}

const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Splits on commas outside parentheses. */
function terms(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of text) {
    if (char === "(") depth++;
    if (char === ")") depth--;
    if (char === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += char;
  }
  parts.push(current);
  return parts.map((part) => part.trim());
}

function checkKey(key: string, term: string): string {
  if (!KEY.test(key)) throw new LabelSelectorError(`"${term}": "${key}" is not a label key`);
  return key;
}

function checkValue(value: string, term: string): string {
  if (!VALUE.test(value) || value.length > 63) {
    throw new LabelSelectorError(`"${term}": "${value}" is not a label value`);
  }
  return value;
}

function requirement(term: string): Requirement {
  const set = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(term);
  if (set) {
    const key = checkKey(set[1], term);
    const values = new Set(set[3].split(",").map((v) => checkValue(v.trim(), term)));
    return set[2] === "in"
      ? (labels) => key in labels && values.has(labels[key])
      : (labels) => !(key in labels) || !values.has(labels[key]);
  }
  const inequality = /^([^!=\s]+)\s*!=\s*(\S*)$/.exec(term);
  if (inequality) {
    const key = checkKey(inequality[1], term);
    const value = checkValue(inequality[2], term);
    return (labels) => labels[key] !== value;
  }
  const equality = /^([^!=\s]+)\s*==?\s*(\S*)$/.exec(term);
  if (equality) {
    const key = checkKey(equality[1], term);
    const value = checkValue(equality[2], term);
    return (labels) => labels[key] === value;
  }
  if (term.startsWith("!")) {
    const key = checkKey(term.slice(1).trim(), term);
    return (labels) => !(key in labels);
  }
  const key = checkKey(term, term);
  return (labels) => key in labels;
}

/**
 * The predicate of `selector`; throws `LabelSelectorError` naming the bad term. An empty
 * selector matches everything.
 */
export function parseLabelSelector(
  selector: string,
): (labels: Record<string, string> | undefined) => boolean {
  const requirements = selector.trim() === "" ? [] : terms(selector).map((term) => {
    if (term === "") throw new LabelSelectorError(`"${selector}": an empty term`);
    return requirement(term);
  });
  return (labels) => requirements.every((matches) => matches(labels ?? {}));
}
