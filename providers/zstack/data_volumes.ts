/**
 * PersistentVolumes as ZStack data volumes (`VolumeProvisioner`). A volume is created
 * with `CreateDataVolume` under a uuid derived from the cluster and the PV name
 * (`volume_request.ts`), from the disk offering the StorageClass or the configuration
 * names (an offering smaller than the claim is grown with `ResizeDataVolume` right after),
 * else sized by the claim alone, on the named primary storage or, without one, on the
 * storage of the first VM it is attached to (ZStack keeps it NotInstantiated until then).
 * User tags name the cluster, the node, the claim and the PV; this node's volumes are
 * listed by the node tag. A create repeated after a crash finds the volume of that uuid,
 * also while the first create's job still runs, and waits while it is Creating.
 *
 * Attaching waits for the VM to leave a transitional state; a volume attached to another
 * VM is refused (retryably) until it is detached there. Deleting detaches nothing: an
 * attached volume is refused until it is detached; a detached one is deleted and expunged,
 * and only when it carries this cluster's tag. Growing uses `ResizeDataVolume`, which
 * ZStack never lets shrink a volume. Before the VM of a deleted pod is destroyed, its data
 * volumes are detached ({@linkcode detachDataVolumes}), so that they survive whatever
 * ZStack's `dataVolume.deleteOnVmDestroy` says.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import {
  InvalidInputError,
  NotFoundError,
  type ProvisionedVolume,
  UnavailableError,
  type VolumeRequest,
} from "../../lib/provider.ts";
import { sleep } from "../../lib/provider_kit/mod.ts";
import { emptyReplySchema, inventoryReplySchema, type Volume, volumeSchema } from "./api_types.ts";
import type { ZStackClient } from "./client.ts";
import { getVm, queryAll, userTags, uuidsPerQuery, volumes } from "./collections.ts";
import type { ZStackConfig } from "./config.ts";
import { notFoundCode, toProviderError, ZStackApiError } from "./errors.ts";
import { identityFromTags, identityKey, tagPrefix, type VmOwner } from "./identity.ts";
import type { NameResolver } from "./name_resolver.ts";
import { eq, isIn, ne } from "./query.ts";
import {
  describeVm,
  logAction,
  settleVm,
  transitionalStates,
  type VmActionContext,
} from "./vm_action.ts";
import type { TrackedVm } from "./vm_tracker.ts";
import {
  describeVolumeRequest,
  isVolumeReady,
  planVolume,
  toProvisionedVolume,
  volumeCreateBody,
  type VolumePlan,
  volumeUuidFor,
} from "./volume_request.ts";

const logger = getLogger(["vkedge", "provider", "zstack"]);

/** States of a VM that ZStack attaches data volumes to and detaches them from. */
const attachableStates: ReadonlySet<string> = new Set(["Running", "Stopped", "Paused"]);

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
async function findVolume(
  client: ZStackClient,
  uuid: string,
  signal: AbortSignal,
): Promise<Volume | undefined> {
  const [volume] = await queryAll(client, volumes, { conditions: [eq("uuid", uuid)], signal });
  return volume;
}

/** The data volume `uuid` unless it is gone or Deleted; `NotFoundError` otherwise. */
async function liveVolume(
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

/** The user tags of the resources `uuids` of type `resourceType`, by resource uuid. */
async function tagsOf(
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
async function describeAttachment(
  context: VolumeContext,
  vmUuid: string,
  signal: AbortSignal,
): Promise<string> {
  const pod = (await podKeysOf(context, [vmUuid], signal)).get(vmUuid);
  return `VM ${vmUuid}${pod === undefined ? "" : ` of pod ${pod}`}`;
}

/** The volumes as the contract has them, with one tag query and the pods of their VMs. */
async function provisioned(
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

/** Reads the volume while it is Creating; `UnavailableError` when it ends unusable or gone. */
async function settleVolume(
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

/** Waits until VM `vmUuid` (any node's) is in no transitional state. */
async function settleAttachedVm(
  context: VolumeContext,
  vmUuid: string,
  signal: AbortSignal,
): Promise<void> {
  let vm = await getVm(context.client, vmUuid, { signal });
  while (vm !== undefined && transitionalStates.has(vm.state)) {
    await sleep(context.waitIntervalMs, signal);
    vm = await getVm(context.client, vmUuid, { signal });
  }
}

/** Grows `volume` to `sizeBytes` with `ResizeDataVolume`, once its VM (if any) is settled. */
async function resize(
  context: VolumeContext,
  volume: Volume,
  options: { sizeBytes: number; signal: AbortSignal },
): Promise<Volume> {
  const { sizeBytes, signal } = options;
  if (volume.vmInstanceUuid !== undefined) {
    await settleAttachedVm(context, volume.vmInstanceUuid, signal);
  }
  const reply = await context.client.call(
    "PUT",
    `${volumes.path}/data/resize/${volume.uuid}/actions`,
    {
      body: { resizeDataVolume: { size: sizeBytes } },
      schema: inventoryReplySchema(volumeSchema),
      signal,
    },
  );
  logger.info("data volume {uuid} grown from {from} to {to} bytes", {
    uuid: volume.uuid,
    from: volume.size ?? 0,
    to: reply.inventory.size ?? sizeBytes,
  });
  return reply.inventory;
}

/** Expunges a Deleted volume; one that is gone already is fine. */
async function expunge(client: ZStackClient, uuid: string, signal: AbortSignal): Promise<void> {
  try {
    await client.call("PUT", `${volumes.path}/${uuid}/actions`, {
      body: { expungeDataVolume: {} },
      schema: emptyReplySchema,
      signal,
    });
  } catch (error) {
    if (error instanceof ZStackApiError && error.code === notFoundCode) return;
    throw error;
  }
}

/**
 * Resolves the plan's offering and storage and submits `CreateDataVolume`. When the
 * submission fails, an earlier call's job with the same `resourceUuid` may have made the
 * volume anyway: that one is taken instead.
 */
async function submitCreate(
  context: VolumeContext,
  plan: VolumePlan,
  options: { uuid: string; signal: AbortSignal },
): Promise<Volume> {
  const { uuid, signal } = options;
  const lookupFor = (source: string) => ({
    context: `${describeVolumeRequest(plan)}: ${source}`,
    signal,
  });
  const offering = plan.diskOffering === undefined
    ? undefined
    : await context.resolver.diskOffering(
      plan.diskOffering.ref,
      lookupFor(plan.diskOffering.source),
    );
  const primaryStorage = plan.primaryStorage === undefined
    ? undefined
    : await context.resolver.primaryStorage(
      plan.primaryStorage.ref,
      lookupFor(plan.primaryStorage.source),
    );
  logger.info("creating data volume {uuid} for claim {claim} ({size} bytes, offering {offering})", {
    uuid,
    claim: plan.claim,
    size: plan.sizeBytes,
    offering: offering?.name ?? "none",
  });
  try {
    const reply = await context.client.call("POST", `${volumes.path}/data`, {
      body: volumeCreateBody(plan, { uuid, offering, primaryStorage, owner: context.owner }),
      schema: inventoryReplySchema(volumeSchema),
      signal,
    });
    return reply.inventory;
  } catch (error) {
    if (!(error instanceof ZStackApiError)) throw error;
    const found = await findVolume(context.client, uuid, signal);
    if (found === undefined) throw error;
    return found;
  }
}

/**
 * Creates the data volume of `request` and resolves once it is ready, at least as large
 * as asked; a volume of that name that exists (or is still being created) is taken.
 */
export async function createVolume(
  context: VolumeContext,
  request: VolumeRequest,
  signal: AbortSignal,
): Promise<ProvisionedVolume> {
  const plan = planVolume(request, context.defaults);
  try {
    const uuid = await volumeUuidFor(context.owner.clusterName, plan.name);
    let volume = await findVolume(context.client, uuid, signal);
    if (volume?.status === "Deleted") {
      // A delete of this name that ended before its expunge: finish it, then create anew.
      await expunge(context.client, uuid, signal);
      volume = undefined;
    }
    volume = await settleVolume(
      context,
      volume ?? await submitCreate(context, plan, { uuid, signal }),
      signal,
    );
    if ((volume.size ?? 0) < plan.sizeBytes) {
      volume = await resize(context, volume, { sizeBytes: plan.sizeBytes, signal });
    }
    return (await provisioned(context, [volume], signal))[0];
  } catch (error) {
    throw toProviderError(error, `zstack provider: creating ${describeVolumeRequest(plan)}`, {
      notFound: "invalid-input",
    });
  }
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

/**
 * Deletes and expunges the detached data volume `volumeId`. `NotFoundError` when it is
 * gone; `InvalidInputError` for a volume without this cluster's tag (vkedge leaves what
 * it did not provision alone); `UnavailableError` while it is attached.
 */
export async function deleteVolume(
  context: VolumeContext,
  volumeId: string,
  signal: AbortSignal,
): Promise<void> {
  const what = `zstack provider: deleting volume ${volumeId}`;
  try {
    const volume = await findVolume(context.client, volumeId, signal);
    if (volume === undefined || volume.type !== "Data") {
      throw new NotFoundError(
        `${what}: expected a data volume in ZStack, found ${
          volume === undefined ? "none" : `a ${volume.type ?? "non-data"} volume`
        }`,
      );
    }
    const clusterTag = `${tagPrefix}cluster:${context.owner.clusterName}`;
    const tags = await tagsOf(context.client, [volume.uuid], { resourceType: "VolumeVO", signal });
    if (!(tags.get(volume.uuid) ?? []).includes(clusterTag)) {
      throw new InvalidInputError(
        `${what}: expected a volume vkedge provisioned for cluster "${context.owner.clusterName}" (tag ${clusterTag}), found none: it is left alone`,
      );
    }
    if (volume.vmInstanceUuid !== undefined) {
      throw new UnavailableError(
        `${what}: it is attached to ${await describeAttachment(
          context,
          volume.vmInstanceUuid,
          signal,
        )}: detach it first`,
      );
    }
    if (volume.status !== "Deleted") {
      await context.client.call("DELETE", `${volumes.path}/${volume.uuid}`, {
        query: "deleteMode=Permissive",
        schema: emptyReplySchema,
        signal,
      });
    }
    await expunge(context.client, volume.uuid, signal);
    logger.info("data volume {uuid} ({name}) deleted and expunged", {
      uuid: volume.uuid,
      name: volume.name,
    });
  } catch (error) {
    throw toProviderError(error, what);
  }
}

/** Grows the data volume `volumeId` to at least `sizeBytes` and resolves with its size. */
export async function expandVolume(
  context: VolumeContext,
  volumeId: string,
  options: { sizeBytes: number; signal: AbortSignal },
): Promise<number> {
  const { sizeBytes, signal } = options;
  const what = `zstack provider: growing volume ${volumeId} to ${sizeBytes} bytes`;
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) {
    throw new InvalidInputError(
      `${what}: expected a size of a positive whole number of bytes, found ${sizeBytes}`,
    );
  }
  try {
    const volume = await liveVolume(context.client, volumeId, { what, signal });
    if ((volume.size ?? 0) >= sizeBytes) return volume.size ?? 0;
    const grown = await resize(context, volume, { sizeBytes, signal });
    return grown.size ?? sizeBytes;
  } catch (error) {
    throw toProviderError(error, what);
  }
}

/**
 * Attaches the data volume `volumeId` to the tracked VM, once both are settled; attached
 * there already is fine, attached to another VM an `UnavailableError` until it is detached.
 */
export async function attachVolume(
  context: VolumeContext,
  volumeId: string,
  options: { tracked: TrackedVm; signal: AbortSignal },
): Promise<void> {
  const { tracked, signal } = options;
  const vmUuid = tracked.vm.uuid;
  const what = `zstack provider: attaching volume ${volumeId} to ${describeVm(tracked)}`;
  try {
    let volume = await liveVolume(context.client, volumeId, { what, signal });
    if (volume.vmInstanceUuid === vmUuid) return;
    if (volume.vmInstanceUuid !== undefined) {
      throw new UnavailableError(
        `${what}: it is attached to ${await describeAttachment(
          context,
          volume.vmInstanceUuid,
          signal,
        )}, and a data volume is attached to one VM at a time: detach it there first`,
      );
    }
    volume = await settleVolume(context, volume, signal);
    const vm = await settleVm(context, tracked, { signal });
    if (!attachableStates.has(vm.state)) {
      throw new UnavailableError(
        `${what}: expected the VM Running, Stopped or Paused, found it ${vm.state}`,
      );
    }
    try {
      await context.client.call("POST", `${volumes.path}/${volume.uuid}/vm-instances/${vmUuid}`, {
        body: { params: {} },
        schema: emptyReplySchema,
        signal,
      });
    } catch (error) {
      // A concurrent attach of the same volume to the same VM may have got there first.
      if (!(error instanceof ZStackApiError)) throw error;
      if ((await findVolume(context.client, volume.uuid, signal))?.vmInstanceUuid !== vmUuid) {
        throw error;
      }
    }
    logAction(context, tracked, `data volume ${volume.name} (${volume.uuid}) attached`);
  } catch (error) {
    throw toProviderError(error, what);
  }
}

/**
 * Detaches the data volume `volumeId` from the tracked VM (none: the pod has no VM);
 * a volume not attached there is left as it is. `NotFoundError` when the volume is gone.
 */
export async function detachVolume(
  context: VolumeContext,
  volumeId: string,
  options: { tracked: TrackedVm | undefined; signal: AbortSignal },
): Promise<void> {
  const { tracked, signal } = options;
  const what = `zstack provider: detaching volume ${volumeId}${
    tracked === undefined ? "" : ` from ${describeVm(tracked)}`
  }`;
  try {
    const volume = await liveVolume(context.client, volumeId, { what, signal });
    if (tracked === undefined || volume.vmInstanceUuid !== tracked.vm.uuid) return;
    const vmUuid = tracked.vm.uuid;
    await settleVm(context, tracked, { signal });
    try {
      await context.client.call("DELETE", `${volumes.path}/${volume.uuid}/vm-instances`, {
        query: `vmUuid=${vmUuid}`,
        schema: emptyReplySchema,
        signal,
      });
    } catch (error) {
      // A concurrent detach may have got there first.
      if (!(error instanceof ZStackApiError)) throw error;
      if ((await findVolume(context.client, volume.uuid, signal))?.vmInstanceUuid === vmUuid) {
        throw error;
      }
    }
    logAction(context, tracked, `data volume ${volume.name} (${volume.uuid}) detached`);
  } catch (error) {
    throw toProviderError(error, what);
  }
}

/** Options of {@linkcode detachDataVolumes}. */
export interface DetachDataVolumesOptions {
  /** Pause between two reads while the VM is in a transitional state. */
  waitIntervalMs: number;
  /** Writes a line to the VM's lifecycle log. */
  log: (text: string) => void;
  /** Aborts the calls. */
  signal: AbortSignal;
}

/**
 * Detaches every data volume attached to VM `vmUuid`, which is about to be destroyed, so
 * that the volumes survive whatever ZStack's `dataVolume.deleteOnVmDestroy` says; waits
 * for the VM to leave a transitional state first. A VM in a state ZStack detaches nothing
 * from (Crashed, Unknown, …) keeps them, with a log line: destroying it then detaches
 * them under ZStack's default. ZStack's errors are thrown as the client threw them.
 */
export async function detachDataVolumes(
  client: ZStackClient,
  vmUuid: string,
  options: DetachDataVolumesOptions,
): Promise<void> {
  const { signal } = options;
  const attached = await queryAll(client, volumes, {
    conditions: [eq("vmInstanceUuid", vmUuid), eq("type", "Data")],
    signal,
  });
  if (attached.length === 0) return;
  let vm = await getVm(client, vmUuid, { signal });
  while (vm !== undefined && transitionalStates.has(vm.state)) {
    await sleep(options.waitIntervalMs, signal);
    vm = await getVm(client, vmUuid, { signal });
  }
  if (vm === undefined) return;
  const names = attached.map((volume) => `${volume.name} (${volume.uuid})`).join(", ");
  if (!attachableStates.has(vm.state)) {
    options.log(
      `data volumes ${names} left attached: ZStack detaches nothing from a ${vm.state} VM; destroying it detaches them unless dataVolume.deleteOnVmDestroy is set`,
    );
    return;
  }
  for (const volume of attached) {
    await client.call("DELETE", `${volumes.path}/${volume.uuid}/vm-instances`, {
      query: `vmUuid=${vmUuid}`,
      schema: emptyReplySchema,
      signal,
    });
    options.log(`data volume ${volume.name} (${volume.uuid}) detached and kept`);
  }
}
