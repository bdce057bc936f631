/**
 * The zstack provider: one ZStack VM per pod. Pods become VMs with a uuid derived from
 * the pod UID and user tags naming cluster, node, namespace, pod and UID; the provider
 * keeps no local state, so after a restart it adopts its VMs by the node tag (never by
 * name) and rebuilds each pod from the tags and the spec remembered in the VM description.
 * Status comes from polling this node's VMs with one query per interval; only changes are
 * reported. `kubectl logs` shows the VM lifecycle as vkedge observed it.
 *
 * @module
 */

import type { Node, Pod, PodStatus } from "kubernetes-types/core/v1.d.ts";
import type { z } from "zod";
import { getLogger } from "@logtape/logtape";
import {
  AlreadyExistsError,
  type ContainerLogOptions,
  type ContainerLogs,
  type ContainerRef,
  InvalidInputError,
  NotFoundError,
  type PodNotifier,
  type Provider,
  ProviderError,
  type ProviderRuntimeOptions,
  UnavailableError,
} from "../../lib/provider.ts";
import {
  type CpuMemoryCapacity,
  cpuMemoryCapacitySchema,
  emptyReplySchema,
  type Host,
  hostSchema,
  type Image,
  imageSchema,
  type InstanceOffering,
  instanceOfferingSchema,
  inventoryReplySchema,
  type L3Network,
  l3NetworkSchema,
  queryReplySchema,
  type UserTag,
  userTagSchema,
  type VmInstance,
  vmInstanceSchema,
  type ZoneOrCluster,
  zoneOrClusterSchema,
} from "./api_types.ts";
import {
  delay,
  toProviderError,
  ZStackApiError,
  type ZStackClient,
  ZStackHttpError,
} from "./client.ts";
import type { ZStackConfig } from "./config.ts";
import {
  annotationList,
  base64Utf8,
  buildUserData,
  decodePodSpec,
  encodePodSpec,
  identityFromTags,
  instanceOfferingAnnotation,
  l3NetworksAnnotation,
  logLine,
  nodeTag,
  ownerTags,
  podFromVm,
  type PodIdentity,
  podKeyOf,
  podStatusFromVm,
  type StoredPodSpec,
  validatePod,
  vmNameForPod,
  vmSizeOf,
  vmStateText,
  vmUuidForPod,
} from "./mapping.ts";
import { buildQueryString, eq, isIn, listParameters, type QueryCondition } from "./query.ts";
import { errorMessage } from "../../lib/errors.ts";

const logger = getLogger(["vkedge", "provider", "zstack"]);

/** How long a name → uuid resolution is reused. */
const resolutionTtlMs = 60_000;
/** How long a VM that vanished without vkedge deleting it is still reported (as Failed). */
const tombstoneMs = 10 * 60_000;
/** How old the VM list may be when `getPod` or `getPods` answers from it. */
const freshnessMs = 1_000;
/** Page size of the VM and tag queries. */
const pageSize = 500;
/** Uuids per `?=` condition, to keep URLs short. */
const uuidsPerQuery = 100;

/** Options of the provider besides its configuration. */
export type ZStackProviderOptions = ProviderRuntimeOptions;

interface LogEntry {
  seq: number;
  time: Date;
  text: string;
}

interface TrackedVm {
  vm: VmInstance;
  identity: PodIdentity;
  stored?: StoredPodSpec;
  pod: Pod;
  stateSince: Date;
  runningSince?: Date;
  deleted?: { at: Date; byUs: boolean; kept?: boolean };
  /** Set while `deletePod` destroys or releases the VM: polls leave it alone meanwhile. */
  deleting?: boolean;
  addedAt: number;
  log: LogEntry[];
  logSeq: number;
  logWaiters: Set<() => void>;
  reported?: string;
}

interface Placement {
  zone: ZoneOrCluster;
  cluster?: ZoneOrCluster;
  host?: Host;
}

type Collection<S extends z.ZodType> = {
  path: string;
  schema: S;
  kind: string;
};

const zones = { path: "/v1/zones", schema: zoneOrClusterSchema, kind: "zone" };
const clusters = { path: "/v1/clusters", schema: zoneOrClusterSchema, kind: "cluster" };
const hosts = { path: "/v1/hosts", schema: hostSchema, kind: "host" };
const images = { path: "/v1/images", schema: imageSchema, kind: "image" };
const offerings = {
  path: "/v1/instance-offerings",
  schema: instanceOfferingSchema,
  kind: "instance offering",
};
const l3Networks = { path: "/v1/l3-networks", schema: l3NetworkSchema, kind: "L3 network" };
const vmInstances = { path: "/v1/vm-instances", schema: vmInstanceSchema, kind: "VM" };
const userTags = { path: "/v1/user-tags", schema: userTagSchema, kind: "user tag" };

function clone<T>(value: T): T {
  return structuredClone(value);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner) => {
    if (inner && typeof inner === "object" && !Array.isArray(inner)) {
      return Object.fromEntries(
        Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
      );
    }
    return inner;
  });
}

function isUuid(text: string): boolean {
  return /^[0-9a-f]{32}$/.test(text);
}

function architectureOf(arch: string | undefined): string {
  switch (arch) {
    case "x86_64":
      return "amd64";
    case "aarch64":
      return "arm64";
    case undefined:
      return "amd64";
    default:
      return arch;
  }
}

function gibibytes(bytes: number): string {
  return `${Math.round((bytes / 2 ** 30) * 10) / 10} GiB`;
}

/** States in which a VM holds host capacity (it has a host). */
function holdsCapacity(vm: VmInstance): boolean {
  return vm.hostUuid !== undefined && !["Stopped", "Destroyed", "Created"].includes(vm.state);
}

/**
 * Provider running each pod as a ZStack VM. Implements the required interfaces, pod
 * notifications by polling, and container logs (the VM lifecycle).
 */
export class ZStackProvider implements Provider, PodNotifier, ContainerLogs {
  /** Provider name. */
  readonly name = "zstack";
  readonly #config: ZStackConfig;
  readonly #client: ZStackClient;
  readonly #options: ZStackProviderOptions;
  readonly #now: () => number;
  readonly #stopped: AbortSignal;
  readonly #nodeTag: string;
  readonly #byUuid = new Map<string, TrackedVm>();
  readonly #byKey = new Map<string, string>();
  readonly #podCallbacks = new Set<(pod: Pod) => void>();
  readonly #nodeCallbacks = new Set<(node: Node) => void>();
  readonly #resolved = new Map<string, { at: number; value: unknown }>();
  readonly #hosts = new Map<string, Host>();
  /** Log lines of VMs being created, before their inventory is known. */
  readonly #pendingLog = new Map<string, Array<{ time: Date; text: string }>>();
  /** VMs this process deleted or released: never adopted again from an older poll. */
  readonly #released = new Set<string>();
  readonly #bootId = crypto.randomUUID();
  #refreshing: Promise<void> | undefined;
  #refreshedAt = Number.NEGATIVE_INFINITY;
  #placement: Promise<Placement> | undefined;
  #capacity: CpuMemoryCapacity | undefined;
  #node: Node | undefined;
  #pollLoop = false;
  #capacityLoop = false;
  #userTagsUnsupported = false;
  #lastPollError = "";

  /** Creates the provider; nothing is sent to ZStack until the first call. */
  constructor(config: ZStackConfig, client: ZStackClient, options: ZStackProviderOptions) {
    this.#config = config;
    this.#client = client;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#stopped = options.signal ?? new AbortController().signal;
    this.#nodeTag = nodeTag(config.clusterName, options.nodeName);
    this.#stopped.addEventListener("abort", () => {
      for (const tracked of this.#byUuid.values()) this.#wakeLogReaders(tracked);
      void this.#client.close(AbortSignal.timeout(2_000));
    }, { once: true });
  }

  // -- NodeProvider ---------------------------------------------------------

  /**
   * Checks that the management node answers an authenticated query (re-logging in when
   * the session expired); throws `UnavailableError` naming the endpoint otherwise.
   */
  async ping(signal: AbortSignal): Promise<void> {
    try {
      await this.#client.get(
        zones.path,
        buildQueryString({ limit: 1 }),
        queryReplySchema(zoneOrClusterSchema),
        signal,
      );
    } catch (error) {
      if (signal.aborted) throw error;
      throw new UnavailableError(
        `ZStack management node at ${this.#client.endpoint}: expected an authenticated answer, found ${
          errorMessage(error)
        }`,
        { cause: error },
      );
    }
  }

  /** Registers a node status callback, called when capacity or allocatable change. */
  notifyNodeStatus(signal: AbortSignal, callback: (node: Node) => void): void {
    if (signal.aborted) return;
    this.#nodeCallbacks.add(callback);
    signal.addEventListener("abort", () => this.#nodeCallbacks.delete(callback), { once: true });
    if (!this.#capacityLoop) {
      this.#capacityLoop = true;
      void this.#runCapacityLoop();
    }
  }

  /**
   * Returns the node with capacity and allocatable from the hosts of the configured
   * placement (allocatable: what ZStack has free plus what this node's VMs use), addresses,
   * nodeInfo and labels. When ZStack cannot be reached the node starts with zero CPU and
   * memory and gets its capacity on the next refresh.
   */
  async configureNode(node: Node, signal: AbortSignal): Promise<Node> {
    try {
      await this.#refresh(signal); // this node's VMs count towards allocatable
      await this.#refreshCapacity(signal);
    } catch (error) {
      if (signal.aborted) throw error;
      logger.warn("cannot read ZStack capacity yet: {error}; the node starts with none", {
        error: errorMessage(error),
      });
    }
    const { nodeName, internalIp, daemonPort, operatingSystem } = this.#options;
    const placement = await this.#placement?.catch(() => undefined);
    const firstHost = [...this.#hosts.values()][0];
    const configured: Node = {
      ...node,
      metadata: {
        ...node.metadata,
        labels: {
          ...node.metadata?.labels,
          "node.kubernetes.io/exclude-from-external-load-balancers": "true",
          ...(placement ? { "zstack.vkedge.io/zone-uuid": placement.zone.uuid } : {}),
          ...(placement?.cluster
            ? { "zstack.vkedge.io/cluster-uuid": placement.cluster.uuid }
            : {}),
          ...(placement?.host ? { "zstack.vkedge.io/host-uuid": placement.host.uuid } : {}),
          ...this.#config.labels,
        },
      },
      spec: {
        ...node.spec,
        ...(this.#config.providerID === undefined ? {} : { providerID: this.#config.providerID }),
      },
      status: {
        ...node.status,
        ...this.#resources(),
        addresses: [
          { type: "InternalIP", address: internalIp },
          { type: "Hostname", address: nodeName },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: daemonPort } },
        nodeInfo: {
          machineID: this.#nodeTag.replace(/[^a-z0-9]/gi, "").slice(-32),
          systemUUID: "",
          bootID: this.#bootId,
          kernelVersion: "",
          osImage: `ZStack at ${this.#client.endpoint}`,
          containerRuntimeVersion: "zstack://1",
          kubeletVersion: node.status?.nodeInfo?.kubeletVersion ?? "",
          kubeProxyVersion: "",
          operatingSystem,
          architecture: architectureOf(firstHost?.architecture),
        },
      },
    };
    this.#node = configured;
    return clone(configured);
  }

  // -- PodLifecycleHandler --------------------------------------------------

  /**
   * Creates and starts the pod's VM and waits for ZStack to finish the job. A VM that
   * already exists for this pod UID (an earlier attempt) is adopted instead.
   */
  async createPod(pod: Pod, signal: AbortSignal): Promise<void> {
    const { identity, container, image: imageRef } = validatePod(pod, this.#config.images.aliases);
    const key = podKeyOf(identity);
    const other = this.#tracked(identity.namespace, identity.name);
    if (other !== undefined && other.identity.uid !== identity.uid && other.deleted === undefined) {
      throw new AlreadyExistsError(
        `zstack provider: pod ${key} already runs as VM ${other.vm.uuid} for uid "${other.identity.uid}": expected it gone before creating uid "${identity.uid}"`,
      );
    }
    const uuid = await vmUuidForPod(identity.uid);
    const { description } = await encodePodSpec(pod, identity);
    const stored = await decodePodSpec(description);
    const existing = await this.#getVm(uuid, signal);
    if (existing !== undefined) {
      logger.info("pod {pod}: VM {uuid} already exists (an earlier create); adopting it", {
        pod: key,
        uuid,
      });
      this.#adopt(existing, identity, await decodePodSpec(existing.description), pod);
      return;
    }

    const what = `creating VM for pod ${key}`;
    const placement = await this.#resolvePlacement(signal);
    const image = await this.#resolveImage(imageRef, key, signal);
    const networkRefs = annotationList(pod, l3NetworksAnnotation) ?? this.#config.networks.default;
    const networks: L3Network[] = [];
    for (const ref of networkRefs) networks.push(await this.#resolveL3(ref, key, signal));
    const offeringRef = pod.metadata?.annotations?.[instanceOfferingAnnotation];
    const size = vmSizeOf(container, this.#config.defaults);
    const useOffering = offeringRef ??
      (size.explicit ? undefined : this.#config.defaults.instanceOffering);
    const offering = useOffering === undefined
      ? undefined
      : await this.#resolveOffering(useOffering, key, signal);
    let userData: string;
    try {
      userData = buildUserData({ pod, container });
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      throw new InvalidInputError(`${what}: ${errorMessage(error)}`, { cause: error });
    }

    const params: Record<string, unknown> = {
      name: vmNameForPod(identity),
      description,
      imageUuid: image.uuid,
      l3NetworkUuids: networks.map((network) => network.uuid),
      defaultL3NetworkUuid: networks[0].uuid,
      resourceUuid: uuid,
      strategy: "InstantStart",
      ...(placement.host
        ? { hostUuid: placement.host.uuid }
        : placement.cluster
        ? { clusterUuid: placement.cluster.uuid }
        : { zoneUuid: placement.zone.uuid }),
      ...(offering
        ? { instanceOfferingUuid: offering.uuid }
        : { cpuNum: size.cpuNum, memorySize: size.memorySize }),
    };
    const requested = new Date(this.#now());
    const sizeText = offering
      ? `instance offering ${offering.name} (${offering.cpuNum ?? "?"} vCPU, ${
        offering.memorySize === undefined ? "?" : gibibytes(offering.memorySize)
      })`
      : `${size.cpuNum} vCPU, ${gibibytes(size.memorySize)}`;
    this.#pendingLog.set(uuid, [{
      time: requested,
      text: `create requested: image ${image.name} (${image.uuid}), ${sizeText}, L3 ${
        networks.map((network) => network.name || network.uuid).join(", ")
      }`,
    }]);
    logger.info("pod {pod}: creating VM {uuid} from image {image}", {
      pod: key,
      uuid,
      image: image.name,
    });
    let created: VmInstance;
    try {
      this.#released.delete(uuid);
      const reply = await this.#client.call(
        "POST",
        vmInstances.path,
        {
          params,
          systemTags: [`userdata::${base64Utf8(userData)}`],
          userTags: ownerTags(identity, this.#config.clusterName, this.#options.nodeName),
        },
        inventoryReplySchema(vmInstanceSchema),
        { signal },
      );
      created = reply.inventory;
    } catch (error) {
      if (error instanceof ZStackApiError) {
        // A VM may exist anyway, from an earlier attempt with the same uuid.
        const found = await this.#getVm(uuid, signal).catch(() => undefined);
        if (found !== undefined && !["Error", "Destroyed", "Expunging"].includes(found.state)) {
          this.#adopt(found, identity, await decodePodSpec(found.description), pod);
          return;
        }
      }
      this.#pendingLog.delete(uuid);
      throw toProviderError(error, `zstack provider: ${what}`, { notFound: "invalid-input" });
    }
    const now = new Date(this.#now());
    const polled = this.#byUuid.get(created.uuid);
    if (polled !== undefined) {
      // The poll saw the VM while the job ran; keep what it logged.
      polled.stored = stored;
      polled.pod = this.#podOf(polled, pod);
      this.#observe(polled, created, now);
      return;
    }
    const tracked = this.#track(created, identity, stored, pod, now);
    this.#report(tracked);
  }

  /**
   * Records a changed pod (labels, annotations, env) in the VM description. A changed
   * image would need a new VM and is refused with `InvalidInputError`.
   */
  async updatePod(pod: Pod, signal: AbortSignal): Promise<void> {
    const { identity, container } = validatePod(pod, this.#config.images.aliases);
    const key = podKeyOf(identity);
    const tracked = await this.#find(identity.namespace, identity.name, identity.uid, signal);
    const previous = tracked.stored?.containers[0]?.image;
    if (previous !== undefined && previous !== container.image) {
      throw new InvalidInputError(
        `zstack provider: pod ${key}: expected image "${previous}" (the VM's), found "${container.image}": a new image needs a new VM, so delete and recreate the pod`,
      );
    }
    const { description, partial } = await encodePodSpec(pod, identity);
    if (description !== tracked.vm.description) {
      try {
        const reply = await this.#client.call(
          "PUT",
          `${vmInstances.path}/${tracked.vm.uuid}/actions`,
          { updateVmInstance: { description } },
          inventoryReplySchema(vmInstanceSchema),
          { signal },
        );
        tracked.vm = reply.inventory;
      } catch (error) {
        throw toProviderError(error, `zstack provider: updating VM of pod ${key}`);
      }
    }
    if (partial) {
      logger.debug("pod {pod} is too large for a VM description; only part is remembered", {
        pod: key,
      });
    }
    tracked.stored = await decodePodSpec(description);
    tracked.pod = this.#podOf(tracked, pod);
    this.#report(tracked);
  }

  /**
   * Lets the pod's VM go as `onPodDelete` says (destroy and expunge by default), reports
   * the terminal status and forgets the pod. Throws `NotFoundError` when no VM serves it.
   */
  async deletePod(pod: Pod, signal: AbortSignal): Promise<void> {
    const namespace = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    const key = `${namespace}/${name}`;
    const tracked = await this.#find(namespace, name, pod.metadata?.uid, signal);
    const uuid = tracked.vm.uuid;
    const policy = this.#config.onPodDelete;
    tracked.deleting = true;
    try {
      if (policy === "keep") {
        await this.#release(tracked, signal);
      } else {
        if (!["Destroyed", "Expunging"].includes(tracked.vm.state)) {
          this.#appendLog(tracked, new Date(this.#now()), "destroy requested (pod deleted)");
          await this.#client.call(
            "DELETE",
            `${vmInstances.path}/${uuid}`,
            undefined,
            emptyReplySchema,
            {
              query: "deleteMode=Permissive",
              signal,
            },
          );
        }
        if (policy === "destroy-and-expunge") {
          this.#appendLog(tracked, new Date(this.#now()), "expunge requested");
          await this.#client.call(
            "PUT",
            `${vmInstances.path}/${uuid}/actions`,
            { expungeVmInstance: {} },
            emptyReplySchema,
            { signal },
          ).catch((error) => {
            // Already gone (Direct deletion policy, or expunged by someone else).
            if (error instanceof ZStackApiError && error.code === "SYS.1003") return;
            throw error;
          });
        }
      }
    } catch (error) {
      throw toProviderError(error, `zstack provider: deleting VM ${uuid} of pod ${key}`);
    } finally {
      tracked.deleting = undefined;
    }
    const at = new Date(this.#now());
    tracked.deleted = { at, byUs: true, ...(policy === "keep" ? { kept: true } : {}) };
    if (policy !== "keep") tracked.vm = { ...tracked.vm, state: "Destroyed" };
    this.#appendLog(
      tracked,
      at,
      policy === "keep"
        ? `VM ${tracked.vm.name} (${uuid}) left running and released (onPodDelete: keep)`
        : `VM ${tracked.vm.name} (${uuid}) ${
          policy === "destroy" ? "destroyed" : "destroyed and expunged"
        }`,
    );
    logger.info("pod {pod}: VM {uuid} {what}", {
      pod: key,
      uuid,
      what: policy === "keep" ? "released" : "destroyed",
    });
    this.#report(tracked);
    this.#released.add(uuid);
    this.#forgetVm(tracked);
  }

  /** Returns the pod a tagged VM serves, with status, or `undefined`. */
  async getPod(namespace: string, name: string, signal: AbortSignal): Promise<Pod | undefined> {
    await this.#ensureFresh(signal);
    const tracked = this.#tracked(namespace, name);
    return tracked === undefined ? undefined : this.#fullPod(tracked);
  }

  /** Returns the status of the pod's VM, or `undefined`. */
  async getPodStatus(
    namespace: string,
    name: string,
    signal: AbortSignal,
  ): Promise<PodStatus | undefined> {
    return (await this.getPod(namespace, name, signal))?.status;
  }

  /** Returns the pods of every VM tagged for this node (one query), with status. */
  async getPods(signal: AbortSignal): Promise<Pod[]> {
    await this.#ensureFresh(signal);
    return [...this.#byUuid.values()].map((tracked) => this.#fullPod(tracked));
  }

  /**
   * Registers a pod status callback until `signal` aborts and starts polling: one query of
   * this node's VMs every `pollIntervalSeconds`, reporting only pods whose status changed.
   */
  notifyPods(signal: AbortSignal, callback: (pod: Pod) => void): void {
    if (signal.aborted) return;
    this.#podCallbacks.add(callback);
    signal.addEventListener("abort", () => this.#podCallbacks.delete(callback), { once: true });
    if (!this.#pollLoop) {
      this.#pollLoop = true;
      void this.#runPollLoop();
    }
  }

  // -- ContainerLogs --------------------------------------------------------

  /**
   * Streams the VM lifecycle as vkedge observed it (`[vkedge] <time> VM … Running on host
   * h1`): ZStack has no boot-log API. Follows new transitions until `signal` aborts or
   * the pod is deleted.
   */
  async getContainerLogs(
    ref: ContainerRef,
    options: ContainerLogOptions,
    signal: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>> {
    const { namespace, pod: podName, container: containerName } = ref;
    await this.#ensureFresh(signal);
    const key = `${namespace}/${podName}`;
    const tracked = this.#tracked(namespace, podName);
    if (tracked === undefined) {
      throw new NotFoundError(`pod "${key}" not found in the zstack provider`);
    }
    const container = tracked.pod.spec?.containers?.[0]?.name ?? "vm";
    if (containerName !== container) {
      throw new NotFoundError(
        `container "${containerName}" not found in pod "${key}": expected "${container}"`,
      );
    }
    if (options.previous) {
      throw new InvalidInputError(
        `previous terminated container "${containerName}" in pod "${key}" not found: a VM has no earlier instance`,
      );
    }
    return this.#logStream(tracked, options, signal);
  }

  #logStream(
    tracked: TrackedVm,
    options: ContainerLogOptions,
    signal: AbortSignal,
  ): ReadableStream<Uint8Array> {
    const sinceMs = options.sinceTime !== undefined
      ? options.sinceTime.getTime()
      : options.sinceSeconds !== undefined
      ? this.#now() - options.sinceSeconds * 1000
      : undefined;
    let index = 0;
    if (sinceMs !== undefined) {
      while (index < tracked.log.length && tracked.log[index].time.getTime() < sinceMs) index++;
    }
    if (options.tail !== undefined) index = Math.max(index, tracked.log.length - options.tail);
    // Sequence numbers, not positions: old lines may be dropped while following.
    let next = tracked.log[index]?.seq ?? tracked.logSeq;
    let remaining = options.limitBytes ?? Infinity;
    const encoder = new TextEncoder();
    const follow = options.follow === true;
    const cancelled = new AbortController();
    const stop = AbortSignal.any([signal, cancelled.signal, this.#stopped]);
    const waitForMore = (): Promise<void> =>
      new Promise((resolve) => {
        if (stop.aborted) return resolve();
        const wake = (): void => {
          tracked.logWaiters.delete(wake);
          stop.removeEventListener("abort", wake);
          resolve();
        };
        tracked.logWaiters.add(wake);
        stop.addEventListener("abort", wake, { once: true });
      });
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        while (true) {
          if (stop.aborted || remaining <= 0) return controller.close();
          const first = tracked.log[0]?.seq ?? tracked.logSeq;
          const entry = tracked.log[Math.max(0, next - first)];
          if (entry === undefined) {
            if (!follow || tracked.deleted !== undefined) return controller.close();
            await waitForMore();
            continue;
          }
          next = entry.seq + 1;
          const text = logLine(entry.time, entry.text);
          const line = `${
            options.timestamps ? `${entry.time.toISOString().replace("Z", "000000Z")} ` : ""
          }${text}\n`;
          let bytes = encoder.encode(line);
          if (bytes.length > remaining) bytes = bytes.subarray(0, remaining);
          remaining -= bytes.length;
          controller.enqueue(bytes);
          return;
        }
      },
      cancel: () => cancelled.abort(),
    });
  }

  // -- polling and tracking -------------------------------------------------

  async #runPollLoop(): Promise<void> {
    const interval = this.#config.pollIntervalSeconds * 1000;
    while (!this.#stopped.aborted) {
      try {
        await this.#refresh(this.#stopped);
        if (this.#lastPollError !== "") {
          logger.info("ZStack at {endpoint} answers again", { endpoint: this.#client.endpoint });
          this.#lastPollError = "";
        }
      } catch (error) {
        if (this.#stopped.aborted) return;
        const message = errorMessage(error);
        if (message !== this.#lastPollError) {
          logger.warn("polling VMs failed: {error}", { error: message });
          this.#lastPollError = message;
        }
      }
      try {
        await delay(interval, this.#stopped);
      } catch {
        return;
      }
    }
  }

  async #runCapacityLoop(): Promise<void> {
    const interval = this.#config.capacityRefreshSeconds * 1000;
    let last = canonical(this.#resources());
    while (!this.#stopped.aborted) {
      try {
        await delay(interval, this.#stopped);
      } catch {
        return;
      }
      try {
        await this.#refreshCapacity(this.#stopped);
      } catch (error) {
        if (this.#stopped.aborted) return;
        logger.warn("refreshing ZStack capacity failed: {error}", { error: errorMessage(error) });
        continue;
      }
      const resources = this.#resources();
      const now = canonical(resources);
      if (now === last || this.#node === undefined) continue;
      last = now;
      this.#node = { ...this.#node, status: { ...this.#node.status, ...resources } };
      for (const callback of this.#nodeCallbacks) {
        const node = clone(this.#node);
        queueMicrotask(() => callback(node));
      }
    }
  }

  /** Refreshes the VM list unless it is younger than `freshnessMs`. */
  async #ensureFresh(signal: AbortSignal): Promise<void> {
    if (this.#now() - this.#refreshedAt < freshnessMs) return;
    await this.#refresh(signal);
  }

  /** One query of this node's VMs (single flight), then tags of new VMs and hosts. */
  #refresh(signal: AbortSignal): Promise<void> {
    if (this.#refreshing === undefined) {
      const started = this.#now();
      this.#refreshing = this.#doRefresh(started, signal).finally(() => {
        this.#refreshing = undefined;
      });
    }
    return this.#refreshing;
  }

  async #doRefresh(started: number, signal: AbortSignal): Promise<void> {
    let vms: VmInstance[];
    try {
      vms = await this.#queryAll(
        vmInstances,
        [eq("__userTag__", this.#nodeTag), eq("type", "UserVm")],
        signal,
      );
    } catch (error) {
      throw toProviderError(
        error,
        `zstack provider: listing VMs of node ${this.#options.nodeName}`,
      );
    }
    vms = vms.filter((vm) => !this.#released.has(vm.uuid));
    const unknown = vms.filter((vm) => !this.#byUuid.has(vm.uuid));
    const identities = await this.#identities(unknown, signal);
    await this.#learnHosts(vms, signal);
    const now = new Date(this.#now());
    const seen = new Set<string>();
    for (const vm of vms) {
      seen.add(vm.uuid);
      const known = this.#byUuid.get(vm.uuid);
      if (known !== undefined) {
        if (known.deleted?.byUs || known.deleting) continue;
        if (known.vm.description !== vm.description) {
          known.stored = await decodePodSpec(vm.description);
          known.pod = this.#podOf(known);
        }
        this.#observe(known, vm, now);
        continue;
      }
      const identity = identities.get(vm.uuid);
      if (identity === undefined) continue;
      const stored = await decodePodSpec(vm.description);
      const tracked = this.#track(vm, identity, stored, undefined, now, { adopted: true });
      this.#report(tracked);
    }
    for (const tracked of [...this.#byUuid.values()]) {
      if (seen.has(tracked.vm.uuid) || tracked.addedAt >= started || tracked.deleting) continue;
      if (tracked.deleted === undefined) {
        tracked.deleted = { at: now, byUs: false };
        const gone = `VM ${tracked.vm.name} (${tracked.vm.uuid}) no longer exists`;
        this.#appendLog(tracked, now, gone);
        this.#options.recordEvent?.(tracked.pod, "Warning", "VMGone", gone);
        this.#report(tracked);
      } else if (now.getTime() - tracked.deleted.at.getTime() > tombstoneMs) {
        this.#forgetVm(tracked);
      }
    }
    this.#refreshedAt = this.#now();
  }

  /** Identities of VMs from their user tags (one query per 100 VMs). */
  async #identities(vms: VmInstance[], signal: AbortSignal): Promise<Map<string, PodIdentity>> {
    const result = new Map<string, PodIdentity>();
    if (vms.length === 0) return result;
    if (!this.#userTagsUnsupported) {
      const tags: UserTag[] = [];
      try {
        for (let index = 0; index < vms.length; index += uuidsPerQuery) {
          const uuids = vms.slice(index, index + uuidsPerQuery).map((vm) => vm.uuid);
          tags.push(
            ...await this.#queryAll(userTags, [
              isIn("resourceUuid", uuids),
              eq("resourceType", "VmInstanceVO"),
            ], signal),
          );
        }
        const byVm = new Map<string, string[]>();
        for (const tag of tags) {
          const list = byVm.get(tag.resourceUuid) ?? [];
          list.push(tag.tag);
          byVm.set(tag.resourceUuid, list);
        }
        for (const vm of vms) {
          const identity = identityFromTags(byVm.get(vm.uuid) ?? []);
          if (identity !== undefined) result.set(vm.uuid, identity);
          else {
            logger.warn("VM {uuid} carries tag {tag} but no pod identity tags; ignored", {
              uuid: vm.uuid,
              tag: this.#nodeTag,
            });
          }
        }
        return result;
      } catch (error) {
        if (!(error instanceof ZStackHttpError && error.status === 404)) {
          throw toProviderError(error, "zstack provider: reading VM user tags");
        }
        logger.warn(
          "ZStack at {endpoint} has no user tag query; reading identities from VM descriptions",
          {
            endpoint: this.#client.endpoint,
          },
        );
        this.#userTagsUnsupported = true;
      }
    }
    // The node tag already proved ownership; the description names the pod.
    for (const vm of vms) {
      const stored = await decodePodSpec(vm.description);
      if (stored !== undefined) {
        result.set(vm.uuid, { namespace: stored.namespace, name: stored.name, uid: stored.uid });
      }
    }
    return result;
  }

  /** Queries hosts this refresh needs but does not know yet. */
  async #learnHosts(vms: VmInstance[], signal: AbortSignal): Promise<void> {
    const missing = [
      ...new Set(
        vms.map((vm) => vm.hostUuid ?? vm.lastHostUuid).filter((uuid): uuid is string =>
          uuid !== undefined && !this.#hosts.has(uuid)
        ),
      ),
    ];
    if (missing.length === 0) return;
    try {
      const found = await this.#queryAll(
        hosts,
        [isIn("uuid", missing.slice(0, uuidsPerQuery))],
        signal,
      );
      for (const host of found) this.#hosts.set(host.uuid, host);
    } catch (error) {
      logger.debug("cannot read hosts {hosts}: {error}", {
        hosts: missing.join(","),
        error: errorMessage(error),
      });
    }
  }

  #track(
    vm: VmInstance,
    identity: PodIdentity,
    stored: StoredPodSpec | undefined,
    desired: Pod | undefined,
    now: Date,
    options: { adopted?: boolean } = {},
  ): TrackedVm {
    const key = podKeyOf(identity);
    const previous = this.#byUuid.get(vm.uuid);
    if (previous !== undefined) this.#forgetVm(previous);
    const since = options.adopted ? (vm.lastOpDate ?? now) : now;
    const tracked: TrackedVm = {
      vm,
      identity,
      stored,
      pod: { metadata: {} },
      stateSince: since,
      ...(vm.state === "Running" ? { runningSince: since } : {}),
      addedAt: this.#now(),
      log: [],
      logSeq: 0,
      logWaiters: new Set(),
    };
    tracked.pod = this.#podOf(tracked, desired);
    this.#byUuid.set(vm.uuid, tracked);
    this.#byKey.set(key, vm.uuid);
    const host = this.#hostName(vm);
    const pending = this.#pendingLog.get(vm.uuid);
    this.#pendingLog.delete(vm.uuid);
    for (const entry of pending ?? []) this.#appendLog(tracked, entry.time, entry.text);
    this.#appendLog(
      tracked,
      pending === undefined ? since : now,
      options.adopted && pending === undefined
        ? `${vmStateText(vm, host)} (found by vkedge; earlier history is not known)`
        : vmStateText(vm, host),
    );
    return tracked;
  }

  #adopt(vm: VmInstance, identity: PodIdentity, stored: StoredPodSpec | undefined, desired: Pod) {
    const tracked = this.#track(vm, identity, stored, desired, new Date(this.#now()), {
      adopted: true,
    });
    this.#report(tracked);
  }

  #observe(tracked: TrackedVm, vm: VmInstance, now: Date): void {
    const before = tracked.vm;
    tracked.vm = vm;
    if (before.state !== vm.state) {
      tracked.stateSince = now;
      if (vm.state === "Running") tracked.runningSince = now;
    }
    const beforeText = vmStateText(before, this.#hostName(before));
    const afterText = vmStateText(vm, this.#hostName(vm));
    if (beforeText !== afterText) this.#appendLog(tracked, now, afterText);
    if (before.state !== vm.state) {
      const expected = vm.state === "Starting" || vm.state === "Running" ||
        (tracked.deleted?.byUs === true);
      this.#options.recordEvent?.(
        tracked.pod,
        expected ? "Normal" : "Warning",
        `VM${vm.state}`,
        afterText,
      );
    }
    if (tracked.deleted !== undefined && !tracked.deleted.byUs) {
      // It came back (recovered): report it live again.
      tracked.deleted = undefined;
    }
    this.#report(tracked);
  }

  #appendLog(tracked: TrackedVm, time: Date, text: string): void {
    tracked.log.push({ seq: tracked.logSeq++, time, text });
    const excess = tracked.log.length - this.#config.logLines;
    if (excess > 0) tracked.log.splice(0, excess);
    this.#wakeLogReaders(tracked);
  }

  #wakeLogReaders(tracked: TrackedVm): void {
    for (const wake of [...tracked.logWaiters]) wake();
  }

  #forgetVm(tracked: TrackedVm): void {
    this.#byUuid.delete(tracked.vm.uuid);
    const key = podKeyOf(tracked.identity);
    if (this.#byKey.get(key) === tracked.vm.uuid) this.#byKey.delete(key);
    this.#wakeLogReaders(tracked);
  }

  #tracked(namespace: string, name: string): TrackedVm | undefined {
    const uuid = this.#byKey.get(`${namespace}/${name}`);
    return uuid === undefined ? undefined : this.#byUuid.get(uuid);
  }

  async #find(
    namespace: string,
    name: string,
    uid: string | undefined,
    signal: AbortSignal,
  ): Promise<TrackedVm> {
    const key = `${namespace}/${name}`;
    let tracked = this.#tracked(namespace, name);
    if (tracked === undefined) {
      await this.#refresh(signal);
      tracked = this.#tracked(namespace, name);
    }
    if (tracked === undefined) {
      throw new NotFoundError(
        `pod "${key}" not found in the zstack provider: no VM is tagged for it`,
      );
    }
    if (uid && tracked.identity.uid !== uid) {
      throw new NotFoundError(
        `pod "${key}" with uid "${uid}" not found in the zstack provider: VM ${tracked.vm.uuid} serves uid "${tracked.identity.uid}"`,
      );
    }
    return tracked;
  }

  #podOf(tracked: TrackedVm, desired?: Pod): Pod {
    if (desired !== undefined) {
      const { status: _status, ...rest } = clone(desired);
      return {
        apiVersion: "v1",
        kind: "Pod",
        ...rest,
        metadata: {
          namespace: tracked.identity.namespace,
          name: tracked.identity.name,
          uid: tracked.identity.uid,
          ...(rest.metadata?.labels ? { labels: rest.metadata.labels } : {}),
          ...(rest.metadata?.annotations ? { annotations: rest.metadata.annotations } : {}),
        },
      };
    }
    return podFromVm(tracked.vm, tracked.identity, tracked.stored, this.#options.nodeName);
  }

  #hostName(vm: VmInstance): string | undefined {
    const uuid = vm.hostUuid;
    if (uuid === undefined) return undefined;
    const host = this.#hosts.get(uuid);
    return host?.name || host?.managementIp || uuid;
  }

  #statusOf(tracked: TrackedVm): PodStatus {
    const hostUuid = tracked.vm.hostUuid ?? tracked.vm.lastHostUuid;
    const hostIp = hostUuid === undefined ? undefined : this.#hosts.get(hostUuid)?.managementIp;
    return podStatusFromVm(tracked.vm, {
      pod: tracked.pod,
      hostIp,
      stateSince: tracked.stateSince,
      runningSince: tracked.runningSince,
      deleted: tracked.deleted,
    });
  }

  #fullPod(tracked: TrackedVm): Pod {
    return { ...clone(tracked.pod), status: this.#statusOf(tracked) };
  }

  /** Notifies the callbacks if the pod's status differs from the last one reported. */
  #report(tracked: TrackedVm): void {
    const pod = this.#fullPod(tracked);
    const text = canonical(pod.status);
    if (text === tracked.reported) return;
    tracked.reported = text;
    for (const callback of this.#podCallbacks) {
      const copy = clone(pod);
      queueMicrotask(() => {
        try {
          callback(copy);
        } catch (error) {
          logger.error("pod notification callback failed: {error}", { error: errorMessage(error) });
        }
      });
    }
  }

  /** `onPodDelete: keep`: removes the node tag, so this node no longer lists the VM. */
  async #release(tracked: TrackedVm, signal: AbortSignal): Promise<void> {
    const tags = await this.#queryAll(userTags, [
      eq("resourceUuid", tracked.vm.uuid),
      eq("tag", this.#nodeTag),
    ], signal);
    for (const tag of tags) {
      await this.#client.call("DELETE", `/v1/tags/${tag.uuid}`, undefined, emptyReplySchema, {
        signal,
      });
    }
  }

  // -- ZStack reads ---------------------------------------------------------

  async #queryAll<S extends z.ZodType>(
    collection: Collection<S>,
    conditions: QueryCondition[],
    signal: AbortSignal,
  ): Promise<z.output<S>[]> {
    const all: z.output<S>[] = [];
    for (let start = 0;; start += pageSize) {
      const reply = await this.#client.get(
        collection.path,
        buildQueryString({ conditions, limit: pageSize, start, replyWithCount: true }),
        queryReplySchema(collection.schema),
        signal,
      );
      all.push(...reply.inventories);
      const total = reply.total ?? all.length;
      if (reply.inventories.length < pageSize || all.length >= total) return all;
    }
  }

  async #getVm(uuid: string, signal: AbortSignal): Promise<VmInstance | undefined> {
    try {
      const reply = await this.#client.get(
        vmInstances.path,
        buildQueryString({ conditions: [eq("uuid", uuid)], limit: 1 }),
        queryReplySchema(vmInstanceSchema),
        signal,
      );
      return reply.inventories[0];
    } catch (error) {
      throw toProviderError(error, `zstack provider: reading VM ${uuid}`);
    }
  }

  /** Finds exactly one resource by uuid or name; `InvalidInputError` otherwise. */
  async #resolveOne<S extends z.ZodType>(
    collection: Collection<S>,
    ref: string,
    context: string,
    signal: AbortSignal,
    extra: QueryCondition[] = [],
  ): Promise<z.output<S>> {
    const cacheKey = `${collection.path} ${ref} ${canonical(extra)}`;
    const cached = this.#resolved.get(cacheKey);
    if (cached !== undefined && this.#now() - cached.at < resolutionTtlMs) {
      return cached.value as z.output<S>;
    }
    const byUuid = isUuid(ref);
    let found: z.output<S>[];
    try {
      found = await this.#queryAll(
        collection,
        [eq(byUuid ? "uuid" : "name", ref), ...extra],
        signal,
      );
    } catch (error) {
      throw toProviderError(
        error,
        `zstack provider: ${context}: looking up ${collection.kind} "${ref}"`,
      );
    }
    if (found.length !== 1) {
      throw new InvalidInputError(
        `zstack provider: ${context}: expected one ${collection.kind} ${
          byUuid ? "with uuid" : "named"
        } "${ref}", found ${found.length}${found.length > 1 ? ": name it by uuid instead" : ""}`,
      );
    }
    this.#resolved.set(cacheKey, { at: this.#now(), value: found[0] });
    return found[0];
  }

  #resolvePlacement(signal: AbortSignal): Promise<Placement> {
    if (this.#placement === undefined) {
      const pending = this.#loadPlacement(signal);
      this.#placement = pending;
      pending.catch(() => {
        if (this.#placement === pending) this.#placement = undefined;
      });
    }
    return this.#placement;
  }

  async #loadPlacement(signal: AbortSignal): Promise<Placement> {
    const { placement } = this.#config;
    const zone = await this.#resolveOne(zones, placement.zone, "placement.zone", signal);
    const cluster = placement.cluster === undefined ? undefined : await this.#resolveOne(
      clusters,
      placement.cluster,
      "placement.cluster",
      signal,
      [eq("zoneUuid", zone.uuid)],
    );
    const host = placement.host === undefined ? undefined : await this.#resolveOne(
      hosts,
      placement.host,
      "placement.host",
      signal,
      [eq(cluster ? "clusterUuid" : "zoneUuid", cluster?.uuid ?? zone.uuid)],
    );
    return { zone, ...(cluster ? { cluster } : {}), ...(host ? { host } : {}) };
  }

  async #resolveImage(
    ref: { kind: "uuid"; uuid: string } | { kind: "name"; name: string },
    key: string,
    signal: AbortSignal,
  ): Promise<Image> {
    const text = ref.kind === "uuid" ? ref.uuid : ref.name;
    const image = await this.#resolveOne(images, text, `pod ${key} image`, signal);
    const problems: string[] = [];
    if (image.state !== undefined && image.state !== "Enabled") {
      problems.push(`state ${image.state}`);
    }
    if (image.status !== undefined && image.status !== "Ready") {
      problems.push(`status ${image.status}`);
    }
    if (image.mediaType !== undefined && image.mediaType !== "RootVolumeTemplate") {
      problems.push(`media type ${image.mediaType}`);
    }
    if (image.system) problems.push("a system image");
    if (problems.length > 0) {
      this.#resolved.clear();
      throw new InvalidInputError(
        `zstack provider: pod ${key}: expected image "${text}" to be an Enabled, Ready RootVolumeTemplate, found ${
          problems.join(", ")
        }`,
      );
    }
    return image;
  }

  async #resolveL3(ref: string, key: string, signal: AbortSignal): Promise<L3Network> {
    const network = await this.#resolveOne(l3Networks, ref, `pod ${key} L3 network`, signal);
    if ((network.state !== undefined && network.state !== "Enabled") || network.system) {
      throw new InvalidInputError(
        `zstack provider: pod ${key}: expected L3 network "${ref}" to be Enabled and not a system network, found state ${
          network.state ?? "unknown"
        }${network.system ? ", system" : ""}`,
      );
    }
    return network;
  }

  async #resolveOffering(ref: string, key: string, signal: AbortSignal): Promise<InstanceOffering> {
    const offering = await this.#resolveOne(offerings, ref, `pod ${key} instance offering`, signal);
    if (offering.state !== undefined && offering.state !== "Enabled") {
      throw new InvalidInputError(
        `zstack provider: pod ${key}: expected instance offering "${ref}" to be Enabled, found ${offering.state}`,
      );
    }
    return offering;
  }

  // -- capacity -------------------------------------------------------------

  async #refreshCapacity(signal: AbortSignal): Promise<void> {
    const placement = await this.#resolvePlacement(signal);
    const [key, uuid] = placement.host
      ? ["hostUuids", placement.host.uuid]
      : placement.cluster
      ? ["clusterUuids", placement.cluster.uuid]
      : ["zoneUuids", placement.zone.uuid];
    try {
      this.#capacity = await this.#client.get(
        "/v1/hosts/capacities/cpu-memory",
        listParameters(key, [uuid]),
        cpuMemoryCapacitySchema,
        signal,
      );
      const scope: QueryCondition = placement.host
        ? eq("uuid", placement.host.uuid)
        : placement.cluster
        ? eq("clusterUuid", placement.cluster.uuid)
        : eq("zoneUuid", placement.zone.uuid);
      for (const host of await this.#queryAll(hosts, [scope], signal)) {
        this.#hosts.set(host.uuid, host);
      }
    } catch (error) {
      throw toProviderError(error, "zstack provider: reading host capacity");
    }
  }

  /** Capacity and allocatable: allocatable adds back what this node's own VMs use. */
  #resources(): { capacity: Record<string, string>; allocatable: Record<string, string> } {
    const pods = String(this.#config.maxPods);
    const capacity = this.#capacity;
    if (capacity === undefined) {
      const none = { cpu: "0", memory: "0", pods };
      return { capacity: none, allocatable: { ...none } };
    }
    let ownCpu = 0;
    let ownMemory = 0;
    for (const tracked of this.#byUuid.values()) {
      if (tracked.deleted !== undefined || !holdsCapacity(tracked.vm)) continue;
      ownCpu += tracked.vm.cpuNum ?? 0;
      ownMemory += tracked.vm.memorySize ?? 0;
    }
    const kibibytes = (bytes: number): string => `${Math.max(0, Math.floor(bytes / 1024))}Ki`;
    return {
      capacity: {
        cpu: String(Math.max(0, Math.floor(capacity.totalCpu))),
        memory: kibibytes(capacity.totalMemory),
        pods,
      },
      allocatable: {
        cpu: String(
          Math.max(0, Math.floor(Math.min(capacity.totalCpu, capacity.availableCpu + ownCpu))),
        ),
        memory: kibibytes(Math.min(capacity.totalMemory, capacity.availableMemory + ownMemory)),
        pods,
      },
    };
  }
}
