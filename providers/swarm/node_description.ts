/**
 * What the swarm provider says about its Node: capacity from the Swarm nodes that are
 * ready and active (CPU and memory added up), allocatable that minus what other
 * workloads' running tasks reserve (this node's own pods are counted by the Kubernetes
 * scheduler itself), a `SwarmNodesReady` condition naming the nodes that are down,
 * drained or paused, and nodeInfo from the Engine.
 *
 * @module
 */

import type { NodeCondition } from "kubernetes-types/core/v1.d.ts";
import type { NodeDescription } from "../../lib/provider_kit/mod.ts";
import type { SwarmNode, Task } from "./api_types.ts";

/** What the description is made from. */
export interface SwarmNodeFacts {
  /** Every Swarm node. */
  nodes: SwarmNode[];
  /** Running tasks that are not this agent's, for their reservations. */
  otherTasks: Task[];
  /** `pods` of the capacity. */
  maxPods: number;
  /** When the condition last changed (RFC 3339), kept stable while it says the same. */
  conditionSince: string;
  /** The Engine endpoint, shown as OS image. */
  endpoint: string;
  /** Engine version of the manager. */
  engineVersion: string;
  /** `nodeInfo.operatingSystem`. */
  operatingSystem: string;
  /** A machine ID stable for the owner. */
  machineId: string;
  /** Random per process. */
  bootId: string;
  /** Extra labels of the configuration. */
  labels: Record<string, string>;
}

/** Whether the Swarm places tasks on `node`. */
export function nodeUsable(node: SwarmNode): boolean {
  return node.Status.State === "ready" && node.Spec.Availability === "active";
}

function architectureOf(arch: string | undefined): string {
  switch (arch) {
    case "x86_64":
    case undefined:
      return "amd64";
    case "aarch64":
      return "arm64";
    default:
      return arch;
  }
}

function nodeName(node: SwarmNode): string {
  return node.Description?.Hostname ?? node.ID.slice(0, 12);
}

/** The `SwarmNodesReady` condition: True when every node is ready and active. */
export function swarmNodesCondition(nodes: SwarmNode[], since: string): NodeCondition {
  const unusable = nodes.filter((node) => !nodeUsable(node));
  const usable = nodes.length - unusable.length;
  const detail = unusable.map((node) =>
    `${nodeName(node)} is ${node.Status.State}${
      node.Spec.Availability === "active" ? "" : ` and ${node.Spec.Availability}`
    }${node.Status.Message ? ` (${node.Status.Message})` : ""}`
  ).join("; ");
  return {
    type: "SwarmNodesReady",
    status: unusable.length === 0 && nodes.length > 0 ? "True" : "False",
    reason: unusable.length === 0 && nodes.length > 0
      ? "AllSwarmNodesReady"
      : usable === 0
      ? "NoSwarmNodeReady"
      : "SomeSwarmNodesNotReady",
    message: nodes.length === 0
      ? "the Swarm lists no nodes"
      : `${usable} of ${nodes.length} Swarm nodes ready and active${detail ? `: ${detail}` : ""}`,
    lastHeartbeatTime: since,
    lastTransitionTime: since,
  };
}

/** CPU as a Kubernetes quantity in millicores. */
function cpuQuantity(nanoCpus: number): string {
  const milli = Math.max(0, Math.floor(nanoCpus / 1_000_000));
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Memory as a Kubernetes quantity in KiB. */
function memoryQuantity(bytes: number): string {
  return `${Math.max(0, Math.floor(bytes / 1024))}Ki`;
}

/** The description of this node. */
export function swarmNodeDescription(facts: SwarmNodeFacts): NodeDescription {
  const usable = facts.nodes.filter(nodeUsable);
  const usableIds = new Set(usable.map((node) => node.ID));
  let nanoCpus = 0;
  let memory = 0;
  for (const node of usable) {
    nanoCpus += node.Description?.Resources?.NanoCPUs ?? 0;
    memory += node.Description?.Resources?.MemoryBytes ?? 0;
  }
  let reservedCpus = 0;
  let reservedMemory = 0;
  for (const task of facts.otherTasks) {
    if (!usableIds.has(task.NodeID ?? "")) continue;
    const reservations = task.Spec?.Resources?.Reservations;
    reservedCpus += reservations?.NanoCPUs ?? 0;
    reservedMemory += reservations?.MemoryBytes ?? 0;
  }
  const pods = String(facts.maxPods);
  const manager = facts.nodes.find((node) => node.Spec.Role === "manager") ?? facts.nodes[0];
  return {
    labels: { "swarm.vkedge.io/nodes": String(facts.nodes.length), ...facts.labels },
    capacity: { cpu: cpuQuantity(nanoCpus), memory: memoryQuantity(memory), pods },
    allocatable: {
      cpu: cpuQuantity(nanoCpus - reservedCpus),
      memory: memoryQuantity(memory - reservedMemory),
      pods,
    },
    conditions: [swarmNodesCondition(facts.nodes, facts.conditionSince)],
    nodeInfo: {
      machineID: facts.machineId,
      systemUUID: "",
      bootID: facts.bootId,
      kernelVersion: "",
      osImage: `Docker Swarm at ${facts.endpoint}`,
      containerRuntimeVersion: `docker://${facts.engineVersion}`,
      kubeProxyVersion: "",
      operatingSystem: facts.operatingSystem,
      architecture: architectureOf(manager?.Description?.Platform?.Architecture),
    },
  };
}
