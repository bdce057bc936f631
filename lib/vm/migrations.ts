/**
 * VirtualMachineMigration: moves a running VirtualMachine to another host,
 * Pending → Scheduling (a target chosen among the provider's candidates, or the named one
 * checked) → Running (the provider moves it) → Succeeded, or Failed with the reason at any
 * step. The source host is written before the provider is asked; a migration found
 * Running after an agent restart is never asked again: it is Succeeded if the VM is on
 * another host, followed while the VM is still migrating, and Failed (with how to retry)
 * if the VM never left.
 *
 * @module
 */

import {
  hasVirtualMachineMigration,
  hasVirtualMachinePower,
  isInvalidInput,
  isResourceExhausted,
} from "../provider.ts";
import { errorMessage } from "../errors.ts";
import type { OperationContext, OperationDefinition } from "./operation_controller.ts";
import {
  describeIssues,
  type MigrationPhase,
  migrationSpecSchema,
  type MigrationStatus,
  setCondition,
  type VirtualMachineMigrationObject,
  VM_MIGRATIONS,
} from "./types.ts";
import { servingNode, statusTime, vmPodOf } from "./vm_runtime.ts";

type Context = OperationContext<VirtualMachineMigrationObject>;

function keyOf(object: VirtualMachineMigrationObject): string {
  return `${object.metadata!.namespace}/${object.metadata!.name}`;
}

async function moveTo(
  context: Context,
  object: VirtualMachineMigrationObject,
  phase: MigrationPhase,
  changes: Partial<MigrationStatus>,
  signal: AbortSignal,
): Promise<VirtualMachineMigrationObject> {
  const now = statusTime(context.runtime);
  const status = { ...object.status, ...changes, phase };
  const terminal = phase === "Succeeded" || phase === "Failed";
  if (terminal) status.completionTime = now;
  status.conditions = setCondition(status.conditions, {
    type: "Ready",
    status: phase === "Succeeded" ? "True" : "False",
    reason: phase,
    message: changes.message ?? "",
  }, now);
  if (phase === "Failed") {
    status.conditions = setCondition(status.conditions, {
      type: "Failure",
      status: "True",
      reason: "Failed",
      message: changes.message ?? "",
    }, now);
  }
  const written = await context.writeStatus(object, status, signal);
  if (terminal) {
    context.runtime.events.record(
      written,
      phase === "Failed" ? "Warning" : "Normal",
      `Migration${phase}`,
      changes.message ?? phase,
    );
  }
  return written;
}

async function reconcile(
  context: Context,
  object: VirtualMachineMigrationObject,
  signal: AbortSignal,
): Promise<void> {
  const { runtime } = context;
  const status = object.status ?? {};
  if (object.metadata?.deletionTimestamp) return;
  if (status.phase === "Succeeded" || status.phase === "Failed") return;
  const parsed = migrationSpecSchema.safeParse(object.spec ?? {});
  if (!parsed.success) {
    const message = `invalid spec: ${describeIssues(parsed.error)}; create a corrected one`;
    await moveTo(context, object, "Failed", { message }, signal);
    return;
  }
  const spec = parsed.data;
  const vmName = spec.virtualMachineName;
  const vm = context.vms.get(`${object.metadata!.namespace}/${vmName}`);
  if (!vm || servingNode(vm) !== runtime.nodeName) return;
  const fail = (message: string, current = object) =>
    moveTo(context, current, "Failed", { message }, signal);
  const provider = runtime.provider;
  if (!hasVirtualMachineMigration(provider) || !hasVirtualMachinePower(provider)) {
    await fail(`provider ${provider.name} cannot migrate VMs`);
    return;
  }
  const pod = vmPodOf(runtime, vm);
  if (!pod) {
    context.requeue(keyOf(object), 5000);
    return;
  }
  const state = await provider.getVirtualMachineState(pod, signal);
  const failFrom = (message: string, current = object) =>
    moveTo(context, current, "Failed", {
      message,
      sourceHost: current.status?.sourceHost ?? state.host,
      ...(spec.targetHost ? { targetHost: spec.targetHost } : {}),
    }, signal);

  if (status.phase === "Running") {
    // Asked before (by this run, or one that stopped): never ask again.
    if (state.power === "Migrating") {
      context.requeue(keyOf(object), 2000);
      return;
    }
    if (state.host && state.host !== status.sourceHost) {
      await moveTo(context, object, "Succeeded", {
        targetHost: state.host,
        message: `moved from ${status.sourceHost} to ${state.host}`,
      }, signal);
    } else {
      await failFrom(
        `the migration was interrupted (the agent stopped while it ran) and the VM stayed on ${status.sourceHost}; create a new VirtualMachineMigration to try again`,
      );
    }
    return;
  }

  let current = object;
  if (status.phase === undefined) {
    current = await moveTo(context, current, "Pending", { message: "" }, signal);
  }
  if (state.power !== "Running") {
    await failFrom(
      `VirtualMachine ${vmName} is ${state.power}: only a running VM migrates`,
      current,
    );
    return;
  }
  const candidates = await provider.listMigrationTargets(pod, signal);
  if (candidates.length === 0) {
    await failFrom(
      `no host can take VirtualMachine ${vmName} now (it runs on ${
        state.host ?? "an unknown host"
      }, and the IaaS offers no other)`,
      current,
    );
    return;
  }
  if (spec.targetHost && !candidates.includes(spec.targetHost)) {
    await failFrom(
      `host ${spec.targetHost} cannot take VirtualMachine ${vmName}; candidates: ${
        candidates.join(", ")
      }`,
      current,
    );
    return;
  }
  current = await moveTo(context, current, "Scheduling", {
    sourceHost: state.host,
    targetHost: spec.targetHost,
    message: `candidates: ${candidates.join(", ")}`,
  }, signal);
  current = await moveTo(context, current, "Running", {
    startTime: statusTime(runtime),
    message: `moving from ${state.host}${spec.targetHost ? ` to ${spec.targetHost}` : ""}`,
  }, signal);
  runtime.events.record(current, "Normal", "MigrationStarted", current.status?.message ?? "");
  try {
    const host = await provider.migrateVirtualMachine(pod, { targetHost: spec.targetHost }, signal);
    await moveTo(context, current, "Succeeded", {
      targetHost: host,
      message: `moved from ${state.host} to ${host}`,
    }, signal);
  } catch (error) {
    if (signal.aborted) throw error;
    if (isInvalidInput(error) || isResourceExhausted(error)) {
      await failFrom(errorMessage(error), current);
      return;
    }
    throw error; // unknown outcome: the next reconcile reads where the VM is
  }
}

/** The VirtualMachineMigration controller's definition. */
export const MIGRATIONS: OperationDefinition<VirtualMachineMigrationObject> = {
  name: "vm-migrations",
  descriptor: VM_MIGRATIONS,
  virtualMachineOf: (object) =>
    (object.spec as { virtualMachineName?: string } | undefined)?.virtualMachineName,
  reconcile,
};
