/**
 * Reading ZStack data volumes for the volume operations (`data_volumes.ts`): a volume by
 * uuid (Deleted ones included, or only a live data volume), the user tags of volumes and
 * VMs, the pod each VM serves (this node's from the tracker, others' from their ownership
 * tags), and the volumes as the contract has them (`getVolume`, and `listVolumes` by this
 * node's tag). Also the two waits the operations share: a volume while it is Creating,
 * and a VM while it is in a transitional state.
 *
 * @module
 */

import { NotFoundError, type ProvisionedVolume, UnavailableError } from "../../lib/provider.ts";
import { sleep } from "../../lib/provider_kit/mod.ts";
import type { VmInstance, Volume } from "./api_types.ts";
import type { ZStackClient } from "./client.ts";
import { getVm, queryAll, userTags, uuidsPerQuery, volumes } from "./collections.ts";
import type { ZStackConfig } from "./config.ts";
import { toProviderError } from "./errors.ts";
import { identityFromTags, identityKey, type VmOwner } from "./identity.ts";
import type { NameResolver } from "./name_resolver.ts";
import { eq, isIn, ne } from "./query.ts";
import { transitionalStates, type VmActionContext } from "./vm_action.ts";
import { isVolumeReady, toProvisionedVolume } from "./volume_request.ts";

/** What the volume operations work with. */
export interface VolumeContext extends VmActionContext {
  /** Resolves disk offerings and primary storage. */
  resolver: NameResolver;
  /** Cluster and node of the volumes. */
  owner: VmOwner;
  /** This node's tag, which `listVolumes` queries by. */
  nodeTag: string;
  /** The configured disk offering and primary storage. */
  defaults: ZStackConfig["volumes"];
}

/** The volume `uuid`, Deleted ones included, or `undefined`. */
export async function findVolume(
  client: ZStackClient,
  uuid: string,
  signal: AbortSignal,
): Promise<Volume | undefined> {
  const [volume] = await queryAll(client, volumes, { conditions: [eq("uuid", uuid)], signal });
  return volume;
}

/** The data volume `uuid` unless it is gone or Deleted; `NotFoundError` otherwise. */
export async function liveVolume(
  client: ZStackClient,
  uuid: string,
  options: { what: string; signal: AbortSignal },
): Promise<Volume> {
  const volume = await findVolume(client, uuid, options.signal);
  if (volume === undefined || volume.type !== "Data" || volume.status === "Deleted") {
    throw new NotFoundError(
      `${options.what}: expected a data volume ${uuid} in ZStack, found ${
        volume === undefined
          ? "none"
          : volume.type !== "Data"
          ? `a ${volume.type ?? "non-data"} volume`
          : "it Deleted"
      }`,
    );
  }
  return volume;
}

/** Reads the volume while it is Creating; `UnavailableError` when it ends unusable or gone. */
export async function settleVolume(
  context: VolumeContext,
  volume: Volume,
  signal: AbortSignal,
): Promise<Volume> {
  let current: Volume | undefined = volume;
  while (current?.status === "Creating") {
    await sleep(context.waitIntervalMs, signal);
    current = await findVolume(context.client, volume.uuid, signal);
  }
  if (current === undefined) {
    throw new UnavailableError(
      `data volume ${volume.uuid} vanished while ZStack created it (its create failed); create it again`,
    );
  }
  if (!isVolumeReady(current)) {
    throw new UnavailableError(
      `data volume ${volume.uuid}: expected it Enabled and Ready or NotInstantiated, found state ${
        current.state ?? "unknown"
      }, status ${current.status ?? "unknown"}`,
    );
  }
  return current;
}

/**
 * VM `vmUuid` (any node's) once it is in no transitional state, read every
 * `waitIntervalMs` until then; `undefined` when it is gone.
 */
export async function settledVm(
  client: ZStackClient,
  vmUuid: string,
  options: { waitIntervalMs: number; signal: AbortSignal },
): Promise<VmInstance | undefined> {
  const { signal } = options;
  let vm = await getVm(client, vmUuid, { signal });
  while (vm !== undefined && transitionalStates.has(vm.state)) {
    await sleep(options.waitIntervalMs, signal);
    vm = await getVm(client, vmUuid, { signal });
  }
  return vm;
}

/** The user tags of the resources `uuids` of type `resourceType`, by resource uuid. */
export async function tagsOf(
  client: ZStackClient,
  uuids: readonly string[],
  options: { resourceType: "VolumeVO" | "VmInstanceVO"; signal: AbortSignal },
): Promise<Map<string, string[]>> {
  const byResource = new Map<string, string[]>();
  for (let index = 0; index < uuids.length; index += uuidsPerQuery) {
    const found = await queryAll(client, userTags, {
      conditions: [
        isIn("resourceUuid", uuids.slice(index, index + uuidsPerQuery)),
        eq("resourceType", options.resourceType),
      ],
      signal: options.signal,
    });
    for (const tag of found) {
      const list = byResource.get(tag.resourceUuid) ?? [];
      list.push(tag.tag);
      byResource.set(tag.resourceUuid, list);
    }
  }
  return byResource;
}

/**
 * The pod (`namespace/name`) each VM of `vmUuids` serves: this node's from the tracker,
 * other nodes' from their ownership tags; VMs of no pod are left out.
 */
async function podKeysOf(
  context: VolumeContext,
  vmUuids: readonly string[],
  signal: AbortSignal,
): Promise<Map<string, string>> {
  const keys = new Map<string, string>();
  const untracked: string[] = [];
  for (const uuid of new Set(vmUuids)) {
    const tracked = context.tracker.byUuid(uuid);
    if (tracked !== undefined && tracked.deleted === undefined) {
      keys.set(uuid, identityKey(tracked.identity));
    } else {
      untracked.push(uuid);
    }
  }
  if (untracked.length === 0) return keys;
  const tags = await tagsOf(context.client, untracked, { resourceType: "VmInstanceVO", signal });
  for (const uuid of untracked) {
    const identity = identityFromTags(tags.get(uuid) ?? []);
    if (identity !== undefined) keys.set(uuid, identityKey(identity));
  }
  return keys;
}

/** `VM <uuid>` or `VM <uuid> of pod <key>`, for messages about where a volume is attached. */
export async function describeAttachment(
  context: VolumeContext,
  vmUuid: string,
  signal: AbortSignal,
): Promise<string> {
  const pod = (await podKeysOf(context, [vmUuid], signal)).get(vmUuid);
  return `VM ${vmUuid}${pod === undefined ? "" : ` of pod ${pod}`}`;
}

/** The volumes as the contract has them, with one tag query and the pods of their VMs. */
export async function provisioned(
  context: VolumeContext,
  found: readonly Volume[],
  signal: AbortSignal,
): Promise<ProvisionedVolume[]> {
  if (found.length === 0) return [];
  const tags = await tagsOf(context.client, found.map((volume) => volume.uuid), {
    resourceType: "VolumeVO",
    signal,
  });
  const vmUuids = found.flatMap((volume) => volume.vmInstanceUuid ? [volume.vmInstanceUuid] : []);
  const pods = await podKeysOf(context, vmUuids, signal);
  return found.map((volume) => {
    const pod = volume.vmInstanceUuid === undefined ? undefined : pods.get(volume.vmInstanceUuid);
    return toProvisionedVolume(volume, {
      tags: tags.get(volume.uuid) ?? [],
      attachedTo: pod === undefined ? [] : [pod],
    });
  });
}

/** The data volume `volumeId`, or `undefined` when it is gone or Deleted. */
export async function getVolume(
  context: VolumeContext,
  volumeId: string,
  signal: AbortSignal,
): Promise<ProvisionedVolume | undefined> {
  try {
    const volume = await findVolume(context.client, volumeId, signal);
    if (volume === undefined || volume.type !== "Data" || volume.status === "Deleted") {
      return undefined;
    }
    return (await provisioned(context, [volume], signal))[0];
  } catch (error) {
    throw toProviderError(error, `zstack provider: reading volume ${volumeId}`);
  }
}

/** This node's data volumes (by the node tag), Deleted ones left out. */
export async function listVolumes(
  context: VolumeContext,
  signal: AbortSignal,
): Promise<ProvisionedVolume[]> {
  try {
    const found = await queryAll(context.client, volumes, {
      conditions: [eq("__userTag__", context.nodeTag), eq("type", "Data"), ne("status", "Deleted")],
      signal,
    });
    return await provisioned(context, found, signal);
  } catch (error) {
    throw toProviderError(
      error,
      `zstack provider: listing the volumes of node ${context.owner.nodeName}`,
    );
  }
}
