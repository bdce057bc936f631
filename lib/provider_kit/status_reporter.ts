/**
 * Turns "here is how this pod is now" into `notifyPods` notifications, but only when the
 * status differs from the one last reported for the same pod (namespace, name and UID).
 * A provider calls `report` whenever it learns something (after a create, a delete, each
 * poll) and implements `notifyPods` with `subscribe`.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { canonicalJson } from "../canonical_json.ts";
import { podKey } from "../pods/compare.ts";
import { CallbackSet } from "./callbacks.ts";

/** Reports pod status changes to the agent, each change once. */
export class PodStatusReporter {
  readonly #callbacks = new CallbackSet<Pod>("pod status");
  /** Per pod key: UID and canonical status last reported. */
  readonly #reported = new Map<string, string>();

  /** Registers `callback` until `signal` aborts: the body of a provider's `notifyPods`. */
  subscribe(signal: AbortSignal, callback: (pod: Pod) => void): void {
    this.#callbacks.add(signal, callback);
  }

  /** Whether anyone listens. */
  get subscribed(): boolean {
    return this.#callbacks.size > 0;
  }

  /**
   * Notifies the subscribers of `pod` (status included) unless its status is the one last
   * reported for this pod; returns whether it did.
   */
  report(pod: Pod): boolean {
    const key = podKey(pod);
    const text = `${pod.metadata?.uid ?? ""} ${canonicalJson(pod.status ?? {})}`;
    if (this.#reported.get(key) === text) return false;
    this.#reported.set(key, text);
    this.#callbacks.emit(pod);
    return true;
  }

  /** Forgets what was reported for `key`, so that its next report is sent whatever it says. */
  forget(key: string): void {
    this.#reported.delete(key);
  }
}
