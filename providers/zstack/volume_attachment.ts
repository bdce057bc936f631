/**
 * Attaching ZStack data volumes to the VM behind a pod and detaching them. Attaching
 * waits for the volume to be created and the VM to leave a transitional state; a volume
 * attached to another VM is refused (retryably) until it is detached there, and one
 * attached to this VM already is fine. Before the VM of a deleted pod is destroyed, its
 * data volumes are detached ({@linkcode detachDataVolumes}), so that they survive
 * whatever ZStack's `dataVolume.deleteOnVmDestroy` says.
 *
 * @module
 */

import { UnavailableError } from "../../lib/provider.ts";
import { emptyReplySchema } from "./api_types.ts";
import type { ZStackClient } from "./client.ts";
import { queryAll, volumes } from "./collections.ts";
import { toProviderError, ZStackApiError } from "./errors.ts";
import { eq } from "./query.ts";
import { describeVm, logAction, settleVm } from "./vm_action.ts";
import type { TrackedVm } from "./vm_tracker.ts";
import {
  describeAttachment,
  findVolume,
  liveVolume,
  settledVm,
  settleVolume,
  type VolumeContext,
} from "./volume_reads.ts";

/** States of a VM that ZStack attaches data volumes to and detaches them from. */
const attachableStates: ReadonlySet<string> = new Set(["Running", "Stopped", "Paused"]);

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
  const vm = await settledVm(client, vmUuid, { waitIntervalMs: options.waitIntervalMs, signal });
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
