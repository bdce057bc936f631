/**
 * The node description merge of `configureNode`: what a provider knows of its node
 * (labels, providerID, capacity, allocatable, nodeInfo, conditions) laid over the Node the
 * agent built, keeping what the agent owns: name, taints, addresses, daemon endpoint and
 * `nodeInfo.kubeletVersion`, so the Node reports one kubelet version whatever the backend.
 *
 * @module
 */

import type { Node, NodeCondition, NodeSystemInfo } from "kubernetes-types/core/v1.d.ts";

/** What a provider adds to the agent's Node. */
export interface NodeDescription {
  /**
   * Extra labels; they win over the kit's default labels. The agent puts its own base labels
   * (`type`, `kubernetes.io/*`) back after `configureNode`, so those cannot be changed here.
   */
  labels?: Record<string, string>;
  /** `spec.providerID`, such as `zstack://zone/uuid`. */
  providerID?: string;
  /** `status.capacity`. */
  capacity?: Record<string, string>;
  /** `status.allocatable` (default: the capacity). */
  allocatable?: Record<string, string>;
  /** `status.nodeInfo` fields the backend knows. */
  nodeInfo?: Partial<Omit<NodeSystemInfo, "kubeletVersion">>;
  /** Pressure conditions the backend reports (`Ready` is always the agent's). */
  conditions?: NodeCondition[];
}

/** Label every virtual node gets unless the provider says otherwise: not a load-balancer target. */
const defaultLabels = { "node.kubernetes.io/exclude-from-external-load-balancers": "true" };

/** Returns `node` with `description` merged in; `node` itself is not changed. */
export function describeNode(node: Node, description: NodeDescription): Node {
  const nodeInfo = node.status?.nodeInfo;
  const capacity = description.capacity ?? node.status?.capacity;
  return {
    ...node,
    metadata: {
      ...node.metadata,
      labels: { ...node.metadata?.labels, ...defaultLabels, ...description.labels },
    },
    spec: {
      ...node.spec,
      ...(description.providerID === undefined ? {} : { providerID: description.providerID }),
    },
    status: {
      ...node.status,
      ...(capacity === undefined ? {} : {
        capacity: { ...capacity },
        allocatable: { ...(description.allocatable ?? capacity) },
      }),
      ...(description.conditions === undefined ? {} : { conditions: description.conditions }),
      nodeInfo: {
        ...nodeInfo,
        ...description.nodeInfo,
        kubeletVersion: nodeInfo?.kubeletVersion ?? "",
      } as NodeSystemInfo,
    },
  };
}
