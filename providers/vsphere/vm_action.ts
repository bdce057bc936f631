/**
 * What the VM actions (create, delete, power, snapshots, migration) share: the client and
 * the tracker, one action at a time per VM, the extraConfig writes, the tasks vSphere is
 * still running on a VM (an action an agent killed mid-way left going), and reading the
 * VM again after an action so its status is current at once.
 *
 * @module
 */

import { NotFoundError } from "../../lib/provider.ts";
import type { VsphereClient } from "./client.ts";
import type { VsphereConfig } from "./config.ts";
import type { Inventory } from "./inventory.ts";
import { identityKey } from "./identity.ts";
import { retrieveObjects } from "./property_collector.ts";
import { readTasks, runTask, type TaskInfo, waitForTask } from "./tasks.ts";
import type { TrackedPod, VmTracker } from "./vm_tracker.ts";
import { reconfigArgsXml } from "./vm_specs.ts";
import type { VmRecord } from "./vm_record.ts";
import { many, type MoRef, type Plain, xmlMoRef } from "./xml.ts";
import { z } from "zod";

/** What every VM action works with. */
export interface VmActionContext {
  client: VsphereClient;
  tracker: VmTracker;
  inventory: Inventory;
  config: VsphereConfig;
  /** Reports the pod's status (after a transition began or ended). */
  report(tracked: TrackedPod): void;
  /** Runs `body` after the actions already queued for the same VM. */
  serialize<T>(key: string, body: () => Promise<T>): Promise<T>;
}

/** `VM <name> (vm-42) of pod <namespace>/<name>`, for messages. */
export function describeVm(tracked: TrackedPod): string {
  const vm = tracked.vm;
  return `VM ${vm?.name ?? "(not created)"}${vm ? ` (${vm.ref.value})` : ""} of pod ${
    identityKey(tracked.identity)
  }`;
}

/** The VM of `tracked`, or `NotFoundError` when it has none (yet, or any more). */
export function vmOf(tracked: TrackedPod | undefined, key: string): VmRecord {
  if (tracked?.vm === undefined || tracked.deleted !== undefined) {
    throw new NotFoundError(`vsphere provider: pod ${key} has no VM`);
  }
  return tracked.vm;
}

/** Runs a task method on a VM and waits for it (the configured task timeout). */
export async function vmTask(
  context: VmActionContext,
  method: string,
  target: MoRef,
  args: string,
  signal: AbortSignal,
): Promise<Plain | undefined> {
  return await runTask(context.client, method, target, args, {
    timeoutMs: context.config.taskTimeoutSeconds * 1000,
    signal,
  });
}

/** Sets extraConfig `entries` of the VM (one `ReconfigVM_Task`). */
export async function setExtraConfig(
  context: VmActionContext,
  vm: MoRef,
  entries: [string, string][],
  signal: AbortSignal,
): Promise<void> {
  await vmTask(context, "ReconfigVM_Task", vm, reconfigArgsXml(entries), signal);
}

/** A task vSphere still runs on a VM. */
export interface ActiveTask extends TaskInfo {
  ref: MoRef;
}

const recentTaskSchema = z.object({ ManagedObjectReference: many(xmlMoRef) });

/**
 * The VM's queued or running tasks whose `descriptionId` starts with one of `kinds`
 * (`VirtualMachine.reset`, `VirtualMachine.relocate`, …; vCenter and its simulator differ
 * in the endings).
 */
export async function activeTasks(
  context: VmActionContext,
  vm: MoRef,
  kinds: string[],
  signal: AbortSignal,
): Promise<ActiveTask[]> {
  const [object] = await retrieveObjects(context.client, [vm], ["recentTask"], signal);
  const parsed = recentTaskSchema.safeParse(object?.props.get("recentTask"));
  const refs = parsed.success ? parsed.data.ManagedObjectReference : [];
  if (refs.length === 0) return [];
  const infos = await readTasks(context.client, refs, signal);
  return refs.flatMap((ref) => {
    const info = infos.get(ref.value);
    if (info === undefined || (info.state !== "queued" && info.state !== "running")) return [];
    if (!kinds.some((kind) => info.descriptionId?.startsWith(kind))) return [];
    return [{ ref, ...info }];
  });
}

/** Waits for tasks another agent instance started (errors ignored: the caller reads the VM). */
export async function waitForActive(
  context: VmActionContext,
  tasks: ActiveTask[],
  signal: AbortSignal,
): Promise<void> {
  for (const task of tasks) {
    await waitForTask(context.client, task.ref, {
      method: task.descriptionId ?? "task",
      timeoutMs: context.config.taskTimeoutSeconds * 1000,
      signal,
    }).catch(() => undefined);
  }
}

/** Reads the VM again (so the pod's status follows at once); `NotFoundError` when gone. */
export async function reread(
  context: VmActionContext,
  tracked: TrackedPod,
  signal: AbortSignal,
): Promise<VmRecord> {
  const vm = vmOf(tracked, identityKey(tracked.identity));
  const fresh = await context.tracker.refreshVm(vm.ref, signal);
  if (fresh === undefined) {
    throw new NotFoundError(`vsphere provider: ${describeVm(tracked)} is gone`);
  }
  return fresh;
}

/** Parses a task result that is a reference (a clone's VM, a snapshot). */
export function resultRef(result: unknown): MoRef | undefined {
  const parsed = xmlMoRef.safeParse(result);
  return parsed.success ? parsed.data : undefined;
}
