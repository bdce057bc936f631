/**
 * Writer of the Prometheus text exposition format 0.0.4, as served by the kubelet's
 * `/metrics/resource`.
 *
 * @module
 */

import type { MetricFamily } from "../stats_types.ts";

/** Content type of the Prometheus text exposition format. */
export const prometheusTextContentType = "text/plain; version=0.0.4; charset=utf-8";

const metricNamePattern = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelNamePattern = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function escapeLabelValue(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/**
 * Renders metric families as Prometheus text: `# HELP` and `# TYPE` lines, then one line
 * per sample with labels in the order given (namespace, pod, container for the kubelet's
 * families: consumers such as virtual-kubelet's e2e suite read them by position). Throws on
 * a metric or label name the format forbids.
 */
export function formatPrometheusText(families: MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    if (!metricNamePattern.test(family.name)) {
      throw new Error(
        `expected a Prometheus metric name matching ${metricNamePattern}, found "${family.name}"`,
      );
    }
    if (family.samples.length === 0) continue;
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      const names = Object.keys(sample.labels);
      for (const name of names) {
        if (!labelNamePattern.test(name)) {
          throw new Error(
            `expected a Prometheus label name matching ${labelNamePattern} in metric "${family.name}", found "${name}"`,
          );
        }
      }
      const labels = names.length === 0
        ? ""
        : `{${
          names.map((name) => `${name}="${escapeLabelValue(sample.labels[name])}"`).join(",")
        }}`;
      const timestamp = sample.timestampMs === undefined
        ? ""
        : ` ${Math.round(sample.timestampMs)}`;
      lines.push(`${family.name}${labels} ${formatValue(sample.value)}${timestamp}`);
    }
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}
