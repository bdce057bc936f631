/**
 * The agent's metrics registry (prom-client): every loop of the agent, its Kubernetes
 * client and the providers' backend clients report into it, so that each is countable.
 * Metrics are created once per process with the helpers below; asking again for a name
 * returns the metric already registered, so modules can be loaded twice (tests) safely.
 *
 * @module
 */

import { Counter, Gauge, Histogram, type Metric, Registry } from "prom-client";

/** The registry the agent's own metrics live in. */
export const metricsRegistry: Registry = new Registry();

/** Name, help text and label names of a metric. */
export interface MetricOptions<L extends string> {
  /** Metric name, `vkedge_` first, `_total` last for counters, base units (`_seconds`). */
  name: string;
  /** One sentence. */
  help: string;
  /** Label names, in the order they are written. */
  labelNames?: readonly L[];
}

function existing<M extends Metric>(
  name: string,
  kind: new (...args: never[]) => M,
): M | undefined {
  const metric = metricsRegistry.getSingleMetric(name);
  if (metric === undefined) return undefined;
  if (!(metric instanceof kind)) {
    throw new TypeError(`metric ${name}: expected a ${kind.name}, found another type registered`);
  }
  return metric;
}

/** A counter in the agent's registry. */
export function counter<L extends string = string>(options: MetricOptions<L>): Counter<L> {
  return existing(options.name, Counter<L>) ??
    new Counter<L>({
      ...options,
      labelNames: options.labelNames ?? [],
      registers: [metricsRegistry],
    });
}

/** Options of {@linkcode gauge}: a metric's, and what sets its values at scrape time. */
export interface GaugeOptions<L extends string> extends MetricOptions<L> {
  /**
   * Called before each scrape to set the gauge's values, for state that is cheaper to read
   * when asked than to track on every change (queue depths, ages).
   */
  collect?: (gauge: Gauge<L>) => void;
}

/** A gauge in the agent's registry. */
export function gauge<L extends string = string>(options: GaugeOptions<L>): Gauge<L> {
  const { collect, ...metric } = options;
  return existing(options.name, Gauge<L>) ??
    new Gauge<L>({
      ...metric,
      labelNames: options.labelNames ?? [],
      registers: [metricsRegistry],
      ...(collect === undefined ? {} : {
        collect(this: Gauge<L>) {
          collect(this);
        },
      }),
    });
}

/** Buckets in seconds for request and job latencies: 5 ms to a minute. */
export const latencyBuckets: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
];

/** A histogram in the agent's registry (`buckets` default: `latencyBuckets`). */
export function histogram<L extends string = string>(
  options: MetricOptions<L> & { buckets?: readonly number[] },
): Histogram<L> {
  return existing(options.name, Histogram<L>) ??
    new Histogram<L>({
      ...options,
      labelNames: options.labelNames ?? [],
      buckets: [...(options.buckets ?? latencyBuckets)],
      registers: [metricsRegistry],
    });
}

/** Content type of the Prometheus text exposition format 0.0.4. */
export const prometheusTextContentType: string = Registry.PROMETHEUS_CONTENT_TYPE;

/** The agent's metrics as Prometheus text (what a `/metrics` endpoint serves). */
export async function renderMetrics(): Promise<string> {
  return await metricsRegistry.metrics();
}
