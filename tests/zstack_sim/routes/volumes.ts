/**
 * The volume and snapshot APIs: CreateDataVolume, attach, detach, resize, delete, the
 * actions of `PUT /v1/volumes/{uuid}/actions` (expunge, recover, update, change state), snapshots
 * (create, revert, update, delete), and both query collections.
 *
 * @module
 */

import type { Volume, VolumeSnapshot } from "../inventory.ts";
import type { NameChanges } from "../state/rename.ts";
import {
  createSnapshot,
  deleteSnapshot,
  revertSnapshot,
  updateSnapshot,
} from "../state/snapshots.ts";
import type { SimState } from "../state/store.ts";
import {
  attachVolume,
  changeVolumeState,
  createDataVolume,
  deleteVolume,
  detachVolume,
  expungeVolume,
  recoverVolume,
  resizeDataVolume,
  updateVolume,
} from "../state/volumes.ts";
import {
  type ApiSpec,
  defineApi,
  HOUR,
  inventory,
  queryRoutes,
  type Route,
  uuidAction,
  uuidCommand,
} from "./api_spec.ts";
import { belongsTo, collection, DATES, hasMany } from "./collection.ts";

const VOLUMES = collection<Volume>({
  path: "/volumes",
  voName: "VolumeVO",
  inventoryClass: "org.zstack.header.volume.VolumeInventory",
  fields: [
    "uuid",
    "name",
    "description",
    "primaryStorageUuid",
    "vmInstanceUuid",
    "diskOfferingUuid",
    "rootImageUuid",
    "installPath",
    "type",
    "format",
    "size",
    "actualSize",
    "deviceId",
    "state",
    "status",
    "isShareable",
    "lastVmInstanceUuid",
    "lastAttachDate",
    "lastDetachDate",
    ...DATES,
  ],
  items: "volumes",
  joins: {
    vmInstance: belongsTo("vms", "vmInstanceUuid"),
    primaryStorage: belongsTo("primaryStorages", "primaryStorageUuid"),
    diskOffering: belongsTo("diskOfferings", "diskOfferingUuid"),
    snapshot: hasMany("snapshots", "volumeUuid"),
  },
});

const SNAPSHOTS = collection<VolumeSnapshot>({
  path: "/volume-snapshots",
  voName: "VolumeSnapshotVO",
  inventoryClass: "org.zstack.header.storage.snapshot.VolumeSnapshotInventory",
  fields: [
    "uuid",
    "name",
    "description",
    "type",
    "volumeUuid",
    "treeUuid",
    "parentUuid",
    "primaryStorageUuid",
    "primaryStorageInstallPath",
    "volumeType",
    "format",
    "latest",
    "size",
    "distance",
    "state",
    "status",
    "backupStorageRefs",
    ...DATES,
  ],
  items: "snapshots",
  joins: { volume: belongsTo("volumes", "volumeUuid") },
});

const NAME_AND_DESCRIPTION = { name: "string", description: "string" } as const;

/** An update of a resource's name and description. */
function renameApi(
  name: string,
  update: (state: SimState, uuid: string, changes: NameChanges) => unknown,
): ApiSpec {
  return defineApi(name, ({ state, path, params }) =>
    inventory(update(state, path.uuid, {
      name: params.string("name"),
      description: params.string("description"),
    })), { fields: NAME_AND_DESCRIPTION });
}

const VOLUME_ACTIONS: Record<string, ApiSpec> = {
  expungeDataVolume: uuidCommand("ExpungeDataVolume", expungeVolume),
  recoverDataVolume: uuidAction("RecoverDataVolume", recoverVolume),
  updateVolume: renameApi("UpdateVolume", updateVolume),
  changeVolumeState: defineApi(
    "ChangeVolumeState",
    ({ state, path, params }) =>
      inventory(changeVolumeState(state, path.uuid, { stateEvent: params.string("stateEvent") })),
    { fields: { stateEvent: "string" } },
  ),
};

const SNAPSHOT_ACTIONS: Record<string, ApiSpec> = {
  revertVolumeFromSnapshot: uuidCommand("RevertVolumeFromSnapshot", revertSnapshot, {
    timeoutMs: 24 * HOUR,
  }),
  updateVolumeSnapshot: renameApi("UpdateVolumeSnapshot", updateSnapshot),
};

/** The routes of volumes and snapshots. */
export const VOLUME_ROUTES: Route[] = [
  {
    method: "POST",
    pattern: "/v1/volumes/data",
    api: defineApi(
      "CreateDataVolume",
      async ({ state, params, systemTags, userTags }) =>
        inventory(
          await createDataVolume(state, {
            name: params.string("name"),
            description: params.string("description"),
            diskOfferingUuid: params.string("diskOfferingUuid"),
            diskSize: params.number("diskSize"),
            primaryStorageUuid: params.string("primaryStorageUuid"),
            resourceUuid: params.string("resourceUuid"),
            systemTags,
            userTags,
          }),
        ),
      {
        fields: {
          ...NAME_AND_DESCRIPTION,
          diskOfferingUuid: "string",
          diskSize: "long",
          primaryStorageUuid: "string",
          resourceUuid: "string",
        },
      },
    ),
  },
  ...queryRoutes("QueryVolume", VOLUMES),
  {
    method: "POST",
    pattern: "/v1/volumes/{volumeUuid}/vm-instances/{vmInstanceUuid}",
    api: defineApi("AttachDataVolumeToVm", async ({ state, path }) =>
      inventory(
        await attachVolume(state, { volumeUuid: path.volumeUuid, vmUuid: path.vmInstanceUuid }),
      )),
  },
  {
    method: "DELETE",
    pattern: "/v1/volumes/{uuid}/vm-instances",
    api: defineApi("DetachDataVolumeFromVm", async ({ state, path, query }) =>
      inventory(
        await detachVolume(state, path.uuid, { vmUuid: query.get("vmUuid") ?? undefined }),
      )),
  },
  {
    method: "DELETE",
    pattern: "/v1/volumes/{uuid}",
    api: uuidCommand("DeleteDataVolume", deleteVolume),
  },
  { method: "PUT", pattern: "/v1/volumes/{uuid}/actions", actions: VOLUME_ACTIONS },
  {
    method: "PUT",
    pattern: "/v1/volumes/data/resize/{uuid}/actions",
    actions: {
      resizeDataVolume: defineApi(
        "ResizeDataVolume",
        async ({ state, path, params }) =>
          inventory(await resizeDataVolume(state, path.uuid, { size: params.number("size") })),
        { fields: { size: "long" } },
      ),
    },
  },
  {
    method: "POST",
    pattern: "/v1/volumes/{volumeUuid}/volume-snapshots",
    api: defineApi("CreateVolumeSnapshot", async ({ state, path, params }) =>
      inventory(
        await createSnapshot(state, path.volumeUuid, {
          name: params.string("name"),
          description: params.string("description"),
          resourceUuid: params.string("resourceUuid"),
        }),
      ), { fields: { ...NAME_AND_DESCRIPTION, resourceUuid: "string" }, timeoutMs: 3 * HOUR }),
  },
  ...queryRoutes("QueryVolumeSnapshot", SNAPSHOTS),
  { method: "PUT", pattern: "/v1/volume-snapshots/{uuid}/actions", actions: SNAPSHOT_ACTIONS },
  {
    method: "DELETE",
    pattern: "/v1/volume-snapshots/{uuid}",
    api: uuidCommand("DeleteVolumeSnapshot", deleteSnapshot, { timeoutMs: 6 * HOUR }),
  },
];
