/**
 * The VM state machine's table, as `AbstractVmInstance` has it: the states each operation
 * is allowed in, the API message class named when it is not (SYS.1006 caused by VM.1010),
 * and the one place a VM's state changes.
 *
 * @module
 */

import { errorCode, operationError } from "../errors.ts";
import type { VmInstance, VmState } from "../inventory.ts";

/** The operations the state table of `AbstractVmInstance` governs. */
export type VmOperation =
  | "StartVmInstance"
  | "StopVmInstance"
  | "RebootVmInstance"
  | "MigrateVm"
  | "PauseVmInstance"
  | "ResumeVmInstance"
  | "RecoverVmInstance"
  | "ExpungeVmInstance"
  | "DestroyVmInstance"
  | "GetVmConsoleAddress"
  | "ChangeInstanceOffering"
  | "AttachDataVolumeToVm"
  | "DetachDataVolumeFromVm"
  | "ResizeDataVolume";

const TRANSIENT: VmState[] = [
  "Starting",
  "Stopping",
  "Rebooting",
  "Destroying",
  "Migrating",
  "Pausing",
  "Resuming",
  "VolumeMigrating",
  "VolumeRecovering",
];

/** Allowed states per operation; anything else is SYS.1006 caused by VM.1010. */
export const ALLOWED_STATES: Record<VmOperation, readonly VmState[]> = {
  StartVmInstance: ["Created", "Stopped", "Running", "Crashed"],
  StopVmInstance: ["Running", "Stopped", "NoState", "Unknown", "Crashed", "Paused"],
  RebootVmInstance: ["Running", "NoState", "Crashed"],
  MigrateVm: ["Running", "Unknown", "Paused"],
  PauseVmInstance: ["Running"],
  ResumeVmInstance: ["Paused"],
  RecoverVmInstance: ["Destroyed"],
  ExpungeVmInstance: ["Destroyed"],
  // Created VMs are deleted from the database directly; Destroyed is accepted as a no-op
  // (a repeated Destroy succeeds, as Destroy of a missing uuid does).
  DestroyVmInstance: [
    "Created",
    "Running",
    "Stopped",
    "Unknown",
    "Crashed",
    "Paused",
    "Error",
    "NoState",
    "Destroyed",
    ...TRANSIENT,
  ],
  GetVmConsoleAddress: ["Running", "Crashed"],
  ChangeInstanceOffering: ["Running", "Stopped", "Paused"],
  AttachDataVolumeToVm: ["Running", "Stopped", "Paused"],
  DetachDataVolumeFromVm: ["Running", "Stopped", "Paused"],
  ResizeDataVolume: ["Running", "Stopped", "Paused"],
};

const MESSAGE_CLASS: Record<VmOperation, string> = {
  StartVmInstance: "org.zstack.header.vm.APIStartVmInstanceMsg",
  StopVmInstance: "org.zstack.header.vm.APIStopVmInstanceMsg",
  RebootVmInstance: "org.zstack.header.vm.APIRebootVmInstanceMsg",
  MigrateVm: "org.zstack.header.vm.APIMigrateVmMsg",
  PauseVmInstance: "org.zstack.header.vm.APIPauseVmInstanceMsg",
  ResumeVmInstance: "org.zstack.header.vm.APIResumeVmInstanceMsg",
  RecoverVmInstance: "org.zstack.header.vm.APIRecoverVmInstanceMsg",
  ExpungeVmInstance: "org.zstack.header.vm.APIExpungeVmInstanceMsg",
  DestroyVmInstance: "org.zstack.header.vm.APIDestroyVmInstanceMsg",
  GetVmConsoleAddress: "org.zstack.header.console.APIRequestConsoleAccessMsg",
  ChangeInstanceOffering: "org.zstack.header.vm.APIChangeInstanceOfferingMsg",
  AttachDataVolumeToVm: "org.zstack.header.volume.APIAttachDataVolumeToVmMsg",
  DetachDataVolumeFromVm: "org.zstack.header.volume.APIDetachDataVolumeFromVmMsg",
  ResizeDataVolume: "org.zstack.header.volume.APIResizeDataVolumeMsg",
};

/** Throws SYS.1006 caused by VM.1010 unless `vm` is in a state that allows `operation`. */
export function checkState(vm: VmInstance, operation: VmOperation): void {
  const allowed = ALLOWED_STATES[operation];
  if (allowed.includes(vm.state)) return;
  const details = `current vm instance state[${vm.state}] doesn't allow to proceed message[${
    MESSAGE_CLASS[operation]
  }], allowed states are [${allowed.join(", ")}]`;
  throw operationError(details, errorCode("VM.1010", details));
}

/** Moves `vm` to `state`, stamping `lastOpDate`. */
export function setState(vm: VmInstance, state: VmState): void {
  vm.state = state;
  vm.lastOpDate = new Date();
}
