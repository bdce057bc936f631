/**
 * The pod ↔ vSphere VM mapping of the vsphere provider: pure functions, tested without a
 * server (`mapping_test.ts`), in files named after their job.
 *
 * - `pod_to_vm.ts`: whether a pod can become one VM, its template, size and network;
 * - `identity.ts`: the extraConfig keys, who a VM serves and the VM name;
 * - `pod_record.ts`: the pod remembered on the VM, and the pod rebuilt from it;
 * - `user_data.ts`: the guest set-up through cloud-init's guestinfo data source;
 * - `base64.ts`: base64 of extraConfig values;
 * - `vm_to_pod.ts`: the pod status read back from a VM.
 *
 * This module gathers them for callers that want the whole mapping.
 *
 * @module
 */

export { base64Text } from "./base64.ts";
export {
  identityKey,
  identityOf,
  keys,
  nodeOwner,
  type PodIdentity,
  vmNameOf,
} from "./identity.ts";
export {
  decodePodRecord,
  encodePodRecord,
  maxRecordLength,
  podFromVm,
  type PodRecord,
} from "./pod_record.ts";
export {
  imagePrefix,
  networkAnnotation,
  networkOf,
  templateOf,
  type ValidatedPod,
  validatePod,
  type VmSize,
  vmSizeOf,
} from "./pod_to_vm.ts";
export { metadataOf, podHostname, userDataAnnotation, userDataOf } from "./user_data.ts";
export { podStatusOf, vmStateText, type VmStatusContext } from "./vm_to_pod.ts";
