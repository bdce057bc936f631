/**
 * Whether the backend of a deleted VM-Pod must be kept: the answer the pod controller
 * asks before it deletes a provider pod. A VM-Pod stands for a VirtualMachine's VM, and
 * only deleting the VirtualMachine deletes the VM; a VM-Pod deleted by anything else (an
 * eviction, a drain, a force delete, a delete while the agent was away) lets its VM live
 * on, and the VirtualMachine controller makes a new VM-Pod that adopts it.
 *
 * Until the VirtualMachines are known (CRD missing, cache not synced) every VM-Pod's
 * backend is kept: not knowing is never a reason to destroy a VM.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { Store } from "../kube/mod.ts";
import {
  WORKLOAD_NAME_ANNOTATION,
  WORKLOAD_UID_ANNOTATION,
  workloadUid,
} from "../provider_kit/mod.ts";
import type { RetentionVerdict, WorkloadRetention } from "../pods/context.ts";
import type { VirtualMachine } from "./types.ts";

/** Retention over the VirtualMachine cache, which the VirtualMachine controller attaches. */
export class VirtualMachineRetention implements WorkloadRetention {
  #store: Store<VirtualMachine> | undefined;

  /** Called by the VirtualMachine controller once its cache has synced. */
  attach(store: Store<VirtualMachine>): void {
    this.#store = store;
  }

  /** Keep unless the pod is no VM-Pod, or its VirtualMachine is gone or being deleted. */
  verdict(pod: Pod): RetentionVerdict {
    const annotations = pod.metadata?.annotations ?? {};
    const vmName = annotations[WORKLOAD_NAME_ANNOTATION];
    const uid = annotations[WORKLOAD_UID_ANNOTATION] ?? (vmName ? workloadUid(pod) : undefined);
    if (vmName === undefined || uid === undefined) {
      return { keep: false, reason: "not a VM-Pod" };
    }
    const key = `${pod.metadata?.namespace}/${vmName}`;
    if (this.#store === undefined) {
      return {
        keep: true,
        reason:
          `VirtualMachine ${key} cannot be checked yet (its cache is not synced, or the CRDs are not installed)`,
      };
    }
    const vm = this.#store.get(key);
    if (vm === undefined || vm.metadata?.uid !== uid) {
      return { keep: false, reason: `VirtualMachine ${key} is gone` };
    }
    if (vm.metadata?.deletionTimestamp) {
      return { keep: false, reason: `VirtualMachine ${key} is being deleted` };
    }
    return {
      keep: true,
      reason:
        `VirtualMachine ${key} still wants its VM (only deleting the VirtualMachine deletes it); it makes a new pod for it`,
    };
  }
}
