/**
 * The optional capabilities of a provider whose pods are virtual machines: power (on, off,
 * reboot), snapshots, live migration, and volumes (IaaS data disks attached to the VMs),
 * each a small interface with its `has*` guard like those of `provider_capabilities.ts`.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { capability } from "./_capability.ts";

/** Where a virtual machine runs and whether it is powered. */
export interface VirtualMachineState {
  /**
   * Power state as the IaaS reports it. `Stopped` is a clean power-off (by vkedge or the
   * guest); `Crashed` an unclean end (the guest crashed, the hypervisor killed it).
   */
  power:
    | "Running"
    | "Stopped"
    | "Starting"
    | "Stopping"
    | "Rebooting"
    | "Migrating"
    | "Paused"
    | "Crashed"
    | "Unknown";
  /** Host (hypervisor) the VM is on, by the name `migrateVirtualMachine` accepts, when known. */
  host?: string;
  /** The IaaS identifier of the VM (a uuid, a managed-object id), when known. */
  id?: string;
}

/** How to power a VM off. */
export interface StopOptions {
  /** Cut the power at once instead of asking the guest to shut down. */
  force?: boolean;
  /** How long the guest may take to shut down before the power is cut (provider default). */
  gracePeriodSeconds?: number;
}

/**
 * Powers the VM behind a pod on, off and through a reboot. Every method is idempotent and
 * leaves the VM and its disks in place; `NotFoundError` when the pod has no VM.
 */
export interface VirtualMachinePower {
  /** Returns the current power state and host of the VM behind `pod`. */
  getVirtualMachineState(pod: Pod, signal: AbortSignal): Promise<VirtualMachineState>;
  /** Powers the VM on and resolves once it runs; a running VM is left alone. */
  startVirtualMachine(pod: Pod, signal: AbortSignal): Promise<void>;
  /**
   * Powers the VM off, gracefully unless `options.force` (a graceful stop that outlasts
   * `gracePeriodSeconds` cuts the power), and resolves once it is off; a stopped VM is
   * left alone.
   */
  stopVirtualMachine(pod: Pod, options: StopOptions, signal: AbortSignal): Promise<void>;
  /** Reboots a running VM, gracefully unless `options.force`; `InvalidInputError` when it is off. */
  restartVirtualMachine(pod: Pod, options: StopOptions, signal: AbortSignal): Promise<void>;
}

/** A snapshot of a virtual machine. */
export interface VirtualMachineSnapshot {
  /** Provider identifier used to restore or delete it. */
  id: string;
  /** Name given at creation. */
  name: string;
  /** Creation time (RFC 3339). */
  createdAt: string;
  /** Whether it can be restored from yet (false while it is being taken). */
  ready: boolean;
  /** Set when taking it failed; the snapshot is then useless and may be deleted. */
  error?: string;
  /** Size, when known. */
  sizeBytes?: number;
}

/**
 * Snapshots of the VM behind a pod (all of its disks). Names are unique per VM and chosen
 * by the caller, which is what makes a create repeated after an agent restart safe.
 */
export interface VirtualMachineSnapshots {
  /**
   * Takes a snapshot named `options.name` and resolves once it is ready. Idempotent for
   * the same name: a snapshot of that name that exists, or is still being taken by an
   * interrupted earlier call, is waited for and returned, never taken twice.
   */
  createVirtualMachineSnapshot(
    pod: Pod,
    options: { name: string },
    signal: AbortSignal,
  ): Promise<VirtualMachineSnapshot>;
  /** Lists the VM's snapshots, so a reconcile after a restart finds what exists. */
  listVirtualMachineSnapshots(pod: Pod, signal: AbortSignal): Promise<VirtualMachineSnapshot[]>;
  /**
   * Reverts the VM's disks to the snapshot `snapshotId`. The VM must be stopped
   * (`InvalidInputError` otherwise); reverting twice to the same snapshot is harmless.
   */
  restoreVirtualMachineSnapshot(pod: Pod, snapshotId: string, signal: AbortSignal): Promise<void>;
  /** Deletes the snapshot `snapshotId`; throws `NotFoundError` if it is gone. */
  deleteVirtualMachineSnapshot(pod: Pod, snapshotId: string, signal: AbortSignal): Promise<void>;
}

/** Moves the VM behind a pod to another host. */
export interface VirtualMachineMigration {
  /**
   * Live-migrates the running VM, to `targetHost` or a host the IaaS picks, and resolves
   * with the new host once it runs there. `InvalidInputError` when `targetHost` is unknown
   * or cannot take the VM, or the VM is not running; `ResourceExhaustedError`
   * (`capacity`) when no host can take it.
   */
  migrateVirtualMachine(
    pod: Pod,
    options: { targetHost?: string },
    signal: AbortSignal,
  ): Promise<string>;
  /** Hosts the VM could be migrated to now (the names `targetHost` accepts). */
  listMigrationTargets(pod: Pod, signal: AbortSignal): Promise<string[]>;
}

// ---------------------------------------------------------------------------
// Volumes
// ---------------------------------------------------------------------------

/** What to create for a PersistentVolumeClaim. */
export interface VolumeRequest {
  /**
   * Name to give the volume: the PV name, `pvc-<claim UID>`. The key of idempotence: a create
   * repeated after an agent crash (also while the first create's IaaS job runs) finds the
   * volume of that name instead of making a second one.
   */
  name: string;
  /** Requested size. */
  sizeBytes: number;
  /** StorageClass parameters (a disk offering, a primary storage, …, as the provider names them). */
  parameters: Record<string, string>;
  /** Requested access modes, such as `ReadWriteOnce`; the agent passes only ones a disk can give. */
  accessModes: string[];
  /** The claim, `namespace/name`, for the volume's description and tags. */
  claim: string;
}

/** A volume as the provider knows it. */
export interface ProvisionedVolume {
  /** Provider identifier. */
  id: string;
  /** The `VolumeRequest.name` it was created for. */
  name: string;
  /** Actual size. */
  sizeBytes: number;
  /** Pods (`namespace/name`) whose VMs have it attached. */
  attachedTo: string[];
  /** Whether it is usable (false while the IaaS still creates it). */
  ready: boolean;
  /** Provider-specific attributes recorded on the PV (CSI-style volume attributes). */
  attributes?: Record<string, string>;
}

/**
 * Creates IaaS volumes (data disks) for PVCs and attaches them to the VMs behind pods. A
 * volume outlives the VMs it is attached to: deleting a pod's VM detaches its volumes and
 * leaves them in place.
 */
export interface VolumeProvisioner {
  /**
   * Creates a volume and resolves once it is ready; idempotent for the same `request.name`.
   * `InvalidInputError` for parameters that name nothing (an unknown disk offering),
   * `ResourceExhaustedError` when there is no room.
   */
  createVolume(request: VolumeRequest, signal: AbortSignal): Promise<ProvisionedVolume>;
  /** Returns the volume `volumeId`, or `undefined` if it does not exist. */
  getVolume(volumeId: string, signal: AbortSignal): Promise<ProvisionedVolume | undefined>;
  /** Lists the volumes this node's agent created, so a reconcile after a restart finds them. */
  listVolumes(signal: AbortSignal): Promise<ProvisionedVolume[]>;
  /** Deletes (and where the IaaS has it, expunges) a detached volume; `NotFoundError` if it is gone. */
  deleteVolume(volumeId: string, signal: AbortSignal): Promise<void>;
  /** Grows a volume to at least `sizeBytes`; resolves with the new size. Never shrinks. */
  expandVolume(volumeId: string, sizeBytes: number, signal: AbortSignal): Promise<number>;
  /** Attaches a volume to the VM behind `pod`; attached already is fine. */
  attachVolume(volumeId: string, pod: Pod, signal: AbortSignal): Promise<void>;
  /** Detaches a volume from the VM behind `pod`; detached already is fine. */
  detachVolume(volumeId: string, pod: Pod, signal: AbortSignal): Promise<void>;
}

// ---------------------------------------------------------------------------
// Guards
// ---------------------------------------------------------------------------

/** Tells whether the provider powers the VMs behind pods on and off. */
export const hasVirtualMachinePower = capability<VirtualMachinePower>(
  "getVirtualMachineState",
  "startVirtualMachine",
  "stopVirtualMachine",
  "restartVirtualMachine",
);

/** Tells whether the provider snapshots the VMs behind pods. */
export const hasVirtualMachineSnapshots = capability<VirtualMachineSnapshots>(
  "createVirtualMachineSnapshot",
  "listVirtualMachineSnapshots",
  "restoreVirtualMachineSnapshot",
  "deleteVirtualMachineSnapshot",
);

/** Tells whether the provider migrates the VMs behind pods between hosts. */
export const hasVirtualMachineMigration = capability<VirtualMachineMigration>(
  "migrateVirtualMachine",
  "listMigrationTargets",
);

/** Tells whether the provider provisions volumes. */
export const hasVolumeProvisioner = capability<VolumeProvisioner>(
  "createVolume",
  "expandVolume",
  "getVolume",
  "listVolumes",
  "deleteVolume",
  "attachVolume",
  "detachVolume",
);
