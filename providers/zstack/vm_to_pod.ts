/**
 * From a ZStack VM back to a pod status, as pure functions: phase, conditions and
 * container state from the VM state (and whether vkedge deleted it), pod IPs from the
 * default NIC, and the one-line text of a VM state that the lifecycle log shows. An
 * unchanged VM gives an identical status, so only changes are reported.
 *
 * @module
 */

import type {
  ContainerStateTerminated,
  Pod,
  PodCondition,
  PodStatus,
} from "kubernetes-types/core/v1.d.ts";
import { formatTime, qosClassOf } from "../../lib/provider_kit/mod.ts";
import type { VmInstance } from "./api_types.ts";

/** The IPs of the VM's default NIC, IPv4 first; empty while none is allocated. */
export function podIpsOf(vm: VmInstance): string[] {
  const nics = [...vm.vmNics].sort((a, b) => (a.deviceId ?? 0) - (b.deviceId ?? 0));
  const nic = nics.find((candidate) => candidate.l3NetworkUuid === vm.defaultL3NetworkUuid) ??
    nics[0];
  if (nic === undefined) return [];
  const ips = [nic.ip, ...nic.usedIps.map((used) => used.ip)]
    .filter((ip): ip is string => typeof ip === "string" && ip !== "");
  const unique = [...new Set(ips)];
  return [...unique.filter((ip) => !ip.includes(":")), ...unique.filter((ip) => ip.includes(":"))];
}

/** What the provider knows about a VM beyond its inventory. */
export interface VmStatusContext {
  /** The pod as remembered (for container name, image and QoS). */
  pod: Pod;
  /** Management IP of the VM's host. */
  hostIp?: string;
  /** When the VM entered its current state (first observed). */
  stateSince: Date;
  /** When the VM was last seen entering Running. */
  runningSince?: Date;
  /** Set once the VM is destroyed or gone. */
  deleted?: {
    /** When. */
    at: Date;
    /** Whether vkedge did it, for the pod's deletion (else someone else did). */
    byUs: boolean;
    /** Set when vkedge left the VM running (`onPodDelete: keep`) and released it. */
    kept?: boolean;
  };
  /** Restarts of the container vkedge did (reboots), and the run the last one ended. */
  restarts?: { count: number; last: ContainerStateTerminated };
}

type ContainerView =
  | { kind: "waiting"; reason: string; message: string }
  | { kind: "running"; ready: boolean; reason?: string; message?: string }
  | { kind: "terminated"; exitCode: number; reason: string; message: string };

function viewOf(vm: VmInstance, context: VmStatusContext): ContainerView {
  const what = `VM ${vm.name} (${vm.uuid})`;
  if (context.deleted?.kept) {
    return {
      kind: "terminated",
      exitCode: 0,
      reason: "VMReleased",
      message: `${what} was left running (onPodDelete: keep) and is no longer managed by vkedge`,
    };
  }
  if (context.deleted !== undefined) {
    return {
      kind: "terminated",
      exitCode: context.deleted.byUs ? 0 : 137,
      reason: "VMDestroyed",
      message: context.deleted.byUs
        ? `${what} was destroyed by vkedge for the pod's deletion`
        : `${what} is ${vm.state === "Destroyed" ? "destroyed" : "gone"}: it was not vkedge`,
    };
  }
  switch (vm.state) {
    case "Created":
    case "Starting":
      return { kind: "waiting", reason: "ContainerCreating", message: `${what} is ${vm.state}` };
    case "Running":
    case "Migrating":
      return { kind: "running", ready: true };
    case "Stopped":
      return {
        kind: "terminated",
        exitCode: 0,
        reason: "VMStopped",
        message: `${what} is Stopped`,
      };
    case "Crashed":
      return { kind: "terminated", exitCode: 1, reason: "VMCrashed", message: `${what} crashed` };
    case "Destroying":
    case "Destroyed":
    case "Expunging":
      return {
        kind: "terminated",
        exitCode: 137,
        reason: "VMDestroyed",
        message: `${what} is ${vm.state}: it was not vkedge`,
      };
    case "Error":
      return { kind: "waiting", reason: "VMError", message: `${what} is in state Error` };
    default:
      // Stopping, Rebooting, Pausing, Paused, Resuming, Unknown, NoState, Volume*…
      return {
        kind: "running",
        ready: false,
        reason: `VM${vm.state}`,
        message: `${what} is ${vm.state}`,
      };
  }
}

/**
 * The pod status of a VM: Starting → Pending (ContainerCreating), Running → Running and
 * Ready, Stopped/Crashed → not Ready with the reason, Destroyed → terminated (Succeeded
 * when vkedge destroyed it for the pod's deletion, Failed otherwise); pod IPs from the
 * default NIC, host IP from the host. Depends only on its arguments, so an unchanged VM
 * gives an identical status.
 */
export function podStatusFromVm(vm: VmInstance, context: VmStatusContext): PodStatus {
  const container = context.pod.spec?.containers?.[0] ?? { name: "vm" };
  const view = viewOf(vm, context);
  const created = vm.createDate ?? context.stateSince;
  const since = formatTime(context.deleted?.at ?? context.stateSince);
  const startedAt = formatTime(context.runningSince ?? context.stateSince);
  const ready = view.kind === "running" && view.ready;
  const destroyed = context.deleted !== undefined ||
    ["Destroying", "Destroyed", "Expunging"].includes(vm.state);
  const phase = destroyed
    ? (context.deleted?.byUs ? "Succeeded" : "Failed")
    : view.kind === "waiting"
    ? "Pending"
    : "Running";
  const notReady = view.kind === "running"
    ? { reason: view.reason ?? "VMNotReady", message: view.message ?? "" }
    : { reason: view.reason, message: view.message };
  const condition = (type: string, status: boolean, time: string): PodCondition => ({
    type,
    status: status ? "True" : "False",
    lastTransitionTime: time,
    ...(status || type === "PodScheduled" || type === "Initialized" ? {} : notReady),
  });
  const ips = destroyed ? [] : podIpsOf(vm);
  const hostIp = context.hostIp;
  const containerId = `zstack://${vm.uuid}`;
  const state = view.kind === "waiting"
    ? { waiting: { reason: view.reason, message: view.message } }
    : view.kind === "running"
    ? { running: { startedAt } }
    : {
      terminated: {
        exitCode: view.exitCode,
        reason: view.reason,
        message: view.message,
        ...(context.runningSince === undefined ? {} : { startedAt }),
        finishedAt: since,
        containerID: containerId,
      },
    };
  return {
    phase,
    ...(destroyed ? { reason: notReady.reason, message: notReady.message } : {}),
    conditions: [
      condition("PodReadyToStartContainers", view.kind !== "waiting" && !destroyed, since),
      condition("Initialized", true, formatTime(created)),
      condition("Ready", ready, since),
      condition("ContainersReady", ready, since),
      condition("PodScheduled", true, formatTime(created)),
    ],
    ...(hostIp ? { hostIP: hostIp, hostIPs: [{ ip: hostIp }] } : {}),
    ...(ips.length > 0 ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}),
    startTime: formatTime(created),
    qosClass: qosClassOf(context.pod),
    containerStatuses: [{
      name: container.name,
      image: container.image ?? "",
      imageID: vm.imageUuid ? `zstack://image/${vm.imageUuid}` : "",
      containerID: containerId,
      ready,
      started: view.kind === "running",
      restartCount: context.restarts?.count ?? 0,
      state,
      lastState: context.restarts === undefined ? {} : { terminated: context.restarts.last },
    }],
  };
}

/** The text of a state line: `VM <name> (<uuid>) Running on host h1, IP 10.0.0.5`. */
export function vmStateText(vm: VmInstance, hostName: string | undefined): string {
  const ips = podIpsOf(vm);
  return `VM ${vm.name} (${vm.uuid}) ${vm.state}${hostName ? ` on host ${hostName}` : ""}${
    ips.length > 0 ? `, IP ${ips.join(", ")}` : ""
  }`;
}
