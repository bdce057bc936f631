/**
 * Snapshots of the VM behind a pod (`VirtualMachineSnapshots`). One VM snapshot is one
 * ZStack volume snapshot of each volume attached to the VM when it is taken: the data
 * volumes first, the root volume last. ZStack's snapshot groups are not used, because
 * their create takes no `resourceUuid`, which is what makes a create safe to repeat.
 *
 * Each volume snapshot (a part) is created with a `resourceUuid` derived from the VM
 * uuid, the snapshot name and the volume (`root` for the root volume), and carries the
 * description `vkedge.io/vm-snapshot:<vm uuid>/<parts>/<name>`; one query of that prefix
 * lists every VM snapshot of a VM. A create repeated after an agent crash therefore finds
 * each part it had submitted, Creating or Ready, and waits for it instead of taking a
 * second one; the root part exists only once every other part was submitted, so a VM
 * snapshot whose root part exists is complete. Its id is the root part's uuid.
 *
 * The parts are taken one after another: the disks of a running VM are not frozen
 * together, so a snapshot of a running VM is crash-consistent per disk only. Restoring
 * reverts each part whose volume is still attached to the VM (`revertVolumeFromSnapshot`),
 * which ZStack allows only while the VM is Stopped. Deleting deletes every part; ZStack
 * deletes the later snapshots of the same chain with it.
 *
 * @module
 */

import {
  InvalidInputError,
  NotFoundError,
  UnavailableError,
  type VirtualMachineSnapshot,
} from "../../lib/provider.ts";
import { formatTime, sleep } from "../../lib/provider_kit/mod.ts";
import {
  emptyReplySchema,
  inventoryReplySchema,
  type Volume,
  type VolumeSnapshot,
  volumeSnapshotSchema,
} from "./api_types.ts";
import { queryAll, volumes, volumeSnapshots } from "./collections.ts";
import { describeErrorCode, toProviderError, ZStackApiError } from "./errors.ts";
import { derivedUuid } from "./identity.ts";
import { eq, like } from "./query.ts";
import { describeVm, logAction, settleVm, type VmActionContext } from "./vm_action.ts";
import type { TrackedVm } from "./vm_tracker.ts";

/** Prefix of the description of every volume snapshot that is part of a VM snapshot. */
export const snapshotMarkerPrefix = "vkedge.io/vm-snapshot:";
/** Longest snapshot name (ZStack's limit on resource names). */
export const maxSnapshotNameLength = 255;

/** The description of the parts of VM snapshot `name` of VM `vmUuid`, made of `parts` parts. */
export function snapshotMarker(vmUuid: string, parts: number, name: string): string {
  return `${snapshotMarkerPrefix}${vmUuid}/${parts}/${name}`;
}

/** Reads a description written by {@linkcode snapshotMarker}; `undefined` for any other. */
export function parseSnapshotMarker(
  description: string | undefined,
  vmUuid: string,
): { parts: number; name: string } | undefined {
  const prefix = `${snapshotMarkerPrefix}${vmUuid}/`;
  if (description === undefined || !description.startsWith(prefix)) return undefined;
  const match = /^(\d+)\/(.+)$/s.exec(description.slice(prefix.length));
  return match === null ? undefined : { parts: Number(match[1]), name: match[2] };
}

/**
 * The uuid of the part of VM snapshot `name` of VM `vmUuid` on volume `part` (`root` for
 * the root volume): SHA-256 of the three, shaped as a version-5 uuid, as ZStack's uuid
 * check wants.
 */
export async function snapshotPartUuid(
  vmUuid: string,
  options: { name: string; part: string },
): Promise<string> {
  return await derivedUuid(`${snapshotMarkerPrefix}${vmUuid}/${options.name}/${options.part}`);
}

/** The volume snapshots that make up one VM snapshot. */
export interface SnapshotGroup {
  /** The VM snapshot's name. */
  name: string;
  /** Its id: the uuid of its root part (which may not exist yet). */
  id: string;
  /** How many parts it has when complete (as its root part says, else the most any says). */
  expectedParts: number;
  /** The parts that exist, root last. */
  parts: VolumeSnapshot[];
  /** The root part, once taken. */
  root?: VolumeSnapshot;
}

/** The VM snapshot a group stands for; `now` stands in for a missing creation date. */
export function toVirtualMachineSnapshot(group: SnapshotGroup, now: Date): VirtualMachineSnapshot {
  const broken = group.parts.find((part) =>
    !["Creating", "Ready"].includes(part.status) || part.state === "Disabled"
  );
  const missing = group.root !== undefined && group.parts.length < group.expectedParts;
  const error = broken !== undefined
    ? `volume snapshot ${broken.uuid} of volume ${broken.volumeUuid} is ${
      broken.state === "Disabled" ? "Disabled" : broken.status
    }`
    : missing
    ? `${
      group.expectedParts - group.parts.length
    } of its ${group.expectedParts} volume snapshots no longer exist`
    : undefined;
  const ready = error === undefined && group.root !== undefined &&
    group.parts.every((part) => part.status === "Ready");
  const dates = group.parts.map((part) => part.createDate?.getTime())
    .filter((time): time is number => time !== undefined);
  const created = group.root?.createDate ??
    (dates.length > 0 ? new Date(Math.min(...dates)) : now);
  const sizes = group.parts.map((part) => part.size);
  return {
    id: group.id,
    name: group.name,
    createdAt: formatTime(created),
    ready,
    ...(error === undefined ? {} : { error }),
    ...(ready && sizes.every((size) => size !== undefined)
      ? { sizeBytes: sizes.reduce((sum: number, size) => sum + (size ?? 0), 0) }
      : {}),
  };
}

/** Every VM snapshot of the tracked VM, complete or not, from one query. */
async function snapshotGroups(
  context: VmActionContext,
  tracked: TrackedVm,
  options: { signal: AbortSignal },
): Promise<SnapshotGroup[]> {
  const vmUuid = tracked.vm.uuid;
  const found = await queryAll(context.client, volumeSnapshots, {
    conditions: [like("description", `${snapshotMarkerPrefix}${vmUuid}/%`)],
    signal: options.signal,
  });
  const byName = new Map<string, { parts: VolumeSnapshot[]; counts: number[] }>();
  for (const part of found) {
    const marker = parseSnapshotMarker(part.description, vmUuid);
    if (marker === undefined) continue;
    const entry = byName.get(marker.name) ?? { parts: [], counts: [] };
    entry.parts.push(part);
    entry.counts.push(marker.parts);
    byName.set(marker.name, entry);
  }
  const groups: SnapshotGroup[] = [];
  for (const [name, { parts, counts }] of byName) {
    const id = await snapshotPartUuid(vmUuid, { name, part: "root" });
    const rootIndex = parts.findIndex((part) => part.uuid === id);
    const root = rootIndex < 0 ? undefined : parts[rootIndex];
    const ordered = [...parts.filter((part) => part.uuid !== id), ...(root ? [root] : [])];
    groups.push({
      name,
      id,
      expectedParts: rootIndex < 0 ? Math.max(...counts) : counts[rootIndex],
      parts: ordered,
      ...(root ? { root } : {}),
    });
  }
  return groups;
}

/** The VM snapshots of the tracked VM, oldest first. */
export async function listSnapshots(
  context: VmActionContext,
  tracked: TrackedVm,
  options: { signal: AbortSignal },
): Promise<VirtualMachineSnapshot[]> {
  try {
    const now = new Date(context.now());
    return (await snapshotGroups(context, tracked, options))
      .map((group) => toVirtualMachineSnapshot(group, now))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
  } catch (error) {
    throw toProviderError(error, `zstack provider: listing snapshots of ${describeVm(tracked)}`);
  }
}

/** The volume snapshot `uuid`, or `undefined`. */
async function findPart(
  context: VmActionContext,
  uuid: string,
  signal: AbortSignal,
): Promise<VolumeSnapshot | undefined> {
  const [part] = await queryAll(context.client, volumeSnapshots, {
    conditions: [eq("uuid", uuid)],
    signal,
  });
  return part;
}

/** One part to take: which volume, under which uuid and description. */
interface PartRequest {
  volume: Volume;
  uuid: string;
  name: string;
  description: string;
}

/**
 * Takes one part unless it exists (taken, or being taken by an earlier call whose job
 * runs on), then waits while it is Creating.
 */
async function takePart(
  context: VmActionContext,
  request: PartRequest,
  signal: AbortSignal,
): Promise<void> {
  const { volume, uuid, name, description } = request;
  let part = await findPart(context, uuid, signal);
  if (part === undefined) {
    try {
      const reply = await context.client.call(
        "POST",
        `${volumes.path}/${volume.uuid}/volume-snapshots`,
        {
          body: { params: { name, description, resourceUuid: uuid } },
          schema: inventoryReplySchema(volumeSnapshotSchema),
          signal,
        },
      );
      part = reply.inventory;
    } catch (error) {
      // A job of an earlier call with the same resourceUuid may have got there first.
      if (!(error instanceof ZStackApiError)) throw error;
      part = await findPart(context, uuid, signal);
      if (part === undefined) throw error;
    }
  }
  while (part?.status === "Creating") {
    await sleep(context.waitIntervalMs, signal);
    part = await findPart(context, uuid, signal);
  }
  if (part === undefined) {
    throw new UnavailableError(
      `volume snapshot ${uuid} of volume ${volume.uuid} vanished while it was being taken; take the snapshot again`,
    );
  }
}

/** The volumes attached to the tracked VM: data volumes by device, then the root volume. */
async function attachedVolumes(
  context: VmActionContext,
  tracked: TrackedVm,
  signal: AbortSignal,
): Promise<{ data: Volume[]; root: Volume | undefined }> {
  const attached = await queryAll(context.client, volumes, {
    conditions: [eq("vmInstanceUuid", tracked.vm.uuid)],
    signal,
  });
  return {
    data: attached.filter((volume) => volume.type === "Data")
      .sort((a, b) => (a.deviceId ?? 0) - (b.deviceId ?? 0)),
    root: attached.find((volume) => volume.type === "Root"),
  };
}

function checkName(name: string, what: string): void {
  if (name.length === 0 || name.length > maxSnapshotNameLength || name.trim() !== name) {
    throw new InvalidInputError(
      `zstack provider: snapshot of ${what}: expected a name of 1 to ${maxSnapshotNameLength} characters without surrounding spaces, found "${name}"`,
    );
  }
}

/**
 * Takes VM snapshot `name` of the tracked VM and resolves once every part is Ready (or
 * with `error` set when a part broke). Idempotent for the same name: parts that exist
 * are waited for, never taken twice.
 */
export async function takeSnapshot(
  context: VmActionContext,
  tracked: TrackedVm,
  options: { name: string; signal: AbortSignal },
): Promise<VirtualMachineSnapshot> {
  const { name, signal } = options;
  const what = describeVm(tracked);
  checkName(name, what);
  try {
    const vmUuid = tracked.vm.uuid;
    let group = (await snapshotGroups(context, tracked, { signal }))
      .find((candidate) => candidate.name === name);
    if (group?.root === undefined) {
      const { data, root } = await attachedVolumes(context, tracked, signal);
      if (root === undefined) {
        throw new UnavailableError(
          `zstack provider: snapshot "${name}" of ${what}: expected the VM to have a root volume, found none`,
        );
      }
      const description = snapshotMarker(vmUuid, data.length + 1, name);
      logAction(context, tracked, `snapshot "${name}" requested (${data.length + 1} volumes)`);
      for (const volume of [...data, root]) {
        const part = volume === root ? "root" : volume.uuid;
        const uuid = await snapshotPartUuid(vmUuid, { name, part });
        await takePart(context, { volume, uuid, name, description }, signal);
      }
    }
    while (true) {
      group = (await snapshotGroups(context, tracked, { signal }))
        .find((candidate) => candidate.name === name);
      if (group === undefined) {
        throw new UnavailableError(
          `zstack provider: snapshot "${name}" of ${what} vanished while it was being taken; take it again`,
        );
      }
      const snapshot = toVirtualMachineSnapshot(group, new Date(context.now()));
      if (snapshot.ready || snapshot.error !== undefined) {
        logAction(
          context,
          tracked,
          snapshot.ready
            ? `snapshot "${name}" ready (${snapshot.id})`
            : `snapshot "${name}" failed: ${snapshot.error}`,
        );
        return snapshot;
      }
      await sleep(context.waitIntervalMs, signal);
    }
  } catch (error) {
    throw toProviderError(error, `zstack provider: taking snapshot "${name}" of ${what}`);
  }
}

/** The group with id `snapshotId`, or `NotFoundError`. */
async function groupById(
  context: VmActionContext,
  tracked: TrackedVm,
  options: { snapshotId: string; signal: AbortSignal },
): Promise<SnapshotGroup> {
  const groups = await snapshotGroups(context, tracked, options);
  const group = groups.find((candidate) => candidate.id === options.snapshotId);
  if (group === undefined) {
    throw new NotFoundError(
      `zstack provider: snapshot ${options.snapshotId} of ${
        describeVm(tracked)
      } not found: expected one of ${
        groups.length === 0
          ? "its snapshots, found none"
          : groups.map((candidate) => `${candidate.id} ("${candidate.name}")`).join(", ")
      }`,
    );
  }
  return group;
}

function mustStopFirst(what: string, name: string, state: string): InvalidInputError {
  return new InvalidInputError(
    `zstack provider: restoring snapshot "${name}" of ${what}: expected the VM Stopped, found it ${state}; stop the VM first (ZStack reverts disks only while the VM is Stopped)`,
  );
}

/**
 * Reverts the VM's disks to snapshot `snapshotId`. The VM must be Stopped
 * (`InvalidInputError` saying to stop it otherwise); reverting twice is harmless.
 */
export async function restoreSnapshot(
  context: VmActionContext,
  tracked: TrackedVm,
  options: { snapshotId: string; signal: AbortSignal },
): Promise<void> {
  const { signal } = options;
  const what = describeVm(tracked);
  try {
    const group = await groupById(context, tracked, options);
    const snapshot = toVirtualMachineSnapshot(group, new Date(context.now()));
    if (!snapshot.ready) {
      throw new InvalidInputError(
        `zstack provider: restoring snapshot "${group.name}" of ${what}: expected it ready, found it ${
          snapshot.error ?? "still being taken"
        }`,
      );
    }
    const vm = await settleVm(context, tracked, { signal });
    if (vm.state !== "Stopped") throw mustStopFirst(what, group.name, vm.state);
    const { data, root } = await attachedVolumes(context, tracked, signal);
    const attached = new Set([...data, ...(root ? [root] : [])].map((volume) => volume.uuid));
    logAction(context, tracked, `restore of snapshot "${group.name}" requested`);
    for (const part of group.parts) {
      if (!attached.has(part.volumeUuid)) {
        logAction(
          context,
          tracked,
          `volume ${part.volumeUuid} is no longer attached: left as it is`,
        );
        continue;
      }
      try {
        await context.client.call("PUT", `${volumeSnapshots.path}/${part.uuid}/actions`, {
          body: { revertVolumeFromSnapshot: {} },
          schema: emptyReplySchema,
          signal,
        });
      } catch (error) {
        if (
          error instanceof ZStackApiError &&
          /not in Stopped state/i.test(describeErrorCode(error.error))
        ) {
          throw mustStopFirst(what, group.name, tracked.vm.state);
        }
        throw error;
      }
    }
    logAction(context, tracked, `disks reverted to snapshot "${group.name}"`);
  } catch (error) {
    throw toProviderError(
      error,
      `zstack provider: restoring snapshot ${options.snapshotId} of ${what}`,
    );
  }
}

/** Deletes snapshot `snapshotId` (every part, root last); `NotFoundError` when it is gone. */
export async function deleteSnapshot(
  context: VmActionContext,
  tracked: TrackedVm,
  options: { snapshotId: string; signal: AbortSignal },
): Promise<void> {
  const { signal } = options;
  const what = describeVm(tracked);
  try {
    const group = await groupById(context, tracked, options);
    logAction(context, tracked, `delete of snapshot "${group.name}" requested`);
    for (const part of group.parts) {
      await context.client.call("DELETE", `${volumeSnapshots.path}/${part.uuid}`, {
        schema: emptyReplySchema,
        signal,
      });
    }
  } catch (error) {
    throw toProviderError(
      error,
      `zstack provider: deleting snapshot ${options.snapshotId} of ${what}`,
    );
  }
}
