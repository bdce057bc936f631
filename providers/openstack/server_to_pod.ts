/**
 * From a Nova server back to a pod status, as pure functions: phase, conditions and
 * container state from the server's status and task state (and whether vkedge deleted
 * it), pod IPs from its addresses (the pod network's first), a failed build's `fault` as
 * the container's reason, the power state the VM capabilities report, and the one-line
 * text of a server state that `kubectl logs` shows. An unchanged server gives an
 * identical status, so only changes are reported.
 *
 * @module
 */

import type { Pod, PodCondition, PodStatus } from "kubernetes-types/core/v1.d.ts";
import type { VirtualMachineState } from "../../lib/provider.ts";
import { formatTime, qosClassOf } from "../../lib/provider_kit/mod.ts";
import type { Server } from "./api_types.ts";

/** Metadata key naming the pod network (the first network asked for). */
export const podNetworkKey = "vkedge.io:pod-network";

/** The task state of a server (`powering-off`, `spawning`, …), or `undefined`. */
export function taskOf(server: Server): string | undefined {
  return server["OS-EXT-STS:task_state"] ?? undefined;
}

/** The compute host of a server, when the credentials may see it. */
export function hostOf(server: Server): string | undefined {
  return server["OS-EXT-SRV-ATTR:host"] ?? undefined;
}

/**
 * The fixed IPs of the server, the pod network's first (its IPv4 before IPv6), then the
 * other networks' in the order Nova lists them.
 */
export function podIpsOf(server: Server): string[] {
  const network = server.metadata[podNetworkKey];
  const names = Object.keys(server.addresses);
  const ordered = network !== undefined && names.includes(network)
    ? [network, ...names.filter((name) => name !== network)]
    : names;
  const ips: string[] = [];
  for (const name of ordered) {
    const addresses = server.addresses[name].filter((address) =>
      (address["OS-EXT-IPS:type"] ?? "fixed") === "fixed"
    );
    ips.push(...addresses.filter((a) => !a.addr.includes(":")).map((a) => a.addr));
    ips.push(...addresses.filter((a) => a.addr.includes(":")).map((a) => a.addr));
  }
  return [...new Set(ips)];
}

/** The power state of a server for `VirtualMachinePower`. */
export function powerOf(server: Server): VirtualMachineState["power"] {
  const task = taskOf(server) ?? "";
  switch (server.status) {
    case "ACTIVE":
      if (task === "powering-off") return "Stopping";
      if (task.startsWith("reboot")) return "Rebooting";
      if (task === "migrating") return "Migrating";
      if (task === "pausing" || task === "suspending") return "Paused";
      return "Running";
    case "BUILD":
      return "Starting";
    case "SHUTOFF":
    case "SHELVED":
    case "SHELVED_OFFLOADED":
      return task === "powering-on" ? "Starting" : "Stopped";
    case "REBOOT":
    case "HARD_REBOOT":
      return "Rebooting";
    case "MIGRATING":
    case "RESIZE":
    case "VERIFY_RESIZE":
    case "REVERT_RESIZE":
      return "Migrating";
    case "PAUSED":
    case "SUSPENDED":
      return "Paused";
    default: // ERROR, REBUILD, RESCUE, UNKNOWN, DELETED, SOFT_DELETED, PASSWORD
      return "Unknown";
  }
}

/** What the provider knows about a server beyond what Nova says. */
export interface ServerStatusContext {
  /** The pod as remembered (container name, image, QoS). */
  pod: Pod;
  /** IP of the server's compute host, when known. */
  hostIp?: string;
  /** When the server entered its current state (first observed). */
  stateSince: Date;
  /** When it was last seen entering ACTIVE. */
  runningSince?: Date;
  /** Set once the server is deleted or gone. */
  deleted?: {
    at: Date;
    /** Whether vkedge deleted it for the pod's deletion. */
    byUs: boolean;
    /** Set when vkedge left it running and released it (`onPodDelete: keep`). */
    kept?: boolean;
  };
}

type ContainerView =
  | { kind: "waiting"; reason: string; message: string }
  | { kind: "running"; ready: boolean; reason?: string; message?: string }
  | { kind: "terminated"; exitCode: number; reason: string; message: string };

/** The reason a failed build gives: `NoValidHost` for scheduling failures, else `ServerError`. */
export function faultReason(server: Server): string {
  const message = server.fault?.message ?? "";
  if (/no valid host/i.test(message)) return "NoValidHost";
  if (/quota/i.test(message)) return "QuotaExceeded";
  if (/image/i.test(message) && /not found|could not be found/i.test(message)) {
    return "ImageNotFound";
  }
  return "ServerError";
}

function viewOf(server: Server, context: ServerStatusContext): ContainerView {
  const what = `server ${server.name} (${server.id})`;
  const task = taskOf(server);
  if (context.deleted?.kept) {
    return {
      kind: "terminated",
      exitCode: 0,
      reason: "ServerReleased",
      message: `${what} was left running (onPodDelete: keep) and is no longer managed by vkedge`,
    };
  }
  if (context.deleted !== undefined) {
    return {
      kind: "terminated",
      exitCode: context.deleted.byUs ? 0 : 137,
      reason: "ServerDeleted",
      message: context.deleted.byUs
        ? `${what} was deleted by vkedge for the pod's deletion`
        : `${what} is gone: it was not vkedge`,
    };
  }
  switch (server.status) {
    case "BUILD":
      return {
        kind: "waiting",
        reason: "ContainerCreating",
        message: `${what} is building${task ? ` (${task})` : ""}`,
      };
    case "ACTIVE":
      if (task === "powering-off") {
        return {
          kind: "running",
          ready: false,
          reason: "VMStopping",
          message: `${what} is stopping`,
        };
      }
      if (task?.startsWith("reboot")) {
        return {
          kind: "running",
          ready: false,
          reason: "VMRebooting",
          message: `${what} is rebooting`,
        };
      }
      return { kind: "running", ready: true };
    case "MIGRATING":
    case "RESIZE":
    case "VERIFY_RESIZE":
    case "REVERT_RESIZE":
      return { kind: "running", ready: true };
    case "SHUTOFF":
      return {
        kind: "terminated",
        exitCode: 0,
        reason: "VMStopped",
        message: `${what} is SHUTOFF${task === "powering-on" ? " (starting)" : ""}`,
      };
    case "ERROR":
      return {
        kind: "waiting",
        reason: faultReason(server),
        message: `${what} is in ERROR${server.fault?.message ? `: ${server.fault.message}` : ""}`,
      };
    case "DELETED":
    case "SOFT_DELETED":
      return {
        kind: "terminated",
        exitCode: 137,
        reason: "ServerDeleted",
        message: `${what} is ${server.status}: it was not vkedge`,
      };
    case "REBOOT":
    case "HARD_REBOOT":
      return {
        kind: "running",
        ready: false,
        reason: "VMRebooting",
        message: `${what} is rebooting`,
      };
    default: // PAUSED, SUSPENDED, SHELVED*, REBUILD, RESCUE, PASSWORD, UNKNOWN
      return {
        kind: "running",
        ready: false,
        reason: `VM${server.status.charAt(0)}${
          server.status.slice(1).toLowerCase().replace(/_(.)/g, (_m, c: string) => c.toUpperCase())
        }`,
        message: `${what} is ${server.status}`,
      };
  }
}

/**
 * The pod status of a server: BUILD → Pending (ContainerCreating), ACTIVE → Running and
 * Ready, SHUTOFF → Running and not Ready (VMStopped), ERROR → Pending with the fault as
 * the container's reason, deleted → terminated (Succeeded when vkedge deleted it for the
 * pod's deletion, Failed otherwise). Depends only on its arguments.
 */
export function podStatusFromServer(server: Server, context: ServerStatusContext): PodStatus {
  const container = context.pod.spec?.containers?.[0] ?? { name: "vm" };
  const view = viewOf(server, context);
  const created = server.created;
  const since = formatTime(context.deleted?.at ?? context.stateSince);
  const startedAt = formatTime(context.runningSince ?? context.stateSince);
  const ready = view.kind === "running" && view.ready;
  const destroyed = context.deleted !== undefined ||
    server.status === "DELETED" || server.status === "SOFT_DELETED";
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
  const ips = destroyed ? [] : podIpsOf(server);
  const containerId = `openstack://${server.id}`;
  const imageId = typeof server.image === "object" && server.image !== null ? server.image.id : "";
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
    ...(context.hostIp ? { hostIP: context.hostIp, hostIPs: [{ ip: context.hostIp }] } : {}),
    ...(ips.length > 0 ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}),
    startTime: formatTime(created),
    qosClass: qosClassOf(context.pod),
    containerStatuses: [{
      name: container.name,
      image: container.image ?? "",
      imageID: imageId ? `openstack://image/${imageId}` : "",
      containerID: containerId,
      ready,
      started: view.kind === "running",
      restartCount: 0,
      state,
      lastState: {},
    }],
  };
}

/** The text of a state line: `server vkedge-default.web (id) ACTIVE on host compute-1, IP 10.0.0.5`. */
export function serverStateText(server: Server): string {
  const ips = podIpsOf(server);
  const task = taskOf(server);
  const host = hostOf(server);
  const fault = server.status === "ERROR" && server.fault?.message
    ? `: ${server.fault.message}`
    : "";
  return `server ${server.name} (${server.id}) ${server.status}${task ? ` (${task})` : ""}${
    host ? ` on host ${host}` : ""
  }${ips.length > 0 ? `, IP ${ips.join(", ")}` : ""}${fault}`;
}
