/**
 * The upper node's description from the lower cluster, as pure functions: capacity and
 * allocatable are the lower nodes' allocatable (those that can take this agent's pods:
 * Ready, schedulable, every NoSchedule and NoExecute taint tolerated) minus what the other
 * pods running there request (this agent's own pods are the upper node's usage, not
 * less room), allocatable also minus the configured reserve; the pressure conditions
 * summarise the lower nodes'; the node is usable while at least one lower node is.
 *
 * @module
 */

import type {
  Container,
  Node,
  NodeCondition,
  Pod,
  Taint,
  Toleration,
} from "kubernetes-types/core/v1.d.ts";
import { quantityMilliValue } from "../../lib/provider_kit/mod.ts";

/** Resources in thousandths (millicores, millibytes, millipods), by name. */
export type Amounts = Map<string, number>;

function add(into: Amounts, name: string, milli: number): void {
  into.set(name, (into.get(name) ?? 0) + milli);
}

function amountsOf(resources: Record<string, string | number> | undefined): Amounts {
  const amounts: Amounts = new Map();
  for (const [name, value] of Object.entries(resources ?? {})) {
    add(amounts, name, quantityMilliValue(String(value)));
  }
  return amounts;
}

function isReady(node: Node): boolean {
  return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

function tolerates(tolerations: Toleration[], taint: Taint): boolean {
  return tolerations.some((toleration) => {
    if (toleration.effect !== undefined && toleration.effect !== taint.effect) return false;
    if (toleration.key === undefined || toleration.key === "") {
      return toleration.operator === "Exists";
    }
    if (toleration.key !== taint.key) return false;
    return toleration.operator === "Exists" || (toleration.value ?? "") === (taint.value ?? "");
  });
}

/** Why `node` cannot take this agent's pods, or undefined when it can. */
export function unusableReason(
  node: Node,
  tolerations: Toleration[],
  nodeSelector: Record<string, string> = {},
): string | undefined {
  if (!isReady(node)) return "not Ready";
  if (node.spec?.unschedulable) return "cordoned";
  const taint = (node.spec?.taints ?? []).find((t) =>
    (t.effect === "NoSchedule" || t.effect === "NoExecute") && !tolerates(tolerations, t)
  );
  if (taint !== undefined) return `taint ${taint.key}=${taint.value ?? ""}:${taint.effect}`;
  const labels = node.metadata?.labels ?? {};
  const missing = Object.entries(nodeSelector).find(([key, value]) => labels[key] !== value);
  if (missing !== undefined) return `no label ${missing[0]}=${missing[1]}`;
  return undefined;
}

/** What a pod requests on its node: the larger of its containers' sum and any init container, plus overhead and one pod. */
export function podRequests(pod: Pod): Amounts {
  const sum: Amounts = new Map();
  for (const container of pod.spec?.containers ?? []) {
    for (const [name, milli] of amountsOf(container.resources?.requests)) add(sum, name, milli);
  }
  for (const init of pod.spec?.initContainers ?? [] as Container[]) {
    for (const [name, milli] of amountsOf(init.resources?.requests)) {
      if (milli > (sum.get(name) ?? 0)) sum.set(name, milli);
    }
  }
  for (const [name, milli] of amountsOf(pod.spec?.overhead)) add(sum, name, milli);
  add(sum, "pods", 1000);
  return sum;
}

/** Formats thousandths of `name` as a quantity: cores or millicores, bytes, counts. */
export function formatAmount(name: string, milli: number): string {
  const value = Math.max(0, milli);
  if (value % 1000 !== 0) return `${Math.floor(value)}m`;
  const units = value / 1000;
  if (name !== "cpu" && units >= 1024 ** 2 && units % (1024 ** 2) === 0) {
    return `${units / 1024 ** 2}Mi`;
  }
  if (name !== "cpu" && units >= 1024 && units % 1024 === 0) return `${units / 1024}Ki`;
  return String(units);
}

function formatted(amounts: Amounts): Record<string, string> {
  return Object.fromEntries(
    [...amounts].sort(([a], [b]) => a.localeCompare(b)).map((
      [name, milli],
    ) => [name, formatAmount(name, milli)]),
  );
}

/** What the capacity is computed from. */
export interface CapacityInput {
  /** Every lower node. */
  nodes: Node[];
  /** The lower pods that are not this agent's and not finished. */
  otherPods: Pod[];
  /** The tolerations every lower pod of this agent gets. */
  tolerations: Toleration[];
  /** The node selector every lower pod of this agent gets. */
  nodeSelector: Record<string, string>;
  /** Held back from allocatable. */
  reserve: Record<string, string>;
}

/** Capacity and allocatable of the upper node. */
export interface Capacity {
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
  /** Names of the lower nodes counted. */
  usableNodes: string[];
}

/** The upper node's capacity and allocatable from the lower cluster. */
export function lowerCapacity(input: CapacityInput): Capacity {
  const usable = input.nodes.filter((node) =>
    unusableReason(node, input.tolerations, input.nodeSelector) === undefined
  );
  const names = new Set(usable.map((node) => node.metadata?.name ?? ""));
  const free: Amounts = new Map([["cpu", 0], ["memory", 0], ["pods", 0]]);
  for (const node of usable) {
    for (const [name, milli] of amountsOf(node.status?.allocatable)) add(free, name, milli);
  }
  for (const pod of input.otherPods) {
    if (!names.has(pod.spec?.nodeName ?? "")) continue;
    for (const [name, milli] of podRequests(pod)) {
      if (free.has(name)) add(free, name, -milli);
    }
  }
  for (const [name, milli] of free) free.set(name, Math.max(0, milli));
  const allocatable: Amounts = new Map(free);
  for (const [name, milli] of amountsOf(input.reserve)) {
    if (allocatable.has(name)) allocatable.set(name, Math.max(0, allocatable.get(name)! - milli));
  }
  return {
    capacity: formatted(free),
    allocatable: formatted(allocatable),
    usableNodes: [...names].sort(),
  };
}

const PRESSURE: Record<string, { reason: string; calm: string }> = {
  MemoryPressure: { reason: "LowerNodesHaveMemoryPressure", calm: "sufficient memory" },
  DiskPressure: { reason: "LowerNodesHaveDiskPressure", calm: "no disk pressure" },
  PIDPressure: { reason: "LowerNodesHavePIDPressure", calm: "sufficient PIDs" },
};

/**
 * The pressure conditions of the upper node: True when every usable lower node reports
 * it (nowhere left to go), False otherwise, naming the lower nodes that report it.
 */
export function pressureConditions(
  nodes: Node[],
  usableNodes: string[],
  clusterName: string,
): NodeCondition[] {
  const usable = nodes.filter((node) => usableNodes.includes(node.metadata?.name ?? ""));
  return Object.entries(PRESSURE).map(([type, words]) => {
    const under = usable.filter((node) =>
      node.status?.conditions?.some((c) => c.type === type && c.status === "True")
    ).map((node) => node.metadata?.name ?? "");
    const all = usable.length > 0 && under.length === usable.length;
    return {
      type,
      status: all ? "True" : "False",
      reason: all ? words.reason : `LowerNodesHave${capitalize(words.calm)}`,
      message: under.length === 0
        ? `the usable nodes of the lower cluster ${clusterName} have ${words.calm}`
        : `${under.length} of ${usable.length} usable nodes of the lower cluster ${clusterName} report ${type}: ${
          under.join(", ")
        }`,
    };
  });
}

function capitalize(words: string): string {
  return words.split(" ").map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join("");
}

/**
 * Why no lower node can take this agent's pods (for the Ready condition), or undefined
 * when at least one can.
 */
export function noUsableNode(
  nodes: Node[],
  tolerations: Toleration[],
  nodeSelector: Record<string, string>,
): string | undefined {
  if (nodes.length === 0) return "the lower cluster has no nodes";
  const reasons = nodes.map((node) =>
    [node.metadata?.name ?? "", unusableReason(node, tolerations, nodeSelector)] as const
  );
  if (reasons.some(([, reason]) => reason === undefined)) return undefined;
  return `no node of the lower cluster can take pods: ${
    reasons.map(([name, reason]) => `${name} ${reason}`).join(", ")
  }`;
}
