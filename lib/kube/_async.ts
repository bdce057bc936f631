// Small timing helpers shared inside lib/kube; not part of the public API.

export { sleep } from "../sleep.ts";

/** Exponential backoff with full jitter: attempt 0 waits up to `initialMs`, doubling to `maxMs`. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + Math.random() * ceiling / 2;
}

/** Whether `error` is the abort of `signal` (so a loop should stop quietly). */
export function isAbortOf(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true &&
    (error === signal.reason || (error instanceof DOMException && error.name === "AbortError"));
}
