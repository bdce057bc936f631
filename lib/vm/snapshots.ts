/**
 * VirtualMachineSnapshot: takes one IaaS snapshot of every disk of a VirtualMachine this
 * node serves. The snapshot's IaaS name (`vkedge-<snapshot UID>`) is written to the status
 * before the provider is asked, and the provider's create is idempotent by name, so a
 * snapshot begun before an agent crash is found and finished, never taken twice. Every
 * snapshot ends: Succeeded (readyToUse) or Failed with the reason, at the latest at its
 * failure deadline (default 5 minutes); a Failed one is deletable like any other.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { hasVirtualMachineSnapshots, isInvalidInput, isNotFound } from "../provider.ts";
import { parseDuration } from "../duration.ts";
import { errorMessage } from "../errors.ts";
import { formatTime } from "../kube/micro_time.ts";
import type { OperationContext, OperationDefinition } from "./operation_controller.ts";
import {
  describeIssues,
  setCondition,
  snapshotSpecSchema,
  type SnapshotStatus,
  type VirtualMachineSnapshotObject,
  VM_SNAPSHOTS,
} from "./types.ts";
import { servingNode, statusTime, vmPodOf } from "./vm_runtime.ts";

/** The finalizer that deletes the IaaS snapshot with the resource (deletionPolicy Delete). */
export const SNAPSHOT_FINALIZER = "vkedge.io/snapshot";

const DEFAULT_DEADLINE_MS = 5 * 60_000;

type Context = OperationContext<VirtualMachineSnapshotObject>;

function keyOf(object: VirtualMachineSnapshotObject): string {
  return `${object.metadata!.namespace}/${object.metadata!.name}`;
}

function failed(context: Context, status: SnapshotStatus, message: string): SnapshotStatus {
  const now = statusTime(context.runtime);
  return {
    ...status,
    phase: "Failed",
    readyToUse: false,
    error: { time: now, message },
    conditions: setCondition(
      setCondition(status.conditions, {
        type: "Ready",
        status: "False",
        reason: "Failed",
        message,
      }, now),
      { type: "Failure", status: "True", reason: "Failed", message },
      now,
    ),
  };
}

async function fail(
  context: Context,
  object: VirtualMachineSnapshotObject,
  message: string,
  signal: AbortSignal,
): Promise<void> {
  await context.writeStatus(object, failed(context, object.status ?? {}, message), signal);
  context.runtime.events.record(object, "Warning", "SnapshotFailed", message);
}

async function finalize(
  context: Context,
  object: VirtualMachineSnapshotObject,
  pod: Pod | undefined,
  deletionPolicy: "Delete" | "Retain",
  signal: AbortSignal,
): Promise<void> {
  const provider = context.runtime.provider;
  const id = object.status?.snapshotId;
  if (deletionPolicy === "Delete" && id && pod && hasVirtualMachineSnapshots(provider)) {
    await provider.deleteVirtualMachineSnapshot(pod, id, signal).catch((error) => {
      if (!isNotFound(error)) throw error;
    });
  }
  await context.setFinalizer(object, SNAPSHOT_FINALIZER, false, signal);
}

async function reconcile(
  context: Context,
  object: VirtualMachineSnapshotObject,
  signal: AbortSignal,
): Promise<void> {
  const { runtime } = context;
  const status = object.status ?? {};
  const parsed = snapshotSpecSchema.safeParse(object.spec ?? {});
  const vmName = parsed.success ? parsed.data.virtualMachineName : undefined;
  const vm = vmName ? context.vms.get(`${object.metadata!.namespace}/${vmName}`) : undefined;
  if (vm && servingNode(vm) !== runtime.nodeName) return; // another node's
  if (!vm && !(object.metadata?.finalizers ?? []).includes(SNAPSHOT_FINALIZER)) {
    // Not ours (yet): the VirtualMachine may be created later, or be another node's.
    if (status.phase === "Succeeded" || status.phase === "Failed" || !parsed.success) return;
  }
  const pod = vm ? vmPodOf(runtime, vm) : undefined;
  if (object.metadata?.deletionTimestamp) {
    if ((object.metadata.finalizers ?? []).includes(SNAPSHOT_FINALIZER)) {
      await finalize(
        context,
        object,
        pod,
        parsed.success ? parsed.data.deletionPolicy : "Delete",
        signal,
      );
    }
    return;
  }
  if (status.phase === "Succeeded" || status.phase === "Failed") return;
  if (!parsed.success) {
    return await fail(context, object, `invalid spec: ${describeIssues(parsed.error)}`, signal);
  }
  const spec = parsed.data;
  const deadlineMs = spec.failureDeadline === undefined
    ? DEFAULT_DEADLINE_MS
    : parseDuration(spec.failureDeadline) ?? DEFAULT_DEADLINE_MS;
  const since = Date.parse(status.startTime ?? object.metadata?.creationTimestamp ?? "") ||
    runtime.now().getTime();
  const remaining = deadlineMs === 0 ? Infinity : since + deadlineMs - runtime.now().getTime();
  if (remaining <= 0) {
    return await fail(
      context,
      object,
      `not ready within the failure deadline (${spec.failureDeadline ?? "5m"})${
        status.error?.message ? `: ${status.error.message}` : ""
      }; delete this VirtualMachineSnapshot and take a new one`,
      signal,
    );
  }
  if (!vm) {
    // Wait for the VirtualMachine (it may be created after its snapshot), within the deadline.
    const message =
      `VirtualMachine ${spec.virtualMachineName} not found (or not served by a vkedge node yet)`;
    if (status.phase !== "Pending" || status.error?.message !== message) {
      await context.writeStatus(
        object,
        { ...status, phase: "Pending", error: { message } },
        signal,
      );
    }
    context.requeue(keyOf(object), Math.min(remaining, 10_000));
    return;
  }
  const provider = runtime.provider;
  if (!hasVirtualMachineSnapshots(provider)) {
    return await fail(
      context,
      object,
      `provider ${provider.name} cannot snapshot VMs; run the VirtualMachine on a node whose provider can`,
      signal,
    );
  }
  if (!pod) {
    context.requeue(keyOf(object), Math.min(remaining, 5000));
    return; // the VM-Pod is being (re)made
  }
  let current = object;
  if (!(object.metadata?.finalizers ?? []).includes(SNAPSHOT_FINALIZER)) {
    current = await context.setFinalizer(current, SNAPSHOT_FINALIZER, true, signal);
  }
  const snapshotName = status.snapshotName ?? `vkedge-${object.metadata!.uid}`;
  if (status.phase !== "InProgress") {
    const now = statusTime(runtime);
    current = await context.writeStatus(current, {
      ...status,
      phase: "InProgress",
      readyToUse: false,
      sourceUID: vm.metadata?.uid,
      snapshotName,
      startTime: status.startTime ?? now,
      error: undefined,
      conditions: setCondition(status.conditions, {
        type: "Progressing",
        status: "True",
        reason: "InProgress",
        message: `taking snapshot ${snapshotName}`,
      }, now),
    }, signal);
    runtime.events.record(current, "Normal", "SnapshotStarted", `Taking snapshot ${snapshotName}`);
  }
  const limit = Number.isFinite(remaining)
    ? AbortSignal.any([signal, AbortSignal.timeout(remaining)])
    : signal;
  try {
    const taken = await provider.createVirtualMachineSnapshot(pod, { name: snapshotName }, limit);
    if (taken.error) throw new Error(taken.error);
    const now = statusTime(runtime);
    const base = current.status ?? {};
    await context.writeStatus(current, {
      ...base,
      phase: "Succeeded",
      readyToUse: true,
      snapshotId: taken.id,
      snapshotName,
      creationTime: taken.createdAt || now,
      error: undefined,
      conditions: setCondition(
        setCondition(
          setCondition(base.conditions, {
            type: "Progressing",
            status: "False",
            reason: "Succeeded",
            message: "",
          }, now),
          { type: "Ready", status: "True", reason: "Succeeded", message: "ready to use" },
          now,
        ),
        { type: "Failure", status: "False", reason: "NoFailure", message: "" },
        now,
      ),
    }, signal);
    runtime.events.record(
      current,
      "Normal",
      "SnapshotSucceeded",
      `Snapshot ${snapshotName} is ready`,
    );
  } catch (error) {
    if (signal.aborted) throw error;
    if (isInvalidInput(error)) return await fail(context, current, errorMessage(error), signal);
    // Transient (or the deadline): keep the reason; the deadline check ends it.
    await context.writeStatus(current, {
      ...(current.status ?? {}),
      error: { time: formatTime(runtime.now()), message: errorMessage(error) },
    }, signal).catch(() => undefined);
    throw error;
  }
}

/** The VirtualMachineSnapshot controller's definition. */
export const SNAPSHOTS: OperationDefinition<VirtualMachineSnapshotObject> = {
  name: "vm-snapshots",
  descriptor: VM_SNAPSHOTS,
  virtualMachineOf: (object) =>
    (object.spec as { virtualMachineName?: string } | undefined)?.virtualMachineName,
  reconcile,
};
