/**
 * Swarm tasks → pod status. Each container's service has a history of tasks (Swarm makes a
 * new task for every restart); the newest is the container's current instance, the one
 * before it that ran is its last state, and the tasks that ran, minus one, are its
 * restarts.
 *
 * | newest task                                    | container state                      |
 * | ---------------------------------------------- | ------------------------------------ |
 * | `running`                                      | running (ready)                      |
 * | `complete`, `failed`, `shutdown`… that ran     | terminated with its exit code        |
 * | `pending` with an error (no node fits)         | waiting `Unschedulable`              |
 * | `rejected` before running (image, spec)        | waiting `ErrImagePull` / `CreateContainerError` |
 * | before `running`, after restarts               | waiting `CrashLoopBackOff`           |
 * | before `running`                               | waiting `ContainerCreating`          |
 *
 * The phase follows the pod's restart policy: Succeeded or Failed once every container
 * terminated for good, Running once every container ran, else Pending. The pod IP is the
 * first container's address on the pod network (the node's address for a `hostNetwork`
 * pod), the host IP that of the Swarm node running it.
 *
 * @module
 */

import type {
  ContainerState,
  ContainerStatus,
  Pod,
  PodCondition,
  PodStatus,
} from "kubernetes-types/core/v1.d.ts";
import { formatTime, qosClassOf } from "../../lib/provider_kit/mod.ts";
import type { SwarmNode, Task, TaskState } from "./api_types.ts";

/** The tasks of one container's service. */
export interface ContainerTasks {
  /** Container name. */
  name: string;
  /** Image of the container spec. */
  image: string;
  /** Every task of the service Swarm still lists. */
  tasks: Task[];
  /**
   * IDs of the tasks that ran, as far as the provider has seen (Swarm keeps only the last
   * few in its history); the listed ones are added to it.
   */
  ran: Set<string>;
}

/** What the status is made from. */
export interface StatusContext {
  /** The pod (spec and metadata). */
  pod: Pod;
  /** Each container's tasks, in the pod's order. */
  containers: ContainerTasks[];
  /** Swarm nodes by ID. */
  nodes: Map<string, SwarmNode>;
  /** ID of the pod network. */
  podNetworkId?: string;
  /** When the first service was created (RFC 3339). */
  createdAt: string;
  /** Set once vkedge removed the services: the terminal status. */
  deletedAt?: number;
}

const terminalStates: ReadonlySet<TaskState> = new Set([
  "complete",
  "shutdown",
  "failed",
  "rejected",
  "remove",
  "orphaned",
]);

/** Whether the task's container was started (it has a container and got past `starting`). */
export function taskRan(task: Task): boolean {
  if (!task.Status.ContainerStatus?.ContainerID) return false;
  return task.Status.State === "running" ||
    (terminalStates.has(task.Status.State) && task.Status.State !== "rejected");
}

/** Whether the task is done (terminal) or running: nothing is about to change by itself. */
export function taskSettled(task: Task): boolean {
  return task.Status.State === "running" || terminalStates.has(task.Status.State);
}

/** Task time (RFC 3339 with up to nine fractional digits) as a Kubernetes `Time`. */
export function kubeTime(timestamp: string | number): string {
  if (typeof timestamp === "number") return formatTime(new Date(timestamp));
  const trimmed = timestamp.replace(/(\.\d{3})\d+/, "$1");
  const date = new Date(trimmed);
  return formatTime(Number.isNaN(date.getTime()) ? new Date(0) : date);
}

/** The tasks newest first (creation time, then version). */
export function newestFirst(tasks: Task[]): Task[] {
  return [...tasks].sort((a, b) =>
    b.CreatedAt.localeCompare(a.CreatedAt) || b.Version.Index - a.Version.Index
  );
}

function terminated(task: Task, reasonOverride?: string): ContainerState {
  const exitCode = task.Status.ContainerStatus?.ExitCode ?? 0;
  const message = task.Status.Err ?? task.Status.Message;
  return {
    terminated: {
      exitCode,
      reason: reasonOverride ?? (exitCode === 0 ? "Completed" : "Error"),
      ...(message ? { message: `Swarm task ${task.Status.State}: ${message}` } : {}),
      startedAt: kubeTime(task.CreatedAt),
      finishedAt: kubeTime(task.Status.Timestamp),
      ...(task.Status.ContainerStatus?.ContainerID
        ? { containerID: `docker://${task.Status.ContainerStatus.ContainerID}` }
        : {}),
    },
  };
}

/** Why a task that has not run yet waits. */
function waiting(task: Task | undefined, restarts: number): ContainerState {
  if (task === undefined) {
    return { waiting: { reason: "ContainerCreating", message: "Swarm has no task yet" } };
  }
  const error = task.Status.Err;
  if (task.Status.State === "pending" && error) {
    return {
      waiting: { reason: "Unschedulable", message: `Swarm cannot place the task: ${error}` },
    };
  }
  if (task.Status.State === "rejected" || (error && terminalStates.has(task.Status.State))) {
    const reason = /image|manifest|pull|repository/i.test(error ?? "")
      ? "ErrImagePull"
      : "CreateContainerError";
    return {
      waiting: { reason, message: `Swarm rejected the task: ${error ?? task.Status.Message}` },
    };
  }
  if (restarts > 0) {
    return {
      waiting: {
        reason: "CrashLoopBackOff",
        message: `Swarm restarts the container after its restart delay (task ${task.Status.State})`,
      },
    };
  }
  return {
    waiting: {
      reason: "ContainerCreating",
      message: `Swarm task ${task.Status.State}${
        task.Status.Message ? `: ${task.Status.Message}` : ""
      }`,
    },
  };
}

/** One container's status, and whether it is done for good under `restartPolicy`. */
export function containerStatusOf(
  container: ContainerTasks,
  restartPolicy: string,
): { status: ContainerStatus; ran: boolean; done: boolean; exitCode?: number } {
  const tasks = newestFirst(container.tasks);
  for (const task of tasks) if (taskRan(task)) container.ran.add(task.ID);
  const current = tasks[0];
  const restartCount = Math.max(0, container.ran.size - 1);
  const previous = tasks.slice(1).find(taskRan);
  let state: ContainerState;
  let done = false;
  let exitCode: number | undefined;
  if (current?.Status.State === "running") {
    state = { running: { startedAt: kubeTime(current.Status.Timestamp) } };
  } else if (
    current !== undefined && terminalStates.has(current.Status.State) && taskRan(current)
  ) {
    state = terminated(current);
    exitCode = current.Status.ContainerStatus?.ExitCode ?? 0;
    done = restartPolicy === "Never" || (restartPolicy === "OnFailure" && exitCode === 0);
  } else {
    state = waiting(current, restartCount);
    if (
      current !== undefined && terminalStates.has(current.Status.State) && restartPolicy === "Never"
    ) {
      done = true;
      exitCode = current.Status.ContainerStatus?.ExitCode ?? 1;
    }
  }
  const containerId = current?.Status.ContainerStatus?.ContainerID;
  return {
    status: {
      name: container.name,
      image: container.image,
      imageID: "",
      ready: state.running !== undefined,
      started: state.running !== undefined,
      restartCount,
      state,
      ...(previous !== undefined && previous !== current
        ? { lastState: terminated(previous) }
        : {}),
      ...(containerId ? { containerID: `docker://${containerId}` } : {}),
    },
    ran: container.ran.size > 0,
    done,
    exitCode,
  };
}

function addressOf(task: Task | undefined, networkId: string | undefined): string | undefined {
  const attachment = task?.NetworksAttachments?.find((a) => a.Network.ID === networkId) ??
    task?.NetworksAttachments?.find((a) => (a.Addresses ?? []).length > 0);
  const address = attachment?.Addresses?.[0];
  return address?.replace(/\/\d+$/, "");
}

function condition(type: string, ok: boolean, time: string, reason?: string): PodCondition {
  return {
    type,
    status: ok ? "True" : "False",
    lastTransitionTime: time,
    ...(reason && !ok ? { reason } : {}),
  };
}

/** The pod status of `context`. */
export function podStatusOf(context: StatusContext): PodStatus {
  const { pod } = context;
  const restartPolicy = pod.spec?.restartPolicy ?? "Always";
  const results = context.containers.map((container) =>
    containerStatusOf(container, restartPolicy)
  );
  const firstTask = newestFirst(context.containers[0]?.tasks ?? [])[0];
  const node = firstTask?.NodeID ? context.nodes.get(firstTask.NodeID) : undefined;
  const hostIP = node?.Status.Addr;
  const podIP = pod.spec?.hostNetwork ? hostIP : addressOf(firstTask, context.podNetworkId);
  const started = kubeTime(context.createdAt);

  if (context.deletedAt !== undefined) {
    const at = kubeTime(context.deletedAt);
    return {
      phase: "Succeeded",
      reason: "SwarmServicesRemoved",
      message: "vkedge removed the Swarm services of this pod",
      startTime: started,
      ...(hostIP ? { hostIP, hostIPs: [{ ip: hostIP }] } : {}),
      ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
      qosClass: qosClassOf(pod),
      conditions: [
        condition("PodScheduled", true, started),
        condition("Initialized", true, started),
        condition("ContainersReady", false, at, "PodCompleted"),
        condition("Ready", false, at, "PodCompleted"),
      ],
      containerStatuses: results.map(({ status }) => ({
        ...status,
        ready: false,
        started: false,
        state: status.state?.terminated ? status.state : {
          terminated: {
            exitCode: 0,
            reason: "Completed",
            message: "Swarm service removed",
            finishedAt: at,
          },
        },
      })),
    };
  }

  const allDone = results.length > 0 && results.every((result) => result.done);
  const allRan = results.length > 0 && results.every((result) => result.ran);
  const phase = allDone
    ? (results.every((result) => result.exitCode === 0) ? "Succeeded" : "Failed")
    : allRan
    ? "Running"
    : "Pending";
  const ready = !allDone && results.every((result) => result.status.ready);
  const readyTime = kubeTime(
    results.map((result) =>
      result.status.state?.running?.startedAt ?? result.status.state?.terminated?.finishedAt ??
        context.createdAt
    ).sort().at(-1) ?? context.createdAt,
  );
  const unschedulable = results.find((result) =>
    result.status.state?.waiting?.reason === "Unschedulable"
  );
  return {
    phase,
    ...(unschedulable
      ? {
        message: `container ${unschedulable.status.name}: ${
          unschedulable.status.state!.waiting!.message
        }`,
      }
      : {}),
    startTime: started,
    ...(hostIP ? { hostIP, hostIPs: [{ ip: hostIP }] } : {}),
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
    qosClass: qosClassOf(pod),
    conditions: [
      condition("PodReadyToStartContainers", results.some((result) => result.ran), started),
      condition("PodScheduled", true, started),
      condition("Initialized", true, started),
      condition(
        "ContainersReady",
        ready,
        readyTime,
        allDone ? "PodCompleted" : "ContainersNotReady",
      ),
      condition("Ready", ready, readyTime, allDone ? "PodCompleted" : "ContainersNotReady"),
    ],
    containerStatuses: results.map((result) => result.status),
  };
}
