/**
 * The kubernetes provider: a whole other ("lower") cluster as one node of the upper one.
 * A thin facade over the files named after their jobs: `pod_lifecycle.ts` (pod create,
 * update, delete, with `update_patch.ts` and `priority_classes.ts`), `mapping.ts` (pod ↔
 * lower pod), `lower_pods.ts` (the watch of this agent's lower pods, status notifications),
 * `object_mirror.ts` (ConfigMaps and Secrets copied below), `node_status.ts`,
 * `lower_nodes.ts` and `capacity.ts` (ping, the node's capacity and conditions), `logs.ts`
 * and `exec.ts` (`pods/log` and `pods/exec` of the lower API), `namespaces.ts`,
 * `ownership.ts` and `errors.ts`.
 *
 * @module
 */

import type { Node, Pod, PodStatus } from "kubernetes-types/core/v1.d.ts";
import {
  type ClusterReader,
  type ContainerLogOptions,
  type ContainerLogs,
  type ContainerRef,
  type ExecInContainer,
  type ExecOptions,
  InvalidInputError,
  type LifecycleBelow,
  type NodeStatusNotifier,
  NotFoundError,
  type PodNotifier,
  type Provider,
  type ProviderRuntimeOptions,
} from "../../lib/provider.ts";
import { type ClientConfig, type KubeClient, podKey } from "../../lib/provider_kit/mod.ts";
import type { KubernetesConfig } from "./config.ts";
import { execInLowerPod } from "./exec.ts";
import { LowerNodes } from "./lower_nodes.ts";
import { LowerPods } from "./lower_pods.ts";
import { checkLogRequest, openLowerLog } from "./logs.ts";
import { lowerNamespace, LowerNamespaces } from "./namespaces.ts";
import { LowerClusterNode } from "./node_status.ts";
import { ObjectMirror } from "./object_mirror.ts";
import { Ownership } from "./ownership.ts";
import { LowerPodLifecycle } from "./pod_lifecycle.ts";
import { LowerPriorityClasses } from "./priority_classes.ts";

/** What the provider needs besides its configuration. */
export interface KubernetesProviderOptions extends ProviderRuntimeOptions {
  /** The lower cluster's client. */
  client: KubeClient;
  /** The upper cluster, for the pods as they are there and what they reference. */
  cluster: ClusterReader;
}

/** The HTTP client of exec's WebSocket: the lower cluster's CA, client certificate and proxy. */
function createHttpClient(config: ClientConfig): Deno.HttpClient | undefined {
  if (
    config.caPem === undefined && config.certPem === undefined && config.proxyUrl === undefined
  ) return undefined;
  return Deno.createHttpClient({
    ...(config.caPem === undefined ? {} : { caCerts: [config.caPem] }),
    ...(config.proxyUrl === undefined ? {} : { proxy: { url: config.proxyUrl } }),
    ...(config.certPem !== undefined && config.keyPem !== undefined
      ? { cert: config.certPem, key: config.keyPem }
      : {}),
  });
}

/** One lower cluster as one node. */
export class KubernetesProvider
  implements
    Provider,
    PodNotifier,
    NodeStatusNotifier,
    ContainerLogs,
    ExecInContainer,
    LifecycleBelow {
  /** Provider name. */
  readonly name = "kubernetes";
  /** The lower kubelets run the pods' probes and restarts; the agent mirrors what they report. */
  readonly probesAndRestartsBelow = true as const;
  readonly #client: KubeClient;
  readonly #ownership: Ownership;
  readonly #pods: LowerPods;
  readonly #nodes: LowerNodes;
  readonly #node: LowerClusterNode;
  readonly #mirror: ObjectMirror;
  readonly #lifecycle: LowerPodLifecycle;
  readonly #httpClient: Deno.HttpClient | undefined;
  readonly #stopped: Promise<void>;
  readonly #stop = new AbortController();

  private constructor(
    config: KubernetesConfig,
    ownership: Ownership,
    options: KubernetesProviderOptions,
  ) {
    this.#client = options.client;
    this.#ownership = ownership;
    const cluster = options.cluster;
    this.#pods = new LowerPods(this.#client, {
      ownership,
      objects: cluster,
      upperDeleted: (namespace, name, uid) => {
        const upper = cluster.getPod(namespace, name);
        return upper === undefined || upper.metadata?.uid !== uid ||
          upper.metadata?.deletionTimestamp !== undefined;
      },
    });
    this.#nodes = new LowerNodes(this.#client, config, ownership);
    this.#mirror = new ObjectMirror(this.#client, {
      ownership,
      cluster,
      lowerNamespace: (upper) => lowerNamespace(config.namespaces, upper),
      pods: this.#pods,
    });
    this.#node = new LowerClusterNode(this.#client, this.#nodes);
    this.#lifecycle = new LowerPodLifecycle({
      config,
      client: this.#client,
      ownership,
      pods: this.#pods,
      mirror: this.#mirror,
      namespaces: new LowerNamespaces(this.#client, ownership),
      priorityClasses: new LowerPriorityClasses(this.#client, options.now),
      cluster,
    });
    this.#httpClient = createHttpClient(this.#client.config);
    const signal = AbortSignal.any([
      this.#stop.signal,
      ...(options.signal === undefined ? [] : [options.signal]),
    ]);
    this.#stopped = Promise.all([
      this.#pods.run(signal),
      this.#nodes.run(signal),
      this.#mirror.run(signal),
    ]).then(() => {
      this.#httpClient?.close();
      this.#client.close();
    });
  }

  /** A provider for node `options.nodeName` over the lower cluster of `options.client`. */
  static async create(
    config: KubernetesConfig,
    options: KubernetesProviderOptions,
  ): Promise<KubernetesProvider> {
    const ownership = await Ownership.create(config.clusterName, options.nodeName);
    return new KubernetesProvider(config, ownership, options);
  }

  /** Resolves once every watch stopped (after the signal aborted) and the client is closed. */
  stopped(): Promise<void> {
    return this.#stopped;
  }

  /** Stops the watches and closes the lower cluster's client; the lower pods keep running. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#stopped;
  }

  /** Who owns this provider's lower objects. */
  get ownership(): Ownership {
    return this.#ownership;
  }

  // -------------------------------------------------------------------------
  // Pods (writes in pod_lifecycle.ts)
  // -------------------------------------------------------------------------

  /** Makes the lower pod (and the copies of what it references); adopts it if it exists. */
  createPod(pod: Pod, signal: AbortSignal): Promise<void> {
    return this.#lifecycle.createPod(pod, signal);
  }

  /** Applies what a running pod can change: labels, annotations, images, deadline, new tolerations. */
  updatePod(pod: Pod, signal: AbortSignal): Promise<void> {
    return this.#lifecycle.updatePod(pod, signal);
  }

  /**
   * Deletes the lower pod with the upper pod's grace period and waits (that long, and a
   * little more) until it is gone below, so that a stopped pod is no longer reported
   * running.
   */
  deletePod(pod: Pod, signal: AbortSignal): Promise<void> {
    return this.#lifecycle.deletePod(pod, signal);
  }

  /** The upper view of the lower pod, or of a pod whose lower pod is gone. */
  async getPod(namespace: string, name: string, signal: AbortSignal): Promise<Pod | undefined> {
    await this.#pods.synced(signal);
    const lower = this.#lifecycle.lowerOf(namespace, name);
    const view = lower === undefined ? undefined : this.#pods.upperView(lower);
    return view ?? this.#pods.gone(`${namespace}/${name}`);
  }

  /** The status of `getPod`. */
  async getPodStatus(
    namespace: string,
    name: string,
    signal: AbortSignal,
  ): Promise<PodStatus | undefined> {
    return (await this.getPod(namespace, name, signal))?.status;
  }

  /** Every pod of this node: one per lower pod, and those whose lower pod is gone. */
  async getPods(signal: AbortSignal): Promise<Pod[]> {
    await this.#pods.synced(signal);
    const pods = new Map<string, Pod>();
    for (const gone of this.#pods.goneList()) pods.set(podKey(gone), gone);
    for (const lower of this.#pods.list()) {
      const view = this.#pods.upperView(lower);
      if (view !== undefined) pods.set(podKey(view), view);
    }
    return [...pods.values()];
  }

  /** Registers `callback` for status changes of the lower pods. */
  notifyPods(signal: AbortSignal, callback: (pod: Pod) => void): void {
    this.#pods.reporter.subscribe(signal, callback);
  }

  // -------------------------------------------------------------------------
  // Node (node_status.ts)
  // -------------------------------------------------------------------------

  /** Answers when the lower API server does and at least one lower node can take pods. */
  ping(signal: AbortSignal): Promise<void> {
    return this.#node.ping(signal);
  }

  /** The node with the lower cluster's capacity, allocatable, pressure and version. */
  configureNode(node: Node, signal: AbortSignal): Promise<Node> {
    return this.#node.configureNode(node, signal);
  }

  /** Registers `callback` for capacity and condition changes of the lower cluster. */
  notifyNodeStatus(signal: AbortSignal, callback: (node: Node) => void): void {
    this.#nodes.subscribe(signal, callback);
  }

  // -------------------------------------------------------------------------
  // Logs and exec
  // -------------------------------------------------------------------------

  /** The log of a container, from the lower cluster's `pods/log`. */
  async getContainerLogs(
    ref: ContainerRef,
    options: ContainerLogOptions,
    signal: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>> {
    const lower = await this.#lowerForStreaming(ref, signal);
    checkLogRequest(lower, `${ref.namespace}/${ref.pod}`, ref.container, options);
    return await openLowerLog(this.#client, lower, ref.container, options, signal);
  }

  /** Runs a command in a container through the lower cluster's `pods/exec`. */
  async runInContainer(
    ref: ContainerRef,
    options: ExecOptions,
    signal: AbortSignal,
  ): Promise<number> {
    const lower = await this.#lowerForStreaming(ref, signal);
    const key = `${ref.namespace}/${ref.pod}`;
    checkLogRequest(lower, key, ref.container, {});
    const status = [
      ...(lower.status?.containerStatuses ?? []),
      ...(lower.status?.initContainerStatuses ?? []),
      ...(lower.status?.ephemeralContainerStatuses ?? []),
    ].find((s) => s.name === ref.container);
    if (status?.state?.running === undefined) {
      const state = status?.state?.waiting?.reason ?? status?.state?.terminated?.reason ??
        "not started";
      throw new InvalidInputError(
        `container ${ref.container} of pod ${key} is not running (${state}); exec needs a running container`,
      );
    }
    return await execInLowerPod(
      {
        config: this.#client.config,
        ...(this.#httpClient === undefined ? {} : { httpClient: this.#httpClient }),
      },
      {
        namespace: lower.metadata!.namespace!,
        pod: lower.metadata!.name!,
        container: ref.container,
      },
      options,
      signal,
    );
  }

  // -------------------------------------------------------------------------
  // Helpers
  // -------------------------------------------------------------------------

  async #lowerForStreaming(ref: ContainerRef, signal: AbortSignal): Promise<Pod> {
    await this.#pods.synced(signal);
    const lower = this.#lifecycle.lowerOf(ref.namespace, ref.pod);
    if (lower === undefined) {
      throw new NotFoundError(`pod ${ref.namespace}/${ref.pod} has no lower pod`);
    }
    return lower;
  }
}
