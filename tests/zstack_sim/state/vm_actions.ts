/**
 * What the VM actions do once a VM exists: start, stop, reboot, pause, resume, destroy
 * (Delay policy), recover, expunge (also when `vm/expungePeriod` is over), migrate, update
 * and change offering, each checked against the state table and run in the VM's sync
 * queue, with host capacity and IPs following the VM.
 *
 * @module
 */

import { invalidArgument, operationError, resourceNotFound } from "../errors.ts";
import type { Host, VmInstance, VmInstanceView, VmState } from "../inventory.ts";
import {
  allocateHost,
  fits,
  hostsFor,
  migrationTargets,
  noHost,
  placeOnHost,
  release,
  reserve,
  resize,
} from "./hosts.ts";
import { assignIp, releaseIps } from "./ipam.ts";
import { getVm, vmView } from "./lookup.ts";
import { type NameChanges, rename } from "./rename.ts";
import type { SimState } from "./store.ts";
import { deleteTagsOf } from "./tags.ts";
import { checkState, setState, type VmOperation } from "./vm_states.ts";
import { clearAttachment, deleteVolume, removeVolume } from "./volumes.ts";

/** Where StartVmInstance may place the VM. */
export interface StartOptions {
  hostUuid?: string;
  clusterUuid?: string;
}

/** What UpdateVmInstance may change (CPUs and memory only when the host has room). */
export interface VmChanges extends NameChanges {
  cpuNum?: number;
  memorySize?: number;
}

/** StartVmInstance; Running is a no-op. */
export function startVm(
  state: SimState,
  uuid: string,
  options: StartOptions = {},
): Promise<VmInstanceView> {
  const vm = getVm(state, uuid);
  return state.serial(uuid, async () => {
    checkState(vm, "StartVmInstance");
    if (vm.state === "Running") return vmView(state, vm);
    let candidates = hostsFor(state, {
      zoneUuid: vm.zoneUuid,
      clusterUuid: options.clusterUuid ?? vm.clusterUuid,
      hostUuid: options.hostUuid,
    });
    if (options.hostUuid !== undefined && !state.hosts.has(options.hostUuid)) {
      throw resourceNotFound("hostUuid", options.hostUuid, "HostVO");
    }
    if (candidates.length === 0 && options.hostUuid === undefined) {
      candidates = hostsFor(state, { zoneUuid: vm.zoneUuid });
    }
    placeOnHost(vm, allocateHost(candidates, vm, { preferred: vm.lastHostUuid }));
    setState(vm, "Starting");
    await state.pause("boot");
    setState(vm, "Running");
    return vmView(state, vm);
  });
}

/** How StopVmInstance stops: asking the guest to shut down, or cutting the power. */
export type StopType = "grace" | "cold";

/**
 * StopVmInstance; Stopped is a no-op. A graceful stop asks the guest to shut down; when
 * the guest ignores it, the KVM agent waits `guestShutdownTimeoutMs` and then cuts the
 * power itself, as its graceful stop does. A cold stop cuts the power at once. Like every
 * action on the VM it waits its turn in the VM's sync queue.
 */
export function stopVm(
  state: SimState,
  uuid: string,
  options: { type?: StopType } = {},
): Promise<VmInstanceView> {
  const vm = getVm(state, uuid);
  return state.serial(uuid, async () => {
    checkState(vm, "StopVmInstance");
    if (vm.state === "Stopped") return vmView(state, vm);
    setState(vm, "Stopping");
    const ignored = (options.type ?? "grace") === "grace" &&
      state.guestsIgnoringShutdown.has(uuid);
    await state.pause(ignored ? "guestShutdownTimeout" : "transition");
    release(state, vm);
    setState(vm, "Stopped");
    return vmView(state, vm);
  });
}

/** One transitional state an action passes through, and where it ends. */
interface Transition {
  operation: VmOperation;
  via: VmState;
  to: VmState;
  duration: "boot" | "transition";
}

/**
 * An action that only moves the VM through one transitional state: checked against the
 * state table, serialised per VM, `via` for the boot or transition time, then `to`.
 */
function transition(state: SimState, uuid: string, step: Transition): Promise<VmInstanceView> {
  const vm = getVm(state, uuid);
  return state.serial(uuid, async () => {
    checkState(vm, step.operation);
    setState(vm, step.via);
    await state.pause(step.duration);
    setState(vm, step.to);
    return vmView(state, vm);
  });
}

/** RebootVmInstance. */
export function rebootVm(state: SimState, uuid: string): Promise<VmInstanceView> {
  return transition(state, uuid, {
    operation: "RebootVmInstance",
    via: "Rebooting",
    to: "Running",
    duration: "boot",
  });
}

/** PauseVmInstance. */
export function pauseVm(state: SimState, uuid: string): Promise<VmInstanceView> {
  return transition(state, uuid, {
    operation: "PauseVmInstance",
    via: "Pausing",
    to: "Paused",
    duration: "transition",
  });
}

/** ResumeVmInstance. */
export function resumeVm(state: SimState, uuid: string): Promise<VmInstanceView> {
  return transition(state, uuid, {
    operation: "ResumeVmInstance",
    via: "Resuming",
    to: "Running",
    duration: "transition",
  });
}

/** Removes a VM with its NICs, root volume (and its snapshots) and tags; data volumes stay. */
function removeVm(state: SimState, vm: VmInstance): void {
  release(state, vm);
  for (const [uuid, nic] of state.nics) {
    if (nic.vmInstanceUuid === vm.uuid) state.nics.delete(uuid);
  }
  for (const [uuid, volume] of state.volumes) {
    if (volume.vmInstanceUuid !== vm.uuid) continue;
    if (volume.type === "Root") removeVolume(state, uuid);
    else clearAttachment(volume);
  }
  deleteTagsOf(state, vm.uuid);
  state.destroyedAt.delete(vm.uuid);
  state.vms.delete(vm.uuid);
}

/**
 * DestroyVmInstance under the Delay deletion policy: the VM stays Destroyed (and
 * queryable) until expunged, its host capacity and IPs are released and data volumes
 * are detached (deleted instead under `dataVolume.deleteOnVmDestroy`). A missing uuid
 * succeeds; a Created VM is removed at once.
 */
export function destroyVm(state: SimState, uuid: string): Promise<void> {
  const vm = state.vms.get(uuid);
  if (!vm) return Promise.resolve();
  return state.serial(uuid, async () => {
    if (!state.vms.has(uuid) || vm.state === "Destroyed") return;
    checkState(vm, "DestroyVmInstance");
    if (vm.state === "Created") {
      removeVm(state, vm);
      return;
    }
    setState(vm, "Destroying");
    await state.pause("transition");
    release(state, vm);
    releaseIps(state, uuid);
    const now = new Date();
    for (const volume of state.volumes.values()) {
      if (volume.vmInstanceUuid !== uuid || volume.type !== "Data") continue;
      if (state.globalConfig.dataVolumeDeleteOnVmDestroy) {
        deleteVolume(state, volume.uuid);
        continue;
      }
      clearAttachment(volume);
      volume.lastDetachDate = now;
    }
    setState(vm, "Destroyed");
    state.destroyedAt.set(uuid, Date.now());
  });
}

/** Removes Destroyed VMs whose expunge period is over (vm/expungePeriod). */
export function expungeOverdue(state: SimState, now = Date.now()): void {
  for (const [uuid, destroyedAt] of state.destroyedAt) {
    if (now - destroyedAt < state.timing.vmExpungeSeconds * 1000) continue;
    const vm = state.vms.get(uuid);
    if (vm?.state === "Destroyed") removeVm(state, vm);
    state.destroyedAt.delete(uuid);
  }
}

/** RecoverVmInstance: Destroyed becomes Stopped, with its IPs allocated again. */
export function recoverVm(state: SimState, uuid: string): Promise<VmInstanceView> {
  const vm = getVm(state, uuid);
  return state.serial(uuid, () => {
    checkState(vm, "RecoverVmInstance");
    for (const nic of state.nics.values()) {
      if (nic.vmInstanceUuid === uuid) assignIp(state, nic);
    }
    state.destroyedAt.delete(uuid);
    setState(vm, "Stopped");
    return Promise.resolve(vmView(state, vm));
  });
}

/** ExpungeVmInstance: removes a Destroyed VM with its NICs, root volume and tags. */
export function expungeVm(state: SimState, uuid: string): Promise<void> {
  const vm = getVm(state, uuid);
  return state.serial(uuid, async () => {
    checkState(vm, "ExpungeVmInstance");
    setState(vm, "Expunging");
    await state.pause("transition");
    removeVm(state, vm);
  });
}

function migrationTarget(state: SimState, vm: VmInstance, hostUuid: string | undefined): Host {
  if (hostUuid === undefined) {
    const candidates = migrationTargets(state, vm);
    if (candidates.length === 0) throw noHost(vm);
    return allocateHost(candidates, vm);
  }
  const host = state.hosts.get(hostUuid);
  if (!host) throw resourceNotFound("hostUuid", hostUuid, "HostVO");
  if (host.uuid === vm.hostUuid) {
    throw invalidArgument(`the vm[uuid:${vm.uuid}] is already on host[uuid:${hostUuid}]`);
  }
  if (host.clusterUuid !== vm.clusterUuid) {
    throw operationError(
      `host[uuid:${hostUuid}] is not in the cluster[uuid:${vm.clusterUuid}] of vm[uuid:${vm.uuid}]`,
    );
  }
  if (!fits(host, vm)) throw noHost(vm);
  return host;
}

/** MigrateVm: live migration to `hostUuid` or to the best other host of the cluster. */
export function migrateVm(
  state: SimState,
  uuid: string,
  options: { hostUuid?: string } = {},
): Promise<VmInstanceView> {
  const vm = getVm(state, uuid, { field: "vmInstanceUuid" });
  return state.serial(uuid, async () => {
    checkState(vm, "MigrateVm");
    const target = migrationTarget(state, vm, options.hostUuid);
    const before = vm.state;
    reserve(target, vm);
    setState(vm, "Migrating");
    await state.pause("transition");
    release(state, vm);
    vm.hostUuid = target.uuid;
    vm.lastHostUuid = target.uuid;
    setState(vm, before === "Paused" ? "Paused" : "Running");
    return vmView(state, vm);
  });
}

/** UpdateVmInstance: name, description, cpuNum and memorySize. */
export function updateVm(
  state: SimState,
  uuid: string,
  changes: VmChanges,
): Promise<VmInstanceView> {
  const vm = getVm(state, uuid);
  return state.serial(uuid, () => {
    rename(vm, changes);
    if (changes.cpuNum !== undefined || changes.memorySize !== undefined) {
      resize(state, vm, {
        cpuNum: changes.cpuNum ?? vm.cpuNum,
        memorySize: changes.memorySize ?? vm.memorySize,
      });
    }
    return Promise.resolve(vmView(state, vm));
  });
}

/** ChangeInstanceOffering: the VM takes the offering's CPUs and memory. */
export function changeInstanceOffering(
  state: SimState,
  uuid: string,
  options: { instanceOfferingUuid: string },
): Promise<VmInstanceView> {
  const { instanceOfferingUuid } = options;
  const vm = getVm(state, uuid, { field: "vmInstanceUuid" });
  return state.serial(uuid, () => {
    checkState(vm, "ChangeInstanceOffering");
    const offering = state.instanceOfferings.get(instanceOfferingUuid);
    if (!offering) {
      throw resourceNotFound("instanceOfferingUuid", instanceOfferingUuid, "InstanceOfferingVO");
    }
    resize(state, vm, offering);
    vm.instanceOfferingUuid = offering.uuid;
    vm.lastOpDate = new Date();
    return Promise.resolve(vmView(state, vm));
  });
}

/** Makes the guest of VM `uuid` ignore (or obey) the shutdown of graceful stops: for tests. */
export function ignoreGuestShutdown(state: SimState, uuid: string, ignores: boolean): void {
  getVm(state, uuid);
  if (ignores) state.guestsIgnoringShutdown.add(uuid);
  else state.guestsIgnoringShutdown.delete(uuid);
}

/** Sets a VM's state directly, as a host sync would (Crashed, Unknown, ...): for tests. */
export function forceVmState(state: SimState, uuid: string, options: { to: VmState }): void {
  const vm = getVm(state, uuid);
  if (["Stopped", "Created", "Destroyed"].includes(options.to)) release(state, vm);
  setState(vm, options.to);
}
