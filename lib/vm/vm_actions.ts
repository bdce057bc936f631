/**
 * The power side of the VirtualMachine controller: one-off requests (`spec.action`: Start,
 * Stop, Restart) acted on exactly once per id, and power operations (from a request or
 * the run strategy) carried out through the provider's power capability, each shown as a
 * transition in the status first and as an event after.
 *
 * Exactly once: a request is written to `status.lastAction` as `InProgress` before the
 * provider is asked, so after a kill -9 the next agent finds it and finishes it instead of
 * asking again (a restart is never re-issued; start and stop are idempotent anyway).
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { hasVirtualMachinePower, type VirtualMachineState } from "../provider.ts";
import { errorMessage } from "../errors.ts";
import { judgeAction, type PowerOperation } from "./power.ts";
import type {
  ActionStatus,
  VirtualMachine,
  VirtualMachineSpec,
  VirtualMachineStatus,
} from "./types.ts";
import { statusTime, type VmRuntime } from "./vm_runtime.ts";
import type { VmObservation } from "./vm_status.ts";

/** What the power actions work with: the runtime, the status writer and the work queue. */
export interface VmActionContext {
  runtime: VmRuntime;
  /** Writes `status` unless it equals the current one; returns the object as stored. */
  writeStatus(
    vm: VirtualMachine,
    status: VirtualMachineStatus,
    signal: AbortSignal,
  ): Promise<VirtualMachine>;
  /** Reconciles VirtualMachine `key` again after `ms`. */
  requeueAfter(key: string, ms: number): void;
}

/** A VirtualMachine with a VM-Pod and a VM whose power state is known. */
export interface ActionRequest {
  vm: VirtualMachine;
  spec: VirtualMachineSpec;
  pod: Pod;
  state: VirtualMachineState;
  /** What the status is written from; a failure is recorded here. */
  observation: VmObservation;
}

/** One power operation on the VM behind `pod`. */
export interface PowerRequest {
  vm: VirtualMachine;
  spec: VirtualMachineSpec;
  pod: Pod;
  operation: PowerOperation;
  /** What the status is written from; a failure is recorded here. */
  observation: VmObservation;
}

/** The printable status shown while a power operation runs. */
const TRANSITION: Record<PowerOperation["kind"], string> = {
  start: "Starting",
  stop: "Stopping",
  restart: "Restarting",
};

/**
 * Acts on `spec.action` once per id; says whether it did a power operation. The request
 * is written as `InProgress` before the provider is asked, and a restart found
 * `InProgress` (asked before the agent stopped) is judged by the VM's state, never
 * re-issued.
 */
export async function handleAction(
  context: VmActionContext,
  request: ActionRequest,
  signal: AbortSignal,
): Promise<{ vm: VirtualMachine; acted: boolean }> {
  const { vm, spec, pod, state, observation } = request;
  const action = spec.action;
  const last = vm.status?.lastAction;
  if (!action || (last?.id === action.id && last.phase !== "InProgress")) {
    return { vm, acted: false };
  }
  const runtime = context.runtime;
  const now = () => statusTime(runtime);
  const finish = async (phase: ActionStatus["phase"], message: string, base = vm) => {
    const lastAction: ActionStatus = {
      id: action.id,
      type: action.type,
      phase,
      message,
      startTime: base.status?.lastAction?.id === action.id
        ? base.status.lastAction.startTime
        : now(),
      completionTime: now(),
    };
    if (phase === "Rejected" || phase === "Failed") {
      runtime.events.record(base, "Warning", `Action${phase}`, `${action.type}: ${message}`);
    } else {
      runtime.events.record(base, "Normal", `Action${phase}`, `${action.type}: ${message}`);
    }
    return await context.writeStatus(base, { ...base.status, lastAction }, signal);
  };

  if (last?.id === action.id && last.phase === "InProgress" && action.type === "Restart") {
    // Asked before the agent stopped: never reboot twice.
    if (state.power === "Rebooting" || state.power === "Starting") {
      context.requeueAfter(`${vm.metadata!.namespace}/${vm.metadata!.name}`, 2000);
      return { vm, acted: true };
    }
    const message = state.power === "Running"
      ? "restarted (the restart was under way when the agent stopped; it was not repeated)"
      : `the VM is ${state.power} after a restart that was under way when the agent stopped`;
    const phase = state.power === "Running" ? "Succeeded" : "Failed";
    return { vm: await finish(phase, message), acted: true };
  }

  const verdict = judgeAction(action, spec.runStrategy, state.power);
  if (verdict.kind === "reject") {
    return { vm: await finish("Rejected", verdict.message), acted: true };
  }
  if (verdict.kind === "done") {
    return { vm: await finish("Succeeded", verdict.message), acted: true };
  }
  const started = await context.writeStatus(vm, {
    ...vm.status,
    lastAction: { id: action.id, type: action.type, phase: "InProgress", startTime: now() },
  }, signal);
  try {
    const after = await performPower(
      context,
      { vm: started, spec, pod, operation: verdict.operation, observation },
      signal,
    );
    return { vm: await finish("Succeeded", `${action.type} done`, after), acted: true };
  } catch (error) {
    if (signal.aborted) throw error;
    return { vm: await finish("Failed", errorMessage(error), started), acted: true };
  }
}

/**
 * Runs one power operation, showing the transition in the status first; a failure is
 * recorded on `request.observation` and as a Warning event, then thrown.
 */
export async function performPower(
  context: VmActionContext,
  request: PowerRequest,
  signal: AbortSignal,
): Promise<VirtualMachine> {
  const { spec, pod, operation, observation } = request;
  let vm = request.vm;
  const runtime = context.runtime;
  const provider = runtime.provider;
  if (!hasVirtualMachinePower(provider)) return vm;
  const name = `${vm.metadata!.namespace}/${vm.metadata!.name}`;
  const transition = TRANSITION[operation.kind];
  vm = await context.writeStatus(vm, { ...vm.status, printableStatus: transition }, signal);
  runtime.log.info("VirtualMachine {vm}: {operation}", { vm: name, operation: operation.kind });
  const options = {
    force: "force" in operation ? operation.force : false,
    gracePeriodSeconds: spec.stopGracePeriodSeconds,
  };
  try {
    switch (operation.kind) {
      case "start":
        await provider.startVirtualMachine(pod, signal);
        runtime.events.record(vm, "Normal", "Started", "VM powered on");
        break;
      case "stop":
        await provider.stopVirtualMachine(pod, options, signal);
        runtime.events.record(
          vm,
          "Normal",
          "Stopped",
          options.force ? "VM powered off (forced)" : "VM shut down",
        );
        break;
      case "restart":
        await provider.restartVirtualMachine(pod, options, signal);
        runtime.events.record(vm, "Normal", "Restarted", "VM restarted");
        break;
    }
  } catch (error) {
    if (signal.aborted) throw error;
    observation.failure = { reason: "PowerFailed", message: errorMessage(error) };
    runtime.events.record(
      vm,
      "Warning",
      "PowerFailed",
      `${operation.kind}: ${errorMessage(error)}`,
    );
    throw error;
  }
  return vm;
}
