/**
 * Resource usage shapes served by the kubelet API: the JSON `Summary` of `/stats/summary`
 * (kubelet stats/v1alpha1) and the metric families behind `/metrics/resource`.
 *
 * Times are RFC 3339 strings, as the kubelet serialises them. Counters are cumulative
 * since the start of the container, pod or node they describe.
 *
 * @module
 */

/** CPU usage at one point in time. */
export interface CpuStats {
  /** When the sample was taken (RFC 3339). */
  time: string;
  /** Average usage over the last sampling window, in billionths of a core. */
  usageNanoCores?: number;
  /** Cumulative usage since start, in core-nanoseconds. */
  usageCoreNanoSeconds?: number;
}

/** Memory usage at one point in time. */
export interface MemoryStats {
  /** When the sample was taken (RFC 3339). */
  time: string;
  /** Memory left before the limit (or the node's capacity) is reached. */
  availableBytes?: number;
  /** Total memory in use, page cache included. */
  usageBytes?: number;
  /** Memory that cannot be reclaimed under pressure; what eviction and HPA look at. */
  workingSetBytes?: number;
  /** Anonymous and swap-cache memory. */
  rssBytes?: number;
  /** Cumulative page faults. */
  pageFaults?: number;
  /** Cumulative major page faults. */
  majorPageFaults?: number;
}

/** Swap usage at one point in time. */
export interface SwapStats {
  /** When the sample was taken (RFC 3339). */
  time: string;
  /** Swap left before the limit is reached. */
  swapAvailableBytes?: number;
  /** Swap in use. */
  swapUsageBytes?: number;
}

/** Counters of one network interface. */
export interface InterfaceStats {
  /** Interface name, such as `eth0`. */
  name: string;
  /** Cumulative bytes received. */
  rxBytes?: number;
  /** Cumulative receive errors. */
  rxErrors?: number;
  /** Cumulative bytes transmitted. */
  txBytes?: number;
  /** Cumulative transmit errors. */
  txErrors?: number;
}

/** Network usage: the default interface inline plus every interface in `interfaces`. */
export interface NetworkStats extends InterfaceStats {
  /** When the sample was taken (RFC 3339). */
  time: string;
  /** All interfaces, the default one included. */
  interfaces?: InterfaceStats[];
}

/** Filesystem usage at one point in time. */
export interface FsStats {
  /** When the sample was taken (RFC 3339). */
  time: string;
  /** Bytes left for use. */
  availableBytes?: number;
  /** Size of the filesystem. */
  capacityBytes?: number;
  /** Bytes used by the owner of these stats. */
  usedBytes?: number;
  /** Free inodes. */
  inodesFree?: number;
  /** Total inodes. */
  inodes?: number;
  /** Inodes used by the owner of these stats. */
  inodesUsed?: number;
}

/** Filesystems used by the container runtime. */
export interface RuntimeStats {
  /** Filesystem holding container images. */
  imageFs?: FsStats;
  /** Filesystem holding writable container layers. */
  containerFs?: FsStats;
}

/** Resource limits of the node's process table. */
export interface RlimitStats {
  /** When the sample was taken (RFC 3339). */
  time: string;
  /** Maximum number of processes. */
  maxpid?: number;
  /** Number of processes. */
  curproc?: number;
}

/** Usage of one container. */
export interface ContainerStats {
  /** Container name as in the pod spec. */
  name: string;
  /** When this instance of the container started (RFC 3339). */
  startTime: string;
  /** CPU usage. */
  cpu?: CpuStats;
  /** Memory usage. */
  memory?: MemoryStats;
  /** Swap usage. */
  swap?: SwapStats;
  /** Writable layer usage. */
  rootfs?: FsStats;
  /** Log usage. */
  logs?: FsStats;
}

/** Reference to a pod by namespace, name and UID. */
export interface PodReference {
  /** Pod name. */
  name: string;
  /** Pod namespace. */
  namespace: string;
  /** Pod UID. */
  uid: string;
}

/** Reference to a PersistentVolumeClaim. */
export interface PvcReference {
  /** Claim name. */
  name: string;
  /** Claim namespace. */
  namespace: string;
}

/** Usage of one pod volume. */
export interface VolumeStats extends FsStats {
  /** Volume name as in the pod spec. */
  name: string;
  /** The claim behind the volume, when there is one. */
  pvcRef?: PvcReference;
}

/** Process counts of a pod. */
export interface ProcessStats {
  /** Number of processes. */
  process_count?: number;
}

/** Usage of one pod and its containers. */
export interface PodStats {
  /** Which pod. */
  podRef: PodReference;
  /** When the pod started (RFC 3339). */
  startTime: string;
  /** One entry per running container (sidecars included). */
  containers: ContainerStats[];
  /** CPU usage of the whole pod. */
  cpu?: CpuStats;
  /** Memory usage of the whole pod. */
  memory?: MemoryStats;
  /** Swap usage of the whole pod. */
  swap?: SwapStats;
  /** Network usage of the pod's network namespace. */
  network?: NetworkStats;
  /** Usage of the pod's volumes. */
  volume?: VolumeStats[];
  /** Ephemeral storage used by the pod (rootfs, logs and emptyDir volumes). */
  "ephemeral-storage"?: FsStats;
  /** Process counts. */
  process_stats?: ProcessStats;
}

/** Usage of the node itself. */
export interface NodeStats {
  /** Node name. */
  nodeName: string;
  /** Stats of system containers such as `kubelet` or `runtime`, when the provider has them. */
  systemContainers?: ContainerStats[];
  /** When the node (or the provider) started (RFC 3339). */
  startTime: string;
  /** CPU usage. */
  cpu?: CpuStats;
  /** Memory usage. */
  memory?: MemoryStats;
  /** Swap usage. */
  swap?: SwapStats;
  /** Network usage. */
  network?: NetworkStats;
  /** Root filesystem usage. */
  fs?: FsStats;
  /** Container runtime filesystems. */
  runtime?: RuntimeStats;
  /** Process table limits. */
  rlimit?: RlimitStats;
}

/** The document served at `/stats/summary`. */
export interface Summary {
  /** Node-level usage. */
  node: NodeStats;
  /** Per-pod usage, one entry per pod with running containers. */
  pods: PodStats[];
}

/** Prometheus metric type of a family. */
export type MetricType = "counter" | "gauge";

/** One sample of a metric family. */
export interface MetricSample {
  /** Label names and values; written in name order. */
  labels: Record<string, string>;
  /** Sample value. */
  value: number;
  /** Milliseconds since the Unix epoch when the value was observed, if known. */
  timestampMs?: number;
}

/** A named metric with its help text, type and samples, as in the Prometheus text format. */
export interface MetricFamily {
  /** Metric name, such as `container_cpu_usage_seconds_total`. */
  name: string;
  /** One-line description. */
  help: string;
  /** Counter or gauge. */
  type: MetricType;
  /** Samples; may be empty. */
  samples: MetricSample[];
}
