/**
 * The Node object the agent registers before the provider describes it: name, the
 * labels every virtual kubelet node carries, the provider taint, addresses, the kubelet
 * endpoint and the kubelet version. The provider adds capacity, nodeInfo and its own
 * labels (`configureNode`); these fields stay the agent's.
 *
 * @module
 */

import type { Node, NodeStatus, Taint } from "kubernetes-types/core/v1.d.ts";

/** What the agent itself decides about its Node (the provider adds the rest). */
export interface NodeSpecOptions {
  nodeName: string;
  providerName: string;
  operatingSystem: string;
  /** InternalIP address; also where the API server reaches the kubelet API. */
  internalIp?: string;
  kubeletPort: number;
  kubeletVersion: string;
  /** The provider taint, or undefined when disabled. */
  taint?: Taint;
  /** More taints (`--register-with-taints`). */
  extraTaints?: Taint[];
  /** More labels (`--node-labels`); the agent's own labels win over them. */
  labels?: Record<string, string>;
  /** The pods capacity and allocatable (`--max-pods`), whatever the provider says. */
  maxPods?: number;
  /**
   * Features the node declares in `status.declaredFeatures` (Kubernetes 1.35+), such as
   * `ExtendWebSocketsToKubelet`; the API server routes requests by them.
   */
  declaredFeatures?: string[];
}

/** `NodeStatus` with `declaredFeatures`, which kubernetes-types 1.30 does not know yet. */
export type NodeStatusWithFeatures = NodeStatus & { declaredFeatures?: string[] };

/** `kubernetes.io/arch` of this host. */
export function nodeArch(): string {
  return Deno.build.arch === "aarch64" ? "arm64" : "amd64";
}

/** The Node object the agent registers, before the provider configures it. */
export function baseNode(options: NodeSpecOptions): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: options.nodeName,
      labels: {
        ...options.labels,
        "type": "virtual-kubelet",
        "kubernetes.io/role": "agent",
        "kubernetes.io/hostname": options.nodeName,
        "kubernetes.io/os": options.operatingSystem,
        "kubernetes.io/arch": nodeArch(),
        "beta.kubernetes.io/os": options.operatingSystem,
        "beta.kubernetes.io/arch": nodeArch(),
      },
    },
    spec: { taints: [...(options.taint ? [options.taint] : []), ...(options.extraTaints ?? [])] },
    status: {
      ...(options.declaredFeatures?.length ? { declaredFeatures: options.declaredFeatures } : {}),
      phase: "Running",
      addresses: [
        ...(options.internalIp ? [{ type: "InternalIP", address: options.internalIp }] : []),
        { type: "Hostname", address: options.nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: options.kubeletPort } },
      nodeInfo: {
        architecture: nodeArch(),
        operatingSystem: options.operatingSystem,
        kubeletVersion: options.kubeletVersion,
        kubeProxyVersion: "",
        containerRuntimeVersion: `vkedge://${options.providerName}`,
        bootID: "",
        kernelVersion: "",
        machineID: "",
        osImage: "",
        systemUUID: "",
      },
    },
  };
}

/**
 * `node` as the provider described it, with what the agent owns put back whatever the
 * provider did: name, base labels, taints, addresses and the kubelet endpoint and version.
 */
export function withAgentFields(node: Node, options: NodeSpecOptions): Node {
  const base = baseNode(options);
  return {
    ...node,
    metadata: {
      ...node.metadata,
      name: options.nodeName,
      labels: { ...node.metadata?.labels, ...base.metadata!.labels },
    },
    spec: { ...node.spec, taints: base.spec!.taints },
    status: {
      ...withMaxPods(node.status ?? {}, options.maxPods),
      addresses: base.status!.addresses,
      daemonEndpoints: base.status!.daemonEndpoints,
      ...(options.declaredFeatures?.length ? { declaredFeatures: options.declaredFeatures } : {}),
      nodeInfo: {
        ...base.status!.nodeInfo!,
        ...node.status?.nodeInfo,
        kubeletVersion: options.kubeletVersion,
      },
    },
  };
}

/** `status` with its pods capacity and allocatable set to `maxPods`, when given. */
export function withMaxPods(status: NodeStatus, maxPods: number | undefined): NodeStatus {
  if (maxPods === undefined) return status;
  const pods = String(maxPods);
  return {
    ...status,
    capacity: { ...status.capacity, pods },
    allocatable: { ...status.allocatable, pods },
  };
}
