/**
 * The mock provider: pods live in memory (and in the state file, when configured, so that
 * they outlive the agent process), run at once with a stable pod IP, write a readable log
 * and report deterministic, monotonically increasing usage. It is a product feature (demos,
 * benchmarks, conformance runs), so it behaves like a small, honest kubelet.
 *
 * This class is the contract's facade over files named after their jobs: `pod_records.ts`
 * and `pod_status.ts` (the pods), `faults.ts`, `synthetic_logs.ts`, `usage_model.ts` and
 * `stats_summary.ts`, `node_description.ts`, `state_file.ts`; the generic parts come from
 * the provider kit.
 *
 * @module
 */

import type { Node, Pod, PodStatus } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import {
  type ContainerLogOptions,
  type ContainerLogs,
  type ContainerRef,
  InvalidInputError,
  type MetricsResource,
  type NodeStatusNotifier,
  type PodNotifier,
  type Provider,
  type ProviderRuntimeOptions,
  type StatsSummary,
  UnavailableError,
} from "../../lib/provider.ts";
import {
  CallbackSet,
  describeNode,
  errorMessage,
  type MetricFamily,
  parseQuantity,
  podKey,
  PodStatusReporter,
  resourceMetricsFromSummary,
  streamLogLines,
  type Summary,
} from "../../lib/provider_kit/mod.ts";
import type { MockConfig } from "./config.ts";
import { Faults, type MockFault } from "./faults.ts";
import { formatIpv4 } from "./ip_pool.ts";
import { mockNodeDescription } from "./node_description.ts";
import {
  type ContainerChangeOptions,
  type PodRecord,
  PodRecords,
  terminateContainers,
  updateRecord,
  validatePod,
} from "./pod_records.ts";
import { podStatusOf } from "./pod_status.ts";
import { readStateFile, StateFileWriter } from "./state_file.ts";
import { statsSummary } from "./stats_summary.ts";
import { syntheticLogLines } from "./synthetic_logs.ts";
import { UsageModel } from "./usage_model.ts";

export type { MockFault } from "./faults.ts";

const logger = getLogger(["vkedge", "provider", "mock"]);

/** Options of the provider besides its configuration. */
export type MockProviderOptions = ProviderRuntimeOptions;

/**
 * In-memory provider implementing pods, notifications, logs, stats and resource metrics,
 * optionally kept in a state file across restarts. Faults can be injected at runtime with
 * `setHealthy(false)` or through the fault file.
 */
export class MockProvider
  implements
    Provider,
    PodNotifier,
    NodeStatusNotifier,
    ContainerLogs,
    StatsSummary,
    MetricsResource {
  /** Provider name. */
  readonly name = "mock";
  readonly #config: MockConfig;
  readonly #options: MockProviderOptions;
  readonly #now: () => number;
  readonly #startTime: number;
  readonly #bootId = crypto.randomUUID();
  readonly #stopped: AbortSignal;
  readonly #faults: Faults;
  readonly #pods: PodRecords;
  readonly #usage: UsageModel;
  readonly #reporter = new PodStatusReporter();
  readonly #nodeCallbacks = new CallbackSet<Node>("node status");
  readonly #stateFile: StateFileWriter | undefined;

  /** Creates the provider from a validated configuration. */
  constructor(config: MockConfig, options: MockProviderOptions) {
    this.#config = config;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#startTime = this.#now();
    this.#stopped = options.signal ?? new AbortController().signal;
    this.#faults = new Faults(config.faultFile);
    this.#pods = new PodRecords(config.podCidr);
    this.#usage = new UsageModel({
      startTime: this.#startTime,
      heartbeatSeconds: config.logHeartbeatSeconds,
    });
    const stateFile = config.stateFile;
    if (stateFile !== undefined) {
      for (const saved of readStateFile(stateFile)) this.#pods.restore(saved, stateFile);
      this.#stateFile = new StateFileWriter(stateFile, () => this.#pods.saved());
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
    this.#faults.setHealthy(healthy);
  }

  /** Reads the fault file (if configured) and returns the faults it currently injects. */
  activeFaults(): Promise<Set<MockFault>> {
    return this.#faults.activeFaults();
  }

  // -- NodeProvider ---------------------------------------------------------

  /** Succeeds unless the provider was marked unhealthy or the fault file contains `ping`. */
  async ping(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await this.#faults.checkPing();
  }

  /** Registers a node status callback; the mock only calls it when capacity changes (never today). */
  notifyNodeStatus(signal: AbortSignal, callback: (node: Node) => void): void {
    this.#nodeCallbacks.add(signal, callback);
  }

  /** Returns the node with capacity = allocatable and labels from the configuration, and nodeInfo. */
  configureNode(node: Node, signal: AbortSignal): Promise<Node> {
    return Promise.try(() => {
      signal.throwIfAborted();
      const { nodeName, operatingSystem } = this.#options;
      return describeNode(
        node,
        mockNodeDescription(this.#config, { nodeName, operatingSystem, bootId: this.#bootId }),
      );
    });
  }

  // -- PodLifecycleHandler --------------------------------------------------

  /** Starts the pod at once: Running, a pod IP, every container running and ready. */
  async createPod(pod: Pod, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { namespace, name } = validatePod(pod);
    await this.#faults.failIfInjected("create", `creating pod ${namespace}/${name}`);
    const record = await this.#pods.create(pod, this.#now());
    logger.debug("created pod {pod} with IP {ip}", {
      pod: podKey(pod),
      ip: formatIpv4(record.ip),
    });
    await this.#save();
    this.#reporter.report(this.#podOf(record));
  }

  /** Applies the new spec and metadata; a container whose image changed restarts. */
  async updatePod(pod: Pod, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { namespace, name } = validatePod(pod);
    await this.#faults.failIfInjected("update", `updating pod ${namespace}/${name}`);
    const record = this.#pods.find(namespace, name, pod.metadata?.uid);
    await updateRecord(record, pod, this.#changeOptions(record));
    logger.debug("updated pod {pod}", { pod: podKey(pod) });
    await this.#save();
    this.#reporter.report(this.#podOf(record));
  }

  /**
   * Terminates every container, reports the terminal status (phase Succeeded, reason
   * `MockProviderPodDeleted`) and forgets the pod.
   */
  async deletePod(pod: Pod, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const namespace = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    await this.#faults.failIfInjected("delete", `deleting pod ${namespace}/${name}`);
    const record = this.#pods.find(namespace, name, pod.metadata?.uid);
    const options = this.#changeOptions(record);
    terminateContainers(record, options);
    this.#usage.retirePod(record, options.now);
    this.#pods.remove(record);
    logger.debug("deleted pod {pod}", { pod: `${namespace}/${name}` });
    await this.#save();
    this.#reporter.report(this.#podOf(record, options.now));
    this.#reporter.forget(`${namespace}/${name}`);
  }

  /** Returns the pod with its current status, or `undefined`. */
  getPod(namespace: string, name: string, signal: AbortSignal): Promise<Pod | undefined> {
    return Promise.try(() => {
      signal.throwIfAborted();
      const record = this.#pods.get(namespace, name);
      return record === undefined ? undefined : this.#podOf(record);
    });
  }

  /** Returns the current status of the pod, or `undefined`. */
  getPodStatus(
    namespace: string,
    name: string,
    signal: AbortSignal,
  ): Promise<PodStatus | undefined> {
    return Promise.try(() => {
      signal.throwIfAborted();
      const record = this.#pods.get(namespace, name);
      return record === undefined ? undefined : this.#statusOf(record);
    });
  }

  /** Returns every pod the mock runs, with status. */
  getPods(signal: AbortSignal): Promise<Pod[]> {
    return Promise.try(() => {
      signal.throwIfAborted();
      return this.#pods.all().map((record) => this.#podOf(record));
    });
  }

  /**
   * Registers a pod status callback until `signal` aborts; it is called asynchronously after
   * each create, delete and update that changed the pod's status.
   */
  notifyPods(signal: AbortSignal, callback: (pod: Pod) => void): void {
    this.#reporter.subscribe(signal, callback);
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
    return Promise.try(() => {
      signal.throwIfAborted();
      const { record, container } = this.#pods.container(ref);
      const key = podKey(record.pod);
      const instance = options.previous ? container.previous : container.current;
      if (instance === undefined) {
        throw new InvalidInputError(
          `previous terminated container "${ref.container}" in pod "${key}" not found`,
        );
      }
      const lines = syntheticLogLines(instance, {
        container: container.name,
        pod: key,
        heartbeatMs: this.#config.logHeartbeatSeconds * 1000,
        now: this.#now,
        gone: AbortSignal.any([record.deleted.signal, this.#stopped]),
      });
      return streamLogLines(lines, options, signal);
    });
  }

  // -- StatsSummary and MetricsResource -------------------------------------

  /** Returns node and pod usage; one container entry per running container. */
  getStatsSummary(signal: AbortSignal): Promise<Summary> {
    return Promise.try(() => {
      signal.throwIfAborted();
      const now = this.#now();
      const capacity = this.#config.capacity;
      return statsSummary(
        this.#usage.nodeUsage(now),
        this.#pods.all().map((record) => this.#usage.podUsage(record, now)),
        {
          nodeName: this.#options.nodeName,
          startTime: this.#startTime,
          now,
          memoryBytes: parseQuantity(capacity.memory),
          diskBytes: parseQuantity(capacity["ephemeral-storage"]),
        },
      );
    });
  }

  /** Returns the kubelet resource metrics, derived from the same data as the summary. */
  async getMetricsResource(signal: AbortSignal): Promise<MetricFamily[]> {
    return resourceMetricsFromSummary(await this.getStatsSummary(signal));
  }

  // -- internals ------------------------------------------------------------

  #changeOptions(record: PodRecord): ContainerChangeOptions {
    const now = this.#now();
    return {
      now,
      retire: (container) => this.#usage.retireContainer(record, container, now),
    };
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

  #podOf(record: PodRecord, deletedAt?: number): Pod {
    return { ...structuredClone(record.pod), status: this.#statusOf(record, deletedAt) };
  }

  #statusOf(record: PodRecord, deletedAt?: number): PodStatus {
    return podStatusOf(record, { hostIp: this.#options.internalIp, deletedAt });
  }
}
