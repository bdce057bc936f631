import type { Node } from "kubernetes-types/core/v1.d.ts";
import { assertEquals, assertInstanceOf, assertRejects } from "../../_harness/assert.ts";
import { parsePrometheusText, sampleValue } from "../../_harness/prometheus.ts";
import { HttpError } from "../../../lib/kubelet_api/http_errors.ts";
import { serveMetricsResource, serveStatsSummary } from "../../../lib/kubelet_api/stats.ts";
import type { Provider } from "../../../lib/provider.ts";
import type { MetricFamily, Summary } from "../../../lib/stats_types.ts";

const signal = new AbortController().signal;

function bareProvider(name = "bare"): Provider {
  return {
    name,
    createPod: () => Promise.resolve(),
    updatePod: () => Promise.resolve(),
    deletePod: () => Promise.resolve(),
    getPod: () => Promise.resolve(undefined),
    getPodStatus: () => Promise.resolve(undefined),
    getPods: () => Promise.resolve([]),
    ping: () => Promise.resolve(),
    configureNode: (node: Node) => Promise.resolve(node),
  };
}

const time = "2026-12-01T10:00:00Z";

const summary: Summary = {
  node: {
    nodeName: "edge-1",
    startTime: time,
    cpu: { time, usageCoreNanoSeconds: 12_500_000_000 },
    memory: { time, workingSetBytes: 4096 },
  },
  pods: [{
    podRef: { namespace: "default", name: "trio", uid: "u-1" },
    startTime: time,
    cpu: { time, usageCoreNanoSeconds: 3_000_000_000 },
    memory: { time, workingSetBytes: 3072 },
    containers: ["a", "b", "c"].map((name, i) => ({
      name,
      startTime: time,
      cpu: { time, usageCoreNanoSeconds: (i + 1) * 1_000_000_000 },
      memory: { time, workingSetBytes: 1024 },
    })),
  }],
};

Deno.test("/metrics/resource derives the kubelet's families from a summary, served as strict Prometheus text", async () => {
  const provider = {
    ...bareProvider("summarising"),
    getStatsSummary: () => Promise.resolve(summary),
  };
  const response = await serveMetricsResource(provider, signal);
  assertEquals(response.status, 200);
  assertEquals(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await response.text();
  const families = parsePrometheusText(text);
  assertEquals(families.get("node_cpu_usage_seconds_total")?.type, "counter");
  assertEquals(families.get("container_memory_working_set_bytes")?.type, "gauge");
  assertEquals(sampleValue(families, "node_cpu_usage_seconds_total"), 12.5);
  assertEquals(sampleValue(families, "node_memory_working_set_bytes"), 4096);
  assertEquals(sampleValue(families, "pod_cpu_usage_seconds_total", { pod: "trio" }), 3);
  const containers = families.get("container_cpu_usage_seconds_total")?.samples ?? [];
  // The kubelet's label order, which virtual-kubelet's e2e suite reads by position.
  assertEquals(containers.map((s) => Object.entries(s.labels)), [
    [["namespace", "default"], ["pod", "trio"], ["container", "a"]],
    [["namespace", "default"], ["pod", "trio"], ["container", "b"]],
    [["namespace", "default"], ["pod", "trio"], ["container", "c"]],
  ]);
  assertEquals(containers.map((s) => s.value), [1, 2, 3]);
  assertEquals(
    sampleValue(families, "container_start_time_seconds", { container: "b" }),
    Date.parse(time) / 1000,
  );
  assertEquals(sampleValue(families, "resource_scrape_error"), 0);
  // prom-client writes no sample timestamps (see lib/metrics/families.ts).
  for (const family of families.values()) {
    for (const sample of family.samples) assertEquals(sample.timestampMs, undefined);
  }
  // Nothing reported, nothing served: no swap family without swap figures.
  assertEquals(families.has("container_swap_usage_bytes"), false);
});

Deno.test("/metrics/resource serves a provider's own metric families as they are", async () => {
  const own: MetricFamily[] = [{
    name: "pod_memory_working_set_bytes",
    help: "[STABLE] Current working set of the pod in bytes",
    type: "gauge",
    samples: [{ labels: { namespace: "ns", pod: "vm-1" }, value: 2048, timestampMs: 5 }],
  }];
  const provider = {
    ...bareProvider("metrics"),
    getMetricsResource: () => Promise.resolve(own),
    getStatsSummary: () => Promise.reject(new Error("the summary is not asked for")),
  };
  const response = await serveMetricsResource(provider, signal);
  assertEquals(
    await response.text(),
    [
      "# HELP pod_memory_working_set_bytes [STABLE] Current working set of the pod in bytes",
      "# TYPE pod_memory_working_set_bytes gauge",
      'pod_memory_working_set_bytes{namespace="ns",pod="vm-1"} 2048',
      "",
    ].join("\n"),
  );
});

Deno.test("/stats/summary relays the summary; both endpoints are 501 without the capability", async () => {
  const provider = { ...bareProvider(), getStatsSummary: () => Promise.resolve(summary) };
  const response = await serveStatsSummary(provider, signal);
  assertEquals(await response.json(), summary);

  const summaryError = await assertRejects(() => serveStatsSummary(bareProvider(), signal));
  assertInstanceOf(summaryError, HttpError);
  assertEquals(summaryError.status, 501);
  assertEquals(
    summaryError.message,
    'provider "bare" does not implement StatsSummary: /stats/summary is not available',
  );
  const metricsError = await assertRejects(() => serveMetricsResource(bareProvider(), signal));
  assertInstanceOf(metricsError, HttpError);
  assertEquals(metricsError.status, 501);
  assertEquals(
    metricsError.message,
    'provider "bare" does not implement MetricsResource or StatsSummary: /metrics/resource is not available',
  );
});
