/**
 * The VM capabilities of the vsphere provider (power, snapshots, live migration) as the
 * contract names them: each finds the pod's VM, queues the action behind the others of
 * the same VM and hands it to `vm_power.ts`, `vm_snapshots.ts` or `vm_migration.ts`.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type {
  StopOptions,
  VirtualMachineMigration,
  VirtualMachinePower,
  VirtualMachineSnapshot,
  VirtualMachineSnapshots,
  VirtualMachineState,
} from "../../lib/provider.ts";
import { toProviderError } from "./faults.ts";
import { identityKey } from "./identity.ts";
import type { VmActionContext } from "./vm_action.ts";
import { migrateVm, migrationTargets } from "./vm_migration.ts";
import { powerStateOf, restartVm, startVm, stopVm, taskTransitionOf } from "./vm_power.ts";
import { createSnapshot, deleteSnapshot, listSnapshots, restoreSnapshot } from "./vm_snapshots.ts";
import type { TrackedPod } from "./vm_tracker.ts";

/** The pod's tracked VM; `NotFoundError` when this node has none for it. */
export type TrackedPodLookup = (pod: Pod, signal: AbortSignal) => Promise<TrackedPod>;

/** Power, snapshots and migration of the VM behind a pod. */
export class VmCapabilities
  implements VirtualMachinePower, VirtualMachineSnapshots, VirtualMachineMigration {
  readonly #actions: VmActionContext;
  readonly #trackedOf: TrackedPodLookup;

  /** Acts through `actions` on the VMs `trackedOf` finds. */
  constructor(actions: VmActionContext, trackedOf: TrackedPodLookup) {
    this.#actions = actions;
    this.#trackedOf = trackedOf;
  }

  // -- VirtualMachinePower -------------------------------------------------

  /** Returns the power state, host name and managed-object id of the VM behind `pod`. */
  async getVirtualMachineState(pod: Pod, signal: AbortSignal): Promise<VirtualMachineState> {
    const tracked = await this.#trackedOf(pod, signal);
    const transition = tracked.transition ??
      await taskTransitionOf(this.#actions, tracked, signal).catch((error) => {
        throw toProviderError(
          error,
          `vsphere provider: reading the tasks of pod ${identityKey(tracked.identity)}`,
        );
      });
    const vm = tracked.vm!;
    const host = this.#actions.tracker.hostName(vm.host);
    return {
      power: powerStateOf(vm, transition),
      ...(host ? { host } : {}),
      id: vm.ref.value,
    };
  }

  /** Powers the VM on and resolves once it runs. */
  async startVirtualMachine(pod: Pod, signal: AbortSignal): Promise<void> {
    const tracked = await this.#trackedOf(pod, signal);
    await this.#actions.serialize(
      identityKey(tracked.identity),
      () => startVm(this.#actions, tracked, signal),
    );
  }

  /** Shuts the guest down (power off after the grace period), or cuts the power with `force`. */
  async stopVirtualMachine(pod: Pod, options: StopOptions, signal: AbortSignal): Promise<void> {
    const tracked = await this.#trackedOf(pod, signal);
    await this.#actions.serialize(
      identityKey(tracked.identity),
      () => stopVm(this.#actions, tracked, options, signal),
    );
  }

  /** Resets the running VM. */
  async restartVirtualMachine(pod: Pod, _options: StopOptions, signal: AbortSignal): Promise<void> {
    const tracked = await this.#trackedOf(pod, signal);
    await this.#actions.serialize(
      identityKey(tracked.identity),
      () => restartVm(this.#actions, tracked, signal),
    );
  }

  // -- VirtualMachineSnapshots ----------------------------------------------

  /** Takes snapshot `options.name` of the VM (once per name) and resolves once it is ready. */
  async createVirtualMachineSnapshot(
    pod: Pod,
    options: { name: string },
    signal: AbortSignal,
  ): Promise<VirtualMachineSnapshot> {
    const tracked = await this.#trackedOf(pod, signal);
    return await this.#actions.serialize(
      identityKey(tracked.identity),
      () => createSnapshot(this.#actions, tracked, options.name, signal),
    );
  }

  /** Lists the VM's snapshots. */
  async listVirtualMachineSnapshots(
    pod: Pod,
    signal: AbortSignal,
  ): Promise<VirtualMachineSnapshot[]> {
    return await listSnapshots(this.#actions, await this.#trackedOf(pod, signal), signal);
  }

  /** Reverts the powered-off VM to snapshot `snapshotId`. */
  async restoreVirtualMachineSnapshot(
    pod: Pod,
    snapshotId: string,
    signal: AbortSignal,
  ): Promise<void> {
    const tracked = await this.#trackedOf(pod, signal);
    await this.#actions.serialize(
      identityKey(tracked.identity),
      () => restoreSnapshot(this.#actions, tracked, snapshotId, signal),
    );
  }

  /** Deletes snapshot `snapshotId`; `NotFoundError` when it is gone. */
  async deleteVirtualMachineSnapshot(
    pod: Pod,
    snapshotId: string,
    signal: AbortSignal,
  ): Promise<void> {
    const tracked = await this.#trackedOf(pod, signal);
    await this.#actions.serialize(
      identityKey(tracked.identity),
      () => deleteSnapshot(this.#actions, tracked, snapshotId, signal),
    );
  }

  // -- VirtualMachineMigration ----------------------------------------------

  /** Live-migrates the VM and resolves with the name of its new host. */
  async migrateVirtualMachine(
    pod: Pod,
    options: { targetHost?: string },
    signal: AbortSignal,
  ): Promise<string> {
    const tracked = await this.#trackedOf(pod, signal);
    return await this.#actions.serialize(
      identityKey(tracked.identity),
      () => migrateVm(this.#actions, tracked, options.targetHost, signal),
    );
  }

  /** Names the hosts the VM could be live-migrated to now. */
  async listMigrationTargets(pod: Pod, signal: AbortSignal): Promise<string[]> {
    return await migrationTargets(this.#actions, await this.#trackedOf(pod, signal), signal);
  }
}
