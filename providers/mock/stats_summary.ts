/**
 * The kubelet's `/stats/summary` of the mock provider, built from the usage model: node
 * totals are the node's own usage plus every running pod's, and filesystem availability is
 * what the node's disk has left once all of that is counted.
 *
 * @module
 */

import {
  type ContainerStats,
  type CpuStats,
  formatTime,
  type FsStats,
  type MemoryStats,
  type NetworkStats,
  type PodStats,
  type Summary,
  type VolumeStats,
} from "../../lib/provider_kit/mod.ts";
import type { NodeUsage, PodUsage, VolumeUsage } from "./usage_model.ts";

/** Options of {@linkcode statsSummary}. */
export interface StatsSummaryOptions {
  /** Node name. */
  nodeName: string;
  /** When the node started (milliseconds since the epoch). */
  startTime: number;
  /** When the sample is taken (milliseconds since the epoch). */
  now: number;
  /** The node's memory capacity. */
  memoryBytes: number;
  /** The node's disk (ephemeral storage) capacity. */
  diskBytes: number;
}

const nodeInodes = 6_553_600;
const volumeInodes = 1_048_576;

function cpuStats(time: string, nanoCores: number, nanoSeconds: number): CpuStats {
  return {
    time,
    usageNanoCores: Math.round(nanoCores),
    usageCoreNanoSeconds: Math.round(nanoSeconds),
  };
}

/** Memory stats of a working set; usage, RSS and page faults follow from it. */
function memoryStats(time: string, workingSet: number, available?: number): MemoryStats {
  return {
    time,
    ...(available === undefined ? {} : { availableBytes: available }),
    usageBytes: Math.round(workingSet * 1.1),
    workingSetBytes: workingSet,
    rssBytes: Math.round(workingSet * 0.8),
    pageFaults: Math.round(workingSet / 4096),
    majorPageFaults: 0,
  };
}

/** Network stats of the one interface, `eth0`. */
function networkStats(time: string, rxBytes: number, txBytes: number): NetworkStats {
  const eth0 = {
    name: "eth0",
    rxBytes: Math.round(rxBytes),
    rxErrors: 0,
    txBytes: Math.round(txBytes),
    txErrors: 0,
  };
  return { time, ...eth0, interfaces: [eth0] };
}

function volumeStats(volume: VolumeUsage, namespace: string, context: DiskContext): VolumeStats {
  const capacity = volume.sizeLimitBytes ?? context.diskBytes;
  const used = volume.usedBytes;
  return {
    name: volume.name,
    time: context.time,
    capacityBytes: capacity,
    usedBytes: used,
    availableBytes: Math.max(0, capacity - used),
    inodes: volumeInodes,
    inodesUsed: Math.ceil(used / 4096),
    inodesFree: volumeInodes - Math.ceil(used / 4096),
    ...(volume.claimName === undefined ? {} : {
      pvcRef: { name: volume.claimName, namespace },
    }),
  };
}

/** The node's disk as every filesystem stat on it sees it. */
interface DiskContext {
  time: string;
  diskBytes: number;
  /** Bytes used on the node's disk by the node and every pod. */
  diskUsed: number;
}

/** Stats of `used` bytes on the node's disk. */
function diskStats(used: number, context: DiskContext): FsStats {
  return {
    time: context.time,
    capacityBytes: context.diskBytes,
    usedBytes: Math.round(used),
    availableBytes: Math.max(0, Math.round(context.diskBytes - context.diskUsed)),
    inodes: nodeInodes,
    inodesUsed: Math.round(used / 4096),
    inodesFree: Math.max(0, nodeInodes - Math.round(context.diskUsed / 4096)),
  };
}

/** What `pod` adds to the node's totals. */
interface PodTotals {
  cpuNanoCores: number;
  workingSet: number;
  /** Bytes on the node's disk: container root filesystems, logs, local volumes. */
  ephemeral: number;
}

function podTotals(pod: PodUsage): PodTotals {
  const totals = { cpuNanoCores: 0, workingSet: 0, ephemeral: 0 };
  for (const usage of pod.containers) {
    totals.cpuNanoCores += usage.cpuNanoCores;
    totals.workingSet += usage.workingSetBytes;
    totals.ephemeral += usage.rootfsBytes + usage.logBytes;
  }
  for (const volume of pod.volumes) {
    if (volume.claimName === undefined) totals.ephemeral += volume.usedBytes;
  }
  return totals;
}

function podStats(pod: PodUsage, totals: PodTotals, context: DiskContext): PodStats {
  const { record, containers } = pod;
  const namespace = record.pod.metadata?.namespace ?? "";
  const { time } = context;
  return {
    podRef: { name: record.pod.metadata?.name ?? "", namespace, uid: record.uid },
    startTime: formatTime(new Date(record.startTime)),
    containers: containers.map((usage): ContainerStats => ({
      name: usage.name,
      startTime: formatTime(new Date(usage.startTime)),
      cpu: cpuStats(time, usage.cpuNanoCores, usage.cpuNanoSeconds),
      memory: memoryStats(
        time,
        usage.workingSetBytes,
        usage.limitBytes === undefined
          ? undefined
          : Math.max(0, usage.limitBytes - usage.workingSetBytes),
      ),
      rootfs: diskStats(usage.rootfsBytes, context),
      logs: diskStats(usage.logBytes, context),
    })),
    cpu: cpuStats(time, totals.cpuNanoCores, pod.cpuNanoSeconds),
    memory: memoryStats(time, totals.workingSet),
    network: networkStats(time, pod.rxBytes, pod.txBytes),
    volume: pod.volumes.map((volume) => volumeStats(volume, namespace, context)),
    "ephemeral-storage": diskStats(Math.round(totals.ephemeral), context),
    process_stats: { process_count: containers.length },
  };
}

/** The summary of `node` and `pods` at `options.now`. */
export function statsSummary(
  node: NodeUsage,
  pods: readonly PodUsage[],
  options: StatsSummaryOptions,
): Summary {
  const time = formatTime(new Date(options.now));
  let cpuNanoSeconds = node.cpuNanoSeconds;
  let cpuNanoCores = node.cpuNanoCores;
  let workingSet = node.workingSetBytes;
  let diskUsed = node.diskUsedBytes;
  let rxBytes = node.rxBytes;
  let txBytes = node.txBytes;
  const totals = pods.map(podTotals);
  pods.forEach((pod, index) => {
    cpuNanoSeconds += pod.cpuNanoSeconds;
    cpuNanoCores += totals[index].cpuNanoCores;
    workingSet += totals[index].workingSet;
    diskUsed += totals[index].ephemeral;
    rxBytes += pod.rxBytes;
    txBytes += pod.txBytes;
  });
  const context: DiskContext = { time, diskBytes: options.diskBytes, diskUsed };
  return {
    node: {
      nodeName: options.nodeName,
      startTime: formatTime(new Date(options.startTime)),
      cpu: cpuStats(time, cpuNanoCores, cpuNanoSeconds),
      memory: memoryStats(time, workingSet, Math.max(0, options.memoryBytes - workingSet)),
      network: networkStats(time, rxBytes, txBytes),
      fs: diskStats(diskUsed, context),
      runtime: { imageFs: diskStats(node.diskUsedBytes / 2, context) },
      rlimit: { time, maxpid: 4_194_304, curproc: 64 + pods.length * 2 },
    },
    pods: pods.map((pod, index) => podStats(pod, totals[index], context)),
  };
}
