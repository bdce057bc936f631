/**
 * The status the agent writes for a pod: the provider's report with what only the agent
 * knows laid over it, as pure functions of their inputs (so an unchanged situation gives
 * an unchanged status, and no write):
 *
 * - probes: a container is `started` once its startup probe passed and `ready` while its
 *   readiness probe passes (and the provider says it serves); `ContainersReady` and
 *   `Ready` follow, with the kubelet's `ContainersNotReady` reason;
 * - restarts: a container waiting out its back-off shows `CrashLoopBackOff` with the run
 *   that ended as `lastState`; `restartCount` never goes down (a provider that counts in
 *   memory starts from 0 again after an agent restart);
 * - the phase, for pods whose containers end (not VM-Pods, whose VirtualMachine decides):
 *   Succeeded or Failed once every container has ended for good, as the kubelet's
 *   `getPhase` decides it from `restartPolicy`.
 *
 * Conditions keep the transition time the API object has while their status stays.
 *
 * @module
 */

import type {
  ContainerState,
  ContainerStateTerminated,
  ContainerStatus,
  Pod,
  PodCondition,
  PodStatus,
} from "kubernetes-types/core/v1.d.ts";
import { formatTime } from "../kube/mod.ts";
import type { ProbeView } from "../probes/mod.ts";

/** A container the agent holds back before its next run. */
export interface BackOff {
  /** The back-off delay in seconds (10, 20, 40, … 300). */
  delaySeconds: number;
}

/** What the overlay is computed from besides the pod and the provider's report. */
export interface StatusInputs {
  /** What the probes say of a container's current run. */
  probes(container: string, status: ContainerStatus): ProbeView;
  /** Set for a container waiting out a restart back-off (`reported`: the provider's status). */
  backOff(reported: ContainerStatus): BackOff | undefined;
  /** Set for a container the agent ended for good (a liveness failure under `Never`). */
  ended(container: string): ContainerStateTerminated | undefined;
  /** Whether the pod's containers may end and restart (false for VM-Pods). */
  ownsLifecycle: boolean;
  /** Now, for new transition times. */
  now: Date;
}

function isRunning(state: ContainerState | undefined): boolean {
  return state?.running !== undefined && state.running !== null;
}

function terminatedOf(state: ContainerState | undefined): ContainerStateTerminated | undefined {
  return state?.terminated ?? undefined;
}

/** The kubelet's `format.Pod`: `name_namespace(uid)`. */
export function podDescription(pod: Pod): string {
  return `${pod.metadata?.name ?? ""}_${pod.metadata?.namespace ?? ""}(${pod.metadata?.uid ?? ""})`;
}

function containerStatus(
  pod: Pod,
  reported: ContainerStatus,
  inputs: StatusInputs,
): ContainerStatus {
  const name = reported.name;
  const api = pod.status?.containerStatuses?.find((status) => status.name === name);
  let status: ContainerStatus = { ...reported };
  // restartCount never goes down; the API object keeps the last state such a provider lost.
  if (api !== undefined && api.restartCount > status.restartCount) {
    status = {
      ...status,
      restartCount: api.restartCount,
      lastState: terminatedOf(status.lastState) === undefined ? api.lastState : status.lastState,
    };
  }
  const ended = inputs.ownsLifecycle ? inputs.ended(name) : undefined;
  if (ended !== undefined) {
    return { ...status, state: { terminated: ended }, ready: false, started: false };
  }
  const terminated = terminatedOf(status.state);
  const backOff = inputs.ownsLifecycle && terminated !== undefined
    ? inputs.backOff(reported)
    : undefined;
  if (backOff !== undefined && terminated !== undefined) {
    return {
      ...status,
      state: {
        waiting: {
          reason: "CrashLoopBackOff",
          message: `back-off ${backOff.delaySeconds}s restarting failed container=${name} pod=${
            podDescription(pod)
          }`,
        },
      },
      lastState: { terminated },
      ready: false,
      started: false,
    };
  }
  const running = isRunning(status.state);
  const view = inputs.probes(name, reported);
  const started = running && (view.started ?? status.started ?? true);
  const ready = running && started && (status.ready ?? false) && (view.ready ?? true);
  return { ...status, started, ready };
}

/**
 * The kubelet's phase of a pod from its containers' states: Pending while one waits to
 * start, Running while one runs or will run again, Succeeded or Failed once every one
 * ended for good.
 */
export function phaseOf(pod: Pod, statuses: ContainerStatus[]): PodStatus["phase"] {
  const policy = pod.spec?.restartPolicy ?? "Always";
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const status of statuses) {
    const state = status.state;
    if (isRunning(state)) running++;
    else if (terminatedOf(state) !== undefined) {
      stopped++;
      if (terminatedOf(state)!.exitCode === 0) succeeded++;
    } else if (terminatedOf(status.lastState) !== undefined) stopped++;
    else waiting++;
  }
  if (waiting > 0) return "Pending";
  if (running > 0) return "Running";
  if (stopped === 0) return "Pending";
  if (policy === "Always") return "Running";
  if (policy === "OnFailure") return stopped === succeeded ? "Succeeded" : "Running";
  return stopped === succeeded ? "Succeeded" : "Failed";
}

function condition(
  pod: Pod,
  reported: PodCondition | undefined,
  wanted: Omit<PodCondition, "lastTransitionTime">,
  now: Date,
): PodCondition {
  const api = pod.status?.conditions?.find((each) => each.type === wanted.type);
  const time = api?.status === wanted.status && api.lastTransitionTime
    ? api.lastTransitionTime
    : reported?.status === wanted.status && reported.lastTransitionTime
    ? reported.lastTransitionTime
    : formatTime(now);
  return { ...wanted, lastTransitionTime: time };
}

/** The status the agent writes for `pod` from the provider's `reported` status. */
export function effectivePodStatus(
  pod: Pod,
  reported: PodStatus,
  inputs: StatusInputs,
): PodStatus {
  const statuses = (reported.containerStatuses ?? []).map((status) =>
    containerStatus(pod, status, inputs)
  );
  const status: PodStatus = { ...reported, containerStatuses: statuses };
  if (reported.containerStatuses === undefined) delete status.containerStatuses;
  let phase = reported.phase;
  if (inputs.ownsLifecycle && phase === "Running") phase = phaseOf(pod, statuses);
  status.phase = phase;
  const terminal = phase === "Succeeded" || phase === "Failed";
  const unready = statuses.filter((each) => !each.ready).map((each) => each.name);
  const reportedOf = (type: string) => reported.conditions?.find((each) => each.type === type);
  const gatesPass = (pod.spec?.readinessGates ?? []).every((gate) =>
    pod.status?.conditions?.some((each) =>
      each.type === gate.conditionType && each.status === "True"
    )
  );
  const readiness = (type: "Ready" | "ContainersReady"): PodCondition | undefined => {
    const from = reportedOf(type);
    if (from === undefined) return undefined;
    if (terminal && reported.phase === "Running") {
      return condition(pod, from, { type, status: "False", reason: "PodCompleted" }, inputs.now);
    }
    if (from.status !== "True") return from;
    if (unready.length > 0) {
      return condition(pod, from, {
        type,
        status: "False",
        reason: "ContainersNotReady",
        message: `containers with unready status: [${unready.join(" ")}]`,
      }, inputs.now);
    }
    if (type === "Ready" && !gatesPass) {
      return condition(pod, from, {
        type,
        status: "False",
        reason: "ReadinessGatesNotReady",
        message: 'the status of pod readiness gates is not "True"',
      }, inputs.now);
    }
    return condition(pod, from, { type, status: "True" }, inputs.now);
  };
  if (reported.conditions !== undefined) {
    status.conditions = reported.conditions.map((each) =>
      each.type === "Ready" || each.type === "ContainersReady" ? readiness(each.type) ?? each : each
    );
  }
  return status;
}
