/**
 * Metrics of the agent: the prom-client registry every loop reports into, the helpers
 * that create metrics in it, and the Prometheus text of per-request metric families.
 *
 * @module
 */

export {
  counter,
  gauge,
  type GaugeOptions,
  histogram,
  latencyBuckets,
  type MetricOptions,
  metricsRegistry,
  prometheusTextContentType,
  renderMetrics,
} from "./registry.ts";
export { formatMetricFamilies } from "./families.ts";
export { LiveInstances } from "./live_instances.ts";
export {
  type AgentReadiness,
  handleMetricsRequest,
  type MetricsServer,
  type MetricsServerOptions,
  serveMetrics,
} from "./server.ts";
