/**
 * Creating the VM of a pod, idempotently: the VM uuid comes from the workload UID, so a VM
 * that exists already (an earlier attempt, a create whose answer was lost, or the VM of a
 * VirtualMachine whose VM-Pod was re-created) is adopted instead of made twice, its pod
 * tags rewritten when the pod has a new name. Otherwise the request is resolved, its
 * first lifecycle line written, `CreateVmInstance` submitted and waited for, and the new
 * VM tracked.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import { inventoryReplySchema, type VmInstance, vmInstanceSchema } from "./api_types.ts";
import type { ZStackClient } from "./client.ts";
import { getVm, vmInstances } from "./collections.ts";
import type { ZStackConfig } from "./config.ts";
import { toProviderError, ZStackApiError } from "./errors.ts";
import { identityKey, type VmOwner, vmUuidForPod } from "./identity.ts";
import type { NameResolver } from "./name_resolver.ts";
import { rebindOwnerTags } from "./owner_tags.ts";
import { createRequestedText, type ValidatedPod, vmCreateBody } from "./pod_to_vm.ts";
import { decodePodSpec, encodePodSpec } from "./stored_spec.ts";
import { resolveVmRequest } from "./vm_request.ts";
import type { VmTracker } from "./vm_tracker.ts";

const logger = getLogger(["vkedge", "provider", "zstack"]);

/** What {@linkcode createVm} works with. */
export interface CreateVmOptions {
  /** The pod as validated. */
  validated: ValidatedPod;
  /** The ZStack client. */
  client: ZStackClient;
  /** Where the VM is tracked once it exists. */
  tracker: VmTracker;
  /** Resolves the names the pod and configuration use. */
  resolver: NameResolver;
  /** The provider configuration. */
  config: ZStackConfig;
  /** Cluster and node of the VM. */
  owner: VmOwner;
  /** Clock in milliseconds. */
  now: () => number;
  /** Aborts the create (the job keeps running in ZStack; a repeat adopts its VM). */
  signal: AbortSignal;
}

/** Tracks `vm`, which exists already for the pod being created, as that pod's. */
async function adopt(vm: VmInstance, desired: Pod, options: CreateVmOptions): Promise<void> {
  const { identity } = options.validated;
  const bound = await rebindOwnerTags(options.client, vm, { identity, signal: options.signal });
  const stored = await decodePodSpec(bound.description);
  options.tracker.track(bound, { identity, stored, desired, adopted: true });
}

/**
 * Creates and starts the VM of `pod` and waits for ZStack to finish the job, or adopts
 * the VM that already exists for its workload UID. ZStack's refusals become contract errors
 * (an unknown image or network is `InvalidInputError`).
 */
export async function createVm(pod: Pod, options: CreateVmOptions): Promise<void> {
  const { validated, client, tracker, signal } = options;
  const { identity } = validated;
  const key = identityKey(identity);
  const uuid = await vmUuidForPod(identity.uid);
  const { description } = await encodePodSpec(pod, identity);
  const stored = await decodePodSpec(description);
  const existing = await getVm(client, uuid, { signal });
  if (existing !== undefined) {
    logger.info("pod {pod}: VM {uuid} already exists (an earlier create); adopting it", {
      pod: key,
      uuid,
    });
    await adopt(existing, pod, options);
    return;
  }

  const request = await resolveVmRequest(pod, {
    validated,
    uuid,
    description,
    owner: options.owner,
    config: options.config,
    resolver: options.resolver,
    signal,
  });
  tracker.setPendingLog(uuid, [{
    time: new Date(options.now()),
    text: createRequestedText(request),
  }]);
  logger.info("pod {pod}: creating VM {uuid} from image {image}", {
    pod: key,
    uuid,
    image: request.image.name,
  });
  let created: VmInstance;
  try {
    tracker.setReleased(uuid, false);
    const reply = await client.call("POST", vmInstances.path, {
      body: vmCreateBody(request),
      schema: inventoryReplySchema(vmInstanceSchema),
      signal,
    });
    created = reply.inventory;
  } catch (error) {
    if (error instanceof ZStackApiError) {
      // A VM may exist anyway, from an earlier attempt with the same uuid.
      const found = await getVm(client, uuid, { signal }).catch(() => undefined);
      if (found !== undefined && !["Error", "Destroyed", "Expunging"].includes(found.state)) {
        await adopt(found, pod, options);
        return;
      }
    }
    tracker.dropPendingLog(uuid);
    throw toProviderError(error, `zstack provider: creating VM for pod ${key}`, {
      notFound: "invalid-input",
    });
  }
  const polled = tracker.byUuid(created.uuid);
  if (polled !== undefined) {
    // The poll saw the VM while the job ran; keep what it logged.
    polled.stored = stored;
    tracker.setPod(polled, pod);
    tracker.observe(polled, created, new Date(options.now()));
    return;
  }
  tracker.track(created, { identity, stored, desired: pod });
}
