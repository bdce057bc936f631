/**
 * What the volume controller decides, as pure functions: whether a claim is this node's to
 * provision, the access modes a disk can give, and the PersistentVolume for a provisioned
 * volume (name `pvc-<claim UID>`, claimRef, `pv.kubernetes.io/provisioned-by`, capacity,
 * access modes, reclaim policy and node affinity to this node).
 *
 * @module
 */

import type { PersistentVolume, PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1.d.ts";
import type { StorageClass } from "kubernetes-types/storage/v1.d.ts";
import type { ProvisionedVolume } from "../provider.ts";

/** Annotation the PV controller and the scheduler use for the provisioner and chosen node. */
export const SELECTED_NODE = "volume.kubernetes.io/selected-node";
/** Annotation naming the provisioner of a PV. */
export const PROVISIONED_BY = "pv.kubernetes.io/provisioned-by";
/** Annotation holding the provider's volume id on a PV. */
export const VOLUME_ID = "vkedge.io/volume-id";
/** Label naming the node whose agent provisioned a PV. */
export const PV_NODE_LABEL = "vkedge.io/node";
/** Class parameter naming the node for `Immediate` binding (dropped from what the provider gets). */
export const NODE_PARAMETER = "node";

/** Access modes a block disk of one VM can give. */
const DISK_MODES = new Set(["ReadWriteOnce", "ReadWriteOncePod"]);

/** The provisioner name of a provider: `vkedge.io/<provider>`. */
export function provisionerName(provider: string): string {
  return `vkedge.io/${provider}`;
}

/** The PV name of a claim, the key of idempotence. */
export function pvNameFor(claim: PersistentVolumeClaim): string {
  return `pvc-${claim.metadata!.uid}`;
}

/** The access modes of `claim` a disk cannot give (RWX, ROX). */
export function unsupportedModes(claim: PersistentVolumeClaim): string[] {
  return (claim.spec?.accessModes ?? []).filter((mode) => !DISK_MODES.has(mode));
}

/** The claims a pod uses, by name. */
export function claimsOf(pod: Pod): string[] {
  return (pod.spec?.volumes ?? []).flatMap((volume) =>
    volume.persistentVolumeClaim ? [volume.persistentVolumeClaim.claimName] : []
  );
}

/**
 * Whether this node provisions `claim` now. `WaitForFirstConsumer`: once the scheduler
 * chose this node, or a pod on this node uses the claim (VM-Pods are bound by name and never
 * pass the scheduler). `Immediate`: when the class names this node in `parameters.node`.
 */
export function provisionsHere(
  claim: PersistentVolumeClaim,
  storageClass: StorageClass,
  nodeName: string,
  usedHere: boolean,
): boolean {
  if (storageClass.volumeBindingMode === "WaitForFirstConsumer") {
    return claim.metadata?.annotations?.[SELECTED_NODE] === nodeName || usedHere;
  }
  return storageClass.parameters?.[NODE_PARAMETER] === nodeName;
}

/** The class parameters for the provider (the agent's own `node` dropped). */
export function providerParameters(storageClass: StorageClass): Record<string, string> {
  const { [NODE_PARAMETER]: _node, ...rest } = storageClass.parameters ?? {};
  return rest;
}

/** `bytes` as a Kubernetes quantity: `20Gi`, `512Mi`, or plain bytes when not a whole KiB. */
export function formatBytes(bytes: number): string {
  for (
    const [suffix, unit] of [["Ti", 1024 ** 4], ["Gi", 1024 ** 3], ["Mi", 1024 ** 2], [
      "Ki",
      1024,
    ]] as const
  ) {
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}

/** The PersistentVolume for `volume`, made for `claim` of `storageClass` on `nodeName`. */
export function persistentVolumeFor(
  claim: PersistentVolumeClaim,
  storageClass: StorageClass,
  volume: ProvisionedVolume,
  options: { provisioner: string; driver: string; nodeName: string; nodeLabel: string },
): PersistentVolume {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: {
      name: pvNameFor(claim),
      labels: { [PV_NODE_LABEL]: options.nodeLabel },
      annotations: { [PROVISIONED_BY]: options.provisioner, [VOLUME_ID]: volume.id },
    },
    spec: {
      capacity: { storage: formatBytes(volume.sizeBytes) },
      accessModes: claim.spec?.accessModes ?? ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: storageClass.reclaimPolicy ?? "Delete",
      storageClassName: storageClass.metadata!.name,
      volumeMode: claim.spec?.volumeMode ?? "Filesystem",
      mountOptions: storageClass.mountOptions,
      claimRef: {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        namespace: claim.metadata!.namespace,
        name: claim.metadata!.name,
        uid: claim.metadata!.uid,
        resourceVersion: claim.metadata!.resourceVersion,
      },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [{
            matchExpressions: [{
              key: "kubernetes.io/hostname",
              operator: "In",
              values: [options.nodeName],
            }],
          }],
        },
      },
      csi: {
        driver: options.driver,
        volumeHandle: volume.id,
        ...(volume.attributes ? { volumeAttributes: volume.attributes } : {}),
      },
    },
  };
}
