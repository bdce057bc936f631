/**
 * Creating, growing and deleting ZStack data volumes. A volume is created with
 * `CreateDataVolume` under a uuid derived from the cluster and the PV name
 * (`volume_request.ts`), so that a create repeated after a crash finds it, also while the
 * first create's job still runs, and waits while it is Creating; a Deleted one of that
 * uuid is expunged first. An offering smaller than the claim is grown right after.
 * Growing uses `ResizeDataVolume`, which ZStack never lets shrink a volume, once the
 * volume's VM is settled. Deleting detaches nothing: an attached volume is refused until
 * it is detached; a detached one is deleted and expunged, and only when it carries this
 * cluster's tag.
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
import { emptyReplySchema, inventoryReplySchema, type Volume, volumeSchema } from "./api_types.ts";
import type { ZStackClient } from "./client.ts";
import { volumes } from "./collections.ts";
import { notFoundCode, toProviderError, ZStackApiError } from "./errors.ts";
import { tagPrefix } from "./identity.ts";
import {
  describeAttachment,
  findVolume,
  liveVolume,
  provisioned,
  settledVm,
  settleVolume,
  tagsOf,
  type VolumeContext,
} from "./volume_reads.ts";
import {
  describeVolumeRequest,
  planVolume,
  volumeCreateBody,
  type VolumePlan,
  volumeUuidFor,
} from "./volume_request.ts";

const logger = getLogger(["vkedge", "provider", "zstack"]);

/** Grows `volume` to `sizeBytes` with `ResizeDataVolume`, once its VM (if any) is settled. */
async function resize(
  context: VolumeContext,
  volume: Volume,
  options: { sizeBytes: number; signal: AbortSignal },
): Promise<Volume> {
  const { sizeBytes, signal } = options;
  if (volume.vmInstanceUuid !== undefined) {
    await settledVm(context.client, volume.vmInstanceUuid, {
      waitIntervalMs: context.waitIntervalMs,
      signal,
    });
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
