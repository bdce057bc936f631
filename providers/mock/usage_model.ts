/**
 * The usage model of the mock provider: deterministic CPU, memory, network, filesystem and
 * volume usage for every container run and pod, derived from its seed (the pod UID), its
 * resource requests and limits and how long it has run. Counters (CPU time, network bytes)
 * only grow: what ended runs and deleted pods used is kept as retired usage, so the node's
 * totals stay monotonic.
 *
 * @module
 */

import type { Container } from "kubernetes-types/core/v1.d.ts";
import { parseQuantity } from "../../lib/provider_kit/mod.ts";
import type { PodRecord } from "./pod_records.ts";
import { stableFraction } from "./stable_hash.ts";
import type { ContainerRecord } from "./state_file.ts";

const secondMs = 1000;
const mebibyte = 2 ** 20;
const gibibyte = 2 ** 30;

/** What the node itself uses besides its pods. */
const nodeBase = {
  cpuCores: 0.05,
  memoryBytes: 512 * mebibyte,
  diskBytes: 2 * gibibyte,
  rxBytesPerSecond: 2048,
};

/** Usage of one container run at one moment. */
export interface ContainerUsage {
  /** Container name. */
  name: string;
  /** When the run started (milliseconds since the epoch). */
  startTime: number;
  /** CPU in use now. */
  cpuNanoCores: number;
  /** CPU time used since the run started. */
  cpuNanoSeconds: number;
  /** Memory working set (whole pages). */
  workingSetBytes: number;
  /** Memory limit, when the container has one. */
  limitBytes?: number;
  /** Bytes written to the container's root filesystem. */
  rootfsBytes: number;
  /** Bytes of its log. */
  logBytes: number;
}

/** Usage of one pod volume. */
export interface VolumeUsage {
  /** Volume name. */
  name: string;
  /** Bytes used. */
  usedBytes: number;
  /** Size limit of an `emptyDir`; otherwise the volume shares the node's disk. */
  sizeLimitBytes?: number;
  /** Claim name of a `persistentVolumeClaim` volume (not ephemeral storage). */
  claimName?: string;
}

/** Usage of one pod at one moment: its running containers, network and volumes. */
export interface PodUsage {
  /** The pod. */
  record: PodRecord;
  /** Running containers, in the pod's order. */
  containers: ContainerUsage[];
  /** CPU time of every run of the pod, ended ones included. */
  cpuNanoSeconds: number;
  /** Bytes received since the pod started. */
  rxBytes: number;
  /** Bytes sent since the pod started. */
  txBytes: number;
  /** Its volumes. */
  volumes: VolumeUsage[];
}

/** What the node uses besides its pods, plus what deleted pods used. */
export interface NodeUsage {
  /** CPU in use now. */
  cpuNanoCores: number;
  /** CPU time since the provider started, deleted pods' included. */
  cpuNanoSeconds: number;
  /** Memory working set. */
  workingSetBytes: number;
  /** Disk used by the node itself. */
  diskUsedBytes: number;
  /** Bytes received, deleted pods' included. */
  rxBytes: number;
  /** Bytes sent, deleted pods' included. */
  txBytes: number;
}

function resourceOf(
  container: Container | undefined,
  kind: "limits" | "requests",
  resource: string,
): number | undefined {
  const value = container?.resources?.[kind]?.[resource];
  if (value === undefined) return undefined;
  try {
    return parseQuantity(String(value));
  } catch {
    return undefined;
  }
}

function specOf(record: PodRecord, name: string): Container | undefined {
  const spec = record.pod.spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]
    .find((candidate) => candidate.name === name);
}

/** Usage of the pods and the node of one provider, with the counters of what has ended. */
export class UsageModel {
  readonly #startTime: number;
  readonly #heartbeatSeconds: number;
  #retiredCpuNanoSeconds = 0;
  #retiredRxBytes = 0;
  #retiredTxBytes = 0;

  /** A model for a provider started at `startTime` whose logs beat every `heartbeatSeconds`. */
  constructor(options: { startTime: number; heartbeatSeconds: number }) {
    this.#startTime = options.startTime;
    this.#heartbeatSeconds = options.heartbeatSeconds;
  }

  /** Usage of the current run of `container` at `now` (its end, if it has ended). */
  containerUsage(record: PodRecord, container: ContainerRecord, now: number): ContainerUsage {
    const spec = specOf(record, container.name);
    const seed = `${record.seed}/${container.name}`;
    const instance = container.current;
    const end = instance.finishedAt ?? now;
    const elapsedSeconds = Math.max(0, (end - instance.startedAt) / secondMs);
    const cpuBase = resourceOf(spec, "limits", "cpu") ?? resourceOf(spec, "requests", "cpu") ?? 0.1;
    const cpuCores = cpuBase * (0.05 + 0.25 * stableFraction(`${seed}/cpu`));
    const memoryLimit = resourceOf(spec, "limits", "memory");
    const memoryRequest = resourceOf(spec, "requests", "memory");
    const memoryShare = stableFraction(`${seed}/memory`);
    const workingSet = memoryLimit !== undefined
      ? memoryLimit * (0.2 + 0.4 * memoryShare)
      : memoryRequest !== undefined
      ? memoryRequest * (0.5 + 0.5 * memoryShare)
      : 16 * mebibyte + memoryShare * 112 * mebibyte;
    const heartbeats = Math.floor(elapsedSeconds / this.#heartbeatSeconds);
    return {
      name: container.name,
      startTime: instance.startedAt,
      cpuNanoCores: cpuCores * 1e9,
      cpuNanoSeconds: cpuCores * 1e9 * elapsedSeconds,
      workingSetBytes: Math.round(workingSet / 4096) * 4096,
      limitBytes: memoryLimit,
      rootfsBytes: 8192 + Math.round(stableFraction(`${seed}/rootfs`) * 50 * mebibyte),
      logBytes: 100 * (heartbeats + 1),
    };
  }

  /** Keeps the CPU time of the current run of `container`, which ends at `now`. */
  retireContainer(record: PodRecord, container: ContainerRecord, now: number): void {
    record.retiredCpuNanoSeconds += this.containerUsage(record, container, now).cpuNanoSeconds;
  }

  /** Keeps the CPU time and network bytes of `record`, deleted at `now`, in the node's totals. */
  retirePod(record: PodRecord, now: number): void {
    const network = this.#network(record, now);
    this.#retiredRxBytes += network.rxBytes;
    this.#retiredTxBytes += network.txBytes;
    this.#retiredCpuNanoSeconds += record.retiredCpuNanoSeconds;
  }

  /** Usage of `record` at `now`: its running containers, CPU time, network and volumes. */
  podUsage(record: PodRecord, now: number): PodUsage {
    const containers = [...record.containers.values()]
      .filter((container) => container.current.finishedAt === undefined)
      .map((container) => this.containerUsage(record, container, now));
    let cpuNanoSeconds = record.retiredCpuNanoSeconds;
    for (const usage of containers) cpuNanoSeconds += usage.cpuNanoSeconds;
    return {
      record,
      containers,
      cpuNanoSeconds,
      ...this.#network(record, now),
      volumes: (record.pod.spec?.volumes ?? []).map((volume): VolumeUsage => {
        const sizeLimit = volume.emptyDir?.sizeLimit;
        const claimName = volume.persistentVolumeClaim?.claimName;
        return {
          name: volume.name,
          usedBytes: 4096 +
            Math.round(stableFraction(`${record.seed}/volume/${volume.name}`) * 10 * mebibyte),
          ...(sizeLimit === undefined ? {} : { sizeLimitBytes: parseQuantity(String(sizeLimit)) }),
          ...(claimName === undefined ? {} : { claimName }),
        };
      }),
    };
  }

  /** What the node uses at `now` besides its running pods. */
  nodeUsage(now: number): NodeUsage {
    const elapsedMs = now - this.#startTime;
    return {
      cpuNanoCores: nodeBase.cpuCores * 1e9,
      cpuNanoSeconds: this.#retiredCpuNanoSeconds + nodeBase.cpuCores * 1e9 * (elapsedMs / 1e3),
      workingSetBytes: nodeBase.memoryBytes,
      diskUsedBytes: nodeBase.diskBytes,
      // The node sends half as much as it receives.
      rxBytes: this.#retiredRxBytes + nodeBase.rxBytesPerSecond * (elapsedMs / 1e3),
      txBytes: this.#retiredTxBytes + nodeBase.rxBytesPerSecond * (elapsedMs / 2e3),
    };
  }

  #network(record: PodRecord, now: number): { rxBytes: number; txBytes: number } {
    const elapsedSeconds = Math.max(0, (now - record.startTime) / secondMs);
    const rxRate = 1024 + stableFraction(`${record.seed}/rx`) * 99 * 1024;
    const txRate = rxRate * (0.2 + 0.6 * stableFraction(`${record.seed}/tx`));
    return { rxBytes: rxRate * elapsedSeconds, txBytes: txRate * elapsedSeconds };
  }
}
