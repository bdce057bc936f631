/**
 * The VirtualMachine controller: for each VirtualMachine this node serves, it makes and
 * owns the VM-Pod (the pod path makes the VM), reads the VM's state back into the
 * status, drives power through the provider's power capability by the run strategy and
 * by one-off requests (`spec.action`), and on deletion deletes the VM before letting the
 * VirtualMachine go (finalizer `vkedge.io/virtual-machine`).
 *
 * This module is the reconcile loop; the requests and power operations (exactly once per
 * request id) are `vm_actions.ts`, the finalizer and deletion `vm_finalizer.ts`.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import {
  type Informer,
  KubeAlreadyExistsError,
  KubeConflictError,
  metaKey,
  OwnWrites,
  PODS,
  runWorkers,
  type SharedInformerFactory,
  WorkQueue,
} from "../kube/mod.ts";
import { hasVirtualMachinePower, isNotFound, type VirtualMachineState } from "../provider.ts";
import { canonicalJson } from "../canonical_json.ts";
import { errorMessage } from "../errors.ts";
import { abortableSleep } from "../sleep.ts";
import { type Controller, readiness } from "../controller.ts";
import { strategyCreates, strategyOperation } from "./power.ts";
import {
  describeIssues,
  VIRTUAL_MACHINES,
  type VirtualMachine,
  type VirtualMachineMigrationObject,
  type VirtualMachineSpec,
  virtualMachineSpecSchema,
  type VirtualMachineStatus,
  virtualMachineStatusSchema,
  VM_MIGRATIONS,
} from "./types.ts";
import { handleAction, performPower, type VmActionContext } from "./vm_actions.ts";
import { ensureFinalizer, finalize, type VmFinalizerContext } from "./vm_finalizer.ts";
import { servingNode, statusTime, vmPodOf, type VmRuntime, waitForCrds } from "./vm_runtime.ts";
import { vmPodFor } from "./vm_pod.ts";
import { virtualMachineStatus, type VmObservation } from "./vm_status.ts";
import type { VirtualMachineRetention } from "./retention.ts";

/** Options of {@linkcode VirtualMachineController}. */
export interface VirtualMachineControllerOptions {
  /** VirtualMachines reconciled in parallel (default 10). */
  workers?: number;
  /** How often every VirtualMachine's power state is re-read (default 30 s). */
  resyncMs?: number;
  /** Told about the VirtualMachine cache once it has synced. */
  retention?: VirtualMachineRetention;
}

/** Reconciles the VirtualMachines of this node. */
export class VirtualMachineController implements Controller {
  /** Controller name. */
  readonly name = "virtual-machines";
  readonly #runtime: VmRuntime;
  readonly #informers: SharedInformerFactory;
  readonly #options: VirtualMachineControllerOptions;
  readonly #queue = new WorkQueue({ name: "virtual-machines", maxDelayMs: 2 * 60_000 });
  readonly #readiness = readiness();
  /** Versions this controller's own writes replaced: never acted on from the cache. */
  readonly #writes = new OwnWrites();
  #vms: Informer<VirtualMachine> | undefined;
  readonly #context: VmActionContext & VmFinalizerContext;

  /** A controller over `runtime`, asking `informers` for the VirtualMachine cache. */
  constructor(
    runtime: VmRuntime,
    informers: SharedInformerFactory,
    options: VirtualMachineControllerOptions = {},
  ) {
    this.#runtime = runtime;
    this.#informers = informers;
    this.#options = options;
    this.#context = {
      runtime,
      writes: this.#writes,
      writeStatus: (vm, status, signal) => this.#writeStatus(vm, status, signal),
      requeueAfter: (key, ms) => this.#queue.addAfter(key, ms),
    };
  }

  /** Resolves at once: VirtualMachines never hold up the node. */
  get ready(): Promise<void> {
    return this.#readiness.ready;
  }

  /** Waits for the CRDs and the caches, then reconciles until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    this.#readiness.markReady();
    const runtime = this.#runtime;
    if (!(await waitForCrds(runtime.client, runtime.log, signal))) return;
    const vms = this.#vms = this.#informers.informer<VirtualMachine>(VIRTUAL_MACHINES);
    if (!(await vms.waitForSync(signal)) || !(await runtime.pods.waitForSync(signal))) return;
    this.#options.retention?.attach(vms.store);
    const keyOf = (object: { metadata?: { namespace?: string; name?: string } }) =>
      `${object.metadata?.namespace}/${object.metadata?.name}`;
    vms.addHandlers({
      onAdd: (vm) => this.#queue.add(keyOf(vm)),
      onUpdate: (_old, vm) => this.#queue.add(keyOf(vm)),
      onDelete: (vm) => {
        this.#writes.forget(keyOf(vm));
        this.#queue.add(keyOf(vm));
      },
    });
    const onPod = (pod: Pod) => {
      if (pod.metadata?.ownerReferences?.some((owner) => owner.kind === "VirtualMachine")) {
        this.#queue.add(keyOf(pod));
      }
    };
    runtime.pods.addHandlers({ onAdd: onPod, onUpdate: (_o, pod) => onPod(pod), onDelete: onPod });
    // A finished migration moves the VM: show the new host at once.
    this.#informers.informer<VirtualMachineMigrationObject>(VM_MIGRATIONS).addHandlers({
      onUpdate: (_old, migration) => {
        const name = (migration.spec as { virtualMachineName?: string } | undefined)
          ?.virtualMachineName;
        if (name) this.#queue.add(`${migration.metadata?.namespace}/${name}`);
      },
    });
    signal.addEventListener("abort", () => this.#queue.shutDown(), { once: true });
    runtime.log.info("VirtualMachine controller ready with {count} VirtualMachines", {
      count: vms.store.size,
    });
    await Promise.all([
      runWorkers(this.#queue, async (key, s) => {
        try {
          await this.#reconcile(key, s);
        } catch (error) {
          // Written from a stale cache: the watch brings the newer object, then it runs again.
          if (!(error instanceof KubeConflictError)) throw error;
          this.#queue.addAfter(key, 500);
        }
      }, {
        workers: this.#options.workers ?? 10,
        signal,
      }),
      this.#resync(signal),
    ]);
  }

  async #resync(signal: AbortSignal): Promise<void> {
    const interval = this.#options.resyncMs ?? 30_000;
    while (!signal.aborted) {
      await abortableSleep(interval, signal);
      for (const key of this.#vms?.store.keys() ?? []) this.#queue.add(key);
    }
  }

  async #reconcile(key: string, signal: AbortSignal): Promise<void> {
    const runtime = this.#runtime;
    let vm = this.#vms?.store.get(key);
    if (!vm) return;
    if (this.#writes.isStale(key, vm)) {
      this.#queue.addAfter(key, 1000); // the watch's event for the newer version usually comes first
      return;
    }
    const node = servingNode(vm);
    if (node !== undefined && node !== runtime.nodeName) return;
    const parsed = virtualMachineSpecSchema.safeParse(vm.spec ?? {});
    if (!parsed.success) {
      if (node === undefined) return; // not ours to complain about
      const message = `invalid spec: ${describeIssues(parsed.error)}; fix it with kubectl edit`;
      await this.#writeStatus(vm, {
        ...vm.status,
        printableStatus: "Failed",
        phase: "Failed",
        conditions: [{
          type: "Failure",
          status: "True",
          reason: "InvalidSpec",
          message,
          lastTransitionTime: statusTime(runtime),
        }],
      }, signal);
      runtime.events.record(vm, "Warning", "InvalidSpec", message);
      return;
    }
    const spec = parsed.data;
    if (vm.metadata?.deletionTimestamp) return await finalize(this.#context, vm, signal);
    if (node === undefined) {
      if (!hasVirtualMachinePower(runtime.provider)) return; // leave it to a node that can
      await this.#writeStatus(vm, { ...vm.status, nodeName: runtime.nodeName }, signal);
      return; // the update brings the VirtualMachine back, claimed
    }
    vm = await ensureFinalizer(this.#context, vm, signal);

    const observation: VmObservation = {
      vm,
      spec,
      nodeName: runtime.nodeName,
      now: statusTime(runtime),
    };
    const pod = vmPodOf(runtime, vm);
    if (!pod) {
      const taken = runtime.pods.store.get(key);
      if (taken) {
        observation.failure = {
          reason: "PodNameTaken",
          message:
            `pod ${key} exists and is not this VirtualMachine's: delete it or rename the VirtualMachine`,
        };
      } else if (vm.status?.created || strategyCreates(spec.runStrategy)) {
        await this.#createPod(vm, spec, signal, observation);
      }
      await this.#writeStatus(vm, virtualMachineStatus(observation), signal);
      return;
    }
    observation.pod = pod;
    if (pod.metadata?.deletionTimestamp) {
      // Going away (an eviction, a delete): the VM stays; a new VM-Pod follows.
      await this.#writeStatus(vm, virtualMachineStatus(observation), signal);
      return;
    }

    const provider = runtime.provider;
    const needsPower = spec.action !== undefined || spec.runStrategy !== "Always";
    if (!hasVirtualMachinePower(provider)) {
      if (needsPower) {
        observation.powerUnsupported =
          `provider ${provider.name} cannot power VMs on and off: runStrategy ${spec.runStrategy}${
            spec.action ? ` and action ${spec.action.type}` : ""
          } cannot be honoured; use runStrategy Always without actions on this node`;
        if (
          vm.status?.conditions?.find((c) => c.type === "Failure")?.reason !== "PowerNotSupported"
        ) {
          runtime.events.record(vm, "Warning", "PowerNotSupported", observation.powerUnsupported);
        }
      }
      await this.#writeStatus(vm, virtualMachineStatus(observation), signal);
      return;
    }

    let state: VirtualMachineState | undefined;
    try {
      state = await provider.getVirtualMachineState(pod, signal);
    } catch (error) {
      if (!isNotFound(error)) {
        observation.failure = { reason: "ProviderUnavailable", message: errorMessage(error) };
        await this.#writeStatus(vm, virtualMachineStatus(observation), signal);
        throw error; // retried with backoff
      }
    }
    observation.state = state;
    if (state === undefined) {
      await this.#writeStatus(vm, virtualMachineStatus(observation), signal);
      return; // not made yet: the pod path is at it
    }

    const handled = await handleAction(
      this.#context,
      { vm, spec, pod, state, observation },
      signal,
    );
    vm = handled.vm;
    observation.vm = vm;
    let performed = handled.acted;
    if (!handled.acted) {
      const operation = strategyOperation(spec.runStrategy, state.power);
      if (operation) {
        vm = await performPower(
          this.#context,
          { vm, spec, pod, operation, observation },
          signal,
        );
        observation.vm = vm;
        performed = true;
      }
    }
    if (performed) {
      observation.state = await provider.getVirtualMachineState(pod, signal).catch(() => state);
    }
    await this.#writeStatus(vm, virtualMachineStatus(observation), signal);
  }

  async #createPod(
    vm: VirtualMachine,
    spec: VirtualMachineSpec,
    signal: AbortSignal,
    observation: VmObservation,
  ): Promise<void> {
    const runtime = this.#runtime;
    const pod = vmPodFor(vm, spec, { nodeName: runtime.nodeName, taintKey: runtime.taintKey });
    try {
      await runtime.client.resource<Pod>(PODS, vm.metadata!.namespace).create(pod, { signal });
    } catch (error) {
      if (error instanceof KubeAlreadyExistsError) return;
      observation.failure = { reason: "PodCreateFailed", message: errorMessage(error) };
      runtime.events.record(vm, "Warning", "PodCreateFailed", errorMessage(error));
      throw error;
    }
    const again = vm.status?.created;
    runtime.log.info("VirtualMachine {vm}: {what} VM-Pod", {
      vm: `${vm.metadata!.namespace}/${vm.metadata!.name}`,
      what: again ? "re-created the" : "created the",
    });
    runtime.events.record(
      vm,
      "Normal",
      again ? "PodRecreated" : "PodCreated",
      again
        ? `Created a new VM-Pod ${pod.metadata!.name}; it adopts the existing VM`
        : `Created VM-Pod ${pod.metadata!.name} on node ${runtime.nodeName}`,
    );
  }

  /** Writes `status` unless it equals the current one; returns the object as stored. */
  async #writeStatus(
    vm: VirtualMachine,
    status: VirtualMachineStatus,
    signal: AbortSignal,
  ): Promise<VirtualMachine> {
    const current = virtualMachineStatusSchema.safeParse(vm.status ?? {});
    if (current.success && canonicalJson(current.data) === canonicalJson(status)) return vm;
    const written = await this.#runtime.client.resource<VirtualMachine>(
      VIRTUAL_MACHINES,
      vm.metadata!.namespace,
    ).updateStatus({ ...vm, status }, { signal });
    this.#writes.replaced(metaKey(vm), vm);
    return written;
  }
}
