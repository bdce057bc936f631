/**
 * Derives the kubelet's resource metrics (`/metrics/resource`) from a stats `Summary`, the
 * way the kubelet itself does, so that providers with a summary get both endpoints
 * consistent by construction.
 *
 * @module
 */

import type { MetricFamily, MetricSample, Summary } from "../stats_types.ts";

/** Options of `resourceMetricsFromSummary`. */
export interface ResourceMetricsOptions {
  /** Report `resource_scrape_error 1`, for a summary known to be incomplete. */
  scrapeError?: boolean;
}

function timestampOf(time: string): number | undefined {
  const value = Date.parse(time);
  return Number.isNaN(value) ? undefined : value;
}

function family(name: string, help: string, type: "counter" | "gauge"): MetricFamily {
  return { name, help, type, samples: [] };
}

function sample(
  labels: Record<string, string>,
  value: number,
  time: string | undefined,
): MetricSample {
  const timestampMs = time === undefined ? undefined : timestampOf(time);
  return timestampMs === undefined ? { labels, value } : { labels, value, timestampMs };
}

/**
 * Builds the resource metric families of `summary`: node, pod and container CPU and
 * working-set memory, container start times, swap when reported, and `resource_scrape_error`.
 */
export function resourceMetricsFromSummary(
  summary: Summary,
  options: ResourceMetricsOptions = {},
): MetricFamily[] {
  const nodeCpu = family(
    "node_cpu_usage_seconds_total",
    "[STABLE] Cumulative cpu time consumed by the node in core-seconds",
    "counter",
  );
  const nodeMemory = family(
    "node_memory_working_set_bytes",
    "[STABLE] Current working set of the node in bytes",
    "gauge",
  );
  const nodeSwap = family(
    "node_swap_usage_bytes",
    "[ALPHA] Current swap usage of the node in bytes",
    "gauge",
  );
  const containerCpu = family(
    "container_cpu_usage_seconds_total",
    "[STABLE] Cumulative cpu time consumed by the container in core-seconds",
    "counter",
  );
  const containerMemory = family(
    "container_memory_working_set_bytes",
    "[STABLE] Current working set of the container in bytes",
    "gauge",
  );
  const containerSwap = family(
    "container_swap_usage_bytes",
    "[ALPHA] Current amount of the container swap usage in bytes",
    "gauge",
  );
  const containerStart = family(
    "container_start_time_seconds",
    "[STABLE] Start time of the container since unix epoch in seconds",
    "gauge",
  );
  const podCpu = family(
    "pod_cpu_usage_seconds_total",
    "[STABLE] Cumulative cpu time consumed by the pod in core-seconds",
    "counter",
  );
  const podMemory = family(
    "pod_memory_working_set_bytes",
    "[STABLE] Current working set of the pod in bytes",
    "gauge",
  );
  const podSwap = family(
    "pod_swap_usage_bytes",
    "[ALPHA] Current amount of the pod swap usage in bytes",
    "gauge",
  );
  const scrapeError = family(
    "resource_scrape_error",
    "[STABLE] 1 if there was an error while getting container metrics, 0 otherwise",
    "gauge",
  );

  const node = summary.node;
  if (node.cpu?.usageCoreNanoSeconds !== undefined) {
    nodeCpu.samples.push(sample({}, node.cpu.usageCoreNanoSeconds / 1e9, node.cpu.time));
  }
  if (node.memory?.workingSetBytes !== undefined) {
    nodeMemory.samples.push(sample({}, node.memory.workingSetBytes, node.memory.time));
  }
  if (node.swap?.swapUsageBytes !== undefined) {
    nodeSwap.samples.push(sample({}, node.swap.swapUsageBytes, node.swap.time));
  }

  for (const pod of summary.pods) {
    const podLabels = { namespace: pod.podRef.namespace, pod: pod.podRef.name };
    for (const container of pod.containers) {
      const labels = { ...podLabels, container: container.name };
      const start = timestampOf(container.startTime);
      if (start !== undefined) {
        containerStart.samples.push(sample(labels, start / 1000, container.startTime));
      }
      if (container.cpu?.usageCoreNanoSeconds !== undefined) {
        containerCpu.samples.push(
          sample(labels, container.cpu.usageCoreNanoSeconds / 1e9, container.cpu.time),
        );
      }
      if (container.memory?.workingSetBytes !== undefined) {
        containerMemory.samples.push(
          sample(labels, container.memory.workingSetBytes, container.memory.time),
        );
      }
      if (container.swap?.swapUsageBytes !== undefined) {
        containerSwap.samples.push(
          sample(labels, container.swap.swapUsageBytes, container.swap.time),
        );
      }
    }
    if (pod.cpu?.usageCoreNanoSeconds !== undefined) {
      podCpu.samples.push(sample(podLabels, pod.cpu.usageCoreNanoSeconds / 1e9, pod.cpu.time));
    }
    if (pod.memory?.workingSetBytes !== undefined) {
      podMemory.samples.push(sample(podLabels, pod.memory.workingSetBytes, pod.memory.time));
    }
    if (pod.swap?.swapUsageBytes !== undefined) {
      podSwap.samples.push(sample(podLabels, pod.swap.swapUsageBytes, pod.swap.time));
    }
  }
  scrapeError.samples.push({ labels: {}, value: options.scrapeError ? 1 : 0 });

  return [
    containerCpu,
    containerMemory,
    containerStart,
    containerSwap,
    nodeCpu,
    nodeMemory,
    nodeSwap,
    podCpu,
    podMemory,
    podSwap,
    scrapeError,
  ];
}
