/**
 * The pod ↔ VM mapping of the zstack provider: pure functions, tested without a server,
 * in files named after their direction.
 *
 * - `pod_to_vm.ts`: whether a pod can become one VM, its image, size, networks and
 *   placement, and the `CreateVmInstance` body;
 * - `user_data.ts`: the VM's cloud-init user data (the pod's own, hostname, env, command);
 * - `identity.ts`: the VM uuid, name and ownership tags (who a VM serves);
 * - `stored_spec.ts`: the pod spec remembered in the VM description, and the pod rebuilt
 *   from it after a restart;
 * - `vm_to_pod.ts`: the pod status read back from a VM.
 *
 * This module gathers them for callers that want the whole mapping.
 *
 * @module
 */

export {
  identityFromTags,
  identityKey,
  isZStackUuid,
  nodeTag,
  ownerTags,
  type PodIdentity,
  tagPrefix,
  vmNameForPod,
  type VmOwner,
  vmUuidForPod,
} from "./identity.ts";
export {
  annotationList,
  createRequestedText,
  imagePrefix,
  type ImageRef,
  instanceOfferingAnnotation,
  l3NetworksAnnotation,
  networkRefsOf,
  parseImageRef,
  type Placement,
  type PlacementHints,
  placementHintsOf,
  type PlacementRef,
  type PlacementRefs,
  placementRefsFor,
  type ValidatedPod,
  validatePod,
  vmCreateBody,
  type VmRequest,
  type VmSize,
  vmSizeOf,
} from "./pod_to_vm.ts";
export {
  base64Utf8,
  buildUserData,
  expandVariables,
  podHostname,
  type PodUserData,
  podUserDataOf,
  userDataAnnotation,
  type UserDataOptions,
} from "./user_data.ts";
export {
  decodePodSpec,
  descriptionPrefix,
  encodePodSpec,
  maxDescriptionLength,
  podFromVm,
  type PodFromVmOptions,
  type StoredPodSpec,
} from "./stored_spec.ts";
export { podIpsOf, podStatusFromVm, vmStateText, type VmStatusContext } from "./vm_to_pod.ts";
