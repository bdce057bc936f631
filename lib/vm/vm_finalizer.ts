/**
 * The deletion of a VirtualMachine: finalizer `vkedge.io/virtual-machine` holds it until
 * its VM is deleted (through its VM-Pod, or directly when the VM-Pod went while the VM was
 * kept), then lets it go.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import {
  KubeConflictError,
  KubeNotFoundError,
  metaKey,
  type OwnWrites,
  PODS,
} from "../kube/mod.ts";
import { isNotFound } from "../provider.ts";
import { workloadUid } from "../provider_kit/workload.ts";
import { VIRTUAL_MACHINES, type VirtualMachine, type VirtualMachineStatus } from "./types.ts";
import { vmPodOf, type VmRuntime } from "./vm_runtime.ts";

/** The finalizer that holds a VirtualMachine until its VM is deleted. */
export const VM_FINALIZER = "vkedge.io/virtual-machine";

/** What the finalizer works with: the runtime, the controller's own writes, its status writer. */
export interface VmFinalizerContext {
  runtime: VmRuntime;
  /** Versions the controller's own writes replaced. */
  writes: OwnWrites;
  /** Writes `status` unless it equals the current one; returns the object as stored. */
  writeStatus(
    vm: VirtualMachine,
    status: VirtualMachineStatus,
    signal: AbortSignal,
  ): Promise<VirtualMachine>;
}

/** Adds the finalizer to `vm` unless it has it; returns the object as stored. */
export async function ensureFinalizer(
  context: VmFinalizerContext,
  vm: VirtualMachine,
  signal: AbortSignal,
): Promise<VirtualMachine> {
  const finalizers = vm.metadata?.finalizers ?? [];
  if (finalizers.includes(VM_FINALIZER)) return vm;
  const written = await context.runtime.client.resource<VirtualMachine>(
    VIRTUAL_MACHINES,
    vm.metadata!.namespace,
  ).patch(vm.metadata!.name!, {
    metadata: {
      finalizers: [...finalizers, VM_FINALIZER],
      resourceVersion: vm.metadata!.resourceVersion,
    },
  }, { type: "merge", signal });
  context.writes.replaced(metaKey(vm), vm);
  return written;
}

/**
 * Deletion: the VM-Pod goes (and with it the VM), then the finalizer. A VirtualMachine
 * whose VM-Pod went while the VM was kept has its VM deleted through the provider.
 */
export async function finalize(
  context: VmFinalizerContext,
  vm: VirtualMachine,
  signal: AbortSignal,
): Promise<void> {
  const runtime = context.runtime;
  if (!(vm.metadata?.finalizers ?? []).includes(VM_FINALIZER)) return;
  const namespace = vm.metadata!.namespace!;
  const name = vm.metadata!.name!;
  const pod = vmPodOf(runtime, vm);
  if (pod) {
    if (!pod.metadata?.deletionTimestamp) {
      await runtime.client.resource<Pod>(PODS, namespace).delete(name, {
        preconditions: { uid: pod.metadata!.uid! },
        signal,
      }).catch((error) => {
        if (!(error instanceof KubeNotFoundError) && !(error instanceof KubeConflictError)) {
          throw error;
        }
      });
      runtime.log.info("VirtualMachine {vm} is being deleted: deleting its VM", {
        vm: `${namespace}/${name}`,
      });
    }
    await context.writeStatus(vm, {
      ...vm.status,
      printableStatus: "Terminating",
      ready: false,
    }, signal);
    return; // the pod's deletion brings the VirtualMachine back
  }
  // No VM-Pod (it went while the VM was kept): delete the VM directly.
  const providerPod = await runtime.provider.getPod(namespace, name, signal).catch((error) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
  if (providerPod && workloadUid(providerPod) === vm.metadata?.uid) {
    await runtime.provider.deletePod(providerPod, signal).catch((error) => {
      if (!isNotFound(error)) throw error;
    });
  }
  const finalizers = (vm.metadata?.finalizers ?? []).filter((f) => f !== VM_FINALIZER);
  await runtime.client.resource<VirtualMachine>(VIRTUAL_MACHINES, namespace).patch(name, {
    metadata: { finalizers, resourceVersion: vm.metadata!.resourceVersion },
  }, { type: "merge", signal }).catch((error) => {
    if (!(error instanceof KubeNotFoundError)) throw error;
  });
  runtime.events.record(vm, "Normal", "Deleted", "VM deleted");
  runtime.log.info("VirtualMachine {vm}: VM deleted", { vm: `${namespace}/${name}` });
}
