import { assertEquals } from "../../_harness/assert.ts";
import { resourceMetricsFromSummary } from "../../../lib/kubelet_api/resource_metrics.ts";
import type { MetricFamily, Summary } from "../../../lib/stats_types.ts";

const time = "2026-12-01T10:00:00Z";
const ms = Date.parse(time);

function byName(families: MetricFamily[]): Map<string, MetricFamily> {
  return new Map(families.map((family) => [family.name, family]));
}

Deno.test("resource metrics carry the summary's values, sample times and the kubelet's label order", () => {
  const summary: Summary = {
    node: {
      nodeName: "n",
      startTime: time,
      cpu: { time, usageCoreNanoSeconds: 2e9 },
      swap: { time, swapUsageBytes: 10 },
    },
    pods: [{
      podRef: { namespace: "ns", name: "web", uid: "u" },
      startTime: time,
      swap: { time, swapUsageBytes: 5 },
      containers: [{
        name: "app",
        startTime: time,
        memory: { time, workingSetBytes: 100 },
        swap: { time, swapUsageBytes: 5 },
      }],
    }],
  };
  const families = byName(resourceMetricsFromSummary(summary));
  assertEquals(families.get("node_cpu_usage_seconds_total")?.samples, [
    { labels: {}, value: 2, timestampMs: ms },
  ]);
  assertEquals(families.get("node_memory_working_set_bytes")?.samples, []);
  assertEquals(families.get("node_swap_usage_bytes")?.samples[0].value, 10);
  const memory = families.get("container_memory_working_set_bytes")?.samples[0];
  assertEquals(Object.entries(memory?.labels ?? {}), [
    ["namespace", "ns"],
    ["pod", "web"],
    ["container", "app"],
  ]);
  assertEquals([memory?.value, memory?.timestampMs], [100, ms]);
  assertEquals(families.get("container_start_time_seconds")?.samples[0].value, ms / 1000);
  assertEquals(families.get("pod_swap_usage_bytes")?.samples[0].labels, {
    namespace: "ns",
    pod: "web",
  });
  assertEquals(families.get("container_cpu_usage_seconds_total")?.samples, []);
  assertEquals(families.get("resource_scrape_error")?.samples, [{ labels: {}, value: 0 }]);
});

Deno.test("resource metrics report a scrape error when asked to", () => {
  const summary: Summary = { node: { nodeName: "n", startTime: time }, pods: [] };
  const families = byName(resourceMetricsFromSummary(summary, { scrapeError: true }));
  assertEquals(families.get("resource_scrape_error")?.samples, [{ labels: {}, value: 1 }]);
});
