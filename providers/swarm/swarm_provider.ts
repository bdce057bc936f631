/**
 * The swarm provider: each pod container is one Swarm service (replicated, one replica)
 * on the pod network, labelled with cluster, node, namespace, pod, UID and container; the
 * provider keeps no local state, so after a restart it adopts its services by the node
 * label and rebuilds each pod from what the services remember. Status comes from the
 * services' tasks, kept current by the Engine's event stream; `kubectl logs` reads the
 * task's log and `kubectl exec` runs in the task's container.
 *
 * This class is the contract over files named after their jobs: `service_tracker.ts`
 * (services, tasks and nodes, the event stream), `pod_services.ts` (create, update,
 * remove), `pod_network.ts`, `node_status.ts` (ping, the Node and its refresh) over
 * `node_description.ts`, `pod_warnings.ts` (Warning events), `task_logs.ts`,
 * `task_exec.ts`, the mapping (`pod_to_service.ts`, `stored_spec.ts`, `task_to_pod.ts`)
 * and `client.ts`.
 *
 * @module
 */

import type { Node, Pod, PodStatus } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import {
  AlreadyExistsError,
  type ContainerLogOptions,
  type ContainerLogs,
  type ContainerRef,
  type ExecInContainer,
  type ExecOptions,
  InvalidInputError,
  type NodeStatusNotifier,
  NotFoundError,
  type PodNotifier,
  type Provider,
  type ProviderRuntimeOptions,
} from "../../lib/provider.ts";
import { abortableSleep, errorMessage, PodStatusReporter } from "../../lib/provider_kit/mod.ts";
import type { EngineClient } from "./client.ts";
import { podNetworkName, type SwarmConfig } from "./config.ts";
import { toProviderError } from "./errors.ts";
import { type Owner, ownerLabels, podKeyOf } from "./identity.ts";
import { SwarmNodeStatus } from "./node_status.ts";
import { PodNetwork } from "./pod_network.ts";
import { removePodServices, syncPodServices } from "./pod_services.ts";
import { validatePod } from "./pod_to_service.ts";
import { PodWarnings } from "./pod_warnings.ts";
import { ServiceTracker, type TrackedPod } from "./service_tracker.ts";
import { execInContainer, taskExecIn } from "./task_exec.ts";
import { taskLogStream } from "./task_logs.ts";
import { podStatusOf, taskRan, taskSettled } from "./task_to_pod.ts";

const logger = getLogger(["vkedge", "provider", "swarm"]);

/** Options of the provider besides its configuration. */
export type SwarmProviderOptions = ProviderRuntimeOptions;

/**
 * Provider running each pod container as a Swarm service. Implements the required
 * interfaces, pod notifications from the event stream, node status notifications,
 * container logs and exec.
 */
export class SwarmProvider
  implements Provider, PodNotifier, NodeStatusNotifier, ContainerLogs, ExecInContainer {
  /** Provider name. */
  readonly name = "swarm";
  readonly #config: SwarmConfig;
  readonly #client: EngineClient;
  readonly #options: SwarmProviderOptions;
  readonly #now: () => number;
  readonly #stopped: AbortSignal;
  readonly #owner: Owner;
  readonly #network: PodNetwork;
  readonly #tracker: ServiceTracker;
  readonly #nodeStatus: SwarmNodeStatus;
  readonly #reporter = new PodStatusReporter();
  readonly #warnings: PodWarnings;
  #started = false;

  /** Creates the provider; nothing is sent to the Engine until the first call. */
  constructor(config: SwarmConfig, client: EngineClient, options: SwarmProviderOptions) {
    this.#config = config;
    this.#client = client;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#stopped = options.signal ?? new AbortController().signal;
    this.#owner = { clusterName: config.clusterName, nodeName: options.nodeName };
    this.#warnings = new PodWarnings(options.recordEvent);
    this.#network = new PodNetwork({
      client,
      name: podNetworkName(config),
      create: config.network.create,
      clusterName: config.clusterName,
    });
    this.#tracker = new ServiceTracker({
      client,
      owner: this.#owner,
      report: (pod) => this.#report(pod),
      forgotten: (key) => this.#reporter.forget(key),
      podNetworkId: () => this.#network.knownId,
      resyncMs: config.resyncSeconds * 1000,
      now: this.#now,
    });
    this.#nodeStatus = new SwarmNodeStatus({
      config,
      client,
      tracker: this.#tracker,
      owner: this.#owner,
      runtime: options,
      now: this.#now,
      stopped: this.#stopped,
      ensureStarted: () => this.#ensureStarted(),
    });
    this.#stopped.addEventListener("abort", () => client.close(), { once: true });
  }

  // -- NodeProvider (node_status.ts) ----------------------------------------

  /**
   * Checks that the Engine answers and is a Swarm manager; throws `UnavailableError`
   * naming the endpoint and what was wrong otherwise.
   */
  ping(signal: AbortSignal): Promise<void> {
    return this.#nodeStatus.ping(signal);
  }

  /** Completes `node` with capacity, allocatable, the Swarm condition and nodeInfo. */
  configureNode(node: Node, signal: AbortSignal): Promise<Node> {
    return this.#nodeStatus.configureNode(node, signal);
  }

  /** Registers a node status callback, called when capacity or the Swarm condition change. */
  notifyNodeStatus(signal: AbortSignal, callback: (node: Node) => void): void {
    this.#nodeStatus.notifyNodeStatus(signal, callback);
  }

  // -- Pods -----------------------------------------------------------------

  /** Creates a service for each container of `pod`; adopts what an interrupted create left. */
  async createPod(pod: Pod, signal: AbortSignal): Promise<void> {
    const valid = validatePod(pod);
    const key = podKeyOf({ namespace: valid.namespace, pod: valid.name });
    await this.#ready(signal);
    const tracked = this.#tracker.tracked(key);
    const uid = tracked?.services.values().next().value?.Spec.Labels[ownerLabels.podUid];
    if (tracked !== undefined && uid !== valid.uid) {
      throw new AlreadyExistsError(
        `pod ${key}: expected no Swarm services for this name, found those of pod uid ${uid}`,
      );
    }
    await this.#sync(pod, tracked, signal);
  }

  /** Applies a changed spec: services updated, created or removed to match it. */
  async updatePod(pod: Pod, signal: AbortSignal): Promise<void> {
    const valid = validatePod(pod);
    const key = podKeyOf({ namespace: valid.namespace, pod: valid.name });
    await this.#ready(signal);
    const tracked = this.#tracker.tracked(key);
    if (tracked === undefined) {
      throw new NotFoundError(`pod ${key}: expected Swarm services of this node, found none`);
    }
    await this.#sync(pod, tracked, signal);
  }

  async #sync(pod: Pod, tracked: TrackedPod | undefined, signal: AbortSignal): Promise<void> {
    const hostNetwork = pod.spec?.hostNetwork === true;
    const networkId = hostNetwork ? "host" : await this.#network.id(signal);
    this.#tracker.setPod(pod);
    const options = {
      client: this.#client,
      context: {
        owner: this.#owner,
        podNetwork: networkId,
        restartDelaySeconds: this.#config.restartDelaySeconds,
        constraints: this.#config.placementConstraints,
      },
      tracked,
      put: (service: Parameters<ServiceTracker["putService"]>[0]) =>
        this.#tracker.putService(service),
      removed: (id: string) => this.#tracker.removeService(id),
    };
    try {
      const result = await syncPodServices(options, pod, signal);
      if (result.created.length + result.updated.length + result.removed.length > 0) {
        logger.info("pod {pod}: services created {created}, updated {updated}, removed {removed}", {
          pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`,
          created: result.created.join(",") || "-",
          updated: result.updated.join(",") || "-",
          removed: result.removed.join(",") || "-",
        });
      }
    } catch (error) {
      if (!hostNetwork && /network .*not found/i.test(errorMessage(error))) this.#network.forget();
      throw error;
    }
    const current = this.#tracker.pod(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
    if (current !== undefined) this.#report(current.pod);
  }

  /** Removes the pod's services; reports the terminal status. */
  async deletePod(pod: Pod, signal: AbortSignal): Promise<void> {
    const key = podKeyOf({
      namespace: pod.metadata?.namespace ?? "",
      pod: pod.metadata?.name ?? "",
    });
    await this.#ready(signal);
    const tracked = this.#tracker.tracked(key);
    if (tracked === undefined) {
      throw new NotFoundError(`pod ${key}: expected Swarm services of this node, found none`);
    }
    const last = this.#tracker.pod(key);
    await removePodServices(this.#client, tracked, (id) => this.#tracker.removeService(id), signal);
    this.#tracker.forgetPod(key);
    logger.info("pod {pod}: Swarm services removed", { pod: key });
    const basis = last?.pod ?? tracked.pod;
    const status = podStatusOf({
      pod: basis,
      containers: (basis.spec?.containers ?? []).map((container) => ({
        name: container.name,
        image: container.image ?? "",
        tasks: [],
        ran: new Set<string>(),
      })),
      nodes: new Map(),
      createdAt: basis.status?.startTime ?? new Date(this.#now()).toISOString(),
      deletedAt: this.#now(),
    });
    const hostIP = basis.status?.hostIP;
    const podIP = basis.status?.podIP;
    this.#report({
      ...basis,
      status: {
        ...status,
        ...(hostIP ? { hostIP, hostIPs: [{ ip: hostIP }] } : {}),
        ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
      },
    });
    this.#warnings.forget(basis.metadata?.uid ?? "");
  }

  /** The pod as the Swarm runs it, status included, or undefined. */
  async getPod(namespace: string, name: string, signal: AbortSignal): Promise<Pod | undefined> {
    await this.#ready(signal);
    return this.#tracker.pod(podKeyOf({ namespace, pod: name }))?.pod;
  }

  /** The pod's status, or undefined. */
  async getPodStatus(
    namespace: string,
    name: string,
    signal: AbortSignal,
  ): Promise<PodStatus | undefined> {
    return (await this.getPod(namespace, name, signal))?.status;
  }

  /** Every pod of this node: services, tasks and nodes listed afresh (three calls). */
  async getPods(signal: AbortSignal): Promise<Pod[]> {
    this.#ensureStarted();
    try {
      await this.#tracker.refreshAll(signal);
    } catch (error) {
      throw toProviderError(error, `listing the Swarm services of node ${this.#options.nodeName}`);
    }
    return this.#tracker.pods().map(({ pod }) => pod);
  }

  /** Registers a pod status callback; changes come from the Engine's event stream. */
  notifyPods(signal: AbortSignal, callback: (pod: Pod) => void): void {
    this.#reporter.subscribe(signal, callback);
    this.#ensureStarted();
  }

  // -- Kubelet API ------------------------------------------------------------

  /** The log of the container's current task (`previous`: the task before it). */
  async getContainerLogs(
    ref: ContainerRef,
    options: ContainerLogOptions,
    signal: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>> {
    const { tracked, serviceId, container } = await this.#container(ref, signal);
    const tasks = this.#tracker.tasksOf(serviceId);
    const current = tasks[0];
    const task = options.previous ? tasks.slice(1).find(taskRan) : current;
    if (task === undefined) {
      if (options.previous) {
        throw new InvalidInputError(
          `container ${container} of pod ${tracked.key}: expected a previous instance, found none (it has not restarted)`,
        );
      }
      throw new InvalidInputError(
        `container ${container} of pod ${tracked.key}: expected a Swarm task, found none yet`,
      );
    }
    const tty = tracked.pod.spec?.containers.find((c) => c.name === container)?.tty === true;
    try {
      return await taskLogStream(this.#client, task.ID, {
        options,
        tty,
        now: this.#now,
        ended: (stop) => this.#taskEnded(serviceId, task.ID, stop),
      }, signal);
    } catch (error) {
      throw toProviderError(
        error,
        `reading the log of container ${container} of pod ${tracked.key}`,
      );
    }
  }

  /** Runs a command in the container of the running task (on this Engine's Swarm node). */
  async runInContainer(
    ref: ContainerRef,
    options: ExecOptions,
    signal: AbortSignal,
  ): Promise<number> {
    const { tracked, serviceId, container } = await this.#container(ref, signal);
    const task = this.#tracker.tasksOf(serviceId)[0];
    const info = await this.#nodeStatus.engineInfo(signal);
    const containerId = taskExecIn(task, {
      what: `container ${container} of pod ${tracked.key}`,
      engineNodeId: info?.Swarm.NodeID,
      endpoint: this.#client.endpoint,
      nodeName: (id) =>
        this.#tracker.nodes().find((node) => node.ID === id)?.Description?.Hostname ?? id,
    });
    try {
      return await execInContainer(this.#client, containerId, options, signal);
    } catch (error) {
      if (signal.aborted) throw error;
      throw toProviderError(error, `exec in container ${container} of pod ${tracked.key}`);
    }
  }

  // -- Internals --------------------------------------------------------------

  #ensureStarted(): void {
    if (this.#started) return;
    this.#started = true;
    this.#tracker.start(this.#stopped);
  }

  async #ready(signal: AbortSignal): Promise<void> {
    this.#ensureStarted();
    try {
      await this.#tracker.synced(signal);
    } catch (error) {
      throw toProviderError(error, `listing the Swarm services of node ${this.#options.nodeName}`);
    }
  }

  async #container(
    ref: ContainerRef,
    signal: AbortSignal,
  ): Promise<{ tracked: TrackedPod; serviceId: string; container: string }> {
    await this.#ready(signal);
    const key = podKeyOf({ namespace: ref.namespace, pod: ref.pod });
    const tracked = this.#tracker.tracked(key);
    if (tracked === undefined) {
      throw new NotFoundError(`pod ${key}: expected Swarm services of this node, found none`);
    }
    const service = tracked.services.get(ref.container);
    if (service === undefined) {
      throw new NotFoundError(
        `pod ${key}: expected a container named ${ref.container}, found ${
          [...tracked.services.keys()].join(", ")
        }`,
      );
    }
    return { tracked, serviceId: service.ID, container: ref.container };
  }

  /** Resolves once task `taskId` of service `serviceId` is no longer running (or gone). */
  async #taskEnded(serviceId: string, taskId: string, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const task = this.#tracker.tasksOf(serviceId).find((t) => t.ID === taskId);
      if (task === undefined || (taskSettled(task) && task.Status.State !== "running")) return;
      await abortableSleep(250, signal);
    }
  }

  #report(pod: Pod): void {
    this.#reporter.report(pod);
    this.#warnings.warn(pod);
  }
}
