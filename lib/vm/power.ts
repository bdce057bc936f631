/**
 * What the run strategy and a power request mean for a VM in a given power state, as pure
 * functions (the README's table of run strategies is this file in words). The policy
 * field is never rewritten by the agent: a request the strategy forbids is rejected with
 * the command that would do it, instead of silently changing `runStrategy`.
 *
 * @module
 */

import type { VirtualMachineState } from "../provider.ts";
import type { PowerAction, RunStrategy } from "./types.ts";

/** A power operation. */
export type PowerOperation =
  | { kind: "start" }
  | { kind: "stop"; force: boolean }
  | { kind: "restart"; force: boolean };

type Power = VirtualMachineState["power"];

const ON: readonly Power[] = ["Running", "Starting", "Rebooting", "Paused", "Migrating"];
const OFF: readonly Power[] = ["Stopped", "Crashed"];

/** Whether the VM is on (or on its way), by power state. */
export function isOn(power: Power): boolean {
  return ON.includes(power);
}

/** Whether the VM is off (cleanly or not). */
export function isOff(power: Power): boolean {
  return OFF.includes(power);
}

/**
 * What the run strategy itself asks for, for an existing VM in state `power`:
 * - `Always`: started again after any stop, a crash or a shutdown from inside;
 * - `Halted`: stopped when it runs;
 * - `RerunOnFailure`: started again after a crash only;
 * - `Manual`, `Once`: never powered on the agent's own.
 * Nothing while the VM is between states (Starting, Stopping, Migrating, Unknown).
 */
export function strategyOperation(strategy: RunStrategy, power: Power): PowerOperation | undefined {
  switch (strategy) {
    case "Always":
      return isOff(power) ? { kind: "start" } : undefined;
    case "Halted":
      return power === "Running" || power === "Paused" ? { kind: "stop", force: false } : undefined;
    case "RerunOnFailure":
      return power === "Crashed" ? { kind: "start" } : undefined;
    case "Manual":
    case "Once":
      return undefined;
  }
}

/** Whether the strategy makes a VM when the VirtualMachine has none yet. */
export function strategyCreates(strategy: RunStrategy): boolean {
  return strategy !== "Halted";
}

/** What to do with a power request. */
export type ActionVerdict =
  | { kind: "perform"; operation: PowerOperation }
  | { kind: "done"; message: string }
  | { kind: "reject"; message: string };

/** Judges `action` under `strategy` for a VM in state `power`. */
export function judgeAction(
  action: PowerAction,
  strategy: RunStrategy,
  power: Power,
): ActionVerdict {
  const force = action.force ?? false;
  switch (action.type) {
    case "Start":
      if (strategy === "Halted") {
        return {
          kind: "reject",
          message:
            "runStrategy Halted keeps the VM off: set runStrategy to Always or Manual ('vkedge vm start' does it)",
        };
      }
      if (isOn(power)) return { kind: "done", message: `the VM is already ${power}` };
      return { kind: "perform", operation: { kind: "start" } };
    case "Stop":
      if (strategy === "Always") {
        return {
          kind: "reject",
          message:
            "runStrategy Always would start the VM again: set runStrategy to Halted or Manual ('vkedge vm stop' sets Halted)",
        };
      }
      if (isOff(power) && !force) return { kind: "done", message: `the VM is already ${power}` };
      if (power === "Stopped") return { kind: "done", message: "the VM is already Stopped" };
      return { kind: "perform", operation: { kind: "stop", force } };
    case "Restart":
      if (!isOn(power)) {
        return {
          kind: "reject",
          message: `the VM is ${power}, not running: start it instead ('vkedge vm start')`,
        };
      }
      return { kind: "perform", operation: { kind: "restart", force } };
  }
}
