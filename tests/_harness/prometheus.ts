/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests that read
 * what the agent serves: `# HELP` and `# TYPE` lines, samples with labels and an optional
 * timestamp, families kept together, no duplicate series, counters not negative, and
 * histograms whose `_bucket`, `_sum` and `_count` series agree. Anything malformed throws,
 * naming the line.
 *
 * @module
 */

/** The metric types of the format. */
export type PrometheusType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

/** One sample line. */
export interface PrometheusSample {
  /** The sample's name, e.g. `x_bucket` in family `x`. */
  name: string;
  /** Labels in the order written (read positionally with `Object.values`). */
  labels: Record<string, string>;
  /** The value (`NaN`, `Infinity` and `-Infinity` included). */
  value: number;
  /** Milliseconds since the epoch, when the line has a timestamp. */
  timestampMs?: number;
}

/** A metric family: its metadata and its samples in order. */
export interface PrometheusFamily {
  /** The family name (without `_bucket`, `_sum`, `_count` for histograms and summaries). */
  name: string;
  /** The `# HELP` text, unescaped. */
  help?: string;
  /** The `# TYPE`, `untyped` without one. */
  type: PrometheusType;
  /** The samples, in order. */
  samples: PrometheusSample[];
}

const TYPES = new Set<string>(["counter", "gauge", "histogram", "summary", "untyped"]);
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const TIMESTAMP = /^-?\d+$/;

function fail(lineNumber: number, line: string, expected: string): never {
  throw new SyntaxError(`line ${lineNumber}: expected ${expected}, found ${JSON.stringify(line)}`);
}

/** Parses a value as the format (Go's ParseFloat) allows, or returns `undefined`. */
export function parsePrometheusValue(text: string): number | undefined {
  if (FLOAT.test(text)) return Number(text);
  const lower = text.toLowerCase();
  if (lower === "nan") return NaN;
  if (/^[+]?inf(?:inity)?$/.test(lower)) return Infinity;
  if (/^-inf(?:inity)?$/.test(lower)) return -Infinity;
  return undefined;
}

function unescape(text: string, allowQuote: boolean): string | undefined {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const next = text[++i];
    if (next === "\\") out += "\\";
    else if (next === "n") out += "\n";
    else if (next === '"' && allowQuote) out += '"';
    else return undefined;
  }
  return out;
}

/** Scans `rest` (after the metric name) for `{labels}`, returning them and what follows. */
function scanLabels(
  rest: string,
  where: { lineNumber: number; line: string },
): [Record<string, string>, string] {
  const labels: Record<string, string> = {};
  function bad(expected: string): never {
    fail(where.lineNumber, where.line, expected);
  }
  let s = rest.replace(/^[ \t]*/, "");
  if (!s.startsWith("{")) return [labels, rest];
  s = s.slice(1).replace(/^[ \t]*/, "");
  while (!s.startsWith("}")) {
    const name = LABEL_NAME.exec(s)?.[0];
    if (name === undefined) bad("a label name");
    if (Object.hasOwn(labels, name)) bad(`label ${name} only once`);
    s = s.slice(name.length).replace(/^[ \t]*/, "");
    if (!s.startsWith("=")) bad(`"=" after label ${name}`);
    s = s.slice(1).replace(/^[ \t]*/, "");
    if (!s.startsWith('"')) bad(`a quoted value of label ${name}`);
    let end = 1;
    while (end < s.length && s[end] !== '"') end += s[end] === "\\" ? 2 : 1;
    if (end >= s.length) bad(`the closing quote of label ${name}`);
    const value = unescape(s.slice(1, end), true);
    if (value === undefined) bad(`only \\\\, \\" and \\n escapes in label ${name}`);
    labels[name] = value;
    s = s.slice(end + 1).replace(/^[ \t]*/, "");
    if (s.startsWith(",")) s = s.slice(1).replace(/^[ \t]*/, "");
    else if (!s.startsWith("}")) bad(`"," or "}" after label ${name}`);
  }
  return [labels, s.slice(1)];
}

function parseSample(line: string, lineNumber: number): PrometheusSample {
  const name = METRIC_NAME.exec(line)?.[0];
  if (name === undefined) fail(lineNumber, line, "a metric name");
  const [labels, after] = scanLabels(line.slice(name.length), { lineNumber, line });
  if (!/^[ \t]+/.test(after)) fail(lineNumber, line, "a blank before the value");
  const fields = after.trim().split(/[ \t]+/);
  if (fields.length > 2) fail(lineNumber, line, "a value and at most a timestamp");
  const value = parsePrometheusValue(fields[0]);
  if (value === undefined) fail(lineNumber, line, "a float value");
  const sample: PrometheusSample = { name, labels, value };
  if (fields.length === 2) {
    if (!TIMESTAMP.test(fields[1])) fail(lineNumber, line, "an integer timestamp");
    sample.timestampMs = Number(fields[1]);
  }
  return sample;
}

function familyNameOf(
  sample: string,
  families: Map<string, PrometheusFamily>,
): string {
  if (families.has(sample)) return sample;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!sample.endsWith(suffix)) continue;
    const base = families.get(sample.slice(0, -suffix.length));
    if (base?.type === "histogram" || (base?.type === "summary" && suffix !== "_bucket")) {
      return base.name;
    }
  }
  return sample;
}

function seriesKey(name: string, labels: Record<string, string>, without?: string): string {
  const entries = Object.entries(labels).filter(([key]) => key !== without).sort();
  return `${name}${JSON.stringify(entries)}`;
}

function checkSampleName(family: PrometheusFamily, sample: PrometheusSample): void {
  const suffix = sample.name.slice(family.name.length);
  const allowed = family.type === "histogram"
    ? ["_bucket", "_sum", "_count"]
    : family.type === "summary"
    ? ["", "_sum", "_count"]
    : [""];
  if (!allowed.includes(suffix)) {
    throw new SyntaxError(
      `${family.type} ${family.name}: expected samples named ${
        allowed.map((s) => family.name + s).join(", ")
      }, found ${sample.name}`,
    );
  }
  if (family.type === "counter" && sample.value < 0) {
    throw new SyntaxError(
      `counter ${family.name}: expected a value of at least 0, found ${sample.value}`,
    );
  }
  if (family.type === "summary" && suffix === "" && !("quantile" in sample.labels)) {
    throw new SyntaxError(`summary ${family.name}: expected a quantile label on ${sample.name}`);
  }
}

function checkHistogram(family: PrometheusFamily): void {
  const series = new Map<
    string,
    { buckets: [number, number][]; sum?: number; count?: number; labels: string }
  >();
  for (const sample of family.samples) {
    const key = seriesKey(family.name, sample.labels, "le");
    const entry = series.get(key) ?? { buckets: [], labels: key };
    series.set(key, entry);
    if (sample.name.endsWith("_bucket")) {
      const le = sample.labels.le;
      const bound = le === undefined ? undefined : parsePrometheusValue(le);
      if (bound === undefined || Number.isNaN(bound)) {
        throw new SyntaxError(
          `histogram ${key}: expected an le label with a bound, found ${JSON.stringify(le)}`,
        );
      }
      entry.buckets.push([bound, sample.value]);
    } else if (sample.name.endsWith("_sum")) {
      entry.sum = sample.value;
    } else {
      entry.count = sample.value;
    }
  }
  for (const { buckets, sum, count, labels } of series.values()) {
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i][0] > buckets[i - 1][0])) {
        throw new SyntaxError(`histogram ${labels}: expected increasing le bounds`);
      }
      if (buckets[i][1] < buckets[i - 1][1]) {
        throw new SyntaxError(
          `histogram ${labels}: expected cumulative bucket counts, found ${buckets[i][1]} after ${
            buckets[i - 1][1]
          }`,
        );
      }
    }
    const last = buckets.at(-1);
    if (last === undefined || last[0] !== Infinity) {
      throw new SyntaxError(`histogram ${labels}: expected a last bucket le="+Inf", found none`);
    }
    if (sum === undefined || count === undefined) {
      throw new SyntaxError(`histogram ${labels}: expected _sum and _count series`);
    }
    if (count !== last[1]) {
      throw new SyntaxError(
        `histogram ${labels}: expected _count ${count} to equal the +Inf bucket, found ${last[1]}`,
      );
    }
  }
}

/** Parses exposition text into families by name; throws a `SyntaxError` on anything malformed. */
export function parsePrometheusText(text: string): Map<string, PrometheusFamily> {
  const families = new Map<string, PrometheusFamily>();
  if (text !== "" && !text.endsWith("\n")) {
    throw new SyntaxError("expected the exposition to end with a newline, found none");
  }
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: string | undefined;
  const family = (name: string): PrometheusFamily => {
    let found = families.get(name);
    if (found === undefined) {
      found = { name, type: "untyped", samples: [] };
      families.set(name, found);
    }
    return found;
  };
  const lines = text === "" ? [] : text.slice(0, -1).split("\n");
  lines.forEach((line, index) => {
    const lineNumber = index + 1;
    if (line.trim() === "") return;
    if (line.startsWith("#")) {
      const meta = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
      if (meta === null) return; // an ordinary comment
      const [, kind, name, rest = ""] = meta;
      if (METRIC_NAME.exec(name)?.[0] !== name) fail(lineNumber, line, "a metric name");
      if (closed.has(name) || (current !== name && family(name).samples.length > 0)) {
        fail(lineNumber, line, `${kind} of ${name} before its samples`);
      }
      const target = family(name);
      if (kind === "HELP") {
        if (target.help !== undefined) fail(lineNumber, line, `one HELP line for ${name}`);
        const help = unescape(rest, false);
        if (help === undefined) fail(lineNumber, line, "only \\\\ and \\n escapes in HELP");
        target.help = help;
      } else {
        if (!TYPES.has(rest.trim())) fail(lineNumber, line, "a metric type");
        if (target.type !== "untyped" || target.samples.length > 0) {
          fail(lineNumber, line, `one TYPE line for ${name}, before its samples`);
        }
        target.type = rest.trim() as PrometheusType;
      }
      if (current !== undefined && current !== name) closed.add(current);
      current = name;
      return;
    }
    const sample = parseSample(line, lineNumber);
    const name = familyNameOf(sample.name, families);
    if (closed.has(name)) fail(lineNumber, line, `the samples of ${name} together`);
    if (current !== undefined && current !== name) closed.add(current);
    current = name;
    const target = family(name);
    checkSampleName(target, sample);
    const key = seriesKey(sample.name, sample.labels);
    if (series.has(key)) fail(lineNumber, line, "each series once");
    series.add(key);
    target.samples.push(sample);
  });
  for (const found of families.values()) {
    if (found.type === "histogram") checkHistogram(found);
  }
  return families;
}

/** The samples named `name` whose labels include every one of `labels`. */
export function findSamples(
  families: Map<string, PrometheusFamily>,
  name: string,
  labels: Record<string, string> = {},
): PrometheusSample[] {
  const found: PrometheusSample[] = [];
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== name) continue;
      if (Object.entries(labels).every(([key, value]) => sample.labels[key] === value)) {
        found.push(sample);
      }
    }
  }
  return found;
}

/** The value of the one sample named `name` with `labels` (a subset); throws unless exactly one matches. */
export function sampleValue(
  families: Map<string, PrometheusFamily>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const found = findSamples(families, name, labels);
  if (found.length !== 1) {
    throw new Error(
      `expected one sample ${name}${JSON.stringify(labels)}, found ${found.length}`,
    );
  }
  return found[0].value;
}
