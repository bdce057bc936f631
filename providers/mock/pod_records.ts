/**
 * The pods the mock provider runs: one record per pod (the pod without status, its IP, its
 * container runs, the VM behind it), kept by `namespace/name`, and the changes a pod's
 * containers go through: started at creation, restarted when an update changes their
 * image, ended when the VM powers off, run anew when it boots, terminated at deletion.
 * Statuses are computed from these records by `pod_status.ts`.
 *
 * A record stands for a workload, which may outlive its pod object: a pod that names the
 * workload UID of a record (`WORKLOAD_UID_ANNOTATION`) is that record's pod whatever its
 * own UID, so creating it adopts the record (VM, IP and all) and updating it rebinds the
 * record to it. Only a deletion removes a record.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import {
  AlreadyExistsError,
  type ContainerRef,
  InvalidInputError,
  NotFoundError,
  UnavailableError,
} from "../../lib/provider.ts";
import {
  cloneJson,
  podKey,
  WORKLOAD_UID_ANNOTATION,
  workloadUid,
} from "../../lib/provider_kit/mod.ts";
import { defaultVmHosts, type Ipv4Cidr } from "./config.ts";
import { formatIpv4, Ipv4Pool } from "./ip_pool.ts";
import type { ContainerRecord, SavedPod, VirtualMachineRecord } from "./state_file.ts";
import { newVirtualMachine } from "./virtual_machine.ts";
import type { ContainerProcess, ProcessLog } from "./container_process.ts";

/** What runs in memory for one container: its run's files, main process and last log. */
export interface ContainerRun {
  /** The run these belong to (`startedAt` and restart count). */
  runKey: string;
  /** The run's files, shared with exec sessions. */
  files: Map<string, string>;
  /** The main process of a container with `command` or `args`. */
  process?: ContainerProcess;
  /** The output of the previous run's process, for `--previous`. */
  previousLog?: ProcessLog;
}

/** One pod of the mock provider. */
export interface PodRecord {
  /** The pod as created or last updated, without status. */
  pod: Pod;
  /** The UID of its current pod object (may be empty). */
  uid: string;
  /**
   * What its stable traits derive from: the workload UID (the pod's UID for a plain pod),
   * or `namespace/name` without one.
   */
  seed: string;
  /** Pod IP as an unsigned 32-bit integer. */
  ip: number;
  /** Milliseconds since the epoch. */
  startTime: number;
  /** Its containers by name: init containers first, then app containers. */
  containers: Map<string, ContainerRecord>;
  /** CPU time of container runs that ended, in nanoseconds. */
  retiredCpuNanoSeconds: number;
  /** The VM behind the pod. */
  vm: VirtualMachineRecord;
  /** Aborted when the pod is deleted. */
  deleted: AbortController;
  /** In memory only: each container's run (files, process), by container name. */
  runs: Map<string, ContainerRun>;
}

/** Options of the container changes: when they happen, and what to do before a run ends. */
export interface ContainerChangeOptions {
  /** Milliseconds since the epoch. */
  now: number;
  /** Called with a container whose current run is about to end (to keep its usage). */
  retire(container: ContainerRecord): void;
}

/**
 * Checks what the mock needs of a pod: namespace, name, at least one container, a name and
 * an image for every container. Throws `InvalidInputError` saying what is missing.
 */
export function validatePod(pod: Pod): { namespace: string; name: string } {
  const namespace = pod.metadata?.namespace;
  const name = pod.metadata?.name;
  if (!namespace || !name) {
    throw new InvalidInputError(
      `mock provider: expected a pod with metadata.namespace and metadata.name, found namespace "${
        namespace ?? ""
      }" and name "${name ?? ""}"`,
    );
  }
  const containers = pod.spec?.containers ?? [];
  if (containers.length === 0) {
    throw new InvalidInputError(
      `mock provider: expected at least one container in spec.containers of pod ${namespace}/${name}, found none`,
    );
  }
  for (const container of [...(pod.spec?.initContainers ?? []), ...containers]) {
    if (!container.name || !container.image) {
      throw new InvalidInputError(
        `mock provider: expected every container of pod ${namespace}/${name} to have a name and an image, found name "${
          container.name ?? ""
        }" and image "${container.image ?? ""}"`,
      );
    }
  }
  return { namespace, name };
}

function savedPodOf(record: PodRecord): SavedPod {
  return {
    pod: record.pod,
    ip: record.ip,
    startTime: record.startTime,
    containers: [...record.containers.values()],
    retiredCpuNanoSeconds: record.retiredCpuNanoSeconds,
    vm: record.vm,
  };
}

/** The pod without its status. */
function withoutStatus(pod: Pod): Pod {
  const { status: _status, ...rest } = cloneJson(pod);
  return rest;
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
async function startContainers(
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

/** The seed of a pod's stable traits: its workload UID, or `namespace/name` without one. */
function seedOf(pod: Pod): string {
  return workloadUid(pod) || podKey(pod);
}

/** The pods of one provider by `namespace/name`, with the pool their IPs come from. */
export class PodRecords {
  readonly #records = new Map<string, PodRecord>();
  readonly #cidr: Ipv4Cidr;
  readonly #pool: Ipv4Pool;
  readonly #hosts: readonly string[];

  /** No pods yet; IPs come from `cidr`, new VMs are spread over `options.hosts`. */
  constructor(cidr: Ipv4Cidr, options: { hosts?: readonly string[] } = {}) {
    this.#cidr = cidr;
    this.#pool = new Ipv4Pool(cidr.base, cidr.prefix);
    this.#hosts = options.hosts ?? defaultVmHosts;
  }

  /** How many pods there are. */
  get size(): number {
    return this.#records.size;
  }

  /** Every pod, in creation order. */
  all(): PodRecord[] {
    return [...this.#records.values()];
  }

  /** The pod `namespace/name`, if there is one. */
  get(namespace: string, name: string): PodRecord | undefined {
    return this.#records.get(`${namespace}/${name}`);
  }

  /**
   * The pod `namespace/name`, which must have `uid` when one is given; throws
   * `NotFoundError` otherwise.
   */
  find(namespace: string, name: string, uid: string | undefined): PodRecord {
    const key = `${namespace}/${name}`;
    const record = this.#records.get(key);
    if (record === undefined) {
      throw new NotFoundError(`pod "${key}" not found in the mock provider`);
    }
    if (uid && record.uid && uid !== record.uid) {
      throw new NotFoundError(
        `pod "${key}" with uid "${uid}" not found in the mock provider: it runs uid "${record.uid}"`,
      );
    }
    return record;
  }

  /**
   * The record a pod that names a workload UID (`WORKLOAD_UID_ANNOTATION`) stands for:
   * the one of that workload, under whatever name and pod UID; `undefined` for a pod
   * without the annotation or a workload the mock does not run.
   */
  adoptable(pod: Pod): PodRecord | undefined {
    const workload = pod.metadata?.annotations?.[WORKLOAD_UID_ANNOTATION];
    if (!workload) return undefined;
    return this.all().find((record) => workloadUid(record.pod) === workload);
  }

  /**
   * The record that serves `pod`: the one under its name with its UID (or with none
   * given on either side), else the one of its workload.
   */
  serving(pod: Pod): PodRecord | undefined {
    const record = this.#records.get(podKey(pod));
    const uid = pod.metadata?.uid;
    if (record !== undefined && (!uid || !record.uid || uid === record.uid)) return record;
    return this.adoptable(pod);
  }

  /**
   * Binds `record` to the pod object `pod` of the same workload: filed under its name,
   * with its metadata and UID. Throws `AlreadyExistsError` when another pod has the name.
   */
  rebind(record: PodRecord, pod: Pod): void {
    const from = podKey(record.pod);
    const to = podKey(pod);
    if (from !== to) {
      const other = this.#records.get(to);
      if (other !== undefined) {
        throw new AlreadyExistsError(
          `mock provider: cannot move the VM of pod ${from} to pod ${to}: pod ${to} already exists with uid "${other.uid}"`,
        );
      }
      this.#records.delete(from);
      this.#records.set(to, record);
    }
    record.pod = withoutStatus(pod);
    record.uid = pod.metadata?.uid ?? record.uid;
  }

  /** The container `ref` names and its pod; throws `NotFoundError` saying what exists. */
  container(ref: ContainerRef): { record: PodRecord; container: ContainerRecord } {
    const key = `${ref.namespace}/${ref.pod}`;
    const record = this.#records.get(key);
    if (record === undefined) {
      throw new NotFoundError(`pod "${key}" not found in the mock provider`);
    }
    const container = record.containers.get(ref.container);
    if (container === undefined) {
      throw new NotFoundError(
        `container "${ref.container}" not found in pod "${key}": expected one of ${
          [...record.containers.keys()].map((known) => `"${known}"`).join(", ")
        }`,
      );
    }
    return { record, container };
  }

  /**
   * Adds the validated `pod`, started at `now`, with an IP and a running VM of its own.
   * Throws `AlreadyExistsError` when its name is taken and `UnavailableError` when no IP
   * is free.
   */
  async create(pod: Pod, now: number): Promise<PodRecord> {
    const key = podKey(pod);
    const uid = pod.metadata?.uid ?? "";
    const seed = seedOf(pod);
    const containers = await startContainers(pod, seed, now);
    const existing = this.#records.get(key);
    if (existing !== undefined) {
      throw new AlreadyExistsError(
        `mock provider: pod ${key} already exists with uid "${existing.uid}": expected a new pod (uid "${uid}")`,
      );
    }
    const ip = this.#pool.allocate(seed);
    if (ip === undefined) {
      throw new UnavailableError(
        `mock provider: no free pod IP left in ${this.#cidr.text} for pod ${key}`,
      );
    }
    const record: PodRecord = {
      pod: withoutStatus(pod),
      uid,
      seed,
      ip,
      startTime: now,
      containers,
      retiredCpuNanoSeconds: 0,
      vm: newVirtualMachine(seed, { hosts: this.#hosts, now }),
      deleted: new AbortController(),
      runs: new Map(),
    };
    this.#records.set(key, record);
    return record;
  }

  /** Forgets `record`, frees its IP and aborts its `deleted` signal. */
  remove(record: PodRecord): void {
    this.#records.delete(podKey(record.pod));
    this.#pool.release(record.ip);
    record.deleted.abort();
  }

  /**
   * Adds a pod read from the state file at `path` (with a new running VM when the file has
   * none for it); throws `InvalidInputError` when its name or IP is taken already.
   */
  restore(saved: SavedPod, path: string): PodRecord {
    const key = podKey(saved.pod);
    if (this.#records.has(key)) {
      throw new InvalidInputError(
        `mock provider state file ${path}: expected one entry per pod, found ${key} twice`,
      );
    }
    if (!this.#pool.reserve(saved.ip)) {
      throw new InvalidInputError(
        `mock provider state file ${path}: expected distinct pod IPs, found ${
          formatIpv4(saved.ip)
        } again for ${key}`,
      );
    }
    const seed = seedOf(saved.pod);
    const record: PodRecord = {
      pod: withoutStatus(saved.pod),
      uid: saved.pod.metadata?.uid ?? "",
      seed,
      ip: saved.ip,
      startTime: saved.startTime,
      containers: new Map(saved.containers.map((container) => [container.name, container])),
      retiredCpuNanoSeconds: saved.retiredCpuNanoSeconds,
      vm: saved.vm ?? newVirtualMachine(seed, { hosts: this.#hosts, now: saved.startTime }),
      deleted: new AbortController(),
      runs: new Map(),
    };
    this.#records.set(key, record);
    return record;
  }

  /** What the state file keeps of every pod. */
  saved(): SavedPod[] {
    return this.all().map(savedPodOf);
  }

  /** What the state file keeps of the pod `key` (`namespace/name`), if there is one. */
  savedPod(key: string): SavedPod | undefined {
    const record = this.#records.get(key);
    return record === undefined ? undefined : savedPodOf(record);
  }
}
