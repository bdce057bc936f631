/**
 * Metrics of the work queues, with client-go's `workqueue_*` names under `vkedge_` and the
 * queue's name as label: depth, adds, retries, time waiting and time processing, and the
 * work in progress. Counters and histograms are updated as keys move; depth and the
 * in-progress gauges are read from the live queues when scraped.
 *
 * @module
 */

import type { Counter, Histogram } from "prom-client";
import { counter, gauge, histogram, LiveInstances } from "../metrics/mod.ts";

const live = new LiveInstances<WorkQueueMetrics>();

/** Seconds, from 0.1 ms (a key taken at once) to 5 minutes (a long provider call). */
const durationBuckets = [0.0001, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

function sumByName(read: (metrics: WorkQueueMetrics, now: number) => number): Map<string, number> {
  const now = performance.now();
  const totals = new Map<string, number>();
  for (const metrics of live) {
    totals.set(metrics.name, (totals.get(metrics.name) ?? 0) + read(metrics, now));
  }
  return totals;
}

gauge({
  name: "vkedge_workqueue_depth",
  help: "Keys waiting in the work queue: added and not yet handed to a worker.",
  labelNames: ["name"],
  collect(depth) {
    depth.reset();
    for (const [name, value] of sumByName((m) => m.depth)) depth.set({ name }, value);
  },
});

gauge({
  name: "vkedge_workqueue_unfinished_work_seconds",
  help:
    "Seconds the keys being processed now have been in progress, summed; grows when a worker is stuck.",
  labelNames: ["name"],
  collect(unfinished) {
    unfinished.reset();
    for (const [name, value] of sumByName((m, now) => m.unfinishedSeconds(now))) {
      unfinished.set({ name }, value);
    }
  },
});

gauge({
  name: "vkedge_workqueue_longest_running_processor_seconds",
  help: "Seconds the longest-running key of the work queue has been in progress.",
  labelNames: ["name"],
  collect(longest) {
    longest.reset();
    const now = performance.now();
    const byName = new Map<string, number>();
    for (const metrics of live) {
      byName.set(
        metrics.name,
        Math.max(byName.get(metrics.name) ?? 0, metrics.longestRunningSeconds(now)),
      );
    }
    for (const [name, value] of byName) longest.set({ name }, value);
  },
});

const adds = counter({
  name: "vkedge_workqueue_adds_total",
  help: "Keys added to the work queue (adds of a key already waiting are not counted).",
  labelNames: ["name"],
});

const retries = counter({
  name: "vkedge_workqueue_retries_total",
  help: "Keys requeued with backoff after a failed sync.",
  labelNames: ["name"],
});

const queueDuration = histogram({
  name: "vkedge_workqueue_queue_duration_seconds",
  help: "Seconds a key waited in the work queue before a worker took it.",
  labelNames: ["name"],
  buckets: durationBuckets,
});

const workDuration = histogram({
  name: "vkedge_workqueue_work_duration_seconds",
  help: "Seconds a worker spent processing a key, from taking it to done.",
  labelNames: ["name"],
  buckets: durationBuckets,
});

/** What one work queue reports: told by the queue as keys are added, taken and done. */
export class WorkQueueMetrics {
  /** The queue's name, the `name` label. */
  readonly name: string;
  /** Keys added and not yet taken. */
  depth = 0;
  readonly #adds: Counter.Internal;
  readonly #retries: Counter.Internal;
  readonly #queueDuration: Histogram.Internal<"name">;
  readonly #workDuration: Histogram.Internal<"name">;
  readonly #addedAt = new Map<string, number>();
  readonly #startedAt = new Map<string, number>();

  /** Starts reporting for the queue named `name`. */
  constructor(name: string) {
    this.name = name;
    this.#adds = adds.labels({ name });
    this.#retries = retries.labels({ name });
    this.#queueDuration = queueDuration.labels({ name });
    this.#workDuration = workDuration.labels({ name });
    // Series start at 0, so that the first increment is a visible change.
    this.#adds.inc(0);
    this.#retries.inc(0);
    queueDuration.zero({ name });
    workDuration.zero({ name });
    live.add(this);
  }

  /** `key` became pending (it was not waiting already). */
  added(key: string): void {
    this.#adds.inc();
    this.depth++;
    if (!this.#addedAt.has(key)) this.#addedAt.set(key, performance.now());
  }

  /** A worker took `key`. */
  taken(key: string): void {
    const now = performance.now();
    this.depth--;
    const addedAt = this.#addedAt.get(key);
    if (addedAt !== undefined) {
      this.#addedAt.delete(key);
      this.#queueDuration.observe((now - addedAt) / 1000);
    }
    this.#startedAt.set(key, now);
  }

  /** The worker is done with `key`. */
  done(key: string): void {
    const startedAt = this.#startedAt.get(key);
    if (startedAt === undefined) return;
    this.#startedAt.delete(key);
    this.#workDuration.observe((performance.now() - startedAt) / 1000);
  }

  /** `key` was requeued with backoff. */
  retried(): void {
    this.#retries.inc();
  }

  /** Seconds the keys in progress have been processed, summed. */
  unfinishedSeconds(now: number): number {
    let total = 0;
    for (const startedAt of this.#startedAt.values()) total += now - startedAt;
    return total / 1000;
  }

  /** Seconds the oldest key in progress has been processed, 0 when none is. */
  longestRunningSeconds(now: number): number {
    let oldest = now;
    for (const startedAt of this.#startedAt.values()) oldest = Math.min(oldest, startedAt);
    return (now - oldest) / 1000;
  }

  /** Stops reporting the queue's gauges (it was shut down). */
  stop(): void {
    live.delete(this);
  }
}
