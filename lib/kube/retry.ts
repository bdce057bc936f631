/**
 * Retry helpers: re-run a read-modify-write while the API server answers 409 Conflict, as
 * client-go's `retry.RetryOnConflict`, and re-run a call while the API server cannot be
 * reached, with a capped backoff, until it answers or the caller gives up.
 *
 * @module
 */

import { backoffDelay, sleep } from "./_async.ts";
import { KubeConflictError, KubeTooManyRequestsError, KubeUnavailableError } from "./errors.ts";

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

/** Options of {@linkcode retryWhileUnavailable}. */
export interface RetryWhileUnavailableOptions {
  /** Ends the retries: the wait rejects with the signal's reason. */
  signal?: AbortSignal;
  /** First delay between attempts (default 800 ms), doubling with jitter up to `maxDelayMs`. */
  initialDelayMs?: number;
  /** Longest delay between attempts (default 30 s). */
  maxDelayMs?: number;
  /** Told each failure that is retried and the delay before the next attempt (for a log line). */
  onRetry?: (error: KubeUnavailableError | KubeTooManyRequestsError, delayMs: number) => void;
}

/**
 * Calls `fn` again while it throws `KubeUnavailableError` (unreachable, 5xx) or
 * `KubeTooManyRequestsError`, without end, until it succeeds or the signal aborts; any other
 * error is rethrown at once. For calls the agent cannot go on without, such as start-up reads.
 */
export async function retryWhileUnavailable<R>(
  fn: () => Promise<R>,
  options: RetryWhileUnavailableOptions = {},
): Promise<R> {
  for (let attempt = 0;; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (
        !(error instanceof KubeUnavailableError) && !(error instanceof KubeTooManyRequestsError)
      ) throw error;
      if (options.signal?.aborted) throw options.signal.reason;
      const delay = backoffDelay(
        attempt,
        options.initialDelayMs ?? 800,
        options.maxDelayMs ?? 30_000,
      );
      options.onRetry?.(error, delay);
      await sleep(delay, options.signal);
    }
  }
}
