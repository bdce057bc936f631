/**
 * VirtualMachineRestore: puts the disks of a stopped VirtualMachine back to a
 * VirtualMachineSnapshot taken of it. A running VM is refused at once with a condition that
 * says how to stop it (a restore is never queued behind a later stop, which would surprise
 * whoever stops the VM next). `Progressing` is written before the provider is asked; a
 * restore found in progress after an agent restart is asked again, which is harmless:
 * reverting a stopped VM's disks to the same snapshot twice leaves them the same.
 *
 * @module
 */

import { hasVirtualMachinePower, hasVirtualMachineSnapshots, isInvalidInput } from "../provider.ts";
import { errorMessage } from "../errors.ts";
import type { OperationContext, OperationDefinition } from "./operation_controller.ts";
import {
  conditionOf,
  describeIssues,
  restoreSpecSchema,
  type RestoreStatus,
  setCondition,
  type VirtualMachineRestoreObject,
  type VirtualMachineSnapshotObject,
  VM_RESTORES,
  VM_SNAPSHOTS,
} from "./types.ts";
import { servingNode, statusTime, vmPodOf } from "./vm_runtime.ts";

type Context = OperationContext<VirtualMachineRestoreObject>;

function keyOf(object: VirtualMachineRestoreObject): string {
  return `${object.metadata!.namespace}/${object.metadata!.name}`;
}

function isFinished(status: RestoreStatus): boolean {
  return status.complete === true || conditionOf(status.conditions, "Failure")?.status === "True";
}

async function refuse(
  context: Context,
  object: VirtualMachineRestoreObject,
  reason: string,
  message: string,
  signal: AbortSignal,
): Promise<void> {
  const now = statusTime(context.runtime);
  const status = object.status ?? {};
  let conditions = setCondition(status.conditions, {
    type: "Failure",
    status: "True",
    reason,
    message,
  }, now);
  conditions = setCondition(conditions, { type: "Ready", status: "False", reason, message }, now);
  conditions = setCondition(conditions, {
    type: "Progressing",
    status: "False",
    reason,
    message,
  }, now);
  await context.writeStatus(object, { ...status, complete: false, conditions }, signal);
  context.runtime.events.record(object, "Warning", reason, message);
}

async function waiting(
  context: Context,
  object: VirtualMachineRestoreObject,
  reason: string,
  message: string,
  signal: AbortSignal,
): Promise<void> {
  const status = object.status ?? {};
  if (conditionOf(status.conditions, "Ready")?.reason === reason) return;
  const conditions = setCondition(status.conditions, {
    type: "Ready",
    status: "False",
    reason,
    message,
  }, statusTime(context.runtime));
  await context.writeStatus(object, { ...status, complete: false, conditions }, signal);
}

async function reconcile(
  context: Context,
  object: VirtualMachineRestoreObject,
  signal: AbortSignal,
): Promise<void> {
  const { runtime } = context;
  const status = object.status ?? {};
  if (object.metadata?.deletionTimestamp || isFinished(status)) return;
  const parsed = restoreSpecSchema.safeParse(object.spec ?? {});
  if (!parsed.success) {
    const message = `invalid spec: ${describeIssues(parsed.error)}; create a corrected one`;
    return await refuse(context, object, "InvalidSpec", message, signal);
  }
  const spec = parsed.data;
  const namespace = object.metadata!.namespace!;
  const vm = context.vms.get(`${namespace}/${spec.virtualMachineName}`);
  if (!vm || servingNode(vm) !== runtime.nodeName) return; // another node's, or not yet
  const provider = runtime.provider;
  if (!hasVirtualMachineSnapshots(provider) || !hasVirtualMachinePower(provider)) {
    return await refuse(
      context,
      object,
      "NotSupported",
      `provider ${provider.name} cannot restore VM snapshots`,
      signal,
    );
  }
  const snapshot = await snapshotOf(context, namespace, spec);
  if (typeof snapshot === "string") {
    return await refuse(context, object, "SnapshotUnusable", snapshot, signal);
  }
  if (snapshot === undefined || !snapshot.status?.readyToUse) {
    await waiting(
      context,
      object,
      "WaitingForSnapshot",
      `VirtualMachineSnapshot ${spec.virtualMachineSnapshotName} is not ready to use yet`,
      signal,
    );
    context.requeue(keyOf(object), 5000);
    return;
  }
  const pod = vmPodOf(runtime, vm);
  if (!pod) {
    context.requeue(keyOf(object), 5000);
    return;
  }
  const state = await provider.getVirtualMachineState(pod, signal);
  const inProgress = conditionOf(status.conditions, "Progressing")?.status === "True";
  if (state.power !== "Stopped") {
    return await refuse(
      context,
      object,
      "VirtualMachineNotStopped",
      `VirtualMachine ${spec.virtualMachineName} is ${state.power}: a restore needs it stopped${
        inProgress ? " (it was started while the restore was under way)" : ""
      }; stop it ('vkedge vm stop ${spec.virtualMachineName}' or runStrategy Halted), then create a new VirtualMachineRestore`,
      signal,
    );
  }
  let current = object;
  const now = statusTime(runtime);
  if (!inProgress) {
    current = await context.writeStatus(current, {
      ...status,
      complete: false,
      startTime: now,
      conditions: setCondition(status.conditions, {
        type: "Progressing",
        status: "True",
        reason: "InProgress",
        message: `restoring from ${spec.virtualMachineSnapshotName}`,
      }, now),
    }, signal);
  }
  try {
    await provider.restoreVirtualMachineSnapshot(pod, snapshot.status!.snapshotId!, signal);
  } catch (error) {
    if (signal.aborted) throw error;
    if (isInvalidInput(error)) {
      return await refuse(context, current, "RestoreFailed", errorMessage(error), signal);
    }
    throw error; // transient: asked again (harmless)
  }
  const done = statusTime(runtime);
  const base = current.status ?? {};
  let conditions = setCondition(base.conditions, {
    type: "Progressing",
    status: "False",
    reason: "Complete",
    message: "",
  }, done);
  conditions = setCondition(conditions, {
    type: "Ready",
    status: "True",
    reason: "Complete",
    message: `disks restored from ${spec.virtualMachineSnapshotName}`,
  }, done);
  conditions = setCondition(conditions, {
    type: "Failure",
    status: "False",
    reason: "NoFailure",
    message: "",
  }, done);
  await context.writeStatus(
    current,
    { ...base, complete: true, restoreTime: done, conditions },
    signal,
  );
  runtime.events.record(
    current,
    "Normal",
    "RestoreComplete",
    `VirtualMachine ${spec.virtualMachineName} restored from ${spec.virtualMachineSnapshotName}`,
  );
}

/** The snapshot to restore from, `undefined` while it does not exist, or why it cannot be used. */
async function snapshotOf(
  context: Context,
  namespace: string,
  spec: { virtualMachineName: string; virtualMachineSnapshotName: string },
): Promise<VirtualMachineSnapshotObject | string | undefined> {
  const vm = context.vms.get(`${namespace}/${spec.virtualMachineName}`);
  const snapshot = await context.runtime.client
    .resource<VirtualMachineSnapshotObject>(VM_SNAPSHOTS, namespace)
    .get(spec.virtualMachineSnapshotName)
    .catch(() => undefined);
  if (!snapshot) return undefined;
  const source = (snapshot.spec as { virtualMachineName?: string } | undefined)?.virtualMachineName;
  if (source !== spec.virtualMachineName) {
    return `VirtualMachineSnapshot ${spec.virtualMachineSnapshotName} is of VirtualMachine ${source}, not ${spec.virtualMachineName}`;
  }
  if (snapshot.status?.sourceUID && snapshot.status.sourceUID !== vm?.metadata?.uid) {
    return `VirtualMachineSnapshot ${spec.virtualMachineSnapshotName} was taken of an earlier VirtualMachine of that name`;
  }
  if (snapshot.status?.phase === "Failed") {
    return `VirtualMachineSnapshot ${spec.virtualMachineSnapshotName} failed: ${
      snapshot.status.error?.message ?? "no reason given"
    }`;
  }
  return snapshot;
}

/** The VirtualMachineRestore controller's definition. */
export const RESTORES: OperationDefinition<VirtualMachineRestoreObject> = {
  name: "vm-restores",
  descriptor: VM_RESTORES,
  virtualMachineOf: (object) =>
    (object.spec as { virtualMachineName?: string } | undefined)?.virtualMachineName,
  reconcile,
};
