/**
 * Renders metric families that are computed per request (the kubelet's `/metrics/resource`,
 * from a provider) through prom-client, the machinery of the agent's own metrics: each call
 * fills a registry of its own and writes it as Prometheus text.
 *
 * prom-client 15 writes no sample timestamps, so `MetricSample.timestampMs` is dropped. The
 * kubelet writes them, but consumers do without: metrics-server takes the scrape time for a
 * sample that has none (`pkg/scraper/client/resource/decode.go`), and Prometheus does the same.
 *
 * @module
 */

import { Counter, Gauge, Registry } from "prom-client";
import type { MetricFamily } from "../stats_types.ts";

const metricNamePattern = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelNamePattern = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function labelNamesOf(family: MetricFamily): string[] {
  const names = new Set<string>();
  for (const sample of family.samples) {
    for (const name of Object.keys(sample.labels)) {
      if (names.has(name)) continue;
      if (!labelNamePattern.test(name) || name === "le" || name === "quantile") {
        throw new Error(
          `expected a Prometheus label name matching ${labelNamePattern} in metric "${family.name}", found "${name}"`,
        );
      }
      names.add(name);
    }
  }
  return [...names];
}

function register(registry: Registry, family: MetricFamily): void {
  const options = {
    name: family.name,
    // prom-client needs a help text; a family without one gets its name.
    help: family.help === "" ? family.name : family.help,
    labelNames: labelNamesOf(family),
    registers: [registry],
  };
  if (family.type === "counter") {
    const counter = new Counter(options);
    for (const sample of family.samples) {
      if (!(sample.value >= 0) || sample.value === Infinity) {
        throw new Error(
          `expected a finite counter value of at least 0 in metric "${family.name}", found ${sample.value}`,
        );
      }
      counter.inc(sample.labels, sample.value);
    }
  } else {
    const gauge = new Gauge(options);
    for (const sample of family.samples) gauge.set(sample.labels, sample.value);
  }
}

/**
 * Renders `families` as Prometheus text: `# HELP` and `# TYPE` lines, then one line per
 * sample, with labels in the order of each sample's label object (the kubelet's families
 * are read by position: namespace, pod, container). Families without samples are left out;
 * one without a help text gets its name as help.
 * Throws on a metric or label name the format forbids, a family given twice, or a negative
 * counter.
 */
export async function formatMetricFamilies(families: readonly MetricFamily[]): Promise<string> {
  const registry = new Registry();
  const seen = new Set<string>();
  for (const family of families) {
    if (!metricNamePattern.test(family.name)) {
      throw new Error(
        `expected a Prometheus metric name matching ${metricNamePattern}, found "${family.name}"`,
      );
    }
    if (seen.has(family.name)) {
      throw new Error(`expected each metric family once, found "${family.name}" twice`);
    }
    seen.add(family.name);
    if (family.samples.length > 0) register(registry, family);
  }
  const texts = await Promise.all(
    registry.getMetricsAsArray().map((metric) => registry.getSingleMetricAsString(metric.name)),
  );
  // One family after the other without the blank line `Registry.metrics()` puts between
  // them: both are valid, and this is what the kubelet writes.
  return texts.length === 0 ? "" : `${texts.join("\n")}\n`;
}
