/**
 * The lower cluster's pods of this agent, from one watch selected by the owner label: the
 * cache `getPod`/`getPods` read, and the source of every status notification (notify, not
 * poll). A lower pod that goes away leaves a terminal record of its upper pod until the
 * agent lets that pod go: Succeeded when this provider deleted it, Failed with reason
 * `LowerPodDeleted` when someone else did, so the agent never mistakes it for a pod it
 * must create again.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { Informer, type KubeClient, PODS, PodStatusReporter } from "../../lib/provider_kit/mod.ts";
import { UnavailableError } from "../../lib/provider.ts";
import { goneStatus, toUpperPod } from "./mapping.ts";
import type { UpperObjects } from "./env_refs.ts";
import { type Ownership, upperPodOf } from "./ownership.ts";

/** Options of {@linkcode LowerPods}. */
export interface LowerPodsOptions {
  /** Who owns the pods watched. */
  ownership: Ownership;
  /** The upper ConfigMaps and Secrets, for the environment of the upper view. */
  objects: UpperObjects;
  /**
   * Whether the upper pod `namespace/name` with `uid` is being deleted or gone: the end of
   * its lower pod is then no loss, also when an earlier agent asked for it.
   */
  upperDeleted(namespace: string, name: string, uid: string): boolean;
  /** How long a read waits for the first list before it fails (default 10 s). */
  syncTimeoutMs?: number;
  /** Clock. */
  now?: () => Date;
}

/** A change of the set of lower pods (for the ConfigMap and Secret mirror). */
export type LowerPodsListener = () => void;

/** This agent's lower pods, watched. */
export class LowerPods {
  readonly informer: Informer<Pod>;
  readonly reporter = new PodStatusReporter();
  readonly #options: LowerPodsOptions;
  /** Upper pod key → terminal upper pod whose lower pod is gone. */
  readonly #gone = new Map<string, Pod>();
  /** UIDs of lower pods this provider asked to delete. */
  readonly #deleting = new Set<string>();
  readonly #listeners = new Set<LowerPodsListener>();
  /** UID of a lower pod → callbacks waiting for it to go. */
  readonly #goneWaiters = new Map<string, (() => void)[]>();

  /** Watches `client`'s pods owned by `options.ownership` once `run` is called. */
  constructor(client: KubeClient, options: LowerPodsOptions) {
    this.#options = options;
    this.informer = new Informer<Pod>(client.resource<Pod>(PODS), {
      labelSelector: options.ownership.selector,
      name: "lower-pods",
    });
    this.informer.addHandlers({
      onAdd: (pod) => this.#changed(pod),
      onUpdate: (_old, pod) => this.#changed(pod),
      onDelete: (pod) => this.#removed(pod),
    });
  }

  /** Lists and watches until `signal` aborts. */
  run(signal: AbortSignal): Promise<void> {
    return this.informer.run(signal);
  }

  /** Calls `listener` whenever a lower pod is added, changed or removed. */
  listen(listener: LowerPodsListener): void {
    this.#listeners.add(listener);
  }

  /** Resolves once the pods are listed; `UnavailableError` when that takes too long. */
  async synced(signal: AbortSignal): Promise<void> {
    if (this.informer.hasSynced()) return;
    const timeout = AbortSignal.timeout(this.#options.syncTimeoutMs ?? 10_000);
    const synced = await this.informer.waitForSync(AbortSignal.any([signal, timeout]));
    signal.throwIfAborted();
    if (!synced) {
      throw new UnavailableError(
        "the lower cluster's pods are not listed yet (is its API server reachable?); retrying",
      );
    }
  }

  /** The lower pod `namespace/name` (lower namespace), if this agent has one there. */
  get(lowerNamespace: string, name: string): Pod | undefined {
    return this.informer.store.get(`${lowerNamespace}/${name}`);
  }

  /** Every lower pod of this agent. */
  list(): Pod[] {
    return this.informer.store.list();
  }

  /** The upper view of the lower pod `lower`. */
  upperView(lower: Pod): Pod | undefined {
    return toUpperPod(lower, this.#options.objects);
  }

  /** The terminal upper pod of `upperKey` whose lower pod is gone, if any. */
  gone(upperKey: string): Pod | undefined {
    return this.#gone.get(upperKey);
  }

  /** Every terminal upper pod whose lower pod is gone. */
  goneList(): Pod[] {
    return [...this.#gone.values()];
  }

  /** Forgets the terminal record of `upperKey` (the agent let the pod go, or it is made again). */
  forget(upperKey: string): void {
    this.#gone.delete(upperKey);
    this.reporter.forget(upperKey);
  }

  /** Notes that this provider deletes the lower pod with `uid`: its end is no loss. */
  deleting(uid: string): void {
    this.#deleting.add(uid);
  }

  /**
   * Resolves once the lower pod with `uid` is gone (its DELETED event applied), after
   * `timeoutMs`, or when `signal` aborts; true when it is gone.
   */
  waitGone(uid: string, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    if (!this.list().some((pod) => pod.metadata?.uid === uid)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiters = this.#goneWaiters.get(uid) ?? [];
      this.#goneWaiters.set(uid, waiters);
      const finish = (gone: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        const left = (this.#goneWaiters.get(uid) ?? []).filter((w) => w !== done);
        if (left.length === 0) this.#goneWaiters.delete(uid);
        else this.#goneWaiters.set(uid, left);
        resolve(gone);
      };
      const done = () => finish(true);
      const onAbort = () => finish(false);
      const timer = setTimeout(() => finish(false), timeoutMs);
      signal.addEventListener("abort", onAbort, { once: true });
      waiters.push(done);
    });
  }

  #notify(): void {
    for (const listener of this.#listeners) listener();
  }

  #changed(lower: Pod): void {
    const upper = this.upperView(lower);
    if (upper !== undefined) {
      this.#gone.delete(`${upper.metadata!.namespace}/${upper.metadata!.name}`);
      this.reporter.report(upper);
    }
    this.#notify();
  }

  #removed(lower: Pod): void {
    const asked = this.#deleting.delete(lower.metadata?.uid ?? "");
    const upper = this.upperView(lower);
    const ref = upperPodOf(lower.metadata);
    if (upper !== undefined && ref !== undefined) {
      const ours = asked || this.#options.upperDeleted(ref.namespace, ref.name, ref.uid);
      const key = `${ref.namespace}/${ref.name}`;
      const now = this.#options.now?.() ?? new Date();
      const terminal: Pod = {
        ...upper,
        status: goneStatus(lower, upper, ours ? "deleted" : "lost", now),
      };
      this.#gone.set(key, terminal);
      this.reporter.report(terminal);
    }
    for (const waiter of this.#goneWaiters.get(lower.metadata?.uid ?? "") ?? []) waiter();
    this.#notify();
  }
}
