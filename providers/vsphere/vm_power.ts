/**
 * Power of the VM behind a pod. Start is `PowerOnVM_Task`; stop is `ShutdownGuest` when
 * VMware Tools run (the guest shuts down), followed by `PowerOffVM_Task` when the grace
 * period (`shutdownGraceSeconds` unless given) runs out, and `PowerOffVM_Task` at once with
 * `force` or without Tools; restart is `ResetVM_Task` (vSphere's `RebootGuest` returns
 * before the guest has rebooted and cannot be followed), refused while the VM is off. What
 * vkedge wants is kept in `guestinfo.vkedge.power` (`on`/`off`), so a VM that an
 * interrupted creation left off is powered on by the next agent, and one vkedge stopped is
 * not. A call repeated after an agent restart waits for the task the first one left
 * running instead of starting another.
 *
 * @module
 */

import {
  InvalidInputError,
  type StopOptions,
  type VirtualMachineState,
} from "../../lib/provider.ts";
import { sleep } from "../../lib/provider_kit/mod.ts";
import { voidReply } from "./client.ts";
import { isFault, toProviderError } from "./faults.ts";
import { keys } from "./identity.ts";
import {
  activeTasks,
  describeVm,
  reread,
  setExtraConfig,
  type VmActionContext,
  vmTask,
  waitForActive,
} from "./vm_action.ts";
import type { TrackedPod } from "./vm_tracker.ts";
import type { VmRecord } from "./vm_record.ts";

/** Task kinds of a power action in progress (descriptionId prefixes). */
const powerTasks = ["VirtualMachine.powerOn", "VirtualMachine.powerOff", "VirtualMachine.reset"];

/** Task kinds (descriptionId prefixes) and the transition each puts a VM in. */
const transitionTasks: [string, VirtualMachineState["power"]][] = [
  ["VirtualMachine.reset", "Rebooting"],
  ["VirtualMachine.relocate", "Migrating"],
  ["VirtualMachine.migrate", "Migrating"],
  ["VirtualMachine.powerOn", "Starting"],
  ["VirtualMachine.powerOff", "Stopping"],
  ["VirtualMachine.shutdownGuest", "Stopping"],
];

/**
 * The transition vSphere's own tasks put the VM in (a reset, a relocation, …), also those
 * an earlier agent started; `undefined` when none runs.
 */
export async function taskTransitionOf(
  context: VmActionContext,
  tracked: TrackedPod,
  signal: AbortSignal,
): Promise<VirtualMachineState["power"] | undefined> {
  const tasks = await activeTasks(
    context,
    tracked.vm!.ref,
    transitionTasks.map(([kind]) => kind),
    signal,
  );
  for (const [kind, power] of transitionTasks) {
    if (tasks.some((task) => task.descriptionId?.startsWith(kind))) return power;
  }
  return undefined;
}

/** The power state the contract speaks of, from the VM and what vkedge is doing to it. */
export function powerStateOf(
  vm: VmRecord,
  transition: string | undefined,
): VirtualMachineState["power"] {
  if (transition !== undefined) return transition as VirtualMachineState["power"];
  switch (vm.power) {
    case "poweredOn":
      return "Running";
    case "poweredOff":
      return "Stopped";
    case "suspended":
      return "Paused";
    default:
      return "Unknown";
  }
}

async function during<T>(
  context: VmActionContext,
  tracked: TrackedPod,
  transition: string,
  body: () => Promise<T>,
): Promise<T> {
  tracked.transition = transition;
  context.report(tracked);
  try {
    return await body();
  } finally {
    tracked.transition = undefined;
    context.report(tracked);
  }
}

async function wantPower(
  context: VmActionContext,
  vm: VmRecord,
  power: "on" | "off",
  signal: AbortSignal,
): Promise<void> {
  if (vm.extraConfig.get(keys.power) !== power) {
    await setExtraConfig(context, vm.ref, [[keys.power, power]], signal);
  }
}

/** Powers the VM on; a running VM is left alone. */
export async function startVm(
  context: VmActionContext,
  tracked: TrackedPod,
  signal: AbortSignal,
): Promise<void> {
  const what = describeVm(tracked);
  try {
    await waitForActive(
      context,
      await activeTasks(context, tracked.vm!.ref, powerTasks, signal),
      signal,
    );
    let vm = await reread(context, tracked, signal);
    await wantPower(context, vm, "on", signal);
    if (vm.power === "poweredOn") return;
    tracked.log.append(`start requested: power on ${vm.name}`);
    await during(context, tracked, "Starting", async () => {
      try {
        await vmTask(context, "PowerOnVM_Task", vm.ref, "", signal);
      } catch (error) {
        if (!isFault(error, "InvalidPowerState")) throw error;
      }
    });
    vm = await reread(context, tracked, signal);
    if (vm.power !== "poweredOn") {
      throw new Error(`expected it powered on after PowerOnVM_Task, found it ${vm.power}`);
    }
  } catch (error) {
    throw toProviderError(error, `vsphere provider: starting ${what}`);
  }
}

/** Powers the VM off, gracefully unless `options.force`; a stopped VM is left alone. */
export async function stopVm(
  context: VmActionContext,
  tracked: TrackedPod,
  options: StopOptions,
  signal: AbortSignal,
): Promise<void> {
  const what = describeVm(tracked);
  try {
    if (!options.force) {
      await waitForActive(
        context,
        await activeTasks(context, tracked.vm!.ref, powerTasks, signal),
        signal,
      );
    }
    let vm = await reread(context, tracked, signal);
    await wantPower(context, vm, "off", signal);
    if (vm.power === "poweredOff") return;
    await during(context, tracked, "Stopping", async () => {
      if (!options.force && vm.toolsRunning && vm.power === "poweredOn") {
        const graceSeconds = options.gracePeriodSeconds ?? context.config.shutdownGraceSeconds;
        tracked.log.append(`stop requested: guest shutdown, power off after ${graceSeconds} s`);
        try {
          await context.client.call("ShutdownGuest", vm.ref, "", voidReply, signal);
          const deadline = Date.now() + graceSeconds * 1000;
          let pauseMs = 100;
          while (Date.now() < deadline) {
            vm = await reread(context, tracked, signal);
            if (vm.power === "poweredOff") return;
            await sleep(pauseMs, signal);
            pauseMs = Math.min(pauseMs * 2, 1_000);
          }
          tracked.log.append(`the guest did not shut down within ${graceSeconds} s: power off`);
        } catch (error) {
          if (!isFault(error, "ToolsUnavailable", "InvalidState", "InvalidPowerState")) throw error;
          tracked.log.append(`guest shutdown refused (${(error as Error).message}): power off`);
        }
      } else {
        tracked.log.append(`stop requested: power off${options.force ? " (force)" : ""}`);
      }
      try {
        await vmTask(context, "PowerOffVM_Task", vm.ref, "", signal);
      } catch (error) {
        if (!isFault(error, "InvalidPowerState")) throw error;
      }
    });
    vm = await reread(context, tracked, signal);
    if (vm.power !== "poweredOff") {
      throw new Error(`expected it powered off, found it ${vm.power}`);
    }
  } catch (error) {
    throw toProviderError(error, `vsphere provider: stopping ${what}`);
  }
}

/** Resets a running VM; `InvalidInputError` when it is off. */
export async function restartVm(
  context: VmActionContext,
  tracked: TrackedPod,
  signal: AbortSignal,
): Promise<void> {
  const what = describeVm(tracked);
  try {
    const running = await activeTasks(context, tracked.vm!.ref, ["VirtualMachine.reset"], signal);
    if (running.length > 0) {
      tracked.log.append("restart requested: a reset is already running; waiting for it");
      await during(context, tracked, "Rebooting", () => waitForActive(context, running, signal));
      return;
    }
    const vm = await reread(context, tracked, signal);
    if (vm.power !== "poweredOn") {
      throw new InvalidInputError(
        `vsphere provider: cannot restart ${what}: expected it powered on, found it ${vm.power}; start it instead`,
      );
    }
    tracked.log.append("restart requested: reset");
    await during(
      context,
      tracked,
      "Rebooting",
      () => vmTask(context, "ResetVM_Task", vm.ref, "", signal),
    );
    await reread(context, tracked, signal);
  } catch (error) {
    throw toProviderError(error, `vsphere provider: restarting ${what}`);
  }
}
