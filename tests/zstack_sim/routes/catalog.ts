/**
 * The APIs of what VMs are made from: images (AddImage, QueryImage), instance offerings
 * and disk offerings (create and query).
 *
 * @module
 */

import { invalidArgument } from "../errors.ts";
import { type DiskOffering, type Image, type InstanceOffering, newUuid } from "../inventory.ts";
import { addDiskOffering, addImage, addInstanceOffering } from "../state/catalog.ts";
import { defineApi, HOUR, inventory, queryRoutes, type Route } from "./api_spec.ts";
import { collection, DATES } from "./collection.ts";

const IMAGES = collection<Image>({
  path: "/images",
  voName: "ImageVO",
  inventoryClass: "org.zstack.header.image.ImageInventory",
  fields: [
    "uuid",
    "name",
    "description",
    "state",
    "status",
    "size",
    "actualSize",
    "md5Sum",
    "url",
    "mediaType",
    "guestOsType",
    "platform",
    "architecture",
    "format",
    "system",
    "virtio",
    "type",
    "backupStorageRefs",
    ...DATES,
  ],
  items: "images",
});

const INSTANCE_OFFERINGS = collection<InstanceOffering>({
  path: "/instance-offerings",
  voName: "InstanceOfferingVO",
  inventoryClass: "org.zstack.header.configuration.InstanceOfferingInventory",
  fields: [
    "uuid",
    "name",
    "description",
    "cpuNum",
    "cpuSpeed",
    "memorySize",
    "reservedMemorySize",
    "type",
    "allocatorStrategy",
    "sortKey",
    "state",
    ...DATES,
  ],
  items: "instanceOfferings",
});

const DISK_OFFERINGS = collection<DiskOffering>({
  path: "/disk-offerings",
  voName: "DiskOfferingVO",
  inventoryClass: "org.zstack.header.configuration.DiskOfferingInventory",
  fields: [
    "uuid",
    "name",
    "description",
    "diskSize",
    "sortKey",
    "state",
    "type",
    "allocatorStrategy",
    ...DATES,
  ],
  items: "diskOfferings",
});

const IMAGE_API = "org.zstack.header.image.APIAddImageMsg";
const INSTANCE_OFFERING_API = "org.zstack.header.configuration.APICreateInstanceOfferingMsg";
const DISK_OFFERING_API = "org.zstack.header.configuration.APICreateDiskOfferingMsg";

/** The routes of images and offerings. */
export const CATALOG_ROUTES: Route[] = [
  ...queryRoutes("QueryImage", IMAGES),
  {
    method: "POST",
    pattern: "/v1/images",
    api: defineApi("AddImage", ({ state, params }) => {
      const name = params.requiredString("name", IMAGE_API);
      const url = params.requiredString("url", IMAGE_API);
      const uuid = params.string("resourceUuid") ?? newUuid();
      if (state.uuidInUse(uuid)) throw invalidArgument(`resourceUuid[${uuid}] is already in use`);
      return inventory(addImage(state, {
        uuid,
        name,
        url,
        size: 2 ** 30,
        mediaType: params.string("mediaType") ?? "RootVolumeTemplate",
        format: params.string("format") ?? "qcow2",
        platform: params.string("platform") ?? "Linux",
        guestOsType: params.string("guestOsType"),
        architecture: params.string("architecture") ?? "x86_64",
      }));
    }, {
      timeoutMs: 72 * HOUR,
      fields: {
        name: "string",
        url: "string",
        mediaType: "string",
        format: "string",
        platform: "string",
        guestOsType: "string",
        architecture: "string",
        backupStorageUuids: "stringList",
        resourceUuid: "string",
      },
    }),
  },
  ...queryRoutes("QueryInstanceOffering", INSTANCE_OFFERINGS),
  {
    method: "POST",
    pattern: "/v1/instance-offerings",
    api: defineApi(
      "CreateInstanceOffering",
      ({ state, params }) =>
        inventory(addInstanceOffering(state, {
          uuid: params.string("resourceUuid") ?? newUuid(),
          name: params.requiredString("name", INSTANCE_OFFERING_API),
          cpuNum: params.requiredNumber("cpuNum", INSTANCE_OFFERING_API),
          memorySize: params.requiredNumber("memorySize", INSTANCE_OFFERING_API),
        })),
      {
        fields: { name: "string", cpuNum: "int", memorySize: "long", resourceUuid: "string" },
      },
    ),
  },
  ...queryRoutes("QueryDiskOffering", DISK_OFFERINGS),
  {
    method: "POST",
    pattern: "/v1/disk-offerings",
    api: defineApi("CreateDiskOffering", ({ state, params }) =>
      inventory(addDiskOffering(state, {
        uuid: params.string("resourceUuid") ?? newUuid(),
        name: params.requiredString("name", DISK_OFFERING_API),
        diskSize: params.requiredNumber("diskSize", DISK_OFFERING_API),
      })), { fields: { name: "string", diskSize: "long", resourceUuid: "string" } }),
  },
];
