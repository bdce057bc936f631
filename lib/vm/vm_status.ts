/**
 * A VirtualMachine's status from what the agent sees: its VM-Pod (the pod path's view:
 * provisioning, refusals, IP, readiness) and the VM's power state and host (the power
 * capability's view). Pure: the same observations give the same status, so the
 * controller writes only when something changed.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { VirtualMachineState } from "../provider.ts";
import {
  type Condition,
  setCondition,
  type VirtualMachine,
  type VirtualMachineSpec,
  type VirtualMachineStatus,
} from "./types.ts";
import { unappliedFields } from "./vm_pod.ts";

/** What the controller observed for one VirtualMachine. */
export interface VmObservation {
  vm: VirtualMachine;
  spec: VirtualMachineSpec;
  /** Its VM-Pod, if it exists. */
  pod?: Pod;
  /** The VM's power state, if the provider can tell and the VM exists. */
  state?: VirtualMachineState;
  /** Set when the provider cannot power VMs. */
  powerUnsupported?: string;
  /** The last failure of this reconcile, if any. */
  failure?: { reason: string; message: string };
  /** This node. */
  nodeName: string;
  /** Status time. */
  now: string;
}

const PRINTABLE: Record<VirtualMachineState["power"], string> = {
  Running: "Running",
  Starting: "Starting",
  Stopping: "Stopping",
  Stopped: "Stopped",
  Rebooting: "Restarting",
  Migrating: "Migrating",
  Paused: "Paused",
  Crashed: "Crashed",
  Unknown: "Unknown",
};

function podReady(pod: Pod | undefined): boolean {
  return pod?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** The pod's own failure, as the pod path wrote it (a provider refusal, a missing image). */
function podFailure(pod: Pod | undefined): { reason: string; message: string } | undefined {
  const waiting = pod?.status?.containerStatuses?.[0]?.state?.waiting;
  if (pod?.status?.phase === "Failed") {
    return {
      reason: pod.status.reason ?? "PodFailed",
      message: pod.status.message ?? "the VM-Pod failed",
    };
  }
  if (pod?.status?.reason === "ProviderFailed") {
    return {
      reason: "ProviderFailed",
      message: pod.status.message ?? "the provider refused the VM",
    };
  }
  if (waiting?.reason && waiting.reason !== "ContainerCreating") {
    return { reason: waiting.reason, message: waiting.message ?? waiting.reason };
  }
  return undefined;
}

function printable(observation: VmObservation, failure: { reason: string } | undefined): string {
  const { vm, pod, state } = observation;
  if (vm.metadata?.deletionTimestamp) return "Terminating";
  if (pod?.status?.phase === "Failed") return "Failed";
  if (state) return PRINTABLE[state.power];
  if (!pod) return vm.status?.created ? "Provisioning" : "Stopped";
  if (failure) return "Failed";
  if (pod.status?.phase === "Running") return podReady(pod) ? "Running" : "Starting";
  return "Provisioning";
}

function phaseOf(text: string): VirtualMachineStatus["phase"] {
  switch (text) {
    case "Running":
    case "Restarting":
    case "Migrating":
    case "Paused":
    case "Stopping":
      return "Running";
    case "Stopped":
    case "Crashed":
      return "Stopped";
    case "Provisioning":
    case "Starting":
      return "Pending";
    case "Failed":
      return "Failed";
    default:
      return "Unknown";
  }
}

/** The status for `observation`, keeping what only the controller knows (claim, last action). */
export function virtualMachineStatus(observation: VmObservation): VirtualMachineStatus {
  const { vm, spec, pod, state, now } = observation;
  const previous = vm.status ?? {};
  const failure = observation.failure ?? podFailure(pod);
  const text = printable(observation, failure);
  const ready = podReady(pod) && (state === undefined || state.power === "Running");
  const created = previous.created === true || state !== undefined ||
    (pod?.status?.phase === "Running");
  let conditions: Condition[] | undefined = previous.conditions;
  const generation = vm.metadata?.generation;
  const set = (condition: Omit<Condition, "lastTransitionTime">) =>
    conditions = setCondition(conditions, { ...condition, observedGeneration: generation }, now);
  set(
    ready ? { type: "Ready", status: "True", reason: "Running", message: "the VM runs" } : {
      type: "Ready",
      status: "False",
      reason: text === "Running" ? "PodNotReady" : text,
      message: pod?.status?.conditions?.find((c) => c.type === "Ready")?.message ||
        `the VM is ${text}`,
    },
  );
  const problem = failure ??
    (observation.powerUnsupported
      ? { reason: "PowerNotSupported", message: observation.powerUnsupported }
      : undefined);
  set(
    problem
      ? { type: "Failure", status: "True", ...problem }
      : { type: "Failure", status: "False", reason: "NoFailure", message: "" },
  );
  set(
    state?.power === "Paused"
      ? { type: "Paused", status: "True", reason: "Paused", message: "the VM is paused" }
      : { type: "Paused", status: "False", reason: "NotPaused", message: "" },
  );
  const unapplied = pod ? unappliedFields(pod, spec) : [];
  set(
    unapplied.length > 0
      ? {
        type: "RestartRequired",
        status: "True",
        reason: "SpecNotApplied",
        message: `${
          unapplied.join(", ")
        }: fixed when the VM was made, so the running VM keeps its own; a restart does not change them either: delete and re-create the VirtualMachine to get a VM with the new values`,
      }
      : { type: "RestartRequired", status: "False", reason: "SpecApplied", message: "" },
  );
  const status: VirtualMachineStatus = {
    printableStatus: text,
    phase: phaseOf(text),
    nodeName: observation.nodeName,
    created,
    ready,
    runStrategy: spec.runStrategy,
    observedGeneration: generation,
    conditions,
  };
  if (pod) status.podName = pod.metadata?.name;
  const vmId = state?.id ?? previous.vmId;
  if (vmId) status.vmId = vmId;
  const ip = pod?.status?.podIP;
  if (ip && text !== "Stopped" && text !== "Crashed") status.ip = ip;
  const host = state?.host ?? (state === undefined ? previous.host : undefined);
  if (host) status.host = host;
  if (previous.lastAction) status.lastAction = previous.lastAction;
  return status;
}
