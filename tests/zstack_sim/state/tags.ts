/**
 * User and system tags: which resource types take them, the system tag patterns a VM
 * accepts (VmSystemTags and friends), and what CreateUserTag, CreateSystemTag,
 * UpdateSystemTag and DeleteTag do to the inventory.
 *
 * @module
 */

import { invalidArgument, operationError, resourceNotFound } from "../errors.ts";
import type { Tag } from "../inventory.ts";
import type { SimState, StoreName } from "./store.ts";

/** The resource types tags may be attached to (VO simple names), with the map of each. */
const TAGGABLE = {
  VmInstanceVO: "vms",
  VolumeVO: "volumes",
  VolumeSnapshotVO: "snapshots",
  ImageVO: "images",
  HostVO: "hosts",
  ClusterVO: "clusters",
  ZoneVO: "zones",
  L3NetworkVO: "l3Networks",
  InstanceOfferingVO: "instanceOfferings",
  DiskOfferingVO: "diskOfferings",
  VmNicVO: "nics",
} as const satisfies Record<string, StoreName>;

/** A VO simple name of a taggable resource. */
export type TaggableType = keyof typeof TAGGABLE;

/** The system tag patterns the simulator accepts on VMs (VmSystemTags and friends). */
const VM_SYSTEM_TAG_PATTERNS: RegExp[] = [
  /^userdata::.+$/s,
  /^hostname::.+$/,
  /^staticIp::[0-9a-f]{32}::.+$/,
  /^customMac::[0-9a-f]{32}::.+$/,
  /^sshkey::.+$/s,
  /^rootPassword::.+$/,
  /^cleanTraffic::(true|false)$/,
  /^bootMode::(UEFI|Legacy|UEFI_WITH_CSM)$/,
  /^consolePassword::.+$/,
  /^ha::NeverStop$/,
  /^resourceConfig::.+$/,
  /^vmPriority::.+$/,
  /^instanceOfferingOnlineChange::.+$/,
];

/** What CreateUserTag and CreateSystemTag (and tags given at create time) ask for. */
export interface TagRequest {
  type: "User" | "System";
  /** The VO simple name of the tagged resource, e.g. `VmInstanceVO`. */
  resourceType: string;
  resourceUuid: string;
  tag: string;
  /** The uuid of the tag itself; a new one when absent. */
  resourceUuidOfTag?: string;
}

function isTaggable(resourceType: string): resourceType is TaggableType {
  return Object.hasOwn(TAGGABLE, resourceType);
}

/** User and system tag strings of a resource. */
export function tagsOf(
  state: SimState,
  resourceUuid: string,
): { user: string[]; system: string[] } {
  const user: string[] = [];
  const system: string[] = [];
  for (const tag of state.tags.values()) {
    if (tag.resourceUuid !== resourceUuid) continue;
    (tag.type === "User" ? user : system).push(tag.tag);
  }
  return { user, system };
}

/** Throws SYS.1007 unless `tag` is a system tag a VM accepts, with a valid value. */
export function checkSystemTag(tag: string): void {
  if (!VM_SYSTEM_TAG_PATTERNS.some((pattern) => pattern.test(tag))) {
    throw invalidArgument(`no system tag matches[${tag}]`);
  }
  if (tag.startsWith("userdata::")) {
    const data = tag.slice("userdata::".length);
    try {
      atob(data);
    } catch {
      throw invalidArgument(`userdata[${data}] is not a valid base64 string`);
    }
  }
  if (tag.startsWith("hostname::")) {
    const hostname = tag.slice("hostname::".length);
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9-]+)*$/.test(hostname)) {
      throw invalidArgument(`hostname[${hostname}] is not a valid domain name`);
    }
  }
}

/** CreateUserTag / CreateSystemTag (and tags given at create time). */
export function createTag(state: SimState, request: TagRequest): Tag {
  const { type, resourceType, resourceUuid, tag } = request;
  if (!isTaggable(resourceType)) {
    throw invalidArgument(`no resource type[${resourceType}] found in tag system`);
  }
  if (!state.store(TAGGABLE[resourceType]).has(resourceUuid)) {
    throw resourceNotFound("resourceUuid", resourceUuid, resourceType);
  }
  if (type === "System") checkSystemTag(tag);
  const duplicate = [...state.tags.values()].some((existing) =>
    existing.resourceUuid === resourceUuid && existing.type === type && existing.tag === tag
  );
  if (duplicate) {
    throw invalidArgument(
      `Duplicated Tag[tag:${tag}, type:${type}, resourceType:${resourceType}, resourceUuid:${resourceUuid}]`,
    );
  }
  const now = new Date();
  const inventory: Tag = {
    uuid: state.claimUuid(request.resourceUuidOfTag),
    resourceUuid,
    resourceType,
    tag,
    type,
    inherent: false,
    createDate: now,
    lastOpDate: now,
  };
  state.tags.set(inventory.uuid, inventory);
  return inventory;
}

/** UpdateSystemTag. */
export function updateSystemTag(state: SimState, uuid: string, change: { tag: string }): Tag {
  const { tag } = change;
  const existing = state.tags.get(uuid);
  if (!existing || existing.type !== "System") {
    throw resourceNotFound("uuid", uuid, "SystemTagVO");
  }
  checkSystemTag(tag);
  existing.tag = tag;
  existing.lastOpDate = new Date();
  return existing;
}

/** DeleteTag; a missing uuid succeeds. */
export function deleteTag(state: SimState, uuid: string): void {
  const tag = state.tags.get(uuid);
  if (tag?.inherent) throw operationError(`tag[uuid:${uuid}] is an inherent system tag`);
  state.tags.delete(uuid);
}

/** Removes every tag of a resource, as its deletion cascades. */
export function deleteTagsOf(state: SimState, resourceUuid: string): void {
  for (const [uuid, tag] of state.tags) {
    if (tag.resourceUuid === resourceUuid) state.tags.delete(uuid);
  }
}
