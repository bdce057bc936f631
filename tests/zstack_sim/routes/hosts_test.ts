import { assertEquals } from "../../_harness/assert.ts";
import { withSim } from "../_client.ts";

const GiB = 2 ** 30;

Deno.test("GetCpuMemoryCapacity sums by host, cluster or zone, and wants one of them or all", async () => {
  await withSim(async (client) => {
    const hosts = await client.query("/v1/hosts");
    const [cluster] = await client.query("/v1/clusters");
    const byHost = await client.get("/v1/hosts/capacities/cpu-memory", [[
      "hostUuids",
      hosts[0].uuid,
    ]]);
    assertEquals(byHost.body.resourceType, "HostVO");
    assertEquals([byHost.body.totalCpu, byHost.body.totalMemory], [16, 64 * GiB]);
    const byCluster = await client.get("/v1/hosts/capacities/cpu-memory", [[
      "clusterUuids",
      cluster.uuid,
    ]]);
    assertEquals([byCluster.body.resourceType, byCluster.body.totalCpu], ["ClusterVO", 32]);
    assertEquals(byCluster.body.capacityData, [{
      resourceUuid: cluster.uuid,
      totalCpu: 32,
      availableCpu: 32,
      totalMemory: 128 * GiB,
      availableMemory: 128 * GiB,
      managedCpuNum: 32,
    }]);
    const all = await client.get("/v1/hosts/capacities/cpu-memory", [["all", "true"]]);
    assertEquals([all.body.resourceType, all.body.managedCpuNum], ["ZoneVO", 32]);
    const none = await client.get("/v1/hosts/capacities/cpu-memory");
    assertEquals([none.status, none.body.error.code], [503, "SYS.1007"]);
  });
});

Deno.test("hosts join their zone, cluster and VMs in queries", async () => {
  await withSim(async (client) => {
    const vm = (await client.createVm("joined")).body.inventory;
    const [host] = await client.query("/v1/hosts", `vmInstance.uuid=${vm.uuid}`);
    assertEquals(host.uuid, vm.hostUuid);
    const inZone = await client.query("/v1/hosts", "zone.name=zone-1", "cluster.name=cluster-1");
    assertEquals(inZone.length, 2);
    assertEquals((await client.query("/v1/clusters", "zone.name=elsewhere")).length, 0);
  });
});
