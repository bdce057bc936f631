/**
 * The EndpointSlices of one Service that names VirtualMachines, as pure functions: which
 * VirtualMachines it names (annotation `vkedge.io/virtual-machines`, a comma-separated
 * list of names, or `vkedge.io/virtual-machine-selector`, a label selector over
 * VirtualMachines in the Service's namespace), and the slices this node writes for them,
 * one per address family, with the Service's ports resolved to the VM's port numbers.
 *
 * @module
 */

import type { Pod, Service } from "kubernetes-types/core/v1.d.ts";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.d.ts";
import { parseLabelSelector } from "../kube/label_selector.ts";
import type { VirtualMachine } from "../vm/types.ts";

/** Annotation listing VirtualMachine names. */
export const VM_NAMES_ANNOTATION = "vkedge.io/virtual-machines";
/** Annotation holding a label selector over VirtualMachines. */
export const VM_SELECTOR_ANNOTATION = "vkedge.io/virtual-machine-selector";
/**
 * `endpointslice.kubernetes.io/managed-by` of the agent's slices. A label value cannot hold
 * a `/`, so this is the domain-style name the Kubernetes documentation suggests.
 */
export const MANAGED_BY = "endpoints.vkedge.io";
/** Label naming the node whose agent wrote a slice (each agent writes only its VMs). */
export const NODE_LABEL = "vkedge.io/node";

/** Whether `service` asks for VirtualMachine endpoints (no selector, one of the annotations). */
export function namesVirtualMachines(service: Service): boolean {
  const annotations = service.metadata?.annotations ?? {};
  const selector = service.spec?.selector;
  return (selector === undefined || Object.keys(selector).length === 0) &&
    (VM_NAMES_ANNOTATION in annotations || VM_SELECTOR_ANNOTATION in annotations);
}

/** The predicate over VirtualMachines the Service names; throws for a bad selector. */
export function vmMatcher(service: Service): (vm: VirtualMachine) => boolean {
  const annotations = service.metadata?.annotations ?? {};
  const namespace = service.metadata?.namespace;
  const names = annotations[VM_NAMES_ANNOTATION];
  const byName = names === undefined
    ? undefined
    : new Set(names.split(",").map((name) => name.trim()).filter(Boolean));
  const selectorText = annotations[VM_SELECTOR_ANNOTATION];
  const bySelector = selectorText === undefined ? undefined : parseLabelSelector(selectorText);
  return (vm) =>
    vm.metadata?.namespace === namespace &&
    (byName?.has(vm.metadata?.name ?? "") ?? true) &&
    (bySelector?.(vm.metadata?.labels) ?? true);
}

/** A Service port that could not be given a number on the VM. */
export interface UnresolvedPort {
  name: string;
  reason: string;
}

/** The slice ports of `service`: target port numbers (a named target port cannot be resolved on a VM). */
export function slicePorts(service: Service): {
  ports: NonNullable<EndpointSlice["ports"]>;
  unresolved: UnresolvedPort[];
} {
  const ports: NonNullable<EndpointSlice["ports"]> = [];
  const unresolved: UnresolvedPort[] = [];
  for (const port of service.spec?.ports ?? []) {
    const target = port.targetPort ?? port.port;
    if (typeof target === "string" && !/^\d+$/.test(target)) {
      unresolved.push({
        name: port.name ?? String(port.port),
        reason:
          `targetPort "${target}" is a name, and a VM has no named ports: give the port number`,
      });
      continue;
    }
    ports.push({
      name: port.name ?? "",
      port: Number(target),
      protocol: port.protocol ?? "TCP",
      ...(port.appProtocol ? { appProtocol: port.appProtocol } : {}),
    });
  }
  return { ports, unresolved };
}

/** One VM's endpoint, or `undefined` while it has no address. */
export function vmEndpoint(
  vm: VirtualMachine,
  pod: Pod | undefined,
  nodeName: string,
): NonNullable<EndpointSlice["endpoints"]>[number] | undefined {
  const address = vm.status?.ip ?? pod?.status?.podIP;
  if (!address) return undefined;
  const terminating = vm.metadata?.deletionTimestamp !== undefined;
  const running = vm.status?.printableStatus === "Running" && vm.status.ready === true;
  return {
    addresses: [address],
    conditions: { ready: running && !terminating, serving: running, terminating },
    nodeName,
    targetRef: {
      apiVersion: vm.apiVersion ?? "vkedge.io/v1alpha1",
      kind: "VirtualMachine",
      namespace: vm.metadata?.namespace,
      name: vm.metadata?.name,
      uid: vm.metadata?.uid,
    },
  };
}

/** The address family of an IP, as EndpointSlices name it. */
export function familyOf(address: string): "IPv4" | "IPv6" {
  return address.includes(":") ? "IPv6" : "IPv4";
}

/** A short stable hash of `text` (8 hex digits), for slice names. */
function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

/** `nodeName` as a label value (at most 63 characters; longer names are shortened with a hash). */
export function nodeLabelValue(nodeName: string): string {
  return nodeName.length <= 63 ? nodeName : `${nodeName.slice(0, 54)}-${shortHash(nodeName)}`;
}

/** The name of this node's slice of `service` for `family`. */
export function sliceName(service: Service, nodeName: string, family: "IPv4" | "IPv6"): string {
  const base = service.metadata!.name!.slice(0, 200);
  return `${base}-vkedge-${shortHash(`${nodeName}/${family}`)}`;
}

/**
 * The slices this node writes for `service` and its matched VirtualMachines (with their
 * VM-Pods): one per address family that has an endpoint, none when no VM has an address.
 */
export function desiredSlices(
  service: Service,
  vms: { vm: VirtualMachine; pod?: Pod }[],
  ports: NonNullable<EndpointSlice["ports"]>,
  nodeName: string,
): EndpointSlice[] {
  const byFamily = new Map<"IPv4" | "IPv6", NonNullable<EndpointSlice["endpoints"]>>();
  const sorted = [...vms].sort((a, b) =>
    (a.vm.metadata?.name ?? "").localeCompare(b.vm.metadata?.name ?? "")
  );
  for (const { vm, pod } of sorted) {
    const endpoint = vmEndpoint(vm, pod, nodeName);
    if (!endpoint) continue;
    const family = familyOf(endpoint.addresses[0]);
    if (!byFamily.has(family)) byFamily.set(family, []);
    byFamily.get(family)!.push(endpoint);
  }
  return [...byFamily].map(([family, endpoints]) => ({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: sliceName(service, nodeName, family),
      namespace: service.metadata!.namespace,
      labels: {
        "kubernetes.io/service-name": service.metadata!.name!,
        "endpointslice.kubernetes.io/managed-by": MANAGED_BY,
        [NODE_LABEL]: nodeLabelValue(nodeName),
      },
      ownerReferences: [{
        apiVersion: "v1",
        kind: "Service",
        name: service.metadata!.name!,
        uid: service.metadata!.uid!,
        controller: true,
        blockOwnerDeletion: true,
      }],
    },
    addressType: family,
    endpoints,
    ports,
  }));
}
