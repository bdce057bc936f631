import { computeResources } from "../../../providers/openstack/capacity.ts";
import { assertEquals } from "../../_harness/assert.ts";

const limits = {
  maxTotalInstances: 10,
  maxTotalCores: 20,
  maxTotalRAMSize: 51200,
  totalInstancesUsed: 4,
  totalCoresUsed: 8,
  totalRAMUsed: 8192,
};

Deno.test("capacity is the quota; allocatable what is free in it plus what this node's servers use", () => {
  const resources = computeResources({
    limits,
    hosts: undefined,
    own: { servers: 2, vcpus: 2, ramMiB: 1024 },
    maxPods: 110,
  });
  assertEquals(resources.capacity, { cpu: "20", memory: `${51200 * 1024}Ki`, pods: "10" });
  assertEquals(resources.allocatable, {
    cpu: "14",
    memory: `${(51200 - 8192 + 1024) * 1024}Ki`,
    pods: "8",
  });
});

Deno.test("Placement's totals bound an unlimited or larger quota", () => {
  const resources = computeResources({
    limits: { ...limits, maxTotalCores: -1, maxTotalInstances: -1 },
    hosts: { vcpus: 16, ramMiB: 32768, freeVcpus: 4, freeRamMiB: 16384 },
    own: { servers: 1, vcpus: 1, ramMiB: 512 },
    maxPods: 110,
  });
  assertEquals(resources.capacity, { cpu: "16", memory: `${32768 * 1024}Ki`, pods: "110" });
  assertEquals(resources.allocatable.cpu, "5");
  assertEquals(resources.allocatable.memory, `${(16384 + 512) * 1024}Ki`);
});
