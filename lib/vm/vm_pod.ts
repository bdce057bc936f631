/**
 * The VM-Pod of a VirtualMachine: the pod, bound to this node, through which the pod path
 * of the agent makes the VM (and which the provider reports the VM's status on). It is
 * owned by the VirtualMachine, carries the VirtualMachine's UID so that a re-created
 * VM-Pod finds the same VM, and tolerates the node's unreachable and not-ready taints for
 * ever: an eviction must never be what ends a VM.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import {
  VM_POD_ANNOTATIONS,
  WORKLOAD_NAME_ANNOTATION,
  WORKLOAD_UID_ANNOTATION,
} from "../provider_kit/mod.ts";
import { type VirtualMachine, type VirtualMachineSpec, VM_API_VERSION } from "./types.ts";

/** Label every VM-Pod carries, naming its VirtualMachine. */
export const VM_POD_LABEL = "vkedge.io/virtual-machine";

/** The one container of a VM-Pod. */
export const VM_CONTAINER = "vm";

/** What the VM-Pod depends on besides the VirtualMachine. */
export interface VmPodOptions {
  /** This node. */
  nodeName: string;
  /** The node's taint (key), tolerated so the VM-Pod can land on it. */
  taintKey?: string;
}

/** The VM-Pod for `vm` (whose spec is `spec`), bound to `options.nodeName`. */
export function vmPodFor(vm: VirtualMachine, spec: VirtualMachineSpec, options: VmPodOptions): Pod {
  const name = vm.metadata!.name!;
  const uid = vm.metadata!.uid!;
  const annotations: Record<string, string> = {
    [WORKLOAD_UID_ANNOTATION]: uid,
    [WORKLOAD_NAME_ANNOTATION]: name,
  };
  if (spec.networks?.length) annotations[VM_POD_ANNOTATIONS.networks] = spec.networks.join(",");
  if (spec.userData) annotations[VM_POD_ANNOTATIONS.userData] = spec.userData;
  if (spec.placement?.zone) annotations[VM_POD_ANNOTATIONS.zone] = spec.placement.zone;
  if (spec.placement?.cluster) annotations[VM_POD_ANNOTATIONS.cluster] = spec.placement.cluster;
  if (spec.placement?.host) annotations[VM_POD_ANNOTATIONS.host] = spec.placement.host;
  if (spec.disks?.length) {
    annotations[VM_POD_ANNOTATIONS.disks] = spec.disks
      .map((disk) => `${disk.name}=${disk.claimName}`).join(",");
  }
  const resources = { cpu: String(spec.cpu), memory: spec.memory };
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: vm.metadata!.namespace,
      labels: { [VM_POD_LABEL]: name },
      annotations,
      ownerReferences: [{
        apiVersion: VM_API_VERSION,
        kind: "VirtualMachine",
        name,
        uid,
        controller: true,
        blockOwnerDeletion: true,
      }],
    },
    spec: {
      nodeName: options.nodeName,
      restartPolicy: "Always",
      terminationGracePeriodSeconds: spec.stopGracePeriodSeconds,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      containers: [{
        name: VM_CONTAINER,
        image: spec.image,
        resources: { requests: resources, limits: resources },
      }],
      // The claims as pod volumes: the PVCs show "Used By" this pod and are protected while
      // it exists; the agent attaches their volumes to the VM (the provider mounts nothing).
      ...(spec.disks?.length
        ? {
          volumes: spec.disks.map((disk) => ({
            name: disk.name,
            persistentVolumeClaim: { claimName: disk.claimName },
          })),
        }
        : {}),
      tolerations: [
        ...(options.taintKey ? [{ key: options.taintKey, operator: "Exists" }] : []),
        // No tolerationSeconds: an unreachable or not-ready node never evicts a VM.
        { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
        { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
      ],
    },
  };
}

/** Whether `pod` is the VM-Pod of `vm` (owned by it, by UID). */
export function isVmPodOf(pod: Pod, vm: VirtualMachine): boolean {
  return pod.metadata?.ownerReferences?.some((owner) =>
    owner.kind === "VirtualMachine" && owner.uid === vm.metadata?.uid
  ) ?? false;
}

/**
 * The fields of `spec` the existing VM-Pod (and so the VM) does not have: they are fixed
 * when the VM is made. Empty when the VM matches its spec.
 */
export function unappliedFields(pod: Pod, spec: VirtualMachineSpec): string[] {
  const container = pod.spec?.containers?.find((c) => c.name === VM_CONTAINER) ??
    pod.spec?.containers?.[0];
  const limits = container?.resources?.limits ?? {};
  const annotations = pod.metadata?.annotations ?? {};
  const differs: string[] = [];
  if (container?.image !== spec.image) differs.push(`image (VM has ${container?.image})`);
  if (String(limits.cpu) !== String(spec.cpu)) differs.push(`cpu (VM has ${limits.cpu})`);
  if (String(limits.memory) !== spec.memory) differs.push(`memory (VM has ${limits.memory})`);
  const networks = spec.networks?.join(",") ?? "";
  if ((annotations[VM_POD_ANNOTATIONS.networks] ?? "") !== networks) differs.push("networks");
  return differs;
}
