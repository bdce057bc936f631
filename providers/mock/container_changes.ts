/**
 * The changes a mock pod's containers go through: started at creation, restarted when an
 * update changes their image or on request, ended when the VM powers off or their main
 * process exits, run anew when the VM boots, terminated at deletion.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { type PodRecord, withoutStatus } from "./pod_record.ts";
import type { ContainerRecord } from "./state_file.ts";

/** Options of the container changes: when they happen, and what to do before a run ends. */
export interface ContainerChangeOptions {
  /** Milliseconds since the epoch. */
  now: number;
  /** Called with a container whose current run is about to end (to keep its usage). */
  retire(container: ContainerRecord): void;
}

/** A content-derived image id, `sha256:` and 64 hexadecimal digits. */
async function imageIdOf(image: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(image));
  return `sha256:${
    Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("")
  }`;
}

/**
 * The containers of a pod created at `now`: app containers and sidecars running, init
 * containers already completed.
 */
export async function startContainers(
  pod: Pod,
  seed: string,
  now: number,
): Promise<Map<string, ContainerRecord>> {
  const containers = new Map<string, ContainerRecord>();
  const specs = [
    ...(pod.spec?.initContainers ?? []).map((spec) => ({ spec, init: true })),
    ...(pod.spec?.containers ?? []).map((spec) => ({ spec, init: false })),
  ];
  for (const { spec, init } of specs) {
    const kind = !init ? "app" : spec.restartPolicy === "Always" ? "sidecar" : "init";
    const image = spec.image ?? "";
    containers.set(spec.name, {
      name: spec.name,
      kind,
      current: {
        image,
        imageId: await imageIdOf(image),
        containerId: `mock://${seed}/${spec.name}`,
        startedAt: now,
        ...(kind === "init" ? { finishedAt: now, exitReason: "Completed" } : {}),
      },
      restartCount: 0,
    });
  }
  return containers;
}

/**
 * Applies `pod` to `record`: every running container (app or sidecar) whose image changed
 * restarts with the new image, then the record holds the new spec, metadata and UID.
 */
export async function updateRecord(
  record: PodRecord,
  pod: Pod,
  options: ContainerChangeOptions,
): Promise<void> {
  const { now } = options;
  for (const spec of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    const container = record.containers.get(spec.name);
    if (container === undefined || container.kind === "init") continue;
    const image = spec.image ?? "";
    if (container.current.image === image) continue;
    options.retire(container);
    container.previous = {
      ...container.current,
      finishedAt: now,
      exitReason: "Completed",
      exitMessage: `mock provider restarted the container to change its image to ${image}`,
    };
    container.current = {
      image,
      imageId: await imageIdOf(image),
      containerId: container.current.containerId,
      startedAt: now,
    };
    container.restartCount++;
  }
  record.pod = withoutStatus(pod);
  record.uid = pod.metadata?.uid ?? record.uid;
}

/** Ends the current run of every app container and sidecar still running, as the VM powers off. */
export function powerOffContainers(
  record: PodRecord,
  options: ContainerChangeOptions & { message: string },
): void {
  for (const container of record.containers.values()) {
    if (container.kind === "init" || container.current.finishedAt !== undefined) continue;
    options.retire(container);
    container.current.finishedAt = options.now;
    container.current.exitReason = "VMStopped";
    container.current.exitMessage = options.message;
  }
}

/**
 * Starts a new run of every app container and sidecar as the VM boots (a start after a
 * power-off, or a reboot, which ends the run still going with reason `VMRebooted`).
 */
export function bootContainers(
  record: PodRecord,
  options: ContainerChangeOptions & { message: string },
): void {
  const { now } = options;
  for (const container of record.containers.values()) {
    if (container.kind === "init") continue;
    if (container.current.finishedAt === undefined) {
      options.retire(container);
      container.previous = {
        ...container.current,
        finishedAt: now,
        exitReason: "VMRebooted",
        exitMessage: options.message,
      };
    } else {
      container.previous = container.current;
    }
    container.current = {
      image: container.current.image,
      imageId: container.current.imageId,
      containerId: container.current.containerId,
      startedAt: now,
    };
    container.restartCount++;
  }
}

/**
 * Ends the current run of `container` if it still goes on (exit code 137, as a killed
 * process) and starts the next one: one restart more, the ended run as the previous.
 */
export function restartContainerRun(
  container: ContainerRecord,
  options: ContainerChangeOptions & { reason: string },
): void {
  const { now } = options;
  if (container.current.finishedAt === undefined) {
    options.retire(container);
    container.previous = {
      ...container.current,
      finishedAt: now,
      exitCode: 137,
      exitReason: "Error",
      exitMessage: `mock provider restarted the container: ${options.reason}`,
    };
  } else {
    container.previous = container.current;
  }
  container.current = {
    image: container.current.image,
    imageId: container.current.imageId,
    containerId: container.current.containerId,
    startedAt: now,
  };
  container.restartCount++;
}

/** Ends the current run of `container` with its main process's `exitCode`. */
export function exitContainerRun(
  container: ContainerRecord,
  options: ContainerChangeOptions & { exitCode: number; message?: string },
): void {
  if (container.current.finishedAt !== undefined) return;
  options.retire(container);
  container.current.finishedAt = options.now;
  container.current.exitCode = options.exitCode;
  container.current.exitReason = options.exitCode === 0 ? "Completed" : "Error";
  if (options.message !== undefined) container.current.exitMessage = options.message;
}

/** Ends the current run of every container of `record` still running, for the pod's deletion. */
export function terminateContainers(record: PodRecord, options: ContainerChangeOptions): void {
  for (const container of record.containers.values()) {
    if (container.current.finishedAt !== undefined) continue;
    options.retire(container);
    container.current.finishedAt = options.now;
    container.current.exitReason = "Completed";
    container.current.exitMessage = "mock provider terminated the container upon pod deletion";
  }
}
