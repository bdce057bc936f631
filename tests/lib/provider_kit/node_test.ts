import { assertEquals } from "../../_harness/assert.ts";
import { baseNode } from "../../../lib/node/base_node.ts";
import { describeNode } from "../../../lib/provider_kit/mod.ts";

const base = baseNode({
  nodeName: "edge-1",
  providerName: "demo",
  operatingSystem: "linux",
  internalIp: "192.0.2.1",
  kubeletPort: 10250,
  kubeletVersion: "v1.36.3-vkedge-0.1.0",
});

Deno.test("node description: labels, providerID, capacity and nodeInfo merge in; the agent's fields stay", () => {
  const node = describeNode(base, {
    labels: { zone: "z1" },
    providerID: "demo://edge-1",
    capacity: { cpu: "8", memory: "16Gi", pods: "110" },
    nodeInfo: { osImage: "Demo cloud", containerRuntimeVersion: "demo://1" },
  });
  assertEquals(node.metadata?.labels?.zone, "z1");
  assertEquals(node.metadata?.labels?.type, "virtual-kubelet");
  assertEquals(
    node.metadata?.labels?.["node.kubernetes.io/exclude-from-external-load-balancers"],
    "true",
  );
  assertEquals(node.spec?.providerID, "demo://edge-1");
  assertEquals(node.spec?.taints, base.spec?.taints);
  assertEquals(node.status?.allocatable, node.status?.capacity);
  assertEquals(node.status?.addresses, base.status?.addresses);
  assertEquals(node.status?.nodeInfo?.osImage, "Demo cloud");
  assertEquals(node.status?.nodeInfo?.kubeletVersion, "v1.36.3-vkedge-0.1.0");
  assertEquals(node.status?.nodeInfo?.operatingSystem, "linux");
  assertEquals(base.metadata?.labels?.zone, undefined, "the input is not changed");
});

Deno.test("node description: a provider label overrides the default one; allocatable may differ", () => {
  const node = describeNode(base, {
    labels: { "node.kubernetes.io/exclude-from-external-load-balancers": "false" },
    capacity: { cpu: "8" },
    allocatable: { cpu: "6" },
  });
  assertEquals(
    node.metadata?.labels?.["node.kubernetes.io/exclude-from-external-load-balancers"],
    "false",
  );
  assertEquals([node.status?.capacity?.cpu, node.status?.allocatable?.cpu], ["8", "6"]);
});
