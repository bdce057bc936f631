/**
 * The status of a mock pod, computed from its record: Running with its IP and every
 * container's state while it exists, Succeeded with every container terminated once it
 * has been deleted. While its VM is not serving (stopping, stopped, starting, rebooting)
 * the pod stays Running but is not Ready, with reason `VM<power state>`, as the zstack
 * provider reports a VM; a stopped VM's containers are terminated with reason
 * `VMStopped`. Equal records give equal statuses, so an unchanged pod reports no change.
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
import { isServing, powerOf } from "./virtual_machine.ts";

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
    exitCode: instance.exitCode ?? 0,
    reason: instance.exitReason ?? "Completed",
    ...(instance.exitMessage === undefined ? {} : { message: instance.exitMessage }),
    startedAt: timeOf(instance.startedAt),
    finishedAt: timeOf(instance.finishedAt ?? instance.startedAt),
    containerID: instance.containerId,
  };
}

/** What the VM lets a container be: ready (serving), booting (starting), or neither. */
interface VmView {
  serving: boolean;
  /** Set while the VM starts: the reason and message its waiting containers show. */
  starting?: { reason: string; message: string };
}

function containerStatusOf(container: ContainerRecord, vm: VmView): ContainerStatus {
  const instance = container.current;
  const base = {
    name: container.name,
    image: instance.image,
    imageID: instance.imageId,
    containerID: instance.containerId,
    restartCount: container.restartCount,
  };
  if (vm.starting !== undefined && container.kind !== "init") {
    // The run the power-off ended is the last state until the VM's boot starts a new one.
    return {
      ...base,
      ready: false,
      started: false,
      state: { waiting: vm.starting },
      lastState: { terminated: terminated(instance) },
    };
  }
  const running = instance.finishedAt === undefined;
  return {
    ...base,
    ready: (running && vm.serving) || container.kind === "init",
    started: running,
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
  const power = powerOf(record.vm);
  const serving = isServing(record.vm);
  const vmText = `mock provider: the VM ${record.vm.id} is ${power}`;
  const vm: VmView = {
    serving,
    ...(power === "Starting" && !deleted
      ? { starting: { reason: "VMStarting", message: vmText } }
      : {}),
  };
  // Readiness follows the VM's power; a new VM has been running since its pod started.
  const readySince = timeOf(record.vm.since);
  const notReady = deleted
    ? { reason: "PodCompleted", time: timeOf(deletedAt) }
    : { reason: `VM${power}`, message: vmText, time: readySince };
  const condition = (type: string, ready: boolean): PodCondition => {
    if (!ready) {
      const { time, ...why } = notReady;
      return { type, status: "False", lastTransitionTime: time, ...why };
    }
    return {
      type,
      status: "True",
      lastTransitionTime: type === "Ready" || type === "ContainersReady" ? readySince : started,
    };
  };
  const ready = !deleted && serving;
  return {
    phase: deleted ? "Succeeded" : "Running",
    ...(deleted
      ? { reason: "MockProviderPodDeleted", message: "mock provider deleted the pod" }
      : {}),
    conditions: [
      condition("PodReadyToStartContainers", !deleted),
      condition("Initialized", true),
      condition("Ready", ready),
      condition("ContainersReady", ready),
      condition("PodScheduled", true),
    ],
    hostIP: hostIp,
    hostIPs: [{ ip: hostIp }],
    podIP: podIp,
    podIPs: [{ ip: podIp }],
    startTime: started,
    qosClass: qosClassOf(record.pod),
    // Absent rather than empty, as the API server stores it: an equal status is a no-op.
    ...(initContainers.length === 0 ? {} : {
      initContainerStatuses: initContainers.map((container) => containerStatusOf(container, vm)),
    }),
    containerStatuses: all.filter((container) => container.kind === "app")
      .map((container) => containerStatusOf(container, vm)),
  };
}
