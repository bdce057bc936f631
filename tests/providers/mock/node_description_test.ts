import assert from "node:assert/strict";
import { describeNode } from "../../../lib/provider_kit/mod.ts";
import { baseNode, nodeArch } from "../../../lib/node/base_node.ts";
import { parseMockConfig } from "../../../providers/mock/config.ts";
import { mockNodeDescription } from "../../../providers/mock/node_description.ts";

const options = { nodeName: "edge-1", operatingSystem: "linux", bootId: "boot-1" };

Deno.test("the node description carries capacity, labels, providerID and a stable machine id", () => {
  const config = parseMockConfig({
    capacity: { cpu: "8" },
    labels: { zone: "edge" },
    providerID: "mock://edge-1",
  });
  const description = mockNodeDescription(config, options);
  assert.equal(description.capacity?.cpu, "8");
  assert.equal(description.capacity?.memory, "100Gi");
  assert.deepEqual(description.labels, { zone: "edge" });
  assert.equal(description.providerID, "mock://edge-1");
  const info = description.nodeInfo;
  assert.match(info?.machineID ?? "", /^[0-9a-f]{32}$/);
  assert.match(
    info?.systemUUID ?? "",
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  assert.equal(info?.bootID, "boot-1");
  assert.equal(info?.containerRuntimeVersion, "mock://1.0.0");
  assert.equal(info?.kernelVersion, "vkedge-mock");
  assert.equal(info?.osImage, "vkedge mock provider");
  assert.equal(info?.operatingSystem, "linux");
  const again = mockNodeDescription(parseMockConfig({}), { ...options, bootId: "boot-2" });
  assert.equal(again.nodeInfo?.machineID, info?.machineID, "same node name, same machine");
  assert.equal(again.providerID, undefined);
  const other = mockNodeDescription(parseMockConfig({}), { ...options, nodeName: "edge-2" });
  assert.notEqual(other.nodeInfo?.machineID, info?.machineID);
});

Deno.test("merged into the agent's node it keeps the agent's kubelet version, addresses and architecture unless configured", () => {
  const base = baseNode({
    nodeName: "edge-1",
    providerName: "mock",
    operatingSystem: "linux",
    internalIp: "192.0.2.10",
    kubeletPort: 10250,
    kubeletVersion: "v1.36.3-vkedge",
  });
  const plain = describeNode(base, mockNodeDescription(parseMockConfig({}), options));
  assert.equal(plain.status?.nodeInfo?.kubeletVersion, "v1.36.3-vkedge");
  assert.equal(plain.status?.nodeInfo?.architecture, nodeArch());
  assert.equal(plain.status?.nodeInfo?.containerRuntimeVersion, "mock://1.0.0");
  assert.deepEqual(plain.status?.addresses, base.status?.addresses);
  assert.deepEqual(plain.status?.daemonEndpoints, { kubeletEndpoint: { Port: 10250 } });
  assert.deepEqual(plain.status?.allocatable, plain.status?.capacity);
  const configured = describeNode(
    base,
    mockNodeDescription(
      parseMockConfig({ nodeInfo: { architecture: "riscv64", osImage: "Edge OS" } }),
      options,
    ),
  );
  assert.equal(configured.status?.nodeInfo?.architecture, "riscv64");
  assert.equal(configured.status?.nodeInfo?.osImage, "Edge OS");
});
