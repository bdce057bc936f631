/**
 * The pod writes of the zstack provider: create (the VM from `vm_creation.ts`, or the VM
 * already serving the pod's workload UID adopted), update (the pod spec remembered in the
 * VM description; a new image is refused) and delete (the VM let go as `onPodDelete` says,
 * or an evicted pod's VM kept and a Warning event saying how to take it back). Removing
 * the VM itself is `vm_removal.ts`.
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
import { evictionOf, workloadUid } from "../../lib/provider_kit/mod.ts";
import { inventoryReplySchema, vmInstanceSchema } from "./api_types.ts";
import type { ZStackClient } from "./client.ts";
import { vmInstances } from "./collections.ts";
import type { ZStackConfig } from "./config.ts";
import { toProviderError } from "./errors.ts";
import { identityKey, type VmOwner } from "./identity.ts";
import type { NameResolver } from "./name_resolver.ts";
import { validatePod } from "./pod_to_vm.ts";
import { decodePodSpec, encodePodSpec } from "./stored_spec.ts";
import { createVm } from "./vm_creation.ts";
import { removedText, removeVm } from "./vm_removal.ts";
import type { TrackedVm, VmTracker } from "./vm_tracker.ts";

const logger = getLogger(["vkedge", "provider", "zstack"]);

/** What {@linkcode PodLifecycle} works with. */
export interface PodLifecycleOptions {
  config: ZStackConfig;
  client: ZStackClient;
  /** This node's VMs. */
  tracker: VmTracker;
  resolver: NameResolver;
  /** The cluster and node this agent's VMs belong to. */
  owner: VmOwner;
  /** The user tag naming this node on its VMs. */
  nodeTag: string;
  /** Clock in milliseconds. */
  now: () => number;
  /** Pause between two reads while waiting for a VM to go. */
  waitIntervalMs: number;
  recordEvent?: ProviderRuntimeOptions["recordEvent"];
  /** Reports the pod a tracked VM serves to the pod status callbacks. */
  report(tracked: TrackedVm): void;
}

/** Creates, updates and deletes the VMs of pods. */
export class PodLifecycle {
  readonly #options: PodLifecycleOptions;

  /** Acts with `options`. */
  constructor(options: PodLifecycleOptions) {
    this.#options = options;
  }

  /**
   * Creates and starts the pod's VM, waits for ZStack to finish the job and reports the
   * pod's status. A VM that already exists for the pod's workload UID (an earlier attempt,
   * or the VM of a VirtualMachine whose VM-Pod was re-created) is adopted instead.
   */
  async createPod(pod: Pod, signal: AbortSignal): Promise<void> {
    const validated = validatePod(pod, this.#options.config.images.aliases);
    const { identity } = validated;
    const key = identityKey(identity);
    const other = this.#options.tracker.get(identity.namespace, identity.name);
    if (other !== undefined && other.identity.uid !== identity.uid && other.deleted === undefined) {
      throw new AlreadyExistsError(
        `zstack provider: pod ${key} already runs as VM ${other.vm.uuid} for uid "${other.identity.uid}": expected it gone before creating uid "${identity.uid}"`,
      );
    }
    await createVm(pod, {
      validated,
      client: this.#options.client,
      tracker: this.#options.tracker,
      resolver: this.#options.resolver,
      config: this.#options.config,
      owner: this.#options.owner,
      now: this.#options.now,
      signal,
    });
    // The job's answer holds the VM as it is now (Running once it booted): report it at once
    // rather than at the next poll.
    const created = this.#options.tracker.get(identity.namespace, identity.name);
    if (created !== undefined) this.#options.report(created);
  }

  /**
   * Records a changed pod (labels, annotations, env) in the VM description and rebinds the
   * VM to the pod object given (a VM-Pod re-created for the same VirtualMachine has a new
   * UID). A changed image would need a new VM and is refused with `InvalidInputError`.
   */
  async updatePod(pod: Pod, signal: AbortSignal): Promise<void> {
    const { identity, container } = validatePod(pod, this.#options.config.images.aliases);
    const key = identityKey(identity);
    const tracked = await this.#options.tracker.find(identity.namespace, identity.name, {
      uid: identity.uid,
      signal,
    });
    const previous = tracked.stored?.containers[0]?.image;
    if (previous !== undefined && previous !== container.image) {
      throw new InvalidInputError(
        `zstack provider: pod ${key}: expected image "${previous}" (the VM's), found "${container.image}": a new image needs a new VM, so delete and recreate the pod`,
      );
    }
    const { description, partial } = await encodePodSpec(pod, identity);
    if (description !== tracked.vm.description) {
      try {
        const reply = await this.#options.client.call(
          "PUT",
          `${vmInstances.path}/${tracked.vm.uuid}/actions`,
          {
            body: { updateVmInstance: { description } },
            schema: inventoryReplySchema(vmInstanceSchema),
            signal,
          },
        );
        tracked.vm = reply.inventory;
      } catch (error) {
        throw toProviderError(error, `zstack provider: updating VM of pod ${key}`);
      }
    }
    if (partial) {
      logger.debug("pod {pod} is too large for a VM description; only part is remembered", {
        pod: key,
      });
    }
    tracked.stored = await decodePodSpec(description);
    this.#options.tracker.setPod(tracked, pod);
    this.#options.report(tracked);
  }

  /**
   * Lets the pod's VM go as `onPodDelete` says (destroy and expunge by default), reports
   * the terminal status and forgets the pod. Throws `NotFoundError` when no VM serves it.
   */
  async deletePod(pod: Pod, signal: AbortSignal): Promise<void> {
    const namespace = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    const key = `${namespace}/${name}`;
    const tracked = await this.#options.tracker.find(namespace, name, {
      uid: workloadUid(pod),
      signal,
    });
    const uuid = tracked.vm.uuid;
    const eviction = evictionOf(pod);
    // An evicted pod's VM ran the whole time: at most a recoverable destroy.
    const policy = eviction
      ? this.#options.config.onEvictedPodDelete
      : this.#options.config.onPodDelete;
    tracked.deleting = true;
    try {
      await removeVm(tracked, {
        client: this.#options.client,
        policy,
        nodeTag: this.#options.nodeTag,
        log: (text) => tracked.log.append(new Date(this.#options.now()), text),
        waitIntervalMs: this.#options.waitIntervalMs,
        signal,
      });
    } catch (error) {
      throw toProviderError(error, `zstack provider: deleting VM ${uuid} of pod ${key}`);
    } finally {
      tracked.deleting = undefined;
    }
    const at = new Date(this.#options.now());
    tracked.deleted = { at, byUs: true, ...(policy === "keep" ? { kept: true } : {}) };
    if (policy !== "keep") tracked.vm = { ...tracked.vm, state: "Destroyed" };
    tracked.log.append(at, removedText(tracked, policy));
    logger.info("pod {pod}: VM {uuid} {what}", {
      pod: key,
      uuid,
      what: policy === "keep" ? "released" : "destroyed",
    });
    if (eviction) {
      const recovery = policy === "keep"
        ? `VM ${tracked.vm.name} (${uuid}) is left running and released (onEvictedPodDelete: keep)`
        : `VM ${tracked.vm.name} (${uuid}) is destroyed but NOT expunged: recover it within ZStack's expunge period with RecoverVmInstance (PUT /v1/vm-instances/${uuid}/actions {"recoverVmInstance": {}}), then start it; set onEvictedPodDelete: keep to leave such VMs running`;
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
    }
    this.#options.report(tracked);
    this.#options.tracker.setReleased(uuid, true);
    this.#options.tracker.forget(tracked);
  }
}
