/**
 * Snapshots of the VM behind a pod: `CreateSnapshot_Task` (disks only, no memory, not
 * quiesced), the VM's `snapshot` tree to list them, `RevertToSnapshot_Task` to restore one
 * (the VM must be powered off, so a restore never rewinds a running guest), and
 * `RemoveSnapshot_Task` (children kept) to delete one. A snapshot's id is its managed
 * object id. Names are the key of idempotence: a create finds a snapshot of that name, or
 * waits for a snapshot task still running on the VM (an agent killed mid-create) and
 * looks again, before taking one.
 *
 * @module
 */

import {
  InvalidInputError,
  NotFoundError,
  type VirtualMachineSnapshot,
} from "../../lib/provider.ts";
import { isFault, toProviderError } from "./faults.ts";
import {
  activeTasks,
  describeVm,
  reread,
  resultRef,
  type VmActionContext,
  vmTask,
  waitForActive,
} from "./vm_action.ts";
import type { SnapshotNode, VmRecord } from "./vm_record.ts";
import type { TrackedPod } from "./vm_tracker.ts";
import { textElement } from "./xml.ts";

/** The contract's view of a snapshot node. */
export function snapshotOf(node: SnapshotNode): VirtualMachineSnapshot {
  return { id: node.ref.value, name: node.name, createdAt: node.createTime, ready: true };
}

function byName(vm: VmRecord, name: string): SnapshotNode | undefined {
  return vm.snapshots.find((node) => node.name === name);
}

/** Takes the snapshot `name` once and resolves with it (see the module documentation). */
export async function createSnapshot(
  context: VmActionContext,
  tracked: TrackedPod,
  name: string,
  signal: AbortSignal,
): Promise<VirtualMachineSnapshot> {
  const what = describeVm(tracked);
  try {
    let vm = await reread(context, tracked, signal);
    const existing = byName(vm, name);
    if (existing) return snapshotOf(existing);
    const running = await activeTasks(context, vm.ref, ["VirtualMachine.createSnapshot"], signal);
    if (running.length > 0) {
      tracked.log.append(`snapshot ${name} requested: a snapshot is being taken; waiting for it`);
      await waitForActive(context, running, signal);
      vm = await reread(context, tracked, signal);
      const taken = byName(vm, name);
      if (taken) return snapshotOf(taken);
    }
    tracked.log.append(`snapshot ${name} requested`);
    const result = await vmTask(
      context,
      "CreateSnapshot_Task",
      vm.ref,
      textElement("name", name) + textElement("description", "taken by vkedge") +
        textElement("memory", false) + textElement("quiesce", false),
      signal,
    );
    vm = await reread(context, tracked, signal);
    const ref = resultRef(result);
    const node = vm.snapshots.find((candidate) => candidate.ref.value === ref?.value) ??
      byName(vm, name);
    if (node === undefined) {
      throw new Error(
        `expected snapshot ${name} in the VM's snapshot tree, found ${
          vm.snapshots.map((s) => s.name).join(", ") || "none"
        }`,
      );
    }
    tracked.log.append(`snapshot ${name} taken (${node.ref.value})`);
    return snapshotOf(node);
  } catch (error) {
    throw toProviderError(error, `vsphere provider: snapshot ${name} of ${what}`);
  }
}

/** Every snapshot of the VM. */
export async function listSnapshots(
  context: VmActionContext,
  tracked: TrackedPod,
  signal: AbortSignal,
): Promise<VirtualMachineSnapshot[]> {
  const vm = await reread(context, tracked, signal);
  return vm.snapshots.map(snapshotOf);
}

function nodeOf(vm: VmRecord, id: string, what: string): SnapshotNode {
  const node = vm.snapshots.find((candidate) => candidate.ref.value === id);
  if (node === undefined) {
    throw new NotFoundError(
      `vsphere provider: ${what} has no snapshot ${id}; it has ${
        vm.snapshots.map((s) => `${s.name} (${s.ref.value})`).join(", ") || "none"
      }`,
    );
  }
  return node;
}

/** Reverts the powered-off VM to snapshot `id`. */
export async function restoreSnapshot(
  context: VmActionContext,
  tracked: TrackedPod,
  id: string,
  signal: AbortSignal,
): Promise<void> {
  const what = describeVm(tracked);
  try {
    const vm = await reread(context, tracked, signal);
    const node = nodeOf(vm, id, what);
    if (vm.power !== "poweredOff") {
      throw new InvalidInputError(
        `vsphere provider: cannot restore ${what} to snapshot ${node.name}: expected it powered off, found it ${vm.power}; stop it first`,
      );
    }
    tracked.log.append(`restore requested: revert to snapshot ${node.name} (${id})`);
    await vmTask(
      context,
      "RevertToSnapshot_Task",
      node.ref,
      textElement("suppressPowerOn", true),
      signal,
    );
    await reread(context, tracked, signal);
  } catch (error) {
    throw toProviderError(error, `vsphere provider: restoring ${what} to snapshot ${id}`);
  }
}

/** Deletes snapshot `id` (its children stay); `NotFoundError` when it is gone. */
export async function deleteSnapshot(
  context: VmActionContext,
  tracked: TrackedPod,
  id: string,
  signal: AbortSignal,
): Promise<void> {
  const what = describeVm(tracked);
  try {
    const vm = await reread(context, tracked, signal);
    const node = nodeOf(vm, id, what);
    tracked.log.append(`snapshot ${node.name} (${id}) deleted`);
    await vmTask(
      context,
      "RemoveSnapshot_Task",
      node.ref,
      textElement("removeChildren", false),
      signal,
    )
      .catch((error) => {
        if (!isFault(error, "ManagedObjectNotFound")) throw error;
      });
    await reread(context, tracked, signal);
  } catch (error) {
    throw toProviderError(error, `vsphere provider: deleting snapshot ${id} of ${what}`);
  }
}
