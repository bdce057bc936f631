/**
 * Powering the VM behind a pod on, off and through a reboot (`VirtualMachinePower`).
 * Every call first waits out a transitional state, then does nothing when the VM already
 * is where it was asked to be, so a call repeated after an agent restart is harmless.
 *
 * A graceful stop is ZStack's `stopVmInstance` of type `grace` (the guest is asked to shut
 * down); when it has not ended after the grace period, or fails, a `cold` stop cuts the
 * power. ZStack runs one action per VM at a time, so that cold stop takes effect once the
 * graceful one ends, and ZStack's KVM agent itself cuts the power of a guest that ignores
 * the shutdown for long. A force stop is a cold stop at once. A restart is
 * `rebootVmInstance`, or with `force` a cold stop and a start. None of these ever
 * destroys or re-creates the VM: a stopped VM keeps its uuid, disks and IPs, and its pod
 * stays Running and not Ready (`vm_to_pod.ts`).
 *
 * @module
 */

import {
  InvalidInputError,
  type StopOptions,
  type VirtualMachineState,
} from "../../lib/provider.ts";
import { errorMessage } from "../../lib/provider_kit/mod.ts";
import { toProviderError, ZStackApiError } from "./errors.ts";
import type { KnownHosts } from "./hosts.ts";
import {
  describeVm,
  logAction,
  readVm,
  requesting,
  runVmAction,
  settleVm,
  type VmActionContext,
} from "./vm_action.ts";
import type { TrackedVm } from "./vm_tracker.ts";

/** How long a guest may take to shut down when the caller names no grace period. */
export const defaultStopGraceSeconds = 60;

/** The power state of a VM in ZStack state `state`. */
export function powerOf(state: string): VirtualMachineState["power"] {
  switch (state) {
    case "Running":
      return "Running";
    case "Created": // made with JustCreate, never started
    case "Stopped":
      return "Stopped";
    case "Starting":
    case "Resuming":
      return "Starting";
    case "Stopping":
      return "Stopping";
    case "Rebooting":
      return "Rebooting";
    case "Migrating":
      return "Migrating";
    case "Pausing":
    case "Paused":
      return "Paused";
    case "Crashed":
      return "Crashed";
    default: // Unknown, NoState, Error, VolumeMigrating, VolumeRecovering
      return "Unknown";
  }
}

/** The power state, host (by name) and uuid of the tracked VM. */
export function virtualMachineState(
  tracked: Pick<TrackedVm, "vm">,
  hosts: KnownHosts,
): VirtualMachineState {
  const { vm } = tracked;
  return {
    power: powerOf(vm.state),
    ...(vm.hostUuid === undefined ? {} : { host: hosts.name(vm.hostUuid) }),
    id: vm.uuid,
  };
}

/** Powers the VM on (a Paused one is resumed) and resolves once it runs. */
export async function powerOn(
  context: VmActionContext,
  tracked: TrackedVm,
  options: { signal: AbortSignal },
): Promise<void> {
  const { signal } = options;
  try {
    const vm = await settleVm(context, tracked, { signal });
    if (vm.state === "Running") return;
    const action = vm.state === "Paused" ? "resumeVmInstance" : "startVmInstance";
    await requesting(tracked, ["Starting", "Resuming", "Running"], async () => {
      logAction(
        context,
        tracked,
        action === "resumeVmInstance" ? "resume requested" : "start requested",
      );
      await runVmAction(context, tracked, { action, signal });
    });
  } catch (error) {
    throw toProviderError(error, `zstack provider: starting ${describeVm(tracked)}`);
  }
}

/** Runs `work` with a signal that also aborts after `ms`; tells whether that deadline hit. */
async function withDeadline<T>(
  ms: number,
  signal: AbortSignal,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<{ value: T } | { error: unknown; expired: boolean }> {
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new Error(`no answer within ${ms} ms`)),
    ms,
  );
  try {
    return { value: await work(AbortSignal.any([signal, deadline.signal])) };
  } catch (error) {
    if (signal.aborted) throw error;
    return { error, expired: deadline.signal.aborted };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Powers the VM off and resolves once it is Stopped: gracefully, cutting the power after
 * `gracePeriodSeconds` (default {@linkcode defaultStopGraceSeconds}), or at once with
 * `force` or a grace period of 0.
 */
export async function powerOff(
  context: VmActionContext,
  tracked: TrackedVm,
  options: StopOptions & { signal: AbortSignal },
): Promise<void> {
  const { signal } = options;
  const grace = options.gracePeriodSeconds ?? defaultStopGraceSeconds;
  const cold = { action: "stopVmInstance", params: { type: "cold" }, signal };
  try {
    const vm = await settleVm(context, tracked, { signal });
    if (vm.state === "Stopped" || vm.state === "Created") return;
    await requesting(tracked, ["Stopping", "Stopped"], async () => {
      if (options.force || grace <= 0) {
        logAction(context, tracked, "stop requested: power cut (cold stop)");
        await runVmAction(context, tracked, cold);
        return;
      }
      logAction(context, tracked, `stop requested: guest shutdown, power cut after ${grace} s`);
      const graceful = await withDeadline(
        grace * 1000,
        signal,
        (limited) =>
          runVmAction(context, tracked, {
            action: "stopVmInstance",
            params: { type: "grace" },
            signal: limited,
          }),
      );
      if ("value" in graceful) return;
      if (!graceful.expired && !(graceful.error instanceof ZStackApiError)) throw graceful.error;
      logAction(
        context,
        tracked,
        graceful.expired
          ? `the guest did not shut down within ${grace} s: cutting the power (cold stop)`
          : `the graceful stop failed (${
            errorMessage(graceful.error)
          }): cutting the power (cold stop)`,
      );
      await runVmAction(context, tracked, cold);
    });
  } catch (error) {
    throw toProviderError(error, `zstack provider: stopping ${describeVm(tracked)}`);
  }
}

/**
 * Reboots a running (or crashed) VM and resolves once it runs again; a reboot already in
 * progress is the one asked for. `InvalidInputError` when the VM is off, or Paused without
 * `force`.
 */
export async function reboot(
  context: VmActionContext,
  tracked: TrackedVm,
  options: StopOptions & { signal: AbortSignal },
): Promise<void> {
  const { signal } = options;
  const what = describeVm(tracked);
  try {
    if ((await readVm(context, tracked, { signal })).state === "Rebooting") {
      await settleVm(context, tracked, { signal });
      return;
    }
    const vm = await settleVm(context, tracked, { signal });
    if (vm.state === "Stopped" || vm.state === "Created") {
      throw new InvalidInputError(
        `zstack provider: cannot restart ${what}: expected it running, found it ${vm.state}; start it instead`,
      );
    }
    if (vm.state === "Paused" && !options.force) {
      throw new InvalidInputError(
        `zstack provider: cannot restart ${what}: expected it running, found it Paused; start (resume) it, or restart it with force`,
      );
    }
    const states = ["Rebooting", "Stopping", "Stopped", "Starting", "Running"];
    await requesting(tracked, states, async () => {
      if (options.force) {
        logAction(context, tracked, "restart requested: power cut (cold stop), then start");
        await runVmAction(context, tracked, {
          action: "stopVmInstance",
          params: { type: "cold" },
          signal,
        });
        await runVmAction(context, tracked, { action: "startVmInstance", signal });
        return;
      }
      logAction(context, tracked, "restart requested: reboot");
      await runVmAction(context, tracked, { action: "rebootVmInstance", signal });
    });
  } catch (error) {
    throw toProviderError(error, `zstack provider: restarting ${what}`);
  }
}
