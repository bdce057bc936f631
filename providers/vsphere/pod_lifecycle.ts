/**
 * The pod writes of the vsphere provider: create (clone and power on, or adopt the VM that
 * already serves the pod's workload), update (the pod record on the VM; a new image is
 * refused) and delete (destroy the VM, or release an evicted pod's VM from this node and
 * say how to take it back). The VM work itself is `vm_lifecycle.ts`.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import {
  AlreadyExistsError,
  InvalidInputError,
  type ProviderRuntimeOptions,
} from "../../lib/provider.ts";
import { errorMessage, evictionOf } from "../../lib/provider_kit/mod.ts";
import { toProviderError } from "./faults.ts";
import { identityKey, nodeOwner } from "./identity.ts";
import { validatePod } from "./pod_to_vm.ts";
import type { VmActionContext } from "./vm_action.ts";
import type { TrackedPodLookup } from "./vm_capabilities.ts";
import { createVm, destroyVm, releaseVm, rememberPod, resumePowerOn } from "./vm_lifecycle.ts";

const logger = getLogger(["vkedge", "provider", "vsphere"]);

/** What {@linkcode PodLifecycle} works with besides the VM actions. */
export interface PodLifecycleOptions {
  /** The cluster and node this agent's VMs belong to. */
  owner: { clusterName: string; nodeName: string };
  now: () => number;
  recordEvent?: ProviderRuntimeOptions["recordEvent"];
  /** Starts the watch of this node's VMs (once). */
  startWatch(): void;
  trackedOf: TrackedPodLookup;
}

/** Creates, updates and deletes the VMs of pods. */
export class PodLifecycle {
  readonly #actions: VmActionContext;
  readonly #options: PodLifecycleOptions;

  /** Acts through `actions`. */
  constructor(actions: VmActionContext, options: PodLifecycleOptions) {
    this.#actions = actions;
    this.#options = options;
  }

  /**
   * Clones and powers on the pod's VM and waits for both tasks. A VM that already serves
   * the pod's workload UID (a repeated create, or the VM of a VirtualMachine whose VM-Pod
   * was re-created) is adopted instead.
   */
  async createPod(pod: Pod, signal: AbortSignal): Promise<void> {
    const actions = this.#actions;
    const { tracker } = actions;
    const validated = validatePod(pod, actions.config.images.aliases);
    const { identity } = validated;
    const key = identityKey(identity);
    this.#options.startWatch();
    await tracker.ensureFresh(signal).catch((error) => {
      throw toProviderError(error, `vsphere provider: listing VMs before creating pod ${key}`);
    });
    await actions.serialize(key, async () => {
      const existing = tracker.get(identity.namespace, identity.name);
      if (existing !== undefined && existing.deleted === undefined) {
        if (existing.identity.uid !== identity.uid) {
          throw new AlreadyExistsError(
            `vsphere provider: pod ${key} already runs as ${
              existing.vm
                ? `VM ${existing.vm.name} (${existing.vm.ref.value})`
                : "a VM being cloned"
            } for workload uid "${existing.identity.uid}": expected it gone before creating uid "${identity.uid}"`,
          );
        }
        if (existing.vm !== undefined) {
          existing.pod = pod;
          await rememberPod(actions, existing, pod, signal);
          await resumePowerOn(actions, existing, signal).catch((error) => {
            throw toProviderError(error, `vsphere provider: powering on the VM of pod ${key}`);
          });
          actions.report(existing);
          return;
        }
      }
      const tracked = tracker.ensure(identity, pod);
      tracked.pod = pod;
      tracked.creating = true;
      actions.report(tracked);
      try {
        await createVm(actions, tracked, {
          pod,
          validated,
          owner: this.#options.owner,
          signal,
        });
      } catch (error) {
        if (tracked.vm === undefined) tracker.forget(tracked);
        throw error;
      } finally {
        tracked.creating = undefined;
      }
      actions.report(tracked);
    });
  }

  /**
   * Records a changed pod (labels, annotations, env) on the VM and rebinds it to the pod
   * object given (a VM-Pod re-created for the same VirtualMachine has a new UID). A changed
   * image would need a new VM and is refused with `InvalidInputError`.
   */
  async updatePod(pod: Pod, signal: AbortSignal): Promise<void> {
    const actions = this.#actions;
    const { identity, container } = validatePod(pod, actions.config.images.aliases);
    const key = identityKey(identity);
    const tracked = await this.#options.trackedOf(pod, signal);
    const previous = tracked.pod.spec?.containers?.[0]?.image;
    if (previous !== undefined && previous !== container.image) {
      throw new InvalidInputError(
        `vsphere provider: pod ${key}: expected image "${previous}" (the VM's template), found "${container.image}": a new image needs a new VM, so delete and recreate the pod`,
      );
    }
    await actions.serialize(key, () => rememberPod(actions, tracked, pod, signal));
    tracked.pod = pod;
    actions.report(tracked);
  }

  /**
   * Powers off and destroys the pod's VM, reports the terminal status and forgets the pod.
   * A pod the control plane evicted keeps its VM running (vSphere has no recoverable
   * destroy): the VM is released from this node, and a Warning event says how to take it
   * back.
   */
  async deletePod(pod: Pod, signal: AbortSignal): Promise<void> {
    const actions = this.#actions;
    const { owner } = this.#options;
    const tracked = await this.#options.trackedOf(pod, signal);
    const key = identityKey(tracked.identity);
    const eviction = evictionOf(pod);
    if (eviction) {
      await actions.serialize(key, () => releaseVm(actions, tracked, signal));
      const vm = tracked.vm!;
      const recovery =
        `VM ${vm.name} (${vm.ref.value}) is left running and released from node ${owner.nodeName} (extraConfig guestinfo.vkedge.node cleared); to hand it back, set guestinfo.vkedge.node to "${
          nodeOwner(owner.clusterName, owner.nodeName)
        }" and create the pod again, or delete the VM in vSphere`;
      this.#options.recordEvent?.(
        pod,
        "Warning",
        "EvictedPodVMKept",
        `Pod evicted by the control plane (${eviction.reason}: ${eviction.message}); ${recovery}`,
      );
      logger.warn("pod {pod} was evicted ({reason}); {recovery}", {
        pod: key,
        reason: eviction.reason,
        recovery,
      });
    } else {
      await actions.serialize(key, () => destroyVm(actions, tracked, signal));
    }
    tracked.deleted = { at: new Date(this.#options.now()), byUs: true };
    tracked.log.append(
      `VM ${tracked.vm?.name ?? ""} ${
        eviction ? "released (the pod was evicted)" : "destroyed for the pod's deletion"
      }`,
    );
    logger.info("pod {pod}: VM {vm} {what}", {
      pod: key,
      vm: tracked.vm?.ref.value,
      what: eviction ? "released" : "destroyed",
    });
    actions.report(tracked);
    actions.tracker.forget(tracked);
  }

  /** Powers on, in the background, the VMs whose power-on an earlier agent left unfinished. */
  resumeAll(stopped: AbortSignal): void {
    const actions = this.#actions;
    for (const tracked of actions.tracker.all()) {
      void actions.serialize(
        identityKey(tracked.identity),
        () => resumePowerOn(actions, tracked, stopped),
      ).catch((error) =>
        logger.warn("powering on the VM of pod {pod} failed: {error}", {
          pod: identityKey(tracked.identity),
          error: errorMessage(error),
        })
      );
    }
  }
}
