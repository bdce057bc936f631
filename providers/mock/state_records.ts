/**
 * The records the mock provider keeps of its pods, their containers and VMs, and its
 * volumes: what the state file saves (`state_codec.ts` gives their JSON form) and what
 * the rest of the mock works on in memory.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";

/** One run of a container: what `ContainerStatus.state` is computed from. */
export interface ContainerInstance {
  image: string;
  imageId: string;
  containerId: string;
  /** Milliseconds since the epoch. */
  startedAt: number;
  /** Milliseconds since the epoch; absent while running. */
  finishedAt?: number;
  /** The exit code of a run that ended (0 when absent). */
  exitCode?: number;
  exitReason?: string;
  exitMessage?: string;
}

/** A container of a mock pod with its current and previous run. */
export interface ContainerRecord {
  name: string;
  kind: "init" | "sidecar" | "app";
  current: ContainerInstance;
  previous?: ContainerInstance;
  restartCount: number;
}

/** The power states a VM rests in; `VmTransition` covers the ones in between. */
export type RestingPower = "Running" | "Stopped";

/** An action in progress on a VM: its power state until `until`, then `power` on `host`. */
export interface VmTransition {
  /** The power state while it lasts. */
  during: "Starting" | "Stopping" | "Rebooting" | "Migrating";
  /** When it ends (milliseconds since the epoch). */
  until: number;
  /** The power state it ends in. */
  power: RestingPower;
  /** The host it ends on. */
  host: string;
}

/** A snapshot of a VM's disks. */
export interface SnapshotRecord {
  id: string;
  name: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** When taking it ends (milliseconds since the epoch). */
  readyAt: number;
  /** Whether taking it has ended. */
  ready: boolean;
  /** The disk generation it holds, which a restore brings back. */
  diskGeneration: number;
}

/** The VM actions the mock counts, so tests can tell that one happened exactly once. */
export type VmOperation =
  | "start"
  | "stop"
  | "restart"
  | "snapshot"
  | "restore"
  | "deleteSnapshot"
  | "migrate";

/** How many times each action was carried out on one VM (repeats that did nothing excluded). */
export type VmOperationCounts = Record<VmOperation, number>;

/** The simulated VM behind a mock pod. */
export interface VirtualMachineRecord {
  /** Its identifier (a uuid), kept for the VM's whole life, across pod objects. */
  id: string;
  /** The power state it rests in, or will once `transition` ends. */
  power: RestingPower;
  /** The host it runs on (the source host while migrating). */
  host: string;
  /** When its current power state began (milliseconds since the epoch). */
  since: number;
  /** The action in progress, if any. */
  transition?: VmTransition;
  /** Counts the boots on these disks; a restore sets it back to the snapshot's. */
  diskGeneration: number;
  /** The snapshot the disks were last reverted to. */
  restoredFrom?: string;
  snapshots: SnapshotRecord[];
  operations: VmOperationCounts;
}

/** The volume actions the mock counts, so tests can tell that one happened exactly once. */
export type VolumeOperation = "create" | "delete" | "expand" | "attach" | "detach";

/** How many times each volume action was carried out (repeats that did nothing excluded). */
export type VolumeOperationCounts = Record<VolumeOperation, number>;

/** One volume of the mock provider. */
export interface SavedVolume {
  /** Its identifier (a uuid). */
  id: string;
  /** The name it was created for (`VolumeRequest.name`). */
  name: string;
  /** The claim, `namespace/name`. */
  claim: string;
  sizeBytes: number;
  accessModes: string[];
  /** The disk offering it was made from. */
  diskOffering: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** When creating it ends (milliseconds since the epoch). */
  readyAt: number;
  /** The id of the VM it is attached to, if any. */
  attachedVm?: string;
}

/** Everything the state file keeps. */
export interface SavedState {
  pods: SavedPod[];
  volumes: SavedVolume[];
  volumeOperations: VolumeOperationCounts;
}

/** What the state file keeps of one pod; its status is computed from it. */
export interface SavedPod {
  /** The pod as created or last updated, without status. */
  pod: Pod;
  /** Pod IP as an unsigned 32-bit integer. */
  ip: number;
  /** Milliseconds since the epoch. */
  startTime: number;
  containers: ContainerRecord[];
  /** CPU time of container runs that ended, in nanoseconds. */
  retiredCpuNanoSeconds: number;
  /** Its VM; absent in files written before the mock simulated VMs. */
  vm?: VirtualMachineRecord;
}

/** No volume action carried out yet. */
export function noVolumeOperations(): VolumeOperationCounts {
  return { create: 0, delete: 0, expand: 0, attach: 0, detach: 0 };
}
