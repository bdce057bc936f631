/**
 * The identity of a workload that outlives its pod object. A VirtualMachine's VM-Pod can be
 * deleted by the control plane (eviction, a force delete) while the VirtualMachine still
 * wants its VM; the VirtualMachine controller then creates a new VM-Pod with a new UID
 * that must find the same VM. Such pods carry {@linkcode WORKLOAD_UID_ANNOTATION} (the
 * VirtualMachine's UID), and providers derive the backend resource's identity (uuid,
 * ownership tags) from {@linkcode workloadUid}, never from the pod UID alone.
 *
 * The rules for providers:
 * - `createPod` of a pod whose workload UID matches a backend resource that exists adopts
 *   it (no second VM), whatever the pod UID;
 * - `updatePod` of such a pod rebinds the provider's pod to the new pod object (its UID
 *   and metadata) even when nothing provider-relevant changed;
 * - pods returned by `getPod`/`getPods` carry the annotation (or, rebuilt from backend
 *   tags alone, have `metadata.uid` equal to the workload UID), so `workloadUid` of the
 *   provider's pod equals that of the API pod it serves.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";

/** Annotation naming the UID of the VirtualMachine a VM-Pod serves. */
export const WORKLOAD_UID_ANNOTATION = "vkedge.io/virtual-machine-uid";

/** Annotation naming the VirtualMachine a VM-Pod serves (same namespace). */
export const WORKLOAD_NAME_ANNOTATION = "vkedge.io/virtual-machine";

/** The UID the backend resource of `pod` is keyed by: the workload's, else the pod's. */
export function workloadUid(pod: Pod): string | undefined {
  return pod.metadata?.annotations?.[WORKLOAD_UID_ANNOTATION] ?? pod.metadata?.uid;
}

/** Whether `a` and `b` stand for the same backend resource (same workload UID). */
export function sameWorkload(a: Pod, b: Pod): boolean {
  const uidA = workloadUid(a);
  const uidB = workloadUid(b);
  return uidA === undefined || uidB === undefined || uidA === uidB;
}

/** The reasons of a `DisruptionTarget` condition that mean the control plane evicted the pod. */
const EVICTION_REASONS = new Set(["DeletionByTaintManager", "DeletionByPodGC"]);

/**
 * Why the control plane evicted `pod` (the taint manager after its node was unreachable or
 * not ready, or the pod garbage collector), from its `DisruptionTarget` condition, or
 * `undefined` when nobody evicted it (a user's delete, a Deployment scaling down).
 */
export function evictionOf(pod: Pod): { reason: string; message: string } | undefined {
  const condition = pod.status?.conditions?.find((c) =>
    c.type === "DisruptionTarget" && c.status === "True"
  );
  if (!condition?.reason || !EVICTION_REASONS.has(condition.reason)) return undefined;
  return { reason: condition.reason, message: condition.message ?? condition.reason };
}

/**
 * Annotations a VM-Pod carries for what a pod spec cannot say; every provider that makes
 * VMs reads them (in addition to any provider-specific annotations of its own).
 */
export const VM_POD_ANNOTATIONS = {
  /** Comma-separated networks, as the provider names them; the first gives the IP. */
  networks: "vkedge.io/networks",
  /** cloud-init user data. */
  userData: "vkedge.io/user-data",
  /** Placement hints, each as the provider names them. */
  zone: "vkedge.io/placement-zone",
  cluster: "vkedge.io/placement-cluster",
  host: "vkedge.io/placement-host",
  /** Comma-separated `disk=claim` pairs: PersistentVolumeClaims to attach as data disks. */
  disks: "vkedge.io/disks",
} as const;
