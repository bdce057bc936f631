/**
 * CreateVmInstance's parameters checked as ZStack's API interceptors check them (in
 * their order, so the first failure is the one ZStack reports) and resolved into a plan:
 * the image, CPUs and memory (from the offering or given), the L3 networks, and the zone,
 * cluster or host the VM is placed in.
 *
 * @module
 */

import { invalidArgument, missingField, resourceNotFound } from "../errors.ts";
import type { Image, L3Network } from "../inventory.ts";
import type { Demand, Placement } from "./hosts.ts";
import type { SimState } from "./store.ts";
import { checkSystemTag } from "./tags.ts";

/** What CreateVmInstance needs once its parameters are type-checked. */
export interface CreateVmRequest {
  name?: string;
  description?: string;
  instanceOfferingUuid?: string;
  cpuNum?: number;
  memorySize?: number;
  reservedMemorySize?: number;
  imageUuid?: string;
  l3NetworkUuids?: string[];
  defaultL3NetworkUuid?: string;
  zoneUuid?: string;
  clusterUuid?: string;
  hostUuid?: string;
  rootDiskSize?: number;
  rootDiskOfferingUuid?: string;
  dataDiskOfferingUuids?: string[];
  dataDiskSizes?: number[];
  primaryStorageUuidForRootVolume?: string;
  strategy?: string;
  type?: string;
  platform?: string;
  guestOsType?: string;
  architecture?: string;
  resourceUuid?: string;
  systemTags: string[];
  userTags: string[];
}

/** CreateVmInstance's parameters once checked and resolved. */
export interface CreatePlan {
  name: string;
  strategy: string;
  image: Image;
  demand: Demand;
  l3s: L3Network[];
  l3Uuids: string[];
  placement: Placement;
}

const API_CLASS = "org.zstack.header.vm.APICreateVmInstanceMsg";
const STRATEGIES = ["InstantStart", "JustCreate", "CreateStopped"];

function imageOf(state: SimState, request: CreateVmRequest, imageUuid: string): Image {
  const image = state.images.get(imageUuid);
  if (!image) throw resourceNotFound("imageUuid", imageUuid, "ImageVO");
  if (image.state !== "Enabled" || image.status !== "Ready") {
    throw invalidArgument(
      `image[uuid:${image.uuid}] is not Enabled or not Ready, can't create vm from it`,
    );
  }
  if (image.mediaType === "DataVolumeTemplate" || image.system) {
    throw invalidArgument(
      `image[uuid:${image.uuid}] is of mediaType: ${image.mediaType}, only RootVolumeTemplate and ISO can be used to create vm`,
    );
  }
  if (image.mediaType === "ISO" && !request.rootDiskOfferingUuid && !request.rootDiskSize) {
    throw invalidArgument(
      `rootDiskOfferingUuid or rootDiskSize cannot be null when image mediaType is ISO`,
    );
  }
  return image;
}

function demandOf(state: SimState, request: CreateVmRequest): Demand {
  let cpuNum = request.cpuNum;
  let memorySize = request.memorySize;
  if (request.instanceOfferingUuid !== undefined) {
    const offering = state.instanceOfferings.get(request.instanceOfferingUuid);
    if (!offering) {
      throw resourceNotFound(
        "instanceOfferingUuid",
        request.instanceOfferingUuid,
        "InstanceOfferingVO",
      );
    }
    if (offering.state !== "Enabled") {
      throw invalidArgument(
        `instance offering[uuid:${offering.uuid}] is not Enabled, can't create vm from it`,
      );
    }
    cpuNum = offering.cpuNum;
    memorySize = offering.memorySize;
  }
  if (cpuNum === undefined || memorySize === undefined) {
    throw invalidArgument("Missing CPU/memory settings");
  }
  if (cpuNum < 1 || cpuNum > 1024) {
    throw invalidArgument(`cpuNum[${cpuNum}] must be in [1, 1024]`);
  }
  if (memorySize < 1) throw invalidArgument(`memorySize[${memorySize}] must be positive`);
  return { cpuNum, memorySize };
}

function l3sOf(state: SimState, request: CreateVmRequest, l3Uuids: string[]): L3Network[] {
  if (l3Uuids.length === 0 && !request.zoneUuid && !request.clusterUuid && !request.hostUuid) {
    throw invalidArgument(
      "at least one of l3NetworkUuids, zoneUuid, clusterUuid, hostUuid must be set",
    );
  }
  const l3s = l3Uuids.map((uuid) => {
    const l3 = state.l3Networks.get(uuid);
    if (!l3) throw resourceNotFound("l3NetworkUuids", uuid, "L3NetworkVO");
    if (l3.state !== "Enabled") {
      throw invalidArgument(`l3Network[uuid:${uuid}] is Disabled, can not create vm on it`);
    }
    if (l3.system) {
      throw invalidArgument(
        `l3Network[uuid:${uuid}] is system network, can not create user vm on it`,
      );
    }
    return l3;
  });
  if (new Set(l3Uuids).size !== l3Uuids.length) throw invalidArgument("duplicate l3NetworkUuids");
  const defaultL3 = request.defaultL3NetworkUuid;
  if (defaultL3 !== undefined && !l3Uuids.includes(defaultL3)) {
    throw invalidArgument(
      `defaultL3NetworkUuid[uuid:${defaultL3}] is not in l3NetworkUuids${JSON.stringify(l3Uuids)}`,
    );
  }
  return l3s;
}

function checkDiskOfferings(state: SimState, request: CreateVmRequest): void {
  for (const uuid of request.dataDiskOfferingUuids ?? []) {
    if (!state.diskOfferings.has(uuid)) {
      throw resourceNotFound("dataDiskOfferingUuids", uuid, "DiskOfferingVO");
    }
  }
  const root = request.rootDiskOfferingUuid;
  if (root !== undefined && !state.diskOfferings.has(root)) {
    throw resourceNotFound("rootDiskOfferingUuid", root, "DiskOfferingVO");
  }
}

/** Placement: hostUuid overrides clusterUuid, which overrides zoneUuid, then the L3's zone. */
function placementOf(state: SimState, request: CreateVmRequest, l3s: L3Network[]): Placement {
  const hostUuid = request.hostUuid;
  if (hostUuid !== undefined) {
    const host = state.hosts.get(hostUuid);
    if (!host) throw resourceNotFound("hostUuid", hostUuid, "HostVO");
    return { zoneUuid: host.zoneUuid, clusterUuid: host.clusterUuid, hostUuid };
  }
  if (request.clusterUuid !== undefined) {
    const cluster = state.clusters.get(request.clusterUuid);
    if (!cluster) throw resourceNotFound("clusterUuid", request.clusterUuid, "ClusterVO");
    return { zoneUuid: cluster.zoneUuid, clusterUuid: cluster.uuid };
  }
  if (request.zoneUuid !== undefined) {
    if (!state.zones.has(request.zoneUuid)) {
      throw resourceNotFound("zoneUuid", request.zoneUuid, "ZoneVO");
    }
    return { zoneUuid: request.zoneUuid };
  }
  return { zoneUuid: l3s[0].zoneUuid };
}

function checkSystemTags(systemTags: string[]): void {
  for (const tag of systemTags) checkSystemTag(tag);
  if (systemTags.filter((tag) => tag.startsWith("userdata::")).length > 1) {
    throw invalidArgument("only one userdata system tag is allowed, but 2 found");
  }
}

/** Checks CreateVmInstance's parameters as the API interceptors do, and resolves them. */
export function planCreate(state: SimState, request: CreateVmRequest): CreatePlan {
  if (request.name === undefined) throw missingField("name", API_CLASS);
  if (request.imageUuid === undefined) throw missingField("imageUuid", API_CLASS);
  const name = request.name;
  if (name.length > 255) {
    throw invalidArgument(`field[name] of message[${API_CLASS}] exceeds the length limit[255]`);
  }
  const strategy = request.strategy ?? "InstantStart";
  if (!STRATEGIES.includes(strategy)) {
    throw invalidArgument(
      `valid value for field[strategy] of message[${API_CLASS}] are [${
        STRATEGIES.join(", ")
      }], but ${strategy} found`,
    );
  }
  const image = imageOf(state, request, request.imageUuid);
  const demand = demandOf(state, request);
  const l3Uuids = request.l3NetworkUuids ?? [];
  const l3s = l3sOf(state, request, l3Uuids);
  checkDiskOfferings(state, request);
  const placement = placementOf(state, request, l3s);
  checkSystemTags(request.systemTags);
  return { name, strategy, image, demand, l3s, l3Uuids, placement };
}
