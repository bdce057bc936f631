/**
 * The pod spec remembered in a VM's description, and the pod rebuilt from it after a
 * restart.
 *
 * The record, its packing as base64(gzip(JSON)) and the trimming of a pod too large are
 * the provider kit's (`fitPodSpec`); here it is stored in the VM `description` as
 * `vkedge:v1:` + the packed text, within ZStack's 2048 characters. A pod too large for
 * that first loses the `kubectl.kubernetes.io/last-applied-configuration` annotation, then
 * everything but each container's name and image and the workload annotations; such a
 * record is marked `partial`, and after a restart the agent sees a difference and calls
 * `updatePod` once, which changes nothing on the VM. Ownership is never read from the
 * description: user tags decide which VMs belong to a node and which pod a VM serves.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { InvalidInputError } from "../../lib/provider.ts";
import {
  fitPodSpec,
  podFromStoredSpec,
  type StoredPodSpec,
  unpackPodSpec,
} from "../../lib/provider_kit/mod.ts";
import type { VmInstance } from "./api_types.ts";
import { identityKey, type PodIdentity } from "./identity.ts";
import { imagePrefix } from "./pod_to_vm.ts";

export type { StoredPodSpec } from "../../lib/provider_kit/mod.ts";

/** Prefix of the description holding the remembered pod spec. */
export const descriptionPrefix = "vkedge:v1:";
/** Longest VM description ZStack stores. */
export const maxDescriptionLength = 2048;

/**
 * The description remembering `pod`: full when it fits in 2048 characters, else
 * `partial` (see the module documentation).
 */
export async function encodePodSpec(
  pod: Pod,
  identity: PodIdentity,
): Promise<{ description: string; partial: boolean }> {
  const fitted = await fitPodSpec(pod, identity, {
    fits: (packed) => descriptionPrefix.length + packed.length <= maxDescriptionLength,
  });
  if (fitted.fits) {
    return { description: `${descriptionPrefix}${fitted.packed}`, partial: fitted.partial };
  }
  throw new InvalidInputError(
    `zstack provider: pod ${
      identityKey(identity)
    }: expected name, namespace and image to fit a VM description of ${maxDescriptionLength} characters, found ${
      descriptionPrefix.length + fitted.smallest.length
    }`,
  );
}

/** Reads a description written by {@linkcode encodePodSpec}; `undefined` for anything else. */
export async function decodePodSpec(
  description: string | undefined,
): Promise<StoredPodSpec | undefined> {
  if (description === undefined || !description.startsWith(descriptionPrefix)) return undefined;
  return await unpackPodSpec(description.slice(descriptionPrefix.length));
}

/** What {@linkcode podFromVm} rebuilds a pod from, besides the VM. */
export interface PodFromVmOptions {
  /** Who the VM serves (from its tags). */
  identity: PodIdentity;
  /** The record in its description, if any. */
  stored: StoredPodSpec | undefined;
  /** This agent's node, the pod's `spec.nodeName`. */
  nodeName: string;
}

/**
 * The pod (without status) a VM stands for: identity from its tags, spec from the
 * remembered record when it belongs to the same workload UID, else one container named
 * `vm` with the VM's image. Its UID is the remembered pod UID when the record keeps the
 * workload annotation, else the workload UID, so the provider kit's `workloadUid` of the
 * pod is always the VM's.
 */
export function podFromVm(vm: VmInstance, options: PodFromVmOptions): Pod {
  return podFromStoredSpec({
    ...options,
    image: `${imagePrefix}${vm.imageUuid ?? "unknown"}`,
  });
}
