/**
 * The pod status read back from a vSphere VM: a VM being cloned is Pending; powered on it
 * is Running, Ready once VMware Tools report an IP (unless `waitForGuestIp: false`);
 * powered off or suspended it stays Running and not Ready (`VMStopped`, `VMSuspended`);
 * destroyed by vkedge it is Succeeded. Also the text of a VM's state lines in its log.
 *
 * @module
 */

import type { Pod, PodCondition, PodStatus } from "kubernetes-types/core/v1.d.ts";
import { formatTime, qosClassOf } from "../../lib/provider_kit/mod.ts";
import { vmNameOf } from "./identity.ts";
import type { VmRecord } from "./vm_record.ts";

/** What the provider knows of a VM beyond its properties. */
export interface VmStatusContext {
  /** The pod as remembered. */
  pod: Pod;
  /** The VM's host name. */
  hostName?: string;
  /** When the VM entered its current state (first observed). */
  stateSince: Date;
  /** When it was created (or first seen). */
  createdAt: Date;
  /** When it was last seen entering Running. */
  runningSince?: Date;
  /** Readiness needs a guest IP. */
  waitForGuestIp: boolean;
  /** A power action vkedge is carrying out, such as `Stopping`. */
  transition?: string;
  /** Set while the clone runs. */
  creating?: boolean;
  /** Set once vkedge destroyed the VM (or found it gone). */
  deleted?: { at: Date; byUs: boolean };
}

type ContainerView =
  | { kind: "waiting"; reason: string; message: string }
  | { kind: "running"; ready: boolean; reason?: string; message?: string }
  | { kind: "terminated"; exitCode: number; reason: string; message: string };

function viewOf(vm: VmRecord | undefined, context: VmStatusContext): ContainerView {
  const what = `VM ${
    vm?.name ?? vmNameOf(context.pod.metadata?.namespace ?? "", context.pod.metadata?.name ?? "")
  }`;
  if (context.deleted !== undefined) {
    return {
      kind: "terminated",
      exitCode: context.deleted.byUs ? 0 : 137,
      reason: "VMDestroyed",
      message: context.deleted.byUs
        ? `${what} was destroyed by vkedge for the pod's deletion`
        : `${what} is gone: it was not vkedge`,
    };
  }
  if (vm === undefined || context.creating) {
    return { kind: "waiting", reason: "ContainerCreating", message: `${what} is being cloned` };
  }
  if (context.transition !== undefined) {
    return {
      kind: "running",
      ready: false,
      reason: `VM${context.transition}`,
      message: `${what} is ${context.transition}`,
    };
  }
  switch (vm.power) {
    case "poweredOn":
      if (context.waitForGuestIp && vm.ips.length === 0) {
        return {
          kind: "running",
          ready: false,
          reason: "VMBooting",
          message: `${what} is powered on; waiting for VMware Tools to report an IP`,
        };
      }
      return { kind: "running", ready: true };
    case "suspended":
      return {
        kind: "running",
        ready: false,
        reason: "VMSuspended",
        message: `${what} is suspended`,
      };
    default:
      return {
        kind: "terminated",
        exitCode: 0,
        reason: "VMStopped",
        message: `${what} is powered off`,
      };
  }
}

/**
 * The pod status of a VM (see the module documentation). Depends only on its arguments,
 * so an unchanged VM gives an identical status.
 */
export function podStatusOf(vm: VmRecord | undefined, context: VmStatusContext): PodStatus {
  const container = context.pod.spec?.containers?.[0] ?? { name: "vm" };
  const view = viewOf(vm, context);
  const since = formatTime(context.deleted?.at ?? context.stateSince);
  const created = formatTime(context.createdAt);
  const startedAt = formatTime(context.runningSince ?? context.stateSince);
  const ready = view.kind === "running" && view.ready;
  const destroyed = context.deleted !== undefined;
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
  const ips = destroyed || vm === undefined ? [] : vm.ips;
  const containerId = vm ? `vsphere://${vm.instanceUuid ?? vm.ref.value}` : "";
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
        ...(containerId ? { containerID: containerId } : {}),
      },
    };
  return {
    phase,
    ...(destroyed ? { reason: notReady.reason, message: notReady.message } : {}),
    conditions: [
      condition("PodReadyToStartContainers", view.kind !== "waiting" && !destroyed, since),
      condition("Initialized", true, created),
      condition("Ready", ready, since),
      condition("ContainersReady", ready, since),
      condition("PodScheduled", true, created),
    ],
    ...(ips.length > 0 ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}),
    startTime: created,
    qosClass: qosClassOf(context.pod),
    containerStatuses: [{
      name: container.name,
      image: container.image ?? "",
      imageID: "",
      ...(containerId ? { containerID: containerId } : {}),
      ready,
      started: view.kind === "running",
      restartCount: 0,
      state,
      lastState: {},
    }],
  };
}

/** The text of a state line: `VM <name> (vm-42) poweredOn on host h1, IP 10.0.0.5`. */
export function vmStateText(vm: VmRecord, hostName: string | undefined): string {
  return `VM ${vm.name} (${vm.ref.value}) ${vm.power}${hostName ? ` on host ${hostName}` : ""}${
    vm.ips.length > 0 ? `, IP ${vm.ips.join(", ")}` : ""
  }`;
}
