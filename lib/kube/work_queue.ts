/**
 * A de-duplicating, rate-limited work queue keyed by string, as client-go's
 * `workqueue`: a key is processed by one worker at a time, and a key added
 * while it is processed runs once more after {@linkcode WorkQueue.done}. Each queue
 * reports its depth, adds, retries and latencies under its name (`work_queue_metrics.ts`).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { errorMessage } from "../errors.ts";
import { isAbortOf } from "./_async.ts";
import { RateLimiter } from "./rate_limiter.ts";
import { WorkQueueMetrics } from "./work_queue_metrics.ts";

const logger = getLogger(["vkedge", "kube", "work_queue"]);

/** Options of {@linkcode WorkQueue}. */
export interface WorkQueueOptions {
  /** First per-key retry delay of {@linkcode WorkQueue.addRateLimited} (default 5 ms), doubling per requeue. */
  baseDelayMs?: number;
  /** Longest per-key retry delay (default 1000 s). */
  maxDelayMs?: number;
  /** Overall requeue rate across keys (default 10 per second). */
  qps?: number;
  /** Overall requeue burst (default 100). */
  burst?: number;
  /** Names the queue in logs and metrics (the `name` label; default `queue`). */
  name?: string;
}

/** A de-duplicating work queue with delayed and per-key rate-limited adds. */
export class WorkQueue {
  /** Names the queue in logs and metrics. */
  readonly name: string;
  readonly #queue: string[] = [];
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #waiting = new Map<string, { at: number; timer: ReturnType<typeof setTimeout> }>();
  readonly #failures = new Map<string, number>();
  readonly #limiter: RateLimiter;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #metrics: WorkQueueMetrics;
  #getters: ((key: string | undefined) => void)[] = [];
  #shuttingDown = false;

  /** Creates an empty queue. */
  constructor(options: WorkQueueOptions = {}) {
    this.name = options.name ?? "queue";
    this.#baseDelayMs = options.baseDelayMs ?? 5;
    this.#maxDelayMs = options.maxDelayMs ?? 1_000_000;
    this.#limiter = new RateLimiter({ qps: options.qps ?? 10, burst: options.burst ?? 100 });
    this.#metrics = new WorkQueueMetrics(this.name);
  }

  /** The number of keys ready to be taken. */
  get length(): number {
    return this.#queue.length;
  }

  /** Whether {@linkcode WorkQueue.shutDown} was called. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Queues `key` unless it is already queued; if it is being processed it runs again after `done`. */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    this.#metrics.added(key);
    if (this.#processing.has(key)) return;
    this.#push(key);
  }

  /** Queues `key` after `delayMs`; of several pending delays for one key the earliest wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = performance.now() + delayMs;
    const pending = this.#waiting.get(key);
    if (pending !== undefined) {
      if (pending.at <= at) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.#waiting.delete(key);
      this.add(key);
    }, delayMs);
    this.#waiting.set(key, { at, timer });
  }

  /** Queues `key` after its backoff: the larger of the per-key exponential delay and the overall rate limit. */
  addRateLimited(key: string): void {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    this.#metrics.retried();
    const perKey = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** Math.min(failures, 60));
    this.addAfter(key, Math.max(perKey, this.#limiter.reserve()));
  }

  /** Resets the per-key backoff of `key` (call after a successful sync). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** How many times `key` was requeued with {@linkcode WorkQueue.addRateLimited} since its last `forget`. */
  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /**
   * Takes the next key, waiting for one; resolves `undefined` once the queue is
   * shut down and drained, or when the signal aborts. Call `done(key)` after processing.
   */
  get(signal?: AbortSignal): Promise<string | undefined> {
    if (this.#queue.length > 0) return Promise.resolve(this.#take());
    if (this.#shuttingDown || signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const onAbort = () => {
        this.#getters = this.#getters.filter((g) => g !== getter);
        resolve(undefined);
      };
      const getter = (key: string | undefined) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(key);
      };
      this.#getters.push(getter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Marks `key` processed; if it was added meanwhile it is queued again. */
  done(key: string): void {
    this.#processing.delete(key);
    this.#metrics.done(key);
    if (this.#dirty.has(key)) this.#push(key);
  }

  /** Stops accepting keys and cancels delayed adds; waiting `get` calls resolve `undefined` once the queue drains. */
  shutDown(): void {
    this.#shuttingDown = true;
    this.#metrics.stop();
    for (const { timer } of this.#waiting.values()) clearTimeout(timer);
    this.#waiting.clear();
    if (this.#queue.length === 0) {
      const getters = this.#getters;
      this.#getters = [];
      for (const getter of getters) getter(undefined);
    }
  }

  #take(): string {
    const key = this.#queue.shift() as string;
    this.#processing.add(key);
    this.#dirty.delete(key);
    this.#metrics.taken(key);
    if (this.#shuttingDown && this.#queue.length === 0) {
      const getters = this.#getters;
      this.#getters = [];
      for (const getter of getters) getter(undefined);
    }
    return key;
  }

  #push(key: string): void {
    this.#queue.push(key);
    const getter = this.#getters.shift();
    if (getter !== undefined) getter(this.#take());
  }
}

/** Options of {@linkcode runWorkers}. */
export interface RunWorkersOptions {
  /** Number of concurrent workers (default 1). */
  workers?: number;
  /** Stops the workers; each finishes its current key first. */
  signal: AbortSignal;
}

/**
 * Runs workers that take keys from `queue` and call `sync(key, signal)`:
 * success forgets the key's backoff, failure requeues it rate-limited.
 * Resolves when the signal aborts or the queue shuts down.
 */
export async function runWorkers(
  queue: WorkQueue,
  sync: (key: string, signal: AbortSignal) => Promise<void>,
  options: RunWorkersOptions,
): Promise<void> {
  const { signal } = options;
  const worker = async (): Promise<void> => {
    while (!signal.aborted) {
      const key = await queue.get(signal);
      if (key === undefined) return;
      try {
        await sync(key, signal);
        queue.forget(key);
      } catch (error) {
        if (isAbortOf(error, signal)) {
          queue.done(key);
          return;
        }
        logger.warn("{queue}: sync of {key} failed, requeuing: {error}", {
          queue: queue.name,
          key,
          error: errorMessage(error),
        });
        queue.addRateLimited(key);
      }
      queue.done(key);
    }
  };
  const count = options.workers ?? 1;
  await Promise.all(Array.from({ length: count }, () => worker()));
}
