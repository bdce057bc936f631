/**
 * The pods the mock provider runs: one record per pod (`pod_record.ts`: the pod without
 * status, its IP, its container runs, the VM behind it), kept by `namespace/name`, with the
 * pool their IPs come from. The changes their containers go through are in
 * `container_changes.ts`; statuses are computed from the records by `pod_status.ts`.
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
import { podKey, WORKLOAD_UID_ANNOTATION, workloadUid } from "../../lib/provider_kit/mod.ts";
import { defaultVmHosts, type Ipv4Cidr } from "./config.ts";
import { startContainers } from "./container_changes.ts";
import { formatIpv4, Ipv4Pool } from "./ip_pool.ts";
import { type PodRecord, withoutStatus } from "./pod_record.ts";
import type { ContainerRecord, SavedPod } from "./state_file.ts";
import { newVirtualMachine } from "./virtual_machine.ts";

export {
  bootContainers,
  type ContainerChangeOptions,
  exitContainerRun,
  powerOffContainers,
  restartContainerRun,
  terminateContainers,
  updateRecord,
} from "./container_changes.ts";
export type { ContainerRun, PodRecord } from "./pod_record.ts";

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
