/**
 * The status of a mock pod, computed from its record: Running with its IP and every
 * container's state while it exists, Succeeded with every container terminated once it
 * has been deleted. Equal records give equal statuses, so an unchanged pod reports no
 * change.
 *
 * @module
 */

import type {
  ContainerStateTerminated,
  ContainerStatus,
  PodCondition,
  PodStatus,
} from "kubernetes-types/core/v1.d.ts";
import { formatTime, qosClassOf } from "../../lib/provider_kit/mod.ts";
import { formatIpv4 } from "./ip_pool.ts";
import type { PodRecord } from "./pod_records.ts";
import type { ContainerInstance, ContainerRecord } from "./state_file.ts";

/** Options of {@linkcode podStatusOf}. */
export interface PodStatusOptions {
  /** The node's address (`hostIP`). */
  hostIp: string;
  /** When the pod was deleted (milliseconds since the epoch): the terminal status. */
  deletedAt?: number;
}

function timeOf(ms: number): string {
  return formatTime(new Date(ms));
}

function terminated(instance: ContainerInstance): ContainerStateTerminated {
  return {
    exitCode: 0,
    reason: instance.exitReason ?? "Completed",
    ...(instance.exitMessage === undefined ? {} : { message: instance.exitMessage }),
    startedAt: timeOf(instance.startedAt),
    finishedAt: timeOf(instance.finishedAt ?? instance.startedAt),
    containerID: instance.containerId,
  };
}

function containerStatusOf(container: ContainerRecord): ContainerStatus {
  const instance = container.current;
  const running = instance.finishedAt === undefined;
  return {
    name: container.name,
    image: instance.image,
    imageID: instance.imageId,
    containerID: instance.containerId,
    ready: running || container.kind === "init",
    started: running,
    restartCount: container.restartCount,
    state: running
      ? { running: { startedAt: timeOf(instance.startedAt) } }
      : { terminated: terminated(instance) },
    lastState: container.previous === undefined
      ? {}
      : { terminated: terminated(container.previous) },
  };
}

/** The status of the pod `record`, or its terminal status when `options.deletedAt` is set. */
export function podStatusOf(record: PodRecord, options: PodStatusOptions): PodStatus {
  const { hostIp, deletedAt } = options;
  const started = timeOf(record.startTime);
  const podIp = formatIpv4(record.ip);
  const all = [...record.containers.values()];
  const initContainers = all.filter((container) => container.kind !== "app");
  const deleted = deletedAt !== undefined;
  const transition = deleted ? timeOf(deletedAt) : started;
  const condition = (type: string, ready: boolean): PodCondition => ({
    type,
    status: ready ? "True" : "False",
    lastTransitionTime: ready ? started : transition,
    ...(ready ? {} : { reason: "PodCompleted" }),
  });
  return {
    phase: deleted ? "Succeeded" : "Running",
    ...(deleted
      ? { reason: "MockProviderPodDeleted", message: "mock provider deleted the pod" }
      : {}),
    conditions: [
      condition("PodReadyToStartContainers", !deleted),
      condition("Initialized", true),
      condition("Ready", !deleted),
      condition("ContainersReady", !deleted),
      condition("PodScheduled", true),
    ],
    hostIP: hostIp,
    hostIPs: [{ ip: hostIp }],
    podIP: podIp,
    podIPs: [{ ip: podIp }],
    startTime: started,
    qosClass: qosClassOf(record.pod),
    // Absent rather than empty, as the API server stores it: an equal status is a no-op.
    ...(initContainers.length === 0
      ? {}
      : { initContainerStatuses: initContainers.map(containerStatusOf) }),
    containerStatuses: all.filter((container) => container.kind === "app").map(containerStatusOf),
  };
}
