/**
 * The callback set behind `notifyPods` and `notifyNodeStatus`: callbacks registered until
 * their signal aborts, each called asynchronously with a copy of its own, so that a slow
 * or throwing callback neither blocks the provider nor sees another's changes.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { errorStack } from "../errors.ts";
import { cloneJson } from "../clone_json.ts";

const logger = getLogger(["vkedge", "provider_kit"]);

/** Callbacks registered until their signal aborts. */
export class CallbackSet<T> {
  readonly #callbacks = new Set<(value: T) => void>();
  readonly #what: string;

  /** `what` names the notifications in logs, such as `pod status`. */
  constructor(what: string) {
    this.#what = what;
  }

  /** How many callbacks are registered. */
  get size(): number {
    return this.#callbacks.size;
  }

  /** Registers `callback` until `signal` aborts; returns at once. */
  add(signal: AbortSignal, callback: (value: T) => void): void {
    if (signal.aborted) return;
    this.#callbacks.add(callback);
    signal.addEventListener("abort", () => this.#callbacks.delete(callback), { once: true });
  }

  /** Calls every callback with its own copy of `value`, after the current task. */
  emit(value: T): void {
    for (const callback of this.#callbacks) {
      const copy = cloneJson(value);
      queueMicrotask(() => {
        try {
          callback(copy);
        } catch (error) {
          logger.error("{what} callback failed: {error}", {
            what: this.#what,
            error: errorStack(error),
          });
        }
      });
    }
  }
}
