import { assertEquals, assertRejects } from "../../_harness/assert.ts";
import { parsePrometheusText } from "../../_harness/prometheus.ts";
import { formatMetricFamilies } from "../../../lib/metrics/mod.ts";
import type { MetricFamily } from "../../../lib/stats_types.ts";

Deno.test("metric families render with HELP and TYPE, labels in the given order, escapes, no timestamps", async () => {
  const text = await formatMetricFamilies([
    {
      name: "pod_cpu_usage_seconds_total",
      help: "cpu\\time",
      type: "counter",
      samples: [{ labels: { namespace: "default", pod: 'we"b' }, value: 1.5, timestampMs: 1000 }],
    },
    { name: "empty_family", help: "x", type: "gauge", samples: [] },
    {
      name: "resource_scrape_error",
      help: "err",
      type: "gauge",
      samples: [{ labels: {}, value: 0 }],
    },
  ]);
  assertEquals(
    text,
    [
      "# HELP pod_cpu_usage_seconds_total cpu\\\\time",
      "# TYPE pod_cpu_usage_seconds_total counter",
      'pod_cpu_usage_seconds_total{namespace="default",pod="we\\"b"} 1.5',
      "# HELP resource_scrape_error err",
      "# TYPE resource_scrape_error gauge",
      "resource_scrape_error 0",
      "",
    ].join("\n"),
  );
  assertEquals(await formatMetricFamilies([]), "");
});

Deno.test("labels are written in each sample's key order, not sorted (consumers read them by position)", async () => {
  const text = await formatMetricFamilies([{
    name: "container_cpu_usage_seconds_total",
    help: "cpu",
    type: "counter",
    samples: [
      { labels: { namespace: "ns", pod: "web", container: "app" }, value: 1 },
      { labels: { namespace: "ns", pod: "web", container: "sidecar" }, value: 2 },
    ],
  }, {
    name: "reversed",
    help: "order as given",
    type: "gauge",
    samples: [{ labels: { zeta: "1", alpha: "2" }, value: 3 }],
  }]);
  const families = parsePrometheusText(text);
  const cpu = families.get("container_cpu_usage_seconds_total")?.samples ?? [];
  assertEquals(cpu.map((s) => Object.keys(s.labels)), [
    ["namespace", "pod", "container"],
    ["namespace", "pod", "container"],
  ]);
  assertEquals(cpu.map((s) => Object.values(s.labels)[1]), ["web", "web"]);
  assertEquals(cpu.map((s) => s.value), [1, 2]);
  assertEquals(Object.keys(families.get("reversed")?.samples[0].labels ?? {}), ["zeta", "alpha"]);
});

Deno.test("label values keep backslashes, quotes and newlines through escaping", async () => {
  const value = 'a\\b "c"\nd';
  const text = await formatMetricFamilies([{
    name: "escaped",
    help: "line one\nline two",
    type: "gauge",
    samples: [{ labels: { pod: value }, value: 1 }],
  }]);
  const family = parsePrometheusText(text).get("escaped");
  assertEquals(family?.samples[0].labels.pod, value);
  assertEquals(family?.help, "line one\nline two");
});

Deno.test("names the format forbids, a family given twice and a negative counter are refused", async () => {
  const gauge = (name: string, labels: Record<string, string> = {}): MetricFamily => ({
    name,
    help: "",
    type: "gauge",
    samples: [{ labels, value: 1 }],
  });
  await assertRejects(
    () => formatMetricFamilies([{ name: "bad-name", help: "", type: "gauge", samples: [] }]),
    Error,
    'found "bad-name"',
  );
  await assertRejects(
    () => formatMetricFamilies([gauge("ok", { "bad-label": "x" })]),
    Error,
    'in metric "ok", found "bad-label"',
  );
  await assertRejects(
    () => formatMetricFamilies([gauge("twice"), gauge("twice")]),
    Error,
    'expected each metric family once, found "twice" twice',
  );
  await assertRejects(
    () =>
      formatMetricFamilies([{
        name: "c_total",
        help: "",
        type: "counter",
        samples: [{ labels: {}, value: -1 }],
      }]),
    Error,
    'expected a finite counter value of at least 0 in metric "c_total", found -1',
  );
});

Deno.test("a family without help text gets its name as help", async () => {
  const text = await formatMetricFamilies([{
    name: "bare",
    help: "",
    type: "gauge",
    samples: [{ labels: {}, value: 2 }],
  }]);
  assertEquals(text, "# HELP bare bare\n# TYPE bare gauge\nbare 2\n");
});
