// Tests of the strict exposition parser in tests/_harness/prometheus.ts, which the metrics
// tests rely on to reject anything malformed.

import { assertEquals, assertThrows } from "../../_harness/assert.ts";
import { parsePrometheusText, sampleValue } from "../../_harness/prometheus.ts";

function text(...lines: string[]): string {
  return `${lines.join("\n")}\n`;
}

const histogram = [
  "# HELP h_seconds Latency.",
  "# TYPE h_seconds histogram",
  'h_seconds_bucket{le="0.1",verb="GET"} 1',
  'h_seconds_bucket{le="1",verb="GET"} 2',
  'h_seconds_bucket{le="+Inf",verb="GET"} 3',
  'h_seconds_sum{verb="GET"} 5.5',
  'h_seconds_count{verb="GET"} 3',
];

Deno.test("the parser reads families, labels in order, escapes, special values and timestamps", () => {
  const families = parsePrometheusText(text(
    "# HELP requests_total Requests \\\\ answers\\nper code.",
    "# TYPE requests_total counter",
    'requests_total{verb="GET",code="200"} 3 1700000000000',
    'requests_total{verb="GET",code="error",} 1',
    "",
    "# a plain comment",
    "# TYPE temperature gauge",
    'temperature{where="a\\"b\\\\c\\nd"} -1.5e3',
    'temperature{where="nan"} NaN',
    'temperature{where="nan2"} Nan',
    'temperature{where="inf"} +Inf',
    "untyped_thing 7",
    ...histogram,
  ));
  const requests = families.get("requests_total");
  assertEquals(requests?.type, "counter");
  assertEquals(requests?.help, "Requests \\ answers\nper code.");
  assertEquals(requests?.samples[0], {
    name: "requests_total",
    labels: { verb: "GET", code: "200" },
    value: 3,
    timestampMs: 1700000000000,
  });
  assertEquals(Object.keys(requests?.samples[1].labels ?? {}), ["verb", "code"]);
  assertEquals(sampleValue(families, "temperature", { where: 'a"b\\c\nd' }), -1500);
  assertEquals(Number.isNaN(sampleValue(families, "temperature", { where: "nan" })), true);
  assertEquals(Number.isNaN(sampleValue(families, "temperature", { where: "nan2" })), true);
  assertEquals(sampleValue(families, "temperature", { where: "inf" }), Infinity);
  assertEquals(families.get("untyped_thing")?.type, "untyped");
  assertEquals(families.get("h_seconds")?.samples.length, 5);
  assertEquals(parsePrometheusText("").size, 0);
});

Deno.test("the parser throws on malformed lines", () => {
  const malformed: [string, string][] = [
    ["x 1", "expected the exposition to end with a newline"],
    [text("1x 1"), "expected a metric name"],
    [text('x{a="1} 1'), "expected the closing quote of label a"],
    [text('x{a="\\t"} 1'), "escapes in label a"],
    [text('x{a="1",a="2"} 1'), "expected label a only once"],
    [text("x{a=1} 1"), "expected a quoted value of label a"],
    [text('x{a="1" b="2"} 1'), 'expected "," or "}" after label a'],
    [text("x abc"), "expected a float value"],
    [text("x1"), "expected a blank before the value"],
    [text("x 1 1.5"), "expected an integer timestamp"],
    [text("x 1 2 3"), "expected a value and at most a timestamp"],
    [text("x 1", "# TYPE x gauge"), "one TYPE line for x, before its samples"],
    [text("x 1", "y 1", "# HELP x later"), "HELP of x before its samples"],
    [text("# TYPE x gauge", "# TYPE x counter"), "one TYPE line for x"],
    [text("# HELP x a", "# HELP x b"), "one HELP line for x"],
    [text("# HELP x a\\tb"), "only \\\\ and \\n escapes in HELP"],
    [text("# TYPE x meter"), "expected a metric type"],
    [text('x{a="1"} 1', "y 1", 'x{a="2"} 1'), "expected the samples of x together"],
    [text('x{a="1",b="2"} 1', 'x{b="2",a="1"} 1'), "expected each series once"],
  ];
  for (const [input, message] of malformed) {
    assertThrows(() => parsePrometheusText(input), SyntaxError, message);
  }
});

Deno.test("the parser checks counters and histograms for consistency", () => {
  const broken: [string[], string][] = [
    [["# TYPE c_total counter", "c_total -1"], "expected a value of at least 0"],
    [[...histogram.slice(0, 4), ...histogram.slice(5)], 'expected a last bucket le="+Inf"'],
    [
      [...histogram.slice(0, 3), 'h_seconds_bucket{le="1",verb="GET"} 0', ...histogram.slice(4)],
      "expected cumulative bucket counts",
    ],
    [
      [...histogram.slice(0, 2), 'h_seconds_bucket{le="2",verb="GET"} 1', ...histogram.slice(3)],
      "expected increasing le bounds",
    ],
    [[...histogram.slice(0, 6), 'h_seconds_count{verb="GET"} 4'], "to equal the +Inf bucket"],
    [[...histogram.slice(0, 5), histogram[6]], "expected _sum and _count series"],
    [[...histogram, 'h_seconds{verb="GET"} 1'], "expected samples named h_seconds_bucket"],
    [["# TYPE h histogram", "h_bucket 1"], "expected an le label with a bound"],
  ];
  for (const [lines, message] of broken) {
    assertThrows(() => parsePrometheusText(text(...lines)), SyntaxError, message);
  }
});
