/**
 * Optimistic-concurrency helper: re-run a read-modify-write while the API
 * server answers 409 Conflict, as client-go's `retry.RetryOnConflict`.
 *
 * @module
 */

import { backoffDelay, sleep } from "./_async.ts";
import { KubeConflictError } from "./errors.ts";

/** Options of {@linkcode retryOnConflict}. */
export interface RetryOnConflictOptions {
  /** Attempts in total (default 5). */
  attempts?: number;
  /** First delay between attempts (default 10 ms), doubling with jitter. */
  initialDelayMs?: number;
  /** Aborts the waiting between attempts. */
  signal?: AbortSignal;
}

/**
 * Calls `fn` (which should read the latest object, change it and write it)
 * again while it throws `KubeConflictError`; rethrows the last conflict when the
 * attempts run out.
 */
export async function retryOnConflict<R>(
  fn: () => Promise<R>,
  options: RetryOnConflictOptions = {},
): Promise<R> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 0;; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof KubeConflictError) || attempt + 1 >= attempts) throw error;
      await sleep(backoffDelay(attempt, options.initialDelayMs ?? 10, 1000), options.signal);
    }
  }
}
