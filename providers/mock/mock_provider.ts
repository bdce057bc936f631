/**
 * The mock provider: pods live in memory (and in the state file, when configured, so that
 * they outlive the agent process), run at once with a stable pod IP, write a readable log
 * and report deterministic, monotonically increasing usage. It is a product feature (demos,
 * benchmarks, conformance runs), so it behaves like a small, honest kubelet.
 *
 * @module
 */

import type {
  Container,
  ContainerStatus,
  Node,
  Pod,
  PodCondition,
  PodStatus,
} from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import {
  AlreadyExistsError,
  type ContainerLogOptions,
  type ContainerLogs,
  type ContainerRef,
  InvalidInputError,
  type MetricsResource,
  NotFoundError,
  type PodNotifier,
  type Provider,
  type ProviderRuntimeOptions,
  type StatsSummary,
  UnavailableError,
} from "../../lib/provider.ts";
import type {
  ContainerStats,
  FsStats,
  MetricFamily,
  PodStats,
  Summary,
  VolumeStats,
} from "../../lib/stats_types.ts";
import { resourceMetricsFromSummary } from "../../lib/kubelet_api/resource_metrics.ts";
import { qosClassOf } from "../../lib/provider_kit/mod.ts";
import { type MockConfig, quantityToNumber } from "./config.ts";
import {
  type ContainerInstance,
  type ContainerRecord,
  readStateFile,
  type SavedPod,
  StateFileWriter,
} from "./state_file.ts";
import { errorMessage } from "../../lib/errors.ts";

const logger = getLogger(["vkedge", "provider", "mock"]);

/** Faults the fault file can inject. */
export type MockFault = "ping" | "create" | "update" | "delete";

const knownFaults: readonly MockFault[] = ["ping", "create", "update", "delete"];

/** Options of the provider besides its configuration. */
export type MockProviderOptions = ProviderRuntimeOptions;

interface PodRecord {
  pod: Pod;
  uid: string;
  seed: string;
  ip: number;
  startTime: number;
  containers: Map<string, ContainerRecord>;
  retiredCpuNanoSeconds: number;
  deleted: AbortController;
}

interface ContainerUsage {
  name: string;
  startTime: number;
  cpuNanoCores: number;
  cpuNanoSeconds: number;
  workingSetBytes: number;
  limitBytes?: number;
  rootfsBytes: number;
  logBytes: number;
}

const secondMs = 1000;
const mebibyte = 2 ** 20;
const gibibyte = 2 ** 30;
const nodeBaseCpuCores = 0.05;
const nodeBaseMemoryBytes = 512 * mebibyte;
const nodeBaseDiskBytes = 2 * gibibyte;
const nodeBaseRxBytesPerSecond = 2048;

/** FNV-1a of `text`, mapped to [0, 1); gives every pod and container stable "random" traits. */
function fraction(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 2 ** 32;
}

/** Runs `work` now and returns its result as a promise, turning a throw into a rejection. */
function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error);
  }
}

function hexOf(seed: string, length: number): string {
  let text = "";
  for (let round = 0; text.length < length; round++) {
    text += Math.floor(fraction(`${seed}#${round}`) * 2 ** 32).toString(16).padStart(8, "0");
  }
  return text.slice(0, length);
}

function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / secondMs) * secondMs).toISOString().replace(".000Z", "Z");
}

function rfc3339Nano(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}000000Z`;
}

function ipv4Text(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function withoutStatus(pod: Pod): Pod {
  const { status: _status, ...rest } = clone(pod);
  return rest;
}

function architectureOf(arch: string): string {
  switch (arch) {
    case "x86_64":
      return "amd64";
    case "aarch64":
      return "arm64";
    default:
      return arch;
  }
}

async function imageIdOf(image: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(image));
  return `sha256:${
    Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("")
  }`;
}

function resourceOf(
  container: Container | undefined,
  kind: "limits" | "requests",
  resource: string,
): number | undefined {
  const value = container?.resources?.[kind]?.[resource];
  if (value === undefined) return undefined;
  try {
    return quantityToNumber(String(value));
  } catch {
    return undefined;
  }
}

/** Pool of pod IPs from one IPv4 block: stable per pod UID, never handed out twice. */
class Ipv4Pool {
  readonly #base: number;
  readonly #usable: number;
  readonly #taken = new Set<number>();

  constructor(base: number, prefix: number) {
    this.#base = base;
    this.#usable = 2 ** (32 - prefix) - 2;
  }

  allocate(seed: string): number | undefined {
    const start = Math.floor(fraction(seed) * this.#usable);
    for (let step = 0; step < this.#usable; step++) {
      const address = this.#base + 1 + (start + step) % this.#usable;
      if (!this.#taken.has(address)) {
        this.#taken.add(address);
        return address;
      }
    }
    return undefined;
  }

  /** Marks `address` as taken; false if it already was. */
  reserve(address: number): boolean {
    if (this.#taken.has(address)) return false;
    this.#taken.add(address);
    return true;
  }

  release(address: number): void {
    this.#taken.delete(address);
  }
}

/**
 * In-memory provider implementing pods, notifications, logs, stats and resource metrics,
 * optionally kept in a state file across restarts. Faults can be injected at runtime with
 * `setHealthy(false)` or through the fault file.
 */
export class MockProvider
  implements Provider, PodNotifier, ContainerLogs, StatsSummary, MetricsResource {
  /** Provider name. */
  readonly name = "mock";
  readonly #config: MockConfig;
  readonly #options: MockProviderOptions;
  readonly #now: () => number;
  readonly #pods = new Map<string, PodRecord>();
  readonly #pool: Ipv4Pool;
  readonly #podCallbacks = new Set<(pod: Pod) => void>();
  readonly #nodeCallbacks = new Set<(node: Node) => void>();
  readonly #startTime: number;
  readonly #bootId = crypto.randomUUID();
  readonly #stopped: AbortSignal;
  readonly #stateFile: StateFileWriter | undefined;
  #healthy = true;
  #retiredCpuNanoSeconds = 0;
  #retiredRxBytes = 0;
  #retiredTxBytes = 0;

  /** Creates the provider from a validated configuration. */
  constructor(config: MockConfig, options: MockProviderOptions) {
    this.#config = config;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#startTime = this.#now();
    this.#pool = new Ipv4Pool(config.podCidr.base, config.podCidr.prefix);
    this.#stopped = options.signal ?? new AbortController().signal;
    this.#stopped.addEventListener("abort", () => {
      for (const record of this.#pods.values()) record.deleted.abort();
    }, { once: true });
    const stateFile = config.stateFile;
    if (stateFile !== undefined) {
      for (const saved of readStateFile(stateFile)) this.#restore(saved, stateFile);
      this.#stateFile = new StateFileWriter(stateFile, () => this.#saved());
      if (this.#pods.size > 0) {
        logger.info("restored {count} pods from {path}", {
          count: this.#pods.size,
          path: stateFile,
        });
      }
    }
  }

  /** Marks the backend healthy or not; while unhealthy `ping` throws `UnavailableError`. */
  setHealthy(healthy: boolean): void {
    this.#healthy = healthy;
  }

  /** Reads the fault file (if configured) and returns the faults it currently injects. */
  async activeFaults(): Promise<Set<MockFault>> {
    const faults = new Set<MockFault>();
    if (this.#config.faultFile === undefined) return faults;
    let text: string;
    try {
      text = await Deno.readTextFile(this.#config.faultFile);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        logger.warn("cannot read fault file {path}: {error}", {
          path: this.#config.faultFile,
          error: String(error),
        });
      }
      return faults;
    }
    for (const word of text.toLowerCase().split(/[\s,]+/)) {
      const fault = knownFaults.find((known) => known === word);
      if (fault !== undefined) faults.add(fault);
    }
    return faults;
  }

  async #failIfInjected(fault: MockFault, what: string): Promise<void> {
    if ((await this.activeFaults()).has(fault)) {
      throw new UnavailableError(
        `mock provider: fault injected by ${this.#config.faultFile}: ${what} fails while the file contains "${fault}"`,
      );
    }
  }

  // -- NodeProvider ---------------------------------------------------------

  /** Succeeds unless the provider was marked unhealthy or the fault file contains `ping`. */
  async ping(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (!this.#healthy) {
      throw new UnavailableError("mock provider: marked unhealthy by setHealthy(false)");
    }
    await this.#failIfInjected("ping", "ping");
  }

  /** Registers a node status callback; the mock only calls it when capacity changes (never today). */
  notifyNodeStatus(signal: AbortSignal, callback: (node: Node) => void): void {
    if (signal.aborted) return;
    this.#nodeCallbacks.add(callback);
    signal.addEventListener("abort", () => this.#nodeCallbacks.delete(callback), { once: true });
  }

  /** Returns the node with capacity = allocatable from the configuration, addresses, nodeInfo and labels. */
  configureNode(node: Node, signal: AbortSignal): Promise<Node> {
    return settle(() => {
      signal.throwIfAborted();
      const { nodeName, internalIp, daemonPort, operatingSystem } = this.#options;
      const machineId = hexOf(`machine/${nodeName}`, 32);
      const configured: Node = {
        ...node,
        metadata: {
          ...node.metadata,
          labels: {
            ...node.metadata?.labels,
            "node.kubernetes.io/exclude-from-external-load-balancers": "true",
            ...this.#config.labels,
          },
        },
        spec: {
          ...node.spec,
          ...(this.#config.providerID === undefined ? {} : { providerID: this.#config.providerID }),
        },
        status: {
          ...node.status,
          capacity: { ...this.#config.capacity },
          allocatable: { ...this.#config.capacity },
          addresses: [
            { type: "InternalIP", address: internalIp },
            { type: "Hostname", address: nodeName },
          ],
          daemonEndpoints: { kubeletEndpoint: { Port: daemonPort } },
          nodeInfo: {
            machineID: machineId,
            systemUUID: [
              machineId.slice(0, 8),
              machineId.slice(8, 12),
              `4${machineId.slice(13, 16)}`,
              `8${machineId.slice(17, 20)}`,
              machineId.slice(20, 32),
            ].join("-"),
            bootID: this.#bootId,
            kernelVersion: this.#config.nodeInfo.kernelVersion ?? "vkedge-mock",
            osImage: this.#config.nodeInfo.osImage ?? "vkedge mock provider",
            containerRuntimeVersion: "mock://1.0.0",
            kubeletVersion: node.status?.nodeInfo?.kubeletVersion ?? "",
            kubeProxyVersion: "",
            operatingSystem,
            architecture: this.#config.nodeInfo.architecture ?? architectureOf(Deno.build.arch),
          },
        },
      };
      return configured;
    });
  }

  // -- PodLifecycleHandler --------------------------------------------------

  /** Starts the pod at once: Running, a pod IP, every container running and ready. */
  async createPod(pod: Pod, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { namespace, name } = this.#validate(pod);
    await this.#failIfInjected("create", `creating pod ${namespace}/${name}`);
    const key = `${namespace}/${name}`;
    const uid = pod.metadata?.uid ?? "";
    const containers = new Map<string, ContainerRecord>();
    const now = this.#now();
    for (const spec of pod.spec?.initContainers ?? []) {
      const sidecar = spec.restartPolicy === "Always";
      containers.set(spec.name, {
        name: spec.name,
        kind: sidecar ? "sidecar" : "init",
        current: {
          image: spec.image ?? "",
          imageId: await imageIdOf(spec.image ?? ""),
          containerId: `mock://${uid || key}/${spec.name}`,
          startedAt: now,
          ...(sidecar ? {} : { finishedAt: now, exitReason: "Completed" }),
        },
        restartCount: 0,
      });
    }
    for (const spec of pod.spec?.containers ?? []) {
      containers.set(spec.name, {
        name: spec.name,
        kind: "app",
        current: {
          image: spec.image ?? "",
          imageId: await imageIdOf(spec.image ?? ""),
          containerId: `mock://${uid || key}/${spec.name}`,
          startedAt: now,
        },
        restartCount: 0,
      });
    }
    const existing = this.#pods.get(key);
    if (existing !== undefined) {
      throw new AlreadyExistsError(
        `mock provider: pod ${key} already exists with uid "${existing.uid}": expected a new pod (uid "${uid}")`,
      );
    }
    const seed = uid || key;
    const ip = this.#pool.allocate(seed);
    if (ip === undefined) {
      throw new UnavailableError(
        `mock provider: no free pod IP left in ${this.#config.podCidr.text} for pod ${key}`,
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
      deleted: new AbortController(),
    };
    this.#pods.set(key, record);
    logger.debug("created pod {pod} with IP {ip}", { pod: key, ip: ipv4Text(ip) });
    await this.#save();
    this.#notify(record);
  }

  /** Applies the new spec and metadata; a container whose image changed restarts. */
  async updatePod(pod: Pod, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { namespace, name } = this.#validate(pod);
    await this.#failIfInjected("update", `updating pod ${namespace}/${name}`);
    const record = this.#recordFor(namespace, name, pod.metadata?.uid);
    const now = this.#now();
    for (const spec of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      const container = record.containers.get(spec.name);
      if (container === undefined || container.kind === "init") continue;
      const image = spec.image ?? "";
      if (container.current.image === image) continue;
      record.retiredCpuNanoSeconds += this.#containerUsage(record, container, now).cpuNanoSeconds;
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
    logger.debug("updated pod {pod}", { pod: `${namespace}/${name}` });
    await this.#save();
    this.#notify(record);
  }

  /**
   * Terminates every container, reports the terminal status (phase Succeeded, reason
   * `MockProviderPodDeleted`) and forgets the pod.
   */
  async deletePod(pod: Pod, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const namespace = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    await this.#failIfInjected("delete", `deleting pod ${namespace}/${name}`);
    const record = this.#recordFor(namespace, name, pod.metadata?.uid);
    const now = this.#now();
    for (const container of record.containers.values()) {
      if (container.current.finishedAt !== undefined) continue;
      const usage = this.#containerUsage(record, container, now);
      record.retiredCpuNanoSeconds += usage.cpuNanoSeconds;
      container.current.finishedAt = now;
      container.current.exitReason = "Completed";
      container.current.exitMessage = "mock provider terminated the container upon pod deletion";
    }
    const network = this.#podNetwork(record, now);
    this.#retiredRxBytes += network.rx;
    this.#retiredTxBytes += network.tx;
    this.#retiredCpuNanoSeconds += record.retiredCpuNanoSeconds;
    this.#pods.delete(`${namespace}/${name}`);
    this.#pool.release(record.ip);
    record.deleted.abort();
    logger.debug("deleted pod {pod}", { pod: `${namespace}/${name}` });
    await this.#save();
    this.#notify(record, { deletedAt: now });
  }

  /** Returns the pod with its current status, or `undefined`. */
  getPod(namespace: string, name: string, signal: AbortSignal): Promise<Pod | undefined> {
    return settle(() => {
      signal.throwIfAborted();
      const record = this.#pods.get(`${namespace}/${name}`);
      return record === undefined ? undefined : this.#podOf(record);
    });
  }

  /** Returns the current status of the pod, or `undefined`. */
  getPodStatus(
    namespace: string,
    name: string,
    signal: AbortSignal,
  ): Promise<PodStatus | undefined> {
    return settle(() => {
      signal.throwIfAborted();
      const record = this.#pods.get(`${namespace}/${name}`);
      return record === undefined ? undefined : this.#statusOf(record);
    });
  }

  /** Returns every pod the mock runs, with status. */
  getPods(signal: AbortSignal): Promise<Pod[]> {
    return settle(() => {
      signal.throwIfAborted();
      return [...this.#pods.values()].map((record) => this.#podOf(record));
    });
  }

  /** Registers a pod status callback until `signal` aborts; callbacks run asynchronously. */
  notifyPods(signal: AbortSignal, callback: (pod: Pod) => void): void {
    if (signal.aborted) return;
    this.#podCallbacks.add(callback);
    signal.addEventListener("abort", () => this.#podCallbacks.delete(callback), { once: true });
  }

  // -- ContainerLogs --------------------------------------------------------

  /**
   * Streams the log of a container: a start line, then a heartbeat line every
   * `logHeartbeatSeconds`; following ends when `signal` aborts or the pod is deleted.
   */
  getContainerLogs(
    ref: ContainerRef,
    options: ContainerLogOptions,
    signal: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>> {
    const { namespace, pod: podName, container: containerName } = ref;
    return settle(() => {
      signal.throwIfAborted();
      const key = `${namespace}/${podName}`;
      const record = this.#pods.get(key);
      if (record === undefined) {
        throw new NotFoundError(`pod "${key}" not found in the mock provider`);
      }
      const container = record.containers.get(containerName);
      if (container === undefined) {
        throw new NotFoundError(
          `container "${containerName}" not found in pod "${key}": expected one of ${
            [...record.containers.keys()].map((known) => `"${known}"`).join(", ")
          }`,
        );
      }
      let instance = container.current;
      if (options.previous) {
        if (container.previous === undefined) {
          throw new InvalidInputError(
            `previous terminated container "${containerName}" in pod "${key}" not found`,
          );
        }
        instance = container.previous;
      }
      return this.#logStream(record, container.name, instance, options, signal);
    });
  }

  #logStream(
    record: PodRecord,
    containerName: string,
    instance: ContainerInstance,
    options: ContainerLogOptions,
    signal: AbortSignal,
  ): ReadableStream<Uint8Array> {
    const heartbeatMs = this.#config.logHeartbeatSeconds * secondMs;
    const podKey = `${record.pod.metadata?.namespace}/${record.pod.metadata?.name}`;
    const prefix = `mock: container ${containerName} of pod ${podKey}`;
    const now = this.#now;
    const follow = options.follow === true;
    const ended = AbortSignal.any([signal, record.deleted.signal, this.#stopped]);
    const cancelled = new AbortController();
    const stopWaiting = AbortSignal.any([ended, cancelled.signal]);

    // Line 0 is the start line, lines 1..n the heartbeats so far, then one end line if the
    // instance has finished.
    function heartbeatCount(): number {
      const until = instance.finishedAt ?? now();
      return Math.max(0, Math.floor((until - instance.startedAt) / heartbeatMs));
    }
    function lineAt(index: number): { time: number; text: string } | "later" | "end" {
      if (index === 0) {
        return { time: instance.startedAt, text: `${prefix} started from image ${instance.image}` };
      }
      const heartbeats = heartbeatCount();
      if (index <= heartbeats) {
        const uptime = (index * heartbeatMs) / secondMs;
        return {
          time: instance.startedAt + index * heartbeatMs,
          text: `${prefix} heartbeat ${index}, up ${uptime}s`,
        };
      }
      const finished = instance.finishedAt;
      if (finished === undefined) return "later";
      if (index === heartbeats + 1) {
        const how = instance.exitMessage === undefined
          ? `completed with exit code 0`
          : `terminated: ${instance.exitMessage}`;
        return { time: finished, text: `${prefix} ${how}` };
      }
      return "end";
    }

    // First line to show: the first at or after the since bound, then at most `tail` lines.
    const sinceMs = options.sinceTime !== undefined
      ? options.sinceTime.getTime()
      : options.sinceSeconds !== undefined
      ? now() - options.sinceSeconds * secondMs
      : undefined;
    let index = 0;
    if (sinceMs !== undefined && sinceMs > instance.startedAt) {
      index = Math.ceil((sinceMs - instance.startedAt) / heartbeatMs);
      const finished = instance.finishedAt;
      const endLine = heartbeatCount() + 1;
      if (finished !== undefined && index >= endLine) {
        index = finished >= sinceMs ? endLine : endLine + 1;
      }
    }
    if (options.tail !== undefined) {
      const available = heartbeatCount() + (instance.finishedAt === undefined ? 1 : 2);
      index = Math.max(index, available - options.tail);
    }
    let remaining = options.limitBytes ?? Infinity;
    const encoder = new TextEncoder();

    function sleepUntil(time: number): Promise<void> {
      return new Promise((resolve) => {
        if (stopWaiting.aborted) return resolve();
        const timer = setTimeout(done, Math.max(0, time - now()));
        function done(): void {
          clearTimeout(timer);
          stopWaiting.removeEventListener("abort", done);
          resolve();
        }
        stopWaiting.addEventListener("abort", done, { once: true });
      });
    }

    return new ReadableStream<Uint8Array>({
      async pull(controller): Promise<void> {
        while (true) {
          if (cancelled.signal.aborted || signal.aborted || remaining <= 0) {
            controller.close();
            return;
          }
          const line = lineAt(index);
          if (line === "end" || (line === "later" && (!follow || ended.aborted))) {
            controller.close();
            return;
          }
          if (line === "later") {
            await sleepUntil(instance.startedAt + index * heartbeatMs);
            continue;
          }
          index++;
          const text = `${options.timestamps ? `${rfc3339Nano(line.time)} ` : ""}${line.text}\n`;
          let bytes = encoder.encode(text);
          if (bytes.length > remaining) bytes = bytes.subarray(0, remaining);
          remaining -= bytes.length;
          controller.enqueue(bytes);
          return;
        }
      },
      cancel(): void {
        cancelled.abort();
      },
    });
  }

  // -- StatsSummary and MetricsResource -------------------------------------

  /** Returns node and pod usage; one container entry per running container. */
  getStatsSummary(signal: AbortSignal): Promise<Summary> {
    return settle(() => {
      signal.throwIfAborted();
      const now = this.#now();
      const time = rfc3339(now);
      const capacity = this.#config.capacity;
      const memoryCapacity = quantityToNumber(capacity.memory);
      const diskCapacity = quantityToNumber(capacity["ephemeral-storage"]);
      const pods: PodStats[] = [];
      let nodeCpuNanoSeconds = this.#retiredCpuNanoSeconds +
        nodeBaseCpuCores * 1e9 * ((now - this.#startTime) / secondMs);
      let nodeCpuNanoCores = nodeBaseCpuCores * 1e9;
      let nodeWorkingSet = nodeBaseMemoryBytes;
      let nodeDiskUsed = nodeBaseDiskBytes;
      let nodeRx = this.#retiredRxBytes +
        nodeBaseRxBytesPerSecond * ((now - this.#startTime) / 1e3);
      let nodeTx = this.#retiredTxBytes +
        nodeBaseRxBytesPerSecond * ((now - this.#startTime) / 2e3);
      const diskFree = (used: number): FsStats => ({
        time,
        capacityBytes: diskCapacity,
        usedBytes: Math.round(used),
        availableBytes: Math.max(0, Math.round(diskCapacity - nodeDiskUsed)),
        inodes: 6_553_600,
        inodesUsed: Math.round(used / 4096),
        inodesFree: Math.max(0, 6_553_600 - Math.round(nodeDiskUsed / 4096)),
      });

      const podEntries: Array<
        { stats: PodStats; usages: ContainerUsage[] }
      > = [];
      for (const record of this.#pods.values()) {
        const usages = [...record.containers.values()]
          .filter((container) => container.current.finishedAt === undefined)
          .map((container) => this.#containerUsage(record, container, now));
        const network = this.#podNetwork(record, now);
        const volumes = this.#podVolumes(record, time, diskCapacity);
        let cpuNanoSeconds = record.retiredCpuNanoSeconds;
        let cpuNanoCores = 0;
        let workingSet = 0;
        let ephemeral = 0;
        for (const usage of usages) {
          cpuNanoSeconds += usage.cpuNanoSeconds;
          cpuNanoCores += usage.cpuNanoCores;
          workingSet += usage.workingSetBytes;
          ephemeral += usage.rootfsBytes + usage.logBytes;
        }
        for (const volume of volumes) {
          if (volume.pvcRef === undefined) ephemeral += volume.usedBytes ?? 0;
        }
        nodeCpuNanoSeconds += cpuNanoSeconds;
        nodeCpuNanoCores += cpuNanoCores;
        nodeWorkingSet += workingSet;
        nodeDiskUsed += ephemeral;
        nodeRx += network.rx;
        nodeTx += network.tx;
        const interfaceStats = {
          name: "eth0",
          rxBytes: Math.round(network.rx),
          rxErrors: 0,
          txBytes: Math.round(network.tx),
          txErrors: 0,
        };
        const stats: PodStats = {
          podRef: {
            name: record.pod.metadata?.name ?? "",
            namespace: record.pod.metadata?.namespace ?? "",
            uid: record.uid,
          },
          startTime: rfc3339(record.startTime),
          containers: [],
          cpu: {
            time,
            usageNanoCores: Math.round(cpuNanoCores),
            usageCoreNanoSeconds: Math.round(cpuNanoSeconds),
          },
          memory: {
            time,
            usageBytes: Math.round(workingSet * 1.1),
            workingSetBytes: workingSet,
            rssBytes: Math.round(workingSet * 0.8),
            pageFaults: Math.round(workingSet / 4096),
            majorPageFaults: 0,
          },
          network: { time, ...interfaceStats, interfaces: [interfaceStats] },
          volume: volumes,
          "ephemeral-storage": { time, usedBytes: Math.round(ephemeral) },
          process_stats: { process_count: usages.length },
        };
        podEntries.push({ stats, usages });
        pods.push(stats);
      }

      // Filesystem availability depends on the node total, so fill it in afterwards.
      for (const { stats, usages } of podEntries) {
        stats.containers = usages.map((usage): ContainerStats => ({
          name: usage.name,
          startTime: rfc3339(usage.startTime),
          cpu: {
            time,
            usageNanoCores: Math.round(usage.cpuNanoCores),
            usageCoreNanoSeconds: Math.round(usage.cpuNanoSeconds),
          },
          memory: {
            time,
            ...(usage.limitBytes === undefined
              ? {}
              : { availableBytes: Math.max(0, usage.limitBytes - usage.workingSetBytes) }),
            usageBytes: Math.round(usage.workingSetBytes * 1.1),
            workingSetBytes: usage.workingSetBytes,
            rssBytes: Math.round(usage.workingSetBytes * 0.8),
            pageFaults: Math.round(usage.workingSetBytes / 4096),
            majorPageFaults: 0,
          },
          rootfs: diskFree(usage.rootfsBytes),
          logs: diskFree(usage.logBytes),
        }));
        const ephemeral = stats["ephemeral-storage"]?.usedBytes ?? 0;
        stats["ephemeral-storage"] = diskFree(ephemeral);
      }

      const nodeInterface = {
        name: "eth0",
        rxBytes: Math.round(nodeRx),
        rxErrors: 0,
        txBytes: Math.round(nodeTx),
        txErrors: 0,
      };
      return {
        node: {
          nodeName: this.#options.nodeName,
          startTime: rfc3339(this.#startTime),
          cpu: {
            time,
            usageNanoCores: Math.round(nodeCpuNanoCores),
            usageCoreNanoSeconds: Math.round(nodeCpuNanoSeconds),
          },
          memory: {
            time,
            availableBytes: Math.max(0, memoryCapacity - nodeWorkingSet),
            usageBytes: Math.round(nodeWorkingSet * 1.1),
            workingSetBytes: nodeWorkingSet,
            rssBytes: Math.round(nodeWorkingSet * 0.8),
            pageFaults: Math.round(nodeWorkingSet / 4096),
            majorPageFaults: 0,
          },
          network: { time, ...nodeInterface, interfaces: [nodeInterface] },
          fs: diskFree(nodeDiskUsed),
          runtime: { imageFs: diskFree(nodeBaseDiskBytes / 2) },
          rlimit: { time, maxpid: 4_194_304, curproc: 64 + pods.length * 2 },
        },
        pods,
      };
    });
  }

  /** Returns the kubelet resource metrics, derived from the same data as the summary. */
  async getMetricsResource(signal: AbortSignal): Promise<MetricFamily[]> {
    return resourceMetricsFromSummary(await this.getStatsSummary(signal));
  }

  // -- internals ------------------------------------------------------------

  #restore(saved: SavedPod, path: string): void {
    const namespace = saved.pod.metadata?.namespace ?? "";
    const name = saved.pod.metadata?.name ?? "";
    const key = `${namespace}/${name}`;
    if (this.#pods.has(key)) {
      throw new InvalidInputError(
        `mock provider state file ${path}: expected one entry per pod, found ${key} twice`,
      );
    }
    if (!this.#pool.reserve(saved.ip)) {
      throw new InvalidInputError(
        `mock provider state file ${path}: expected distinct pod IPs, found ${
          ipv4Text(saved.ip)
        } again for ${key}`,
      );
    }
    const uid = saved.pod.metadata?.uid ?? "";
    this.#pods.set(key, {
      pod: withoutStatus(saved.pod),
      uid,
      seed: uid || key,
      ip: saved.ip,
      startTime: saved.startTime,
      containers: new Map(saved.containers.map((container) => [container.name, container])),
      retiredCpuNanoSeconds: saved.retiredCpuNanoSeconds,
      deleted: new AbortController(),
    });
  }

  #saved(): SavedPod[] {
    return [...this.#pods.values()].map((record) => ({
      pod: record.pod,
      ip: record.ip,
      startTime: record.startTime,
      containers: [...record.containers.values()],
      retiredCpuNanoSeconds: record.retiredCpuNanoSeconds,
    }));
  }

  /** Resolves once the pods as they are now are in the state file (at once without one). */
  async #save(): Promise<void> {
    if (this.#stateFile === undefined) return;
    try {
      await this.#stateFile.save();
    } catch (error) {
      throw new UnavailableError(
        `mock provider: cannot write the state file ${this.#config.stateFile}: ${
          errorMessage(error)
        }`,
        { cause: error },
      );
    }
  }

  #validate(pod: Pod): { namespace: string; name: string } {
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
    const all = [...(pod.spec?.initContainers ?? []), ...containers];
    for (const container of all) {
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

  #recordFor(namespace: string, name: string, uid: string | undefined): PodRecord {
    const key = `${namespace}/${name}`;
    const record = this.#pods.get(key);
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

  #notify(record: PodRecord, options: { deletedAt?: number } = {}): void {
    if (this.#podCallbacks.size === 0) return;
    const pod = this.#podOf(record, options.deletedAt);
    for (const callback of this.#podCallbacks) {
      queueMicrotask(() => {
        try {
          callback(clone(pod));
        } catch (error) {
          logger.error("pod notification callback failed: {error}", { error: String(error) });
        }
      });
    }
  }

  #podOf(record: PodRecord, deletedAt?: number): Pod {
    return { ...clone(record.pod), status: this.#statusOf(record, deletedAt) };
  }

  #statusOf(record: PodRecord, deletedAt?: number): PodStatus {
    const started = rfc3339(record.startTime);
    const hostIp = this.#options.internalIp;
    const podIp = ipv4Text(record.ip);
    const containerStatus = (container: ContainerRecord): ContainerStatus => {
      const instance = container.current;
      const running = instance.finishedAt === undefined;
      const status: ContainerStatus = {
        name: container.name,
        image: instance.image,
        imageID: instance.imageId,
        containerID: instance.containerId,
        ready: running || container.kind === "init",
        started: running,
        restartCount: container.restartCount,
        state: running ? { running: { startedAt: rfc3339(instance.startedAt) } } : {
          terminated: {
            exitCode: 0,
            reason: instance.exitReason ?? "Completed",
            ...(instance.exitMessage === undefined ? {} : { message: instance.exitMessage }),
            startedAt: rfc3339(instance.startedAt),
            finishedAt: rfc3339(instance.finishedAt ?? instance.startedAt),
            containerID: instance.containerId,
          },
        },
        lastState: {},
      };
      if (container.previous !== undefined) {
        status.lastState = {
          terminated: {
            exitCode: 0,
            reason: container.previous.exitReason ?? "Completed",
            ...(container.previous.exitMessage === undefined
              ? {}
              : { message: container.previous.exitMessage }),
            startedAt: rfc3339(container.previous.startedAt),
            finishedAt: rfc3339(container.previous.finishedAt ?? container.previous.startedAt),
            containerID: container.previous.containerId,
          },
        };
      }
      return status;
    };
    const all = [...record.containers.values()];
    const initContainers = all.filter((container) => container.kind !== "app");
    const deleted = deletedAt !== undefined;
    const transition = deleted ? rfc3339(deletedAt) : started;
    const condition = (type: string, ready: boolean): PodCondition => ({
      type,
      status: ready ? "True" : "False",
      lastTransitionTime: ready ? started : transition,
      ...(ready ? {} : { reason: "PodCompleted" }),
    });
    return {
      phase: deleted ? "Succeeded" : "Running",
      ...(deleted
        ? {
          reason: "MockProviderPodDeleted",
          message: "mock provider deleted the pod",
        }
        : {}),
      conditions: [
        condition("PodReadyToStartContainers", !deleted),
        condition("Initialized", true),
        condition("Ready", !deleted),
        condition("ContainersReady", !deleted),
        condition("PodScheduled", true),
      ],
      hostIP: hostIp,
      hostIPs: [{ ip: hostIp }],
      podIP: podIp,
      podIPs: [{ ip: podIp }],
      startTime: started,
      qosClass: record.pod.status?.qosClass ?? qosClassOf(record.pod),
      // Absent rather than empty, as the API server stores it: an equal status is a no-op.
      ...(initContainers.length === 0
        ? {}
        : { initContainerStatuses: initContainers.map(containerStatus) }),
      containerStatuses: all.filter((container) => container.kind === "app").map(containerStatus),
    };
  }

  #containerUsage(record: PodRecord, container: ContainerRecord, now: number): ContainerUsage {
    const spec = [
      ...(record.pod.spec?.initContainers ?? []),
      ...(record.pod.spec?.containers ?? []),
    ]
      .find((candidate) => candidate.name === container.name);
    const seed = `${record.seed}/${container.name}`;
    const instance = container.current;
    const end = instance.finishedAt ?? now;
    const elapsedSeconds = Math.max(0, (end - instance.startedAt) / secondMs);
    const cpuBase = resourceOf(spec, "limits", "cpu") ?? resourceOf(spec, "requests", "cpu") ?? 0.1;
    const cpuCores = cpuBase * (0.05 + 0.25 * fraction(`${seed}/cpu`));
    const memoryLimit = resourceOf(spec, "limits", "memory");
    const memoryRequest = resourceOf(spec, "requests", "memory");
    const memoryShare = fraction(`${seed}/memory`);
    const workingSet = memoryLimit !== undefined
      ? memoryLimit * (0.2 + 0.4 * memoryShare)
      : memoryRequest !== undefined
      ? memoryRequest * (0.5 + 0.5 * memoryShare)
      : 16 * mebibyte + memoryShare * 112 * mebibyte;
    const heartbeats = Math.floor(elapsedSeconds / this.#config.logHeartbeatSeconds);
    return {
      name: container.name,
      startTime: instance.startedAt,
      cpuNanoCores: cpuCores * 1e9,
      cpuNanoSeconds: cpuCores * 1e9 * elapsedSeconds,
      workingSetBytes: Math.round(workingSet / 4096) * 4096,
      limitBytes: memoryLimit,
      rootfsBytes: 8192 + Math.round(fraction(`${seed}/rootfs`) * 50 * mebibyte),
      logBytes: 100 * (heartbeats + 1),
    };
  }

  #podNetwork(record: PodRecord, now: number): { rx: number; tx: number } {
    const elapsedSeconds = Math.max(0, (now - record.startTime) / secondMs);
    const rxRate = 1024 + fraction(`${record.seed}/rx`) * 99 * 1024;
    const txRate = rxRate * (0.2 + 0.6 * fraction(`${record.seed}/tx`));
    return { rx: rxRate * elapsedSeconds, tx: txRate * elapsedSeconds };
  }

  #podVolumes(record: PodRecord, time: string, diskCapacity: number): VolumeStats[] {
    return (record.pod.spec?.volumes ?? []).map((volume): VolumeStats => {
      const used = 4096 +
        Math.round(fraction(`${record.seed}/volume/${volume.name}`) * 10 * mebibyte);
      const sizeLimit = volume.emptyDir?.sizeLimit;
      const capacity = sizeLimit === undefined ? diskCapacity : quantityToNumber(String(sizeLimit));
      const stats: VolumeStats = {
        name: volume.name,
        time,
        capacityBytes: capacity,
        usedBytes: used,
        availableBytes: Math.max(0, capacity - used),
        inodes: 1_048_576,
        inodesUsed: Math.ceil(used / 4096),
        inodesFree: 1_048_576 - Math.ceil(used / 4096),
      };
      if (volume.persistentVolumeClaim !== undefined) {
        stats.pvcRef = {
          name: volume.persistentVolumeClaim.claimName,
          namespace: record.pod.metadata?.namespace ?? "",
        };
      }
      return stats;
    });
  }
}
