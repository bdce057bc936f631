/**
 * Provider calls that outlast a moment do not hold a pod worker. Creating a VM waits for
 * its IaaS job for seconds; with ten workers, a hundred pods would start in waves of ten.
 * So a call that has not ended after `parkAfterMs` is left to end on its own, as the
 * kubelet's per-pod workers do: the worker goes on with the next pod, the pod is
 * synchronised again once the call ends if anything asked for it meanwhile, and a call
 * that fails is retried with the pod's own backoff. Calls for one pod never overlap: a
 * sync of a pod whose call runs waits for it to end.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import type { WorkQueue } from "../kube/mod.ts";
import { errorMessage } from "../errors.ts";

/** Options of {@linkcode ProviderOperations}. */
export interface ProviderOperationsOptions {
  /** Where a pod goes to be synchronised again. */
  queue: WorkQueue;
  log: Logger;
  /** How long a worker waits for a call before leaving it to end on its own (default 100 ms). */
  parkAfterMs?: number;
  /** First retry delay of a failed call that ended on its own (default 1 s), doubling. */
  retryInitialMs?: number;
  /** Longest such retry delay (default 5 min). */
  retryMaxMs?: number;
}

/** What became of a call: it ended within the wait, or goes on without the worker. */
export type CallOutcome = "done" | "parked";

/** The provider calls in progress, one at most per pod key. */
export class ProviderOperations {
  readonly #options: ProviderOperationsOptions;
  readonly #running = new Map<string, Promise<void>>();
  /** Keys a sync asked for while their call ran. */
  readonly #again = new Set<string>();
  readonly #failures = new Map<string, number>();

  /** Operations that requeue into `options.queue`. */
  constructor(options: ProviderOperationsOptions) {
    this.#options = options;
  }

  /** How many calls go on without a worker now. */
  get parked(): number {
    return this.#running.size;
  }

  /**
   * Whether a call for `key` is in progress; if so, the key is synchronised again once it
   * ends, and the caller should leave the pod alone until then.
   */
  deferIfBusy(key: string): boolean {
    if (!this.#running.has(key)) return false;
    this.#again.add(key);
    return true;
  }

  /**
   * Runs `call` for `key`. Resolves `"done"` (or rejects with its failure) when it ends
   * within `parkAfterMs`, else `"parked"`: it then goes on alone, and its end is handled
   * here (a failure retried with backoff, a sync asked for meanwhile run).
   */
  async run(key: string, call: () => Promise<void>): Promise<CallOutcome> {
    const running = call();
    this.#running.set(key, running.catch(() => undefined));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const parked = new Promise<CallOutcome>((resolve) => {
      timer = setTimeout(() => resolve("parked"), this.#options.parkAfterMs ?? 100);
    });
    let outcome: CallOutcome;
    try {
      outcome = await Promise.race([running.then((): CallOutcome => "done"), parked]);
    } catch (error) {
      this.#ended(key);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    if (outcome === "done") {
      this.#ended(key);
      return outcome;
    }
    running.then(
      () => {
        this.#failures.delete(key);
        this.#ended(key);
      },
      (error: unknown) => this.#failed(key, error),
    );
    return outcome;
  }

  /** Resolves once every call in progress has ended. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running.values());
  }

  #ended(key: string): void {
    this.#running.delete(key);
    if (this.#again.delete(key)) this.#options.queue.add(key);
  }

  #failed(key: string, error: unknown): void {
    this.#running.delete(key);
    this.#again.delete(key);
    const { queue, log } = this.#options;
    if (queue.shuttingDown) return;
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const delayMs = Math.min(
      this.#options.retryMaxMs ?? 5 * 60_000,
      (this.#options.retryInitialMs ?? 1000) * 2 ** Math.min(failures, 20),
    );
    log.warn("provider call for pod {pod} failed: {error}; retrying in {seconds}s", {
      pod: key,
      error: errorMessage(error),
      seconds: Math.round(delayMs / 100) / 10,
    });
    queue.addAfter(key, delayMs);
  }
}
