/**
 * What the VM capabilities (power, snapshots, migration) share: reading a tracked VM
 * afresh, waiting until it leaves a transitional state (ZStack refuses most actions
 * while a VM is Starting, Stopping, Migrating, …), running one action of
 * `PUT /v1/vm-instances/{uuid}/actions` and taking its result into the tracker, and the
 * lifecycle line each request leaves in `kubectl logs`.
 *
 * @module
 */

import { NotFoundError } from "../../lib/provider.ts";
import { sleep } from "../../lib/provider_kit/mod.ts";
import { inventoryReplySchema, type VmInstance, vmInstanceSchema } from "./api_types.ts";
import type { ZStackClient } from "./client.ts";
import { getVm, vmInstances } from "./collections.ts";
import type { KnownHosts } from "./hosts.ts";
import { identityKey } from "./identity.ts";
import type { TrackedVm, VmTracker } from "./vm_tracker.ts";

/** What the VM capabilities work with. */
export interface VmActionContext {
  /** The ZStack client. */
  client: ZStackClient;
  /** This node's VMs; every inventory read is observed there. */
  tracker: VmTracker;
  /** Host names. */
  hosts: KnownHosts;
  /** Clock in milliseconds. */
  now: () => number;
  /** Pause between two reads while waiting for a VM or a snapshot. */
  waitIntervalMs: number;
}

/** States ZStack passes through during an action; new actions wait for them to end. */
export const transitionalStates: ReadonlySet<string> = new Set([
  "Starting",
  "Stopping",
  "Rebooting",
  "Migrating",
  "Pausing",
  "Resuming",
  "Destroying",
  "Expunging",
  "VolumeMigrating",
  "VolumeRecovering",
]);

/** States of a VM that is gone or going (Destroyed stays queryable until expunged). */
export const destroyedStates: ReadonlySet<string> = new Set([
  "Destroying",
  "Destroyed",
  "Expunging",
]);

/** `VM <name> (<uuid>) of pod <namespace>/<name>`, for messages. */
export function describeVm(tracked: TrackedVm): string {
  return `VM ${tracked.vm.name} (${tracked.vm.uuid}) of pod ${identityKey(tracked.identity)}`;
}

/** Appends `text` to the VM's lifecycle log (what `kubectl logs` shows). */
export function logAction(context: VmActionContext, tracked: TrackedVm, text: string): void {
  tracked.log.append(new Date(context.now()), text);
}

/** Takes `vm`, just read or returned by an action, into the tracker and learns its host. */
async function observe(
  context: VmActionContext,
  tracked: TrackedVm,
  vm: VmInstance,
  signal: AbortSignal,
): Promise<VmInstance> {
  await context.hosts.learn([vm], signal);
  context.tracker.observe(tracked, vm, new Date(context.now()));
  return vm;
}

/**
 * Reads the VM of `tracked` from ZStack and observes it. Throws `NotFoundError` when it no
 * longer exists or is destroyed.
 */
export async function readVm(
  context: VmActionContext,
  tracked: TrackedVm,
  options: { signal: AbortSignal },
): Promise<VmInstance> {
  const { signal } = options;
  const vm = await getVm(context.client, tracked.vm.uuid, { signal });
  if (vm === undefined || destroyedStates.has(vm.state)) {
    throw new NotFoundError(
      `${describeVm(tracked)} ${
        vm === undefined ? "no longer exists" : `is ${vm.state}`
      } in ZStack: there is no VM to act on`,
    );
  }
  return await observe(context, tracked, vm, signal);
}

/** Reads the VM until it is in no transitional state, then returns it. */
export async function settleVm(
  context: VmActionContext,
  tracked: TrackedVm,
  options: { signal: AbortSignal },
): Promise<VmInstance> {
  let vm = await readVm(context, tracked, options);
  while (transitionalStates.has(vm.state)) {
    await sleep(context.waitIntervalMs, options.signal);
    vm = await readVm(context, tracked, options);
  }
  return vm;
}

/**
 * Runs `work` with `states` marked as requested on the VM, so that entering them is
 * recorded as a Normal event rather than a Warning.
 */
export async function requesting<T>(
  tracked: TrackedVm,
  states: readonly string[],
  work: () => Promise<T>,
): Promise<T> {
  const before = tracked.requestedStates;
  tracked.requestedStates = new Set([...(before ?? []), ...states]);
  try {
    return await work();
  } finally {
    tracked.requestedStates = before;
  }
}

/**
 * Runs `{ [action]: params }` on the VM, waits for the job and observes the VM it
 * returns. ZStack's errors are thrown as the client threw them, for the caller to
 * classify.
 */
export async function runVmAction(
  context: VmActionContext,
  tracked: TrackedVm,
  options: { action: string; params?: Record<string, unknown>; signal: AbortSignal },
): Promise<VmInstance> {
  const { action, params = {}, signal } = options;
  const reply = await context.client.call(
    "PUT",
    `${vmInstances.path}/${tracked.vm.uuid}/actions`,
    { body: { [action]: params }, schema: inventoryReplySchema(vmInstanceSchema), signal },
  );
  return await observe(context, tracked, reply.inventory, signal);
}
