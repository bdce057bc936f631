/**
 * Metrics of the agent: the prom-client registry every loop reports into and the helpers
 * that create metrics in it.
 *
 * @module
 */

export {
  counter,
  gauge,
  histogram,
  latencyBuckets,
  type MetricOptions,
  metricsRegistry,
} from "./registry.ts";
