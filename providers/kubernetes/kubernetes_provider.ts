/**
 * The kubernetes provider: a whole other ("lower") cluster as one node of the upper one.
 * A thin facade over the files named after their jobs: `mapping.ts` (pod ↔ lower pod),
 * `lower_pods.ts` (the watch of this agent's lower pods, status notifications),
 * `object_mirror.ts` (ConfigMaps and Secrets copied below), `lower_nodes.ts` and
 * `capacity.ts` (the node's capacity and conditions), `logs.ts` and `exec.ts`
 * (`pods/log` and `pods/exec` of the lower API), `namespaces.ts`, `ownership.ts` and
 * `errors.ts`.
 *
 * @module
 */

import type { Node, Pod, PodStatus } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import {
  AlreadyExistsError,
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
  UnavailableError,
} from "../../lib/provider.ts";
import {
  abortableSleep,
  canonicalJson,
  type ClientConfig,
  errorMessage,
  KubeAlreadyExistsError,
  type KubeClient,
  KubeNotFoundError,
  podKey,
  PODS,
  type ResourceDescriptor,
} from "../../lib/provider_kit/mod.ts";
import type { KubernetesConfig } from "./config.ts";
import { toProviderError } from "./errors.ts";
import { execInLowerPod } from "./exec.ts";
import { LowerNodes } from "./lower_nodes.ts";
import { LowerPods } from "./lower_pods.ts";
import { checkLogRequest, openLowerLog } from "./logs.ts";
import { toLowerPod, UPPER_POD_ANNOTATION } from "./mapping.ts";
import { lowerNamespace, LowerNamespaces } from "./namespaces.ts";
import { ObjectMirror } from "./object_mirror.ts";
import { Ownership, upperPodOf } from "./ownership.ts";
import { referencedObjects } from "./references.ts";

const log = getLogger(["vkedge", "provider", "kubernetes"]);

const PRIORITY_CLASSES: ResourceDescriptor = {
  group: "scheduling.k8s.io",
  version: "v1",
  plural: "priorityclasses",
  namespaced: false,
  kind: "PriorityClass",
};

/** How long a missing ServiceAccount in a new lower namespace is waited for at a create. */
const SERVICE_ACCOUNT_WAIT_MS = 15_000;
const PRIORITY_CLASS_TTL_MS = 5 * 60_000;
/** The grace period of a pod that names none, as the API server defaults it. */
const DEFAULT_GRACE_SECONDS = 30;
/** How much longer than the grace period a delete waits for the lower pod to go. */
const DELETE_SLACK_SECONDS = 15;

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
  readonly #config: KubernetesConfig;
  readonly #options: KubernetesProviderOptions;
  readonly #client: KubeClient;
  readonly #ownership: Ownership;
  readonly #pods: LowerPods;
  readonly #nodes: LowerNodes;
  readonly #mirror: ObjectMirror;
  readonly #namespaces: LowerNamespaces;
  readonly #httpClient: Deno.HttpClient | undefined;
  readonly #priorityClasses = new Map<string, { exists: boolean; at: number }>();
  readonly #stopped: Promise<void>;
  readonly #stop = new AbortController();

  private constructor(
    config: KubernetesConfig,
    ownership: Ownership,
    options: KubernetesProviderOptions,
  ) {
    this.#config = config;
    this.#options = options;
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
    this.#namespaces = new LowerNamespaces(this.#client, ownership);
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
  // Pods
  // -------------------------------------------------------------------------

  /** Makes the lower pod (and the copies of what it references); adopts it if it exists. */
  async createPod(pod: Pod, signal: AbortSignal): Promise<void> {
    const { namespace, name, uid } = this.#identity(pod);
    const key = `${namespace}/${name}`;
    await this.#pods.synced(signal);
    const lowerNs = lowerNamespace(this.#config.namespaces, namespace);
    const existing = this.#pods.get(lowerNs, name);
    if (existing !== undefined) {
      const ref = upperPodOf(existing.metadata);
      if (ref?.uid === uid) return; // made before (a repeat, or an earlier agent): adopted
      throw new AlreadyExistsError(
        `pod ${key} already has a lower pod ${lowerNs}/${name}, made for the earlier pod of that name (UID ${ref?.uid}); it goes first`,
      );
    }
    this.#pods.forget(key);
    await this.#namespaces.ensure(lowerNs, signal);
    const lower = await this.#lowerPod(pod, lowerNs, signal);
    await this.#mirror.ensure(namespace, referencedObjects(lower.spec), signal);
    await this.#createLower(lower, key, uid, signal);
    log.debug("pod {pod} made in the lower cluster as {lower}", {
      pod: key,
      lower: `${lowerNs}/${name}`,
    });
  }

  /** Applies what a running pod can change: labels, annotations, images, deadline, new tolerations. */
  async updatePod(pod: Pod, signal: AbortSignal): Promise<void> {
    const { namespace, name } = this.#identity(pod);
    const lower = await this.#ownLower(pod, signal);
    const desired = await this.#lowerPod(pod, lower.metadata!.namespace!, signal);
    const patch = updatePatch(lower, desired);
    if (patch === undefined) return;
    await this.#mirror.ensure(namespace, referencedObjects(desired.spec), signal);
    try {
      await this.#client.resource<Pod>(PODS, lower.metadata!.namespace).patch(name, patch, {
        type: "strategic",
        signal,
      });
    } catch (error) {
      throw toProviderError(error, `update lower pod ${lower.metadata!.namespace}/${name}`);
    }
  }

  /**
   * Deletes the lower pod with the upper pod's grace period and waits (that long, and a
   * little more) until it is gone below, so that a stopped pod is no longer reported
   * running.
   */
  async deletePod(pod: Pod, signal: AbortSignal): Promise<void> {
    const { namespace, name } = this.#identity(pod);
    const key = `${namespace}/${name}`;
    let lower: Pod;
    try {
      lower = await this.#ownLower(pod, signal);
    } catch (error) {
      if (this.#pods.gone(key)?.metadata?.uid === pod.metadata?.uid) this.#pods.forget(key);
      throw error;
    }
    const uid = lower.metadata!.uid!;
    const grace = pod.metadata?.deletionGracePeriodSeconds ??
      pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
    if (lower.metadata?.deletionTimestamp === undefined) {
      this.#pods.deleting(uid);
      try {
        await this.#client.resource<Pod>(PODS, lower.metadata!.namespace).delete(name, {
          preconditions: { uid },
          gracePeriodSeconds: grace,
          signal,
        });
      } catch (error) {
        if (!(error instanceof KubeNotFoundError)) {
          throw toProviderError(error, `delete lower pod ${lower.metadata!.namespace}/${name}`);
        }
      }
    }
    const gone = await this.#pods.waitGone(uid, (grace + DELETE_SLACK_SECONDS) * 1000, signal);
    if (!gone && !signal.aborted) {
      log.warn("lower pod {lower} of {pod} is still terminating after {seconds}s; letting it go", {
        lower: `${lower.metadata!.namespace}/${name}`,
        pod: key,
        seconds: grace + DELETE_SLACK_SECONDS,
      });
    }
  }

  /** The upper view of the lower pod, or of a pod whose lower pod is gone. */
  async getPod(namespace: string, name: string, signal: AbortSignal): Promise<Pod | undefined> {
    await this.#pods.synced(signal);
    const lower = this.#lowerOf(namespace, name);
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
  // Node
  // -------------------------------------------------------------------------

  /** Answers when the lower API server does and at least one lower node can take pods. */
  async ping(signal: AbortSignal): Promise<void> {
    try {
      await this.#client.requestText({ method: "GET", path: "/readyz", signal });
    } catch (error) {
      throw toProviderError(error, `lower cluster ${this.#client.config.server}`);
    }
    const unusable = this.#nodes.unusable();
    if (unusable !== undefined) throw new UnavailableError(unusable);
  }

  /** The node with the lower cluster's capacity, allocatable, pressure and version. */
  async configureNode(node: Node, signal: AbortSignal): Promise<Node> {
    const wait = AbortSignal.any([signal, AbortSignal.timeout(10_000)]);
    if (!(await this.#nodes.waitForSync(wait))) {
      signal.throwIfAborted();
      log.warn("the lower cluster's nodes are not listed yet; the node starts without capacity");
    }
    let version = "unknown";
    try {
      const info = await this.#client.request<{ gitVersion?: string }>({
        method: "GET",
        path: "/version",
        signal: wait,
      });
      version = info.gitVersion ?? version;
    } catch (error) {
      log.warn("cannot read the lower cluster's version: {error}", { error: errorMessage(error) });
    }
    const server = new URL(this.#client.config.server).host;
    return this.#nodes.describe(node, {
      providerID: `kubernetes://${server}`,
      nodeInfo: {
        osImage: `Kubernetes ${version} cluster at ${server}`,
        containerRuntimeVersion: `kubernetes://${version}`,
        kernelVersion: version,
      },
    });
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

  #identity(pod: Pod): { namespace: string; name: string; uid: string } {
    const namespace = pod.metadata?.namespace ?? "default";
    const name = pod.metadata?.name;
    const uid = pod.metadata?.uid;
    if (!name || !uid) {
      throw new InvalidInputError(
        `pod ${namespace}/${name ?? "(no name)"}: expected a name and a UID, found ${
          name ? "no UID" : "no name"
        }`,
      );
    }
    return { namespace, name, uid };
  }

  #lowerOf(namespace: string, name: string): Pod | undefined {
    let lowerNs: string;
    try {
      lowerNs = lowerNamespace(this.#config.namespaces, namespace);
    } catch {
      return undefined;
    }
    return this.#pods.get(lowerNs, name);
  }

  /** The lower pod of `pod` (same upper UID); `NotFoundError` otherwise. */
  async #ownLower(pod: Pod, signal: AbortSignal): Promise<Pod> {
    const { namespace, name, uid } = this.#identity(pod);
    await this.#pods.synced(signal);
    const lower = this.#lowerOf(namespace, name);
    if (lower === undefined || upperPodOf(lower.metadata)?.uid !== uid) {
      throw new NotFoundError(`pod ${namespace}/${name} (UID ${uid}) has no lower pod`);
    }
    return lower;
  }

  async #lowerForStreaming(ref: ContainerRef, signal: AbortSignal): Promise<Pod> {
    await this.#pods.synced(signal);
    const lower = this.#lowerOf(ref.namespace, ref.pod);
    if (lower === undefined) {
      throw new NotFoundError(`pod ${ref.namespace}/${ref.pod} has no lower pod`);
    }
    return lower;
  }

  async #lowerPod(pod: Pod, lowerNs: string, signal: AbortSignal): Promise<Pod> {
    const { namespace, name } = this.#identity(pod);
    const className = pod.spec?.priorityClassName;
    return toLowerPod(pod, {
      ownership: this.#ownership,
      namespace: lowerNs,
      nodeSelector: this.#config.nodeSelector,
      tolerations: this.#config.tolerations,
      upperTaintKeys: this.#config.upperTaintKeys,
      original: this.#options.cluster.getPod(namespace, name),
      objects: this.#options.cluster,
      priorityClassExists: className ? await this.#priorityClassExists(className, signal) : false,
    });
  }

  async #priorityClassExists(name: string, signal: AbortSignal): Promise<boolean> {
    const known = this.#priorityClasses.get(name);
    const now = this.#options.now?.() ?? Date.now();
    if (known !== undefined && now - known.at < PRIORITY_CLASS_TTL_MS) return known.exists;
    let exists = false;
    try {
      await this.#client.resource(PRIORITY_CLASSES).get(name, { signal });
      exists = true;
    } catch (error) {
      if (!(error instanceof KubeNotFoundError)) {
        log.warn("cannot read priority class {name} of the lower cluster: {error}", {
          name,
          error: errorMessage(error),
        });
      }
    }
    this.#priorityClasses.set(name, { exists, at: now });
    return exists;
  }

  async #createLower(lower: Pod, key: string, uid: string, signal: AbortSignal): Promise<void> {
    const namespace = lower.metadata!.namespace!;
    const name = lower.metadata!.name!;
    const pods = this.#client.resource<Pod>(PODS, namespace);
    const deadline = Date.now() + SERVICE_ACCOUNT_WAIT_MS;
    while (true) {
      try {
        await pods.create(lower, { signal });
        return;
      } catch (error) {
        if (error instanceof KubeAlreadyExistsError) {
          return await this.#adoptExisting(key, namespace, name, uid, signal);
        }
        if (error instanceof KubeNotFoundError) {
          // The namespace was deleted below since it was made: make it again next time.
          this.#namespaces.forget(namespace);
          throw new UnavailableError(
            `create lower pod ${namespace}/${name}: the lower namespace ${namespace} is gone; making it again`,
            { cause: error },
          );
        }
        const failure = toProviderError(error, `create lower pod ${namespace}/${name}`);
        if (!(failure instanceof UnavailableError) || Date.now() > deadline || signal.aborted) {
          throw failure;
        }
        // A namespace made a moment ago gets its ServiceAccount from the lower controllers.
        await abortableSleep(500, signal);
      }
    }
  }

  /** A lower pod of that name appeared meanwhile: ours with the same UID is adopted. */
  async #adoptExisting(
    key: string,
    namespace: string,
    name: string,
    uid: string,
    signal: AbortSignal,
  ): Promise<void> {
    let found: Pod;
    try {
      found = await this.#client.resource<Pod>(PODS, namespace).get(name, { signal });
    } catch (error) {
      throw toProviderError(error, `read lower pod ${namespace}/${name}`);
    }
    if (this.#ownership.owns(found.metadata) && upperPodOf(found.metadata)?.uid === uid) return;
    const owner = this.#ownership.owns(found.metadata)
      ? `the earlier pod of that name (UID ${upperPodOf(found.metadata)?.uid})`
      : Ownership.describe(found.metadata);
    throw new AlreadyExistsError(
      `pod ${key}: the lower cluster already has a pod ${namespace}/${name}, which belongs to ${owner}; ` +
        "it is left alone (map the namespaces apart, see namespaces.prefix)",
    );
  }
}

/**
 * The strategic-merge patch that brings `lower` to `desired` as far as a running pod can
 * change (labels, annotations, images, `activeDeadlineSeconds`, added tolerations), or
 * undefined when there is nothing to change. Labels and annotations the upper pod no
 * longer has are removed; those others put on the lower pod are kept.
 */
export function updatePatch(lower: Pod, desired: Pod): Record<string, unknown> | undefined {
  const previous = previousUpperKeys(lower);
  const metadata: Record<string, unknown> = {};
  for (const field of ["labels", "annotations"] as const) {
    const current = lower.metadata?.[field] ?? {};
    const wanted = desired.metadata?.[field] ?? {};
    const change: Record<string, string | null> = {};
    for (const [key, value] of Object.entries(wanted)) {
      if (current[key] !== value) change[key] = value;
    }
    for (const key of previous[field]) {
      if (!(key in wanted) && key in current) change[key] = null;
    }
    if (Object.keys(change).length > 0) metadata[field] = change;
  }
  const spec: Record<string, unknown> = {};
  for (const field of ["containers", "initContainers"] as const) {
    const images = (desired.spec?.[field] ?? []).filter((container) => {
      const running = lower.spec?.[field]?.find((c) => c.name === container.name);
      return running !== undefined && running.image !== container.image;
    }).map((container) => ({ name: container.name, image: container.image }));
    if (images.length > 0) spec[field] = images;
  }
  const deadline = desired.spec?.activeDeadlineSeconds;
  if (deadline !== undefined && deadline !== lower.spec?.activeDeadlineSeconds) {
    spec.activeDeadlineSeconds = deadline;
  }
  const tolerations = desired.spec?.tolerations ?? [];
  const running = (lower.spec?.tolerations ?? []).map((t) => canonicalJson(t));
  const wantedTolerations = tolerations.map((t) => canonicalJson(t));
  if (
    wantedTolerations.some((t) => !running.includes(t)) &&
    running.every((t) => wantedTolerations.includes(t))
  ) {
    spec.tolerations = tolerations;
  }
  if (Object.keys(metadata).length === 0 && Object.keys(spec).length === 0) return undefined;
  return {
    ...(Object.keys(metadata).length === 0 ? {} : { metadata }),
    ...(Object.keys(spec).length === 0 ? {} : { spec }),
  };
}

/** The upper label and annotation keys the lower pod was made or last updated with. */
function previousUpperKeys(lower: Pod): { labels: string[]; annotations: string[] } {
  try {
    const record = JSON.parse(lower.metadata?.annotations?.[UPPER_POD_ANNOTATION] ?? "{}") as {
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
    };
    return {
      labels: Object.keys(record.labels ?? {}),
      annotations: Object.keys(record.annotations ?? {}),
    };
  } catch {
    return { labels: [], annotations: [] };
  }
}
