/**
 * This node's services, their tasks and the Swarm nodes, kept current by the Engine's
 * event stream rather than a poll per pod:
 *
 * - a full list (services and tasks by this node's label, and the nodes: three calls) at
 *   start, on `getPods`, after the event stream reconnects, and at most `resyncMs` apart;
 * - `GET /events` for containers, services and nodes: an event about one of this node's
 *   services marks it dirty, and the dirty services' tasks are read in one call
 *   (`GET /tasks` filtered by those services) a moment later;
 * - a service whose newest task is still on its way (pending, preparing, starting) or
 *   has not caught up with an event yet (a container died, its task still says running)
 *   is read again with a backoff, together with the others: containers on other Swarm
 *   nodes send no events here, and a task Swarm cannot place changes without one.
 *
 * After each change the pods of the changed services are reported through `report`
 * (the provider's `PodStatusReporter` passes on only changes). The event stream and its
 * reconnects are `engine_events.ts`; the reads again, with their backoff, `settle_queue.ts`.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import { abortableSleep, errorMessage } from "../../lib/provider_kit/mod.ts";
import type { EngineEvent, Service, SwarmNode, Task } from "./api_types.ts";
import type { EngineClient } from "./client.ts";
import { followEngineEvents } from "./engine_events.ts";
import {
  identityOf,
  nodeFilter,
  nodeLabelValue,
  type Owner,
  ownerLabels,
  podKeyOf,
} from "./identity.ts";
import { SettleQueue } from "./settle_queue.ts";
import { podFromServices } from "./stored_spec.ts";
import { type ContainerTasks, newestFirst, podStatusOf } from "./task_to_pod.ts";

const logger = getLogger(["vkedge", "provider", "swarm", "tracker"]);

/** A pod as the tracker knows it. */
export interface TrackedPod {
  /** `namespace/name`. */
  key: string;
  /** The pod as the agent gave it, or as rebuilt from the services after a restart. */
  pod: Pod;
  /** The pod's services by container name. */
  services: Map<string, Service>;
}

/** Options of {@linkcode ServiceTracker}. */
export interface ServiceTrackerOptions {
  client: EngineClient;
  owner: Owner;
  /** Called with a pod (status included) whenever something about it may have changed. */
  report(pod: Pod, tracked: TrackedPod): void;
  /** Called when a pod is gone from the Swarm without vkedge removing it. */
  forgotten(key: string): void;
  /** ID of the pod network, once known. */
  podNetworkId(): string | undefined;
  /** Full lists at most this far apart. */
  resyncMs: number;
  /** Longest pause between two reads of a settling service. */
  maxSettleMs?: number;
  /** Clock. */
  now?: () => number;
}

/** This node's services and tasks (see the module documentation). */
export class ServiceTracker {
  readonly #options: ServiceTrackerOptions;
  readonly #now: () => number;
  readonly #services = new Map<string, Service>();
  readonly #tasks = new Map<string, Task[]>();
  readonly #ran = new Map<string, Set<string>>();
  readonly #nodes = new Map<string, SwarmNode>();
  /** Pods as the agent gave them, by key (their UID must match the services'). */
  readonly #given = new Map<string, Pod>();
  /** Services added or removed by this process, with the time, to survive stale lists. */
  readonly #added = new Map<string, number>();
  readonly #removed = new Map<string, number>();
  readonly #settle: SettleQueue;
  #lastFullAt = -Infinity;
  #synced: Promise<void> | undefined;
  #nodesChanged: (() => void) | undefined;

  /** Creates the tracker; nothing is read until `start` or a call that needs it. */
  constructor(options: ServiceTrackerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#settle = new SettleQueue({
      now: this.#now,
      ...(options.maxSettleMs === undefined ? {} : { maxSettleMs: options.maxSettleMs }),
    });
  }

  /** Registers the one callback told when the Swarm's nodes may have changed. */
  onNodesChanged(callback: () => void): void {
    this.#nodesChanged = callback;
  }

  /** Runs the event, settle and resync loops until `signal` aborts. */
  start(signal: AbortSignal): void {
    void followEngineEvents(this.#options.client, {
      resync: (signal) => this.refreshAll(signal),
      event: (event) => this.#onEvent(event),
    }, signal);
    void this.#settle.run({
      known: (id) => this.#services.has(id),
      read: (ids, signal) => this.#readDirty(ids, signal),
    }, signal);
    void this.#resyncLoop(signal);
  }

  /** Reads everything once unless that already happened; callers that need the state await it. */
  async synced(signal: AbortSignal): Promise<void> {
    this.#synced ??= this.refreshAll(signal).catch((error) => {
      this.#synced = undefined;
      throw error;
    });
    await this.#synced;
  }

  /** Lists this node's services and tasks and the Swarm nodes, replacing what was known. */
  async refreshAll(signal: AbortSignal): Promise<void> {
    const startedAt = this.#now();
    const filter = nodeFilter(this.#options.owner);
    const [services, tasks, nodes] = await Promise.all([
      this.#options.client.listServices(filter, signal),
      this.#options.client.listTasks(filter, signal),
      this.#options.client.listNodes(signal),
    ]);
    const before = new Set(this.#podKeys());
    const listed = new Set(services.map((service) => service.ID));
    for (const id of [...this.#services.keys()]) {
      const addedAt = this.#added.get(id) ?? -Infinity;
      if (!listed.has(id) && addedAt < startedAt) this.#dropService(id);
    }
    for (const service of services) {
      const removedAt = this.#removed.get(service.ID);
      if (removedAt !== undefined && removedAt >= startedAt) continue;
      this.#services.set(service.ID, service);
    }
    const byService = new Map<string, Task[]>();
    for (const task of tasks) {
      const list = byService.get(task.ServiceID) ?? [];
      list.push(task);
      byService.set(task.ServiceID, list);
    }
    for (const id of this.#services.keys()) {
      if (byService.has(id) || (this.#added.get(id) ?? -Infinity) < startedAt) {
        this.#tasks.set(id, byService.get(id) ?? []);
      }
    }
    this.#nodes.clear();
    for (const node of nodes) this.#nodes.set(node.ID, node);
    this.#lastFullAt = this.#now();
    this.#pruneMarks();
    for (const key of before) {
      if (!this.#podKeys().includes(key)) {
        this.#given.delete(key);
        this.#options.forgotten(key);
      }
    }
    for (const id of this.#services.keys()) this.#settle.check(id, this.tasksOf(id));
    this.#reportAll();
  }

  /** The pods of this node, status included. */
  pods(): { pod: Pod; tracked: TrackedPod }[] {
    return this.#podKeys().map((key) => this.#podWithStatus(this.tracked(key)!));
  }

  /** The pod `key`, status included, or undefined. */
  pod(key: string): { pod: Pod; tracked: TrackedPod } | undefined {
    const tracked = this.tracked(key);
    return tracked === undefined ? undefined : this.#podWithStatus(tracked);
  }

  /** What is known of pod `key`: its pod and services, or undefined when it has none. */
  tracked(key: string): TrackedPod | undefined {
    const services = new Map<string, Service>();
    const all: Service[] = [];
    for (const service of this.#services.values()) {
      const identity = identityOf(service.Spec.Labels);
      if (identity === undefined || podKeyOf(identity) !== key) continue;
      services.set(identity.container, service);
      all.push(service);
    }
    if (all.length === 0) return undefined;
    const uid = all[0].Spec.Labels[ownerLabels.podUid];
    const given = this.#given.get(key);
    const pod = given?.metadata?.uid === uid ? given : podFromServices(all);
    if (pod === undefined) return undefined;
    return { key, pod, services };
  }

  /** The tasks Swarm lists for service `id`, newest first. */
  tasksOf(id: string): Task[] {
    return newestFirst(this.#tasks.get(id) ?? []);
  }

  /** The Swarm nodes. */
  nodes(): SwarmNode[] {
    return [...this.#nodes.values()];
  }

  /** Records the pod the agent gave for `key`, so getters return it as given. */
  setPod(pod: Pod): void {
    this.#given.set(
      podKeyOf({ namespace: pod.metadata!.namespace!, pod: pod.metadata!.name! }),
      pod,
    );
  }

  /** Records a service this process created or updated, and reads its tasks soon. */
  putService(service: Service): void {
    this.#services.set(service.ID, service);
    this.#added.set(service.ID, this.#now());
    this.#removed.delete(service.ID);
    if (!this.#tasks.has(service.ID)) this.#tasks.set(service.ID, []);
    this.markDirty(service.ID);
  }

  /** Forgets a service this process removed. */
  removeService(id: string): void {
    this.#removed.set(id, this.#now());
    this.#dropService(id);
  }

  /** Forgets the given pod of `key` (after its deletion). */
  forgetPod(key: string): void {
    this.#given.delete(key);
  }

  /** Reads the tasks of service `id` soon, with whatever else is dirty. */
  markDirty(id: string, stoppedContainer?: string): void {
    this.#settle.mark(id, stoppedContainer);
  }

  #podKeys(): string[] {
    const keys = new Set<string>();
    for (const service of this.#services.values()) {
      const identity = identityOf(service.Spec.Labels);
      if (identity !== undefined) keys.add(podKeyOf(identity));
    }
    return [...keys].sort();
  }

  #dropService(id: string): void {
    this.#services.delete(id);
    this.#tasks.delete(id);
    this.#ran.delete(id);
    this.#settle.delete(id);
    this.#added.delete(id);
  }

  #pruneMarks(): void {
    const old = this.#now() - 2 * this.#options.resyncMs;
    for (const [id, at] of this.#removed) if (at < old) this.#removed.delete(id);
    for (const [id, at] of this.#added) if (at < old) this.#added.delete(id);
  }

  #podWithStatus(tracked: TrackedPod): { pod: Pod; tracked: TrackedPod } {
    const containers: ContainerTasks[] = (tracked.pod.spec?.containers ?? []).map((container) => {
      const service = tracked.services.get(container.name);
      const id = service?.ID ?? "";
      let ran = this.#ran.get(id);
      if (ran === undefined) {
        ran = new Set();
        if (service !== undefined) this.#ran.set(id, ran);
      }
      return {
        name: container.name,
        image: container.image ?? "",
        tasks: service === undefined ? [] : this.#tasks.get(id) ?? [],
        ran,
      };
    });
    const createdAt = [...tracked.services.values()].map((service) => service.CreatedAt).sort()[0];
    const status = podStatusOf({
      pod: tracked.pod,
      containers,
      nodes: this.#nodes,
      podNetworkId: this.#options.podNetworkId(),
      createdAt: createdAt ?? new Date(this.#now()).toISOString(),
    });
    return { pod: { ...tracked.pod, status }, tracked };
  }

  #reportAll(): void {
    for (const key of this.#podKeys()) this.#reportKey(key);
  }

  #reportKey(key: string): void {
    const tracked = this.tracked(key);
    if (tracked === undefined) return;
    const { pod } = this.#podWithStatus(tracked);
    this.#options.report(pod, tracked);
  }

  async #readDirty(ids: string[], signal: AbortSignal): Promise<void> {
    const tasks = await this.#options.client.listTasks({ service: ids }, signal);
    const byService = new Map<string, Task[]>(ids.map((id) => [id, []]));
    for (const task of tasks) byService.get(task.ServiceID)?.push(task);
    const keys = new Set<string>();
    for (const [id, list] of byService) {
      const service = this.#services.get(id);
      if (service === undefined) continue;
      this.#tasks.set(id, list);
      this.#settle.check(id, this.tasksOf(id));
      const identity = identityOf(service.Spec.Labels);
      if (identity !== undefined) keys.add(podKeyOf(identity));
    }
    for (const key of keys) this.#reportKey(key);
  }

  #onEvent(event: EngineEvent): void {
    const attributes = event.Actor.Attributes;
    if (event.Type === "container") {
      if (attributes[ownerLabels.node] !== nodeLabelValue(this.#options.owner)) return;
      const serviceId = attributes["com.docker.swarm.service.id"];
      if (serviceId === undefined || !this.#services.has(serviceId)) return;
      const stopped = ["die", "kill", "stop", "oom"].includes(event.Action);
      this.markDirty(serviceId, stopped ? event.Actor.ID : undefined);
    } else if (event.Type === "service") {
      if (!this.#services.has(event.Actor.ID)) return;
      if (event.Action === "remove" && !this.#removed.has(event.Actor.ID)) {
        const identity = identityOf(this.#services.get(event.Actor.ID)!.Spec.Labels);
        this.#dropService(event.Actor.ID);
        if (identity !== undefined) {
          const key = podKeyOf(identity);
          if (this.tracked(key) === undefined) this.#options.forgotten(key);
          else this.#reportKey(key);
        }
        return;
      }
      this.markDirty(event.Actor.ID);
    } else if (event.Type === "node") {
      this.#nodesChanged?.();
      for (const id of this.#services.keys()) this.markDirty(id);
    }
  }

  async #resyncLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const wait = this.#lastFullAt + this.#options.resyncMs - this.#now();
      if (wait > 0) {
        await abortableSleep(wait, signal);
        continue;
      }
      try {
        await this.refreshAll(signal);
      } catch (error) {
        if (signal.aborted) return;
        logger.debug("the periodic list failed: {error}", { error: errorMessage(error) });
        this.#lastFullAt = this.#now(); // the event loop reconnects and lists again
      }
    }
  }
}
