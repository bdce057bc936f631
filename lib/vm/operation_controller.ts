/**
 * The loop the snapshot, restore and migration controllers share: once the CRDs are
 * served, one informer on the operation's resource (plus the shared VirtualMachine
 * cache), a work queue fed by both (an operation waiting on its VirtualMachine moves when
 * the VirtualMachine does), workers, and a periodic resync so deadlines are noticed.
 *
 * @module
 */

import type { ObjectMeta } from "kubernetes-types/meta/v1.d.ts";
import {
  type Informer,
  KubeConflictError,
  KubeNotFoundError,
  OwnWrites,
  type ResourceDescriptor,
  runWorkers,
  type SharedInformerFactory,
  type Store,
  WorkQueue,
} from "../kube/mod.ts";
import { abortableSleep } from "../sleep.ts";
import { type Controller, readiness } from "../controller.ts";
import { VIRTUAL_MACHINES, type VirtualMachine } from "./types.ts";
import { type VmRuntime, waitForCrds } from "./vm_runtime.ts";

/** An object of one of the operation resources. */
export interface OperationObject {
  metadata?: ObjectMeta;
  spec?: unknown;
  status?: object;
}

/** What an operation controller gets for each reconcile. */
export interface OperationContext<T extends OperationObject> {
  runtime: VmRuntime;
  /** The operation's cache. */
  store: Store<T>;
  /** The VirtualMachine cache. */
  vms: Store<VirtualMachine>;
  /** Queues `key` again after `delayMs`. */
  requeue(key: string, delayMs: number): void;
  /** Writes `status` on `object` (optimistic: a stale object conflicts and is retried). */
  writeStatus(object: T, status: NonNullable<T["status"]>, signal: AbortSignal): Promise<T>;
  /** Sets or clears the finalizer `name` on `object`. */
  setFinalizer(object: T, name: string, present: boolean, signal: AbortSignal): Promise<T>;
}

/** What makes one operation controller. */
export interface OperationDefinition<T extends OperationObject> {
  name: string;
  descriptor: ResourceDescriptor;
  /** The VirtualMachine an operation object names, so VirtualMachine changes requeue it. */
  virtualMachineOf(object: T): string | undefined;
  reconcile(context: OperationContext<T>, object: T, signal: AbortSignal): Promise<void>;
}

/** Runs one operation definition. */
export class OperationController<T extends OperationObject> implements Controller {
  readonly name: string;
  readonly #runtime: VmRuntime;
  readonly #informers: SharedInformerFactory;
  readonly #definition: OperationDefinition<T>;
  readonly #queue: WorkQueue;
  readonly #readiness = readiness();
  readonly #resyncMs: number;

  /** A controller for `definition` over `runtime`. */
  constructor(
    runtime: VmRuntime,
    informers: SharedInformerFactory,
    definition: OperationDefinition<T>,
    options: { resyncMs?: number } = {},
  ) {
    this.name = definition.name;
    this.#runtime = runtime;
    this.#informers = informers;
    this.#definition = definition;
    this.#queue = new WorkQueue({ name: definition.name, maxDelayMs: 60_000 });
    this.#resyncMs = options.resyncMs ?? 15_000;
  }

  /** Resolves at once: operations never hold up the node. */
  get ready(): Promise<void> {
    return this.#readiness.ready;
  }

  /** Waits for the CRDs and caches, then reconciles until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    this.#readiness.markReady();
    const runtime = this.#runtime;
    if (!(await waitForCrds(runtime.client, runtime.log, signal))) return;
    const objects: Informer<T> = this.#informers.informer<T>(this.#definition.descriptor);
    const vms = this.#informers.informer<VirtualMachine>(VIRTUAL_MACHINES);
    if (!(await objects.waitForSync(signal)) || !(await vms.waitForSync(signal))) return;
    if (!(await runtime.pods.waitForSync(signal))) return;
    const keyOf = (object: { metadata?: ObjectMeta }) =>
      `${object.metadata?.namespace}/${object.metadata?.name}`;
    const queue = this.#queue;
    // A reconcile must never act on a version its own writes replaced (a restore would be
    // reverted twice): the watch brings the newer one and queues the key again.
    const writes = new OwnWrites();
    objects.addHandlers({
      onAdd: (object) => queue.add(keyOf(object)),
      onUpdate: (_old, object) => queue.add(keyOf(object)),
      onDelete: (object) => writes.forget(keyOf(object)),
    });
    const onVm = (vm: VirtualMachine) => {
      for (const object of objects.store.list()) {
        if (
          object.metadata?.namespace === vm.metadata?.namespace &&
          this.#definition.virtualMachineOf(object) === vm.metadata?.name
        ) queue.add(keyOf(object));
      }
    };
    vms.addHandlers({ onAdd: onVm, onUpdate: (_o, vm) => onVm(vm), onDelete: onVm });
    signal.addEventListener("abort", () => queue.shutDown(), { once: true });
    const context: OperationContext<T> = {
      runtime,
      store: objects.store,
      vms: vms.store,
      requeue: (key, delayMs) => queue.addAfter(key, delayMs),
      writeStatus: async (object, status, s) => {
        const written = await runtime.client
          .resource<T>(this.#definition.descriptor, object.metadata!.namespace)
          .updateStatus({ ...object, status }, { signal: s });
        writes.replaced(keyOf(object), object);
        return written;
      },
      setFinalizer: async (object, name, present, s) => {
        const finalizers = (object.metadata?.finalizers ?? []).filter((f) => f !== name);
        if (present) finalizers.push(name);
        try {
          const written = await runtime.client.resource<T>(
            this.#definition.descriptor,
            object.metadata!.namespace,
          ).patch(object.metadata!.name!, {
            metadata: { finalizers, resourceVersion: object.metadata!.resourceVersion },
          }, { type: "merge", signal: s });
          writes.replaced(keyOf(object), object);
          return written;
        } catch (error) {
          if (error instanceof KubeNotFoundError) return object;
          throw error;
        }
      },
    };
    await Promise.all([
      runWorkers(queue, async (key, s) => {
        const object = objects.store.get(key);
        if (object && writes.isStale(key, object)) {
          queue.addAfter(key, 1000); // the watch's event for the newer version usually comes first
          return;
        }
        try {
          if (object) await this.#definition.reconcile(context, object, s);
        } catch (error) {
          // Written from a stale cache: the watch brings the newer object, then it runs again.
          if (!(error instanceof KubeConflictError)) throw error;
          queue.addAfter(key, 500);
        }
      }, { workers: 4, signal }),
      (async () => {
        while (!signal.aborted) {
          await abortableSleep(this.#resyncMs, signal);
          for (const key of objects.store.keys()) queue.add(key);
        }
      })(),
    ]);
  }
}
