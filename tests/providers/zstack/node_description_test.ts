import { assertEquals } from "../../_harness/assert.ts";
import { hostSchema, zoneOrClusterSchema } from "../../../providers/zstack/api_types.ts";
import {
  architectureOf,
  zstackNodeDescription,
} from "../../../providers/zstack/node_description.ts";

const resources = {
  capacity: { cpu: "32", memory: "1Ki", pods: "110" },
  allocatable: { cpu: "30", memory: "1Ki", pods: "110" },
};

Deno.test("host architectures become node architectures", () => {
  assertEquals(
    ["x86_64", "aarch64", undefined, "ppc64le"].map(architectureOf),
    ["amd64", "arm64", "amd64", "ppc64le"],
  );
});

Deno.test("the node names its placement in labels, the configured ones winning, and ZStack in nodeInfo", () => {
  const zone = zoneOrClusterSchema.parse({ uuid: "z".repeat(32), name: "zone-1" });
  const host = hostSchema.parse({ uuid: "h".repeat(32), name: "host-1", architecture: "aarch64" });
  const description = zstackNodeDescription({
    placement: { zone, host },
    resources,
    host,
    nodeTag: "vkedge.io/node:edge/node-1",
    bootId: "boot",
    endpoint: "http://mn:8080/zstack",
    operatingSystem: "linux",
    labels: { "zstack.vkedge.io/host-uuid": "mine", team: "edge" },
    providerID: "zstack://zone-1/node-1",
  });
  assertEquals(description.labels, {
    "zstack.vkedge.io/zone-uuid": "z".repeat(32),
    "zstack.vkedge.io/host-uuid": "mine",
    team: "edge",
  });
  assertEquals(description.providerID, "zstack://zone-1/node-1");
  assertEquals([description.capacity, description.allocatable], [
    resources.capacity,
    resources.allocatable,
  ]);
  assertEquals(description.nodeInfo, {
    machineID: "vkedgeionodeedgenode1",
    systemUUID: "",
    bootID: "boot",
    kernelVersion: "",
    osImage: "ZStack at http://mn:8080/zstack",
    containerRuntimeVersion: "zstack://1",
    kubeProxyVersion: "",
    operatingSystem: "linux",
    architecture: "arm64",
  });
});

Deno.test("without a placement (ZStack unreachable) there are no placement labels and amd64", () => {
  const description = zstackNodeDescription({
    placement: undefined,
    resources,
    host: undefined,
    nodeTag: "vkedge.io/node:edge/node-1",
    bootId: "boot",
    endpoint: "http://mn:8080/zstack",
    operatingSystem: "linux",
    labels: {},
  });
  assertEquals(description.labels, {});
  assertEquals(description.providerID, undefined);
  assertEquals(description.nodeInfo?.architecture, "amd64");
});
