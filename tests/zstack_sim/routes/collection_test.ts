import { assertEquals } from "../../_harness/assert.ts";
import { freshState, smallSeed, uuidNamed } from "../_state.ts";
import { Auth } from "../auth.ts";
import type { Cluster, Zone } from "../inventory.ts";
import { createTag } from "../state/tags.ts";
import {
  belongsTo,
  collection,
  collectionItems,
  DATES,
  hasMany,
  queryTarget,
} from "./collection.ts";

const CLUSTERS = collection<Cluster>({
  path: "/clusters",
  voName: "ClusterVO",
  inventoryClass: "org.zstack.header.cluster.ClusterInventory",
  fields: ["uuid", "name", "zoneUuid", ...DATES],
  items: "clusters",
  joins: { zone: belongsTo("zones", "zoneUuid"), host: hasMany("hosts", "clusterUuid") },
});

Deno.test("items come from the store named, or from the function given", async () => {
  const state = await freshState({ seed: smallSeed() });
  const auth = new Auth({ sessionTimeoutSeconds: 60 });
  assertEquals(collectionItems(CLUSTERS, { state, auth }), [...state.clusters.values()]);
  const named = collection<Zone>({
    ...CLUSTERS,
    fields: ["uuid"],
    items: (s) => [...s.zones.values()],
  });
  assertEquals(collectionItems(named, { state, auth }), [...state.zones.values()]);
});

Deno.test("belongsTo finds one item by a foreign key, hasMany the items pointing back; tags by uuid", async () => {
  const state = await freshState({
    seed: smallSeed({ hosts: [{ cpuNum: 1, memorySize: 1 }, { cpuNum: 1, memorySize: 1 }] }),
  });
  const cluster = state.clusters.get(uuidNamed(state.clusters, "c"))!;
  const target = queryTarget(CLUSTERS, state);
  assertEquals(target.joins?.zone(cluster), state.zones.get(cluster.zoneUuid));
  assertEquals(target.joins?.host(cluster), [...state.hosts.values()]);
  assertEquals(target.joins?.zone({ ...cluster, zoneUuid: "f".repeat(32) }), undefined);
  createTag(state, {
    type: "User",
    resourceType: "ClusterVO",
    resourceUuid: cluster.uuid,
    tag: "t",
  });
  assertEquals(target.tags?.(cluster), { user: ["t"], system: [] });
  assertEquals([target.voName, target.fields], ["ClusterVO", CLUSTERS.fields]);
});
