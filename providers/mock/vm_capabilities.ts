/**
 * The VMs and volumes of the mock as the contract names them: power, snapshots and
 * migration of the VM behind a pod (`vm_simulator.ts`), and volumes attached to those VMs
 * (`volumes.ts`), each finding the record whose VM serves the pod.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import {
  NotFoundError,
  type ProvisionedVolume,
  type StopOptions,
  type VirtualMachineMigration,
  type VirtualMachinePower,
  type VirtualMachineSnapshot,
  type VirtualMachineSnapshots,
  type VolumeProvisioner,
  type VolumeRequest,
} from "../../lib/provider.ts";
import { podKey } from "../../lib/provider_kit/mod.ts";
import type { PodRecord, PodRecords } from "./pod_records.ts";
import type { VmOperationCounts, VolumeOperationCounts } from "./state_file.ts";
import type { MockVirtualMachineState } from "./virtual_machine.ts";
import type { VmSimulator } from "./vm_simulator.ts";
import type { MockVolumes } from "./volumes.ts";

/** What the VM capabilities act on. */
export interface MockVmCapabilitiesOptions {
  /** The pods, whose records hold their VMs. */
  pods: PodRecords;
  /** The simulated VMs. */
  vms: VmSimulator;
  /** The volumes. */
  volumes: MockVolumes;
}

/** Power, snapshots and migration of the VM behind a pod, and the volumes of those VMs. */
export class MockVmCapabilities
  implements
    VirtualMachinePower,
    VirtualMachineSnapshots,
    VirtualMachineMigration,
    VolumeProvisioner {
  readonly #pods: PodRecords;
  readonly #vms: VmSimulator;
  readonly #volumes: MockVolumes;

  /** Acts on the VMs and volumes of `options`. */
  constructor(options: MockVmCapabilitiesOptions) {
    this.#pods = options.pods;
    this.#vms = options.vms;
    this.#volumes = options.volumes;
  }

  // -- VirtualMachinePower -------------------------------------------------

  /** Returns the power state, host and id of the pod's VM, and the disk generation. */
  getVirtualMachineState(pod: Pod, signal: AbortSignal): Promise<MockVirtualMachineState> {
    return Promise.try(() => {
      signal.throwIfAborted();
      return this.#vms.state(this.#vmRecord(pod));
    });
  }

  /** Powers the VM on (Starting for `vm.powerDelayMs`, then Running with the same IP). */
  async startVirtualMachine(pod: Pod, signal: AbortSignal): Promise<void> {
    await this.#vms.start(this.#vmRecord(pod), signal);
  }

  /** Powers the VM off: the pod stays Running but not Ready, its containers `VMStopped`. */
  async stopVirtualMachine(pod: Pod, options: StopOptions, signal: AbortSignal): Promise<void> {
    await this.#vms.stop(this.#vmRecord(pod), options, signal);
  }

  /** Reboots the running VM; every container starts a new run. */
  async restartVirtualMachine(
    pod: Pod,
    options: StopOptions,
    signal: AbortSignal,
  ): Promise<void> {
    await this.#vms.restart(this.#vmRecord(pod), options, signal);
  }

  /**
   * How many times each VM action was carried out on the VM of pod `namespace/name`
   * (repeats that found the action done excluded), kept in the state file; `undefined`
   * for a pod the mock does not run.
   */
  vmOperations(namespace: string, name: string): VmOperationCounts | undefined {
    const record = this.#pods.get(namespace, name);
    return record === undefined ? undefined : this.#vms.operations(record);
  }

  // -- VirtualMachineSnapshots ----------------------------------------------

  /** Takes (or finds) the snapshot `options.name`, ready after `vm.snapshotDelayMs`. */
  async createVirtualMachineSnapshot(
    pod: Pod,
    options: { name: string },
    signal: AbortSignal,
  ): Promise<VirtualMachineSnapshot> {
    return await this.#vms.createSnapshot(this.#vmRecord(pod), options.name, signal);
  }

  /** Lists the VM's snapshots, in the order they were taken. */
  listVirtualMachineSnapshots(pod: Pod, signal: AbortSignal): Promise<VirtualMachineSnapshot[]> {
    return Promise.try(() => {
      signal.throwIfAborted();
      return this.#vms.listSnapshots(this.#vmRecord(pod));
    });
  }

  /** Reverts the stopped VM's disks to the snapshot (its disk generation becomes the snapshot's). */
  async restoreVirtualMachineSnapshot(
    pod: Pod,
    snapshotId: string,
    signal: AbortSignal,
  ): Promise<void> {
    await this.#vms.restoreSnapshot(this.#vmRecord(pod), snapshotId, signal);
  }

  /** Deletes the snapshot. */
  async deleteVirtualMachineSnapshot(
    pod: Pod,
    snapshotId: string,
    signal: AbortSignal,
  ): Promise<void> {
    signal.throwIfAborted();
    await this.#vms.deleteSnapshot(this.#vmRecord(pod), snapshotId);
  }

  // -- VirtualMachineMigration ----------------------------------------------

  /** Moves the running VM to `options.targetHost` or the first other configured host. */
  async migrateVirtualMachine(
    pod: Pod,
    options: { targetHost?: string },
    signal: AbortSignal,
  ): Promise<string> {
    return await this.#vms.migrate(this.#vmRecord(pod), options.targetHost, signal);
  }

  /** The configured hosts other than the VM's. */
  listMigrationTargets(pod: Pod, signal: AbortSignal): Promise<string[]> {
    return Promise.try(() => {
      signal.throwIfAborted();
      return this.#vms.targets(this.#vmRecord(pod));
    });
  }

  // -- VolumeProvisioner ---------------------------------------------------

  /** Creates (or finds) the volume of `request`, ready after `volumes.createDelayMs`. */
  async createVolume(request: VolumeRequest, signal: AbortSignal): Promise<ProvisionedVolume> {
    return await this.#volumes.create(request, signal);
  }

  /** Returns the volume `volumeId`, or `undefined`. */
  getVolume(volumeId: string, signal: AbortSignal): Promise<ProvisionedVolume | undefined> {
    return Promise.try(() => {
      signal.throwIfAborted();
      return this.#volumes.get(volumeId);
    });
  }

  /** Lists every volume (the mock is one node's backend). */
  listVolumes(signal: AbortSignal): Promise<ProvisionedVolume[]> {
    return Promise.try(() => {
      signal.throwIfAborted();
      return this.#volumes.all();
    });
  }

  /** Deletes a detached volume. */
  async deleteVolume(volumeId: string, signal: AbortSignal): Promise<void> {
    await this.#volumes.delete(volumeId, signal);
  }

  /** Grows a volume to at least `sizeBytes` within the configured capacity. */
  async expandVolume(volumeId: string, sizeBytes: number, signal: AbortSignal): Promise<number> {
    return await this.#volumes.expand(volumeId, sizeBytes, signal);
  }

  /** Attaches a volume to the VM behind `pod`. */
  async attachVolume(volumeId: string, pod: Pod, signal: AbortSignal): Promise<void> {
    await this.#volumes.attach(volumeId, this.#vmRecord(pod).vm.id, signal);
  }

  /** Detaches a volume from the VM behind `pod`; a pod without a VM has none attached. */
  async detachVolume(volumeId: string, pod: Pod, signal: AbortSignal): Promise<void> {
    await this.#volumes.detach(volumeId, this.#pods.serving(pod)?.vm.id, signal);
  }

  /**
   * How many times each volume action was carried out (repeats that found it done
   * excluded), kept in the state file: `create` is 1 when one claim made one volume.
   */
  volumeOperations(): VolumeOperationCounts {
    return this.#volumes.operations();
  }

  /** The record whose VM serves `pod`; throws `NotFoundError` when there is none. */
  #vmRecord(pod: Pod): PodRecord {
    const record = this.#pods.serving(pod);
    if (record === undefined) {
      throw new NotFoundError(
        `mock provider: pod ${podKey(pod)} (uid "${
          pod.metadata?.uid ?? ""
        }") has no VM: the mock runs no such pod and no pod of its workload`,
      );
    }
    return record;
  }
}
