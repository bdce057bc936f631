/**
 * The storage APIs: primary and backup storage as query collections, and
 * GetPrimaryStorageCapacity summed over the storage of the uuids, zones or clusters asked for.
 *
 * @module
 */

import type { BackupStorage, PrimaryStorage } from "../inventory.ts";
import { type ApiContext, defineApi, queryRoutes, type Route, SYNC } from "./api_spec.ts";
import { collection, DATES } from "./collection.ts";
import { listParam } from "./params.ts";

const PRIMARY_STORAGE = collection<PrimaryStorage>({
  path: "/primary-storage",
  voName: "PrimaryStorageVO",
  inventoryClass: "org.zstack.header.storage.primary.PrimaryStorageInventory",
  fields: [
    "uuid",
    "zoneUuid",
    "name",
    "url",
    "type",
    "state",
    "status",
    "mountPath",
    "totalCapacity",
    "availableCapacity",
    "totalPhysicalCapacity",
    "availablePhysicalCapacity",
    "systemUsedCapacity",
    "attachedClusterUuids",
    ...DATES,
  ],
  items: "primaryStorages",
});

const BACKUP_STORAGE = collection<BackupStorage>({
  path: "/backup-storage",
  voName: "BackupStorageVO",
  inventoryClass: "org.zstack.header.storage.backup.BackupStorageInventory",
  fields: [
    "uuid",
    "name",
    "url",
    "type",
    "state",
    "status",
    "totalCapacity",
    "availableCapacity",
    "attachedZoneUuids",
    ...DATES,
  ],
  items: "backupStorages",
});

/** GetPrimaryStorageCapacity. */
function primaryStorageCapacity({ state, query }: ApiContext): Record<string, unknown> {
  const wanted = listParam(query, "primaryStorageUuids");
  const zones = listParam(query, "zoneUuids");
  const clusters = listParam(query, "clusterUuids");
  const list = [...state.primaryStorages.values()].filter((ps) =>
    query.get("all") === "true" || wanted.includes(ps.uuid) || zones.includes(ps.zoneUuid) ||
    clusters.some((cluster) => ps.attachedClusterUuids.includes(cluster))
  );
  const sum = (pick: (ps: PrimaryStorage) => number) => list.reduce((t, ps) => t + pick(ps), 0);
  return {
    totalCapacity: sum((ps) => ps.totalCapacity),
    availableCapacity: sum((ps) => ps.availableCapacity),
    totalPhysicalCapacity: sum((ps) => ps.totalPhysicalCapacity),
    availablePhysicalCapacity: sum((ps) => ps.availablePhysicalCapacity),
    success: true,
  };
}

/** The routes of primary and backup storage. */
export const STORAGE_ROUTES: Route[] = [
  ...queryRoutes("QueryPrimaryStorage", PRIMARY_STORAGE),
  {
    method: "GET",
    pattern: "/v1/primary-storage/capacities",
    api: defineApi("GetPrimaryStorageCapacity", primaryStorageCapacity, SYNC),
  },
  ...queryRoutes("QueryBackupStorage", BACKUP_STORAGE),
];
