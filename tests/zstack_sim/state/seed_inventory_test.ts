import { assertEquals, assertThrows } from "../../_harness/assert.ts";
import { freshState, smallSeed } from "../_state.ts";
import { parseSeed } from "../seed.ts";
import { loadInventory } from "./seed_inventory.ts";
import { SimState } from "./store.ts";

Deno.test("the default seed: the first zone is the default, hosts start free, names become uuids", async () => {
  const state = await freshState();
  const [zone] = state.zones.values();
  assertEquals(zone.isDefault, true);
  const [cluster] = state.clusters.values();
  assertEquals(cluster.zoneUuid, zone.uuid);
  for (const host of state.hosts.values()) {
    assertEquals([host.clusterUuid, host.availableCpuCapacity], [
      cluster.uuid,
      host.totalCpuCapacity,
    ]);
  }
  const [ps] = state.primaryStorages.values();
  assertEquals(ps.attachedClusterUuids, [cluster.uuid]);
  const [l3] = state.l3Networks.values();
  assertEquals([l3.ipRanges[0].networkCidr, l3.ipRanges[0].name], [
    "192.168.100.0/24",
    "l3-default-range-1",
  ]);
  assertEquals(l3.networkServices.map((service) => service.networkServiceType), [
    "DHCP",
    "DNS",
    "Userdata",
    "SecurityGroup",
  ]);
  assertEquals([...state.images.values()].map((image) => image.name), ["ubuntu-22.04", "cirros"]);
});

Deno.test("a seed uuid is kept; a name that refers to nothing throws", () => {
  const seed = smallSeed();
  const uuid = "d".repeat(32);
  const state = new SimState(
    { vmBootMs: 0, transitionMs: 0, vmExpungeSeconds: 1 },
    new AbortController().signal,
  );
  loadInventory(state, parseSeed({ ...seed, zones: [{ name: "z", uuid }] }));
  assertEquals([...state.zones.keys()], [uuid]);
  const broken = new SimState(
    { vmBootMs: 0, transitionMs: 0, vmExpungeSeconds: 1 },
    new AbortController().signal,
  );
  assertThrows(
    () => loadInventory(broken, parseSeed({ ...seed, clusters: [{ name: "c", zone: "nowhere" }] })),
    Error,
    'seed: unknown zone "nowhere"',
  );
});
