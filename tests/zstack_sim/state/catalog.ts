/**
 * What VMs and volumes are made from: images (on every backup storage), instance
 * offerings and disk offerings, added by AddImage, CreateInstanceOffering and
 * CreateDiskOffering or by the seed.
 *
 * @module
 */

import type { DiskOffering, Image, InstanceOffering } from "../inventory.ts";
import type { SimState } from "./store.ts";

/** An image as AddImage or the seed gives it. */
export interface ImageSpec {
  uuid: string;
  name: string;
  url: string;
  size: number;
  mediaType: string;
  format: string;
  platform: string;
  guestOsType?: string;
  architecture: string;
  state?: string;
  status?: string;
  system?: boolean;
}

/** An instance offering as CreateInstanceOffering or the seed gives it. */
export interface InstanceOfferingSpec {
  uuid: string;
  name: string;
  cpuNum: number;
  memorySize: number;
}

/** A disk offering as CreateDiskOffering or the seed gives it. */
export interface DiskOfferingSpec {
  uuid: string;
  name: string;
  diskSize: number;
}

/** Adds an image (AddImage, or the seed), Ready on every backup storage. */
export function addImage(state: SimState, image: ImageSpec): Image {
  const now = new Date();
  const inventory: Image = {
    uuid: image.uuid,
    name: image.name,
    state: image.state ?? "Enabled",
    status: image.status ?? "Ready",
    size: image.size,
    actualSize: image.size,
    md5Sum: "not calculated",
    url: image.url,
    mediaType: image.mediaType,
    guestOsType: image.guestOsType,
    platform: image.platform,
    architecture: image.architecture,
    format: image.format,
    system: image.system ?? false,
    virtio: true,
    type: "zstack",
    backupStorageRefs: [...state.backupStorages.values()].map((bs) => ({
      imageUuid: image.uuid,
      backupStorageUuid: bs.uuid,
      installPath: `${bs.url}/${image.uuid}.${image.format}`,
      status: "Ready",
      createDate: now,
      lastOpDate: now,
    })),
    createDate: now,
    lastOpDate: now,
  };
  state.images.set(image.uuid, inventory);
  return inventory;
}

/** Adds an instance offering (CreateInstanceOffering, or the seed). */
export function addInstanceOffering(
  state: SimState,
  offering: InstanceOfferingSpec,
): InstanceOffering {
  const now = new Date();
  const inventory: InstanceOffering = {
    ...offering,
    cpuSpeed: 0,
    reservedMemorySize: 0,
    type: "UserVm",
    allocatorStrategy: "LeastVmPreferredHostAllocatorStrategy",
    sortKey: 0,
    state: "Enabled",
    createDate: now,
    lastOpDate: now,
  };
  state.instanceOfferings.set(offering.uuid, inventory);
  return inventory;
}

/** Adds a disk offering (CreateDiskOffering, or the seed). */
export function addDiskOffering(state: SimState, offering: DiskOfferingSpec): DiskOffering {
  const now = new Date();
  const inventory: DiskOffering = {
    ...offering,
    sortKey: 0,
    state: "Enabled",
    type: "zstack",
    allocatorStrategy: "DefaultPrimaryStorageAllocationStrategy",
    createDate: now,
    lastOpDate: now,
  };
  state.diskOfferings.set(offering.uuid, inventory);
  return inventory;
}
