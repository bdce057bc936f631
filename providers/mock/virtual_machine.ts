/**
 * The simulated VM behind each mock pod, as data and pure functions: a new VM (its id and
 * host), the power state it shows (its resting state, or the action in progress), how an
 * action begins and ends, its snapshots as the contract shows them, and the hosts it can
 * migrate to. The waiting, saving and notifying around the actions is `vm_simulator.ts`.
 *
 * @module
 */

import type { VirtualMachineSnapshot, VirtualMachineState } from "../../lib/provider.ts";
import { formatTime } from "../../lib/provider_kit/mod.ts";
import { stableFraction } from "./stable_hash.ts";
import type {
  RestingPower,
  SnapshotRecord,
  VirtualMachineRecord,
  VmOperationCounts,
  VmTransition,
} from "./state_file.ts";

/** Every power state a mock VM shows. */
export type MockPowerState = RestingPower | VmTransition["during"];

/** The state of a mock VM: the contract's, plus where its disks are at. */
export interface MockVirtualMachineState extends VirtualMachineState {
  /** The power state (the mock's VMs never crash, pause or go unknown). */
  power: MockPowerState;
  /** Its host. */
  host: string;
  /** Its identifier. */
  id: string;
  /** Counts the boots on its disks; a restore sets it back to the snapshot's. */
  diskGeneration: number;
  /** The snapshot the disks were last reverted to. */
  restoredFrom?: string;
}

/** No action carried out yet. */
export function noOperations(): VmOperationCounts {
  return {
    start: 0,
    stop: 0,
    restart: 0,
    snapshot: 0,
    restore: 0,
    deleteSnapshot: 0,
    migrate: 0,
  };
}

/**
 * A running VM created at `now`, with a fresh id, on the host `seed` (the pod's workload
 * UID) hashes to among `hosts`.
 */
export function newVirtualMachine(
  seed: string,
  options: { hosts: readonly string[]; now: number },
): VirtualMachineRecord {
  const { hosts, now } = options;
  return {
    id: crypto.randomUUID(),
    power: "Running",
    host: hosts[Math.floor(stableFraction(`${seed}/host`) * hosts.length)],
    since: now,
    diskGeneration: 1,
    snapshots: [],
    operations: noOperations(),
  };
}

/** The power state `vm` shows: the action in progress, else the one it rests in. */
export function powerOf(vm: VirtualMachineRecord): MockPowerState {
  return vm.transition?.during ?? vm.power;
}

/** Whether the guest of `vm` is up and serving (running, or running while it migrates). */
export function isServing(vm: VirtualMachineRecord): boolean {
  const power = powerOf(vm);
  return power === "Running" || power === "Migrating";
}

/** The contract's view of `vm`. */
export function stateOf(vm: VirtualMachineRecord): MockVirtualMachineState {
  return {
    power: powerOf(vm),
    host: vm.host,
    id: vm.id,
    diskGeneration: vm.diskGeneration,
    ...(vm.restoredFrom === undefined ? {} : { restoredFrom: vm.restoredFrom }),
  };
}

/**
 * Begins the action `action` on `vm` at `now`, to end after `delayMs`; a migration keeps
 * the guest running, so it leaves `since` alone.
 */
export function beginTransition(
  vm: VirtualMachineRecord,
  action: Omit<VmTransition, "until">,
  options: { now: number; delayMs: number },
): VmTransition {
  const transition = { ...action, until: options.now + options.delayMs };
  vm.transition = transition;
  if (action.during !== "Migrating") vm.since = options.now;
  return transition;
}

/**
 * Ends the action in progress on `vm` at `now`: the VM rests in the power state and on the
 * host the action ends in, and a boot (start or reboot) counts one more disk generation.
 * Returns the action that ended, or `undefined` when none was in progress.
 */
export function endTransition(vm: VirtualMachineRecord, now: number): VmTransition | undefined {
  const transition = vm.transition;
  if (transition === undefined) return undefined;
  vm.transition = undefined;
  vm.power = transition.power;
  vm.host = transition.host;
  if (transition.during !== "Migrating") vm.since = now;
  if (transition.during === "Starting" || transition.during === "Rebooting") vm.diskGeneration++;
  return transition;
}

/** The configured hosts `vm` could be migrated to: every one but its own. */
export function migrationTargets(vm: VirtualMachineRecord, hosts: readonly string[]): string[] {
  return hosts.filter((host) => host !== vm.host);
}

/** The contract's view of a snapshot. */
export function snapshotOf(snapshot: SnapshotRecord): VirtualMachineSnapshot {
  return {
    id: snapshot.id,
    name: snapshot.name,
    createdAt: formatTime(new Date(snapshot.createdAt)),
    ready: snapshot.ready,
  };
}
