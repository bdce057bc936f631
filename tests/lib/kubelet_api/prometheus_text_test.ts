import assert from "node:assert/strict";
import { formatPrometheusText } from "../../../lib/kubelet_api/prometheus_text.ts";

Deno.test("prometheus text has HELP and TYPE, labels in the given order, escapes and timestamps", () => {
  const text = formatPrometheusText([
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
  assert.equal(
    text,
    [
      "# HELP pod_cpu_usage_seconds_total cpu\\\\time",
      "# TYPE pod_cpu_usage_seconds_total counter",
      'pod_cpu_usage_seconds_total{namespace="default",pod="we\\"b"} 1.5 1000',
      "# HELP resource_scrape_error err",
      "# TYPE resource_scrape_error gauge",
      "resource_scrape_error 0",
      "",
    ].join("\n"),
  );
  assert.throws(
    () => formatPrometheusText([{ name: "bad-name", help: "", type: "gauge", samples: [] }]),
    /found "bad-name"/,
  );
});
