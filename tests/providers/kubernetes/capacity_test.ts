// Node capacity, allocatable and conditions from the lower cluster, as pure functions.

import type { Node, Pod } from "kubernetes-types/core/v1.d.ts";
import {
  formatAmount,
  lowerCapacity,
  noUsableNode,
  podRequests,
  pressureConditions,
} from "../../../providers/kubernetes/capacity.ts";
import { assertEquals } from "../../_harness/assert.ts";

function node(name: string, extra: { ready?: boolean; taint?: string; pressure?: string[] } = {}) {
  return {
    metadata: { name, labels: { site: "a" } },
    spec: extra.taint ? { taints: [{ key: extra.taint, effect: "NoSchedule" }] } : {},
    status: {
      allocatable: { cpu: "4", memory: "8Gi", pods: "110" },
      conditions: [
        { type: "Ready", status: extra.ready === false ? "False" : "True" },
        ...(extra.pressure ?? []).map((type) => ({ type, status: "True" })),
      ],
    },
  } as Node;
}

function pod(nodeName: string, cpu: string, memory: string): Pod {
  return {
    spec: {
      nodeName,
      containers: [{ name: "a", resources: { requests: { cpu, memory } } }],
    },
  };
}

Deno.test("capacity: usable lower nodes' allocatable minus what others' pods request there", () => {
  const result = lowerCapacity({
    nodes: [
      node("n1"),
      node("n2"),
      node("down", { ready: false }),
      node("tainted", { taint: "gpu" }),
    ],
    otherPods: [pod("n1", "1500m", "1Gi"), pod("down", "4", "8Gi"), pod("n2", "500m", "512Mi")],
    tolerations: [],
    nodeSelector: {},
    reserve: { cpu: "1", memory: "1Gi" },
  });
  assertEquals(result.usableNodes, ["n1", "n2"]);
  assertEquals(result.capacity, { cpu: "6", memory: "14848Mi", pods: "218" });
  assertEquals(result.allocatable, { cpu: "5", memory: "13824Mi", pods: "218" });
});

Deno.test("capacity: tolerations and the node selector decide which lower nodes count", () => {
  const input = {
    nodes: [node("n1"), node("tainted", { taint: "gpu" })],
    otherPods: [],
    tolerations: [{ key: "gpu", operator: "Exists" as const }],
    nodeSelector: {},
    reserve: {},
  };
  assertEquals(lowerCapacity(input).usableNodes, ["n1", "tainted"]);
  assertEquals(lowerCapacity({ ...input, nodeSelector: { site: "b" } }).usableNodes, []);
  assertEquals(lowerCapacity({ ...input, nodeSelector: { site: "b" } }).capacity, {
    cpu: "0",
    memory: "0",
    pods: "0",
  });
});

Deno.test("capacity: a pod requests the larger of its containers' sum and an init container, plus overhead", () => {
  const requests = podRequests({
    spec: {
      initContainers: [{ name: "i", resources: { requests: { cpu: "2" } } }],
      containers: [
        { name: "a", resources: { requests: { cpu: "500m", memory: "1Gi" } } },
        { name: "b", resources: { requests: { cpu: "500m" } } },
      ],
      overhead: { cpu: "100m" },
    },
  });
  assertEquals(Object.fromEntries(requests), { cpu: 2100, memory: 1024 ** 3 * 1000, pods: 1000 });
  assertEquals(formatAmount("cpu", 2100), "2100m");
  assertEquals(formatAmount("memory", 3 * 1024 ** 2 * 1000), "3Mi");
  assertEquals(formatAmount("pods", 7000), "7");
});

Deno.test("capacity: pressure is True only when every usable lower node has it, naming them", () => {
  const nodes = [
    node("n1", { pressure: ["MemoryPressure"] }),
    node("n2", { pressure: ["MemoryPressure", "DiskPressure"] }),
  ];
  const conditions = pressureConditions(nodes, ["n1", "n2"], "site-a");
  const byType = Object.fromEntries(conditions.map((c) => [c.type, c]));
  assertEquals(byType.MemoryPressure.status, "True");
  assertEquals(byType.DiskPressure.status, "False");
  assertEquals(
    byType.DiskPressure.message,
    "1 of 2 usable nodes of the lower cluster site-a report DiskPressure: n2",
  );
  assertEquals(byType.PIDPressure.reason, "LowerNodesHaveSufficientPIDs");
});

Deno.test("capacity: the node is usable while one lower node is, else the reasons are named", () => {
  assertEquals(noUsableNode([node("n1"), node("n2", { ready: false })], [], {}), undefined);
  assertEquals(
    noUsableNode([node("n1", { ready: false }), node("n2", { taint: "x" })], [], {}),
    "no node of the lower cluster can take pods: n1 not Ready, n2 taint x=:NoSchedule",
  );
  assertEquals(noUsableNode([], [], {}), "the lower cluster has no nodes");
});
