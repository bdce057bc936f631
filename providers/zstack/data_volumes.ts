/**
 * PersistentVolumes as ZStack data volumes (`VolumeProvisioner`): the entry point of the
 * volume operations, which live in files named after their jobs.
 *
 * - `volume_request.ts`: what a claim asks for (offering, storage, size, tags) and the
 *   uuid derived from the cluster and the PV name. A volume is made from the disk offering
 *   the StorageClass or the configuration names, else sized by the claim alone, on the
 *   named primary storage or, without one, on the storage of the first VM it is attached
 *   to (ZStack keeps it NotInstantiated until then). User tags name the cluster, the
 *   node, the claim and the PV.
 * - `volume_reads.ts`: reading volumes, their tags and the pods of their VMs;
 *   `getVolume`, and `listVolumes` by this node's tag.
 * - `volume_provisioning.ts`: `createVolume` (found again when repeated after a crash,
 *   also while the first create's job runs; grown when the offering is smaller than the
 *   claim), `expandVolume` (grow-only), `deleteVolume` (detached volumes of this cluster
 *   only, then expunged).
 * - `volume_attachment.ts`: `attachVolume` and `detachVolume` on the VM behind a pod,
 *   and {@linkcode detachDataVolumes} before the VM of a deleted pod is destroyed, so
 *   that its volumes survive whatever ZStack's `dataVolume.deleteOnVmDestroy` says.
 *
 * @module
 */

export {
  attachVolume,
  detachDataVolumes,
  type DetachDataVolumesOptions,
  detachVolume,
} from "./volume_attachment.ts";
export { createVolume, deleteVolume, expandVolume } from "./volume_provisioning.ts";
export { getVolume, listVolumes, type VolumeContext } from "./volume_reads.ts";
