/**
 * The pod reads of the zstack provider: the pod a tagged VM serves (with status), the
 * pods of all of this node's VMs, and the pod status notifications: one query of this
 * node's VMs every poll interval (the provider kit's poll loop), reporting only pods
 * whose status changed.
 *
 * @module
 */

import type { Pod, PodStatus } from "kubernetes-types/core/v1.d.ts";
import { PodStatusReporter, pollPodStatus } from "../../lib/provider_kit/mod.ts";
import type { TrackedVm, VmTracker } from "./vm_tracker.ts";

/** What {@linkcode PodStatusFeed} works with. */
export interface PodStatusFeedOptions {
  /** This node's VMs. */
  tracker: VmTracker;
  /** Pause between two polls of this node's VMs. */
  pollIntervalMs: number;
  /** The ZStack endpoint, named when polling fails. */
  endpoint: string;
  /** Stops the polling. */
  stopped: AbortSignal;
}

/** Pod reads and pod status notifications from this node's VMs. */
export class PodStatusFeed {
  readonly #options: PodStatusFeedOptions;
  readonly #reporter = new PodStatusReporter();
  #polling = false;

  /** Reads the pods from `options.tracker`; polls once `notifyPods` is called. */
  constructor(options: PodStatusFeedOptions) {
    this.#options = options;
  }

  /** Returns the pod a tagged VM serves, with status, or `undefined`. */
  async getPod(namespace: string, name: string, signal: AbortSignal): Promise<Pod | undefined> {
    await this.#options.tracker.ensureFresh(signal);
    const tracked = this.#options.tracker.get(namespace, name);
    return tracked === undefined ? undefined : this.#options.tracker.fullPod(tracked);
  }

  /** Returns the status of the pod's VM, or `undefined`. */
  async getPodStatus(
    namespace: string,
    name: string,
    signal: AbortSignal,
  ): Promise<PodStatus | undefined> {
    return (await this.getPod(namespace, name, signal))?.status;
  }

  /** Returns the pods of every VM tagged for this node (one query), with status. */
  async getPods(signal: AbortSignal): Promise<Pod[]> {
    await this.#options.tracker.ensureFresh(signal);
    return this.#options.tracker.all().map((tracked) => this.#options.tracker.fullPod(tracked));
  }

  /**
   * Registers a pod status callback until `signal` aborts and starts polling: one query of
   * this node's VMs every `pollIntervalSeconds`, reporting only pods whose status changed.
   */
  notifyPods(signal: AbortSignal, callback: (pod: Pod) => void): void {
    this.#reporter.subscribe(signal, callback);
    if (signal.aborted || this.#polling) return;
    this.#polling = true;
    void pollPodStatus({
      intervalMs: this.#options.pollIntervalMs,
      list: async (pollSignal) => {
        await this.#options.tracker.refresh(pollSignal);
        return this.#options.tracker.current().map((tracked) =>
          this.#options.tracker.fullPod(tracked)
        );
      },
      reporter: this.#reporter,
      what: `the VMs at ZStack ${this.#options.endpoint}`,
      signal: this.#options.stopped,
    });
  }

  /** Reports the pod a tracked VM serves to the callbacks (when its status changed). */
  report(tracked: TrackedVm): void {
    this.#reporter.report(this.#options.tracker.fullPod(tracked));
  }

  /** Forgets the last status reported for pod `key` (`namespace/name`). */
  forget(key: string): void {
    this.#reporter.forget(key);
  }
}
