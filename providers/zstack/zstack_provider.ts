/**
 * The zstack provider: one ZStack VM per pod. Pods become VMs with a uuid derived from
 * the workload UID (a VM-Pod's VirtualMachine UID, else the pod UID) and user tags naming
 * cluster, node, namespace, pod and workload UID; the provider
 * keeps no local state, so after a restart it adopts its VMs by the node tag (never by
 * name) and rebuilds each pod from the tags and the spec remembered in the VM description.
 * Status comes from polling this node's VMs with one query per interval; only changes are
 * reported. `kubectl logs` shows the VM lifecycle as vkedge observed it. The VM behind a
 * pod powers off and on, reboots, is snapshotted, restored and live-migrated through the
 * VM capabilities; PersistentVolumes are ZStack data volumes, attached to the VMs behind
 * the pods that use them, and kept when those VMs are destroyed.
 *
 * This class is the contract over files named after their jobs: `vm_tracker.ts` (this
 * node's VMs), `vm_creation.ts` and `vm_removal.ts` (create and delete),
 * `name_resolver.ts` (name → uuid), `capacity.ts` and `node_description.ts` (the Node),
 * `lifecycle_log.ts` (the per-VM log), `mapping.ts` (pod ↔ VM), `vm_power.ts`,
 * `vm_snapshots.ts` and `vm_migration.ts` (the VM capabilities), `data_volumes.ts` and
 * `volume_request.ts` (volumes) and `client.ts` (the REST API); notifications, the poll loop, the log options and the node merge come from the
 * provider kit.
 *
 * @module
 */

import type { Node, Pod, PodStatus } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import {
  AlreadyExistsError,
  type AttachToContainer,
  type ContainerLogOptions,
  type ContainerLogs,
  type ContainerRef,
  type ContainerRestarter,
  type ExecInContainer,
  InvalidInputError,
  isInvalidInput,
  isUnauthenticated,
  type NodeStatusNotifier,
  NotFoundError,
  type PodNotifier,
  type PodRef,
  type PortForwarder,
  type PortForwardOptions,
  type Provider,
  type ProviderRuntimeOptions,
  type ProvisionedVolume,
  type RestartOptions,
  type StopOptions,
  UnavailableError,
  type VirtualMachineMigration,
  type VirtualMachinePower,
  type VirtualMachineSnapshot,
  type VirtualMachineSnapshots,
  type VirtualMachineState,
  type VolumeProvisioner,
  type VolumeRequest,
} from "../../lib/provider.ts";
import {
  CallbackSet,
  describeNode,
  errorMessage,
  evictionOf,
  formatTime,
  PodStatusReporter,
  pollPodStatus,
  streamLogLines,
  workloadUid,
} from "../../lib/provider_kit/mod.ts";
import {
  inventoryReplySchema,
  queryReplySchema,
  vmInstanceSchema,
  zoneOrClusterSchema,
} from "./api_types.ts";
import { NodeCapacity } from "./capacity.ts";
import type { ZStackClient } from "./client.ts";
import { vmInstances, zones } from "./collections.ts";
import type { ZStackConfig } from "./config.ts";
import {
  attachVolume,
  createVolume,
  deleteVolume,
  detachVolume,
  expandVolume,
  getVolume,
  listVolumes,
  type VolumeContext,
} from "./data_volumes.ts";
import { toProviderError } from "./errors.ts";
import { KnownHosts } from "./hosts.ts";
import { identityKey, nodeTag, type VmOwner } from "./identity.ts";
import { NameResolver } from "./name_resolver.ts";
import { zstackNodeDescription } from "./node_description.ts";
import { validatePod } from "./pod_to_vm.ts";
import { forwardToVm, noExecChannel, type VmEndpoint } from "./port_forward.ts";
import { buildQueryString } from "./query.ts";
import { decodePodSpec, encodePodSpec } from "./stored_spec.ts";
import { describeVm, type VmActionContext } from "./vm_action.ts";
import { createVm } from "./vm_creation.ts";
import { migrate, migrationTargets } from "./vm_migration.ts";
import { powerOff, powerOn, reboot, virtualMachineState } from "./vm_power.ts";
import { removedText, removeVm } from "./vm_removal.ts";
import { deleteSnapshot, listSnapshots, restoreSnapshot, takeSnapshot } from "./vm_snapshots.ts";
import { type TrackedVm, VmTracker } from "./vm_tracker.ts";

const logger = getLogger(["vkedge", "provider", "zstack"]);

/** Options of the provider besides its configuration. */
export type ZStackProviderOptions = ProviderRuntimeOptions;

/** Longest pause between two reads while waiting for a VM or a snapshot. */
const maxWaitIntervalMs = 2_000;

/**
 * Provider running each pod as a ZStack VM. Implements the required interfaces, pod
 * notifications by polling, node status notifications, container logs (the VM
 * lifecycle), the VM capabilities (power, snapshots and migration) and volumes.
 */
export class ZStackProvider
  implements
    Provider,
    PodNotifier,
    NodeStatusNotifier,
    ContainerLogs,
    VirtualMachinePower,
    VirtualMachineSnapshots,
    VirtualMachineMigration,
    VolumeProvisioner,
    PortForwarder,
    ExecInContainer,
    AttachToContainer,
    ContainerRestarter {
  /** Provider name. */
  readonly name = "zstack";
  readonly #config: ZStackConfig;
  readonly #client: ZStackClient;
  readonly #options: ZStackProviderOptions;
  readonly #now: () => number;
  readonly #stopped: AbortSignal;
  readonly #owner: VmOwner;
  readonly #nodeTag: string;
  readonly #bootId = crypto.randomUUID();
  readonly #hosts: KnownHosts;
  readonly #resolver: NameResolver;
  readonly #tracker: VmTracker;
  readonly #capacity: NodeCapacity;
  readonly #vmActions: VmActionContext;
  readonly #volumes: VolumeContext;
  readonly #reporter = new PodStatusReporter();
  readonly #nodeCallbacks = new CallbackSet<Node>("node status");
  #node: Node | undefined;
  #polling = false;
  #watchingCapacity = false;

  /** Creates the provider; nothing is sent to ZStack until the first call. */
  constructor(config: ZStackConfig, client: ZStackClient, options: ZStackProviderOptions) {
    this.#config = config;
    this.#client = client;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#stopped = options.signal ?? new AbortController().signal;
    this.#owner = { clusterName: config.clusterName, nodeName: options.nodeName };
    this.#nodeTag = nodeTag(config.clusterName, options.nodeName);
    this.#hosts = new KnownHosts(client);
    this.#resolver = new NameResolver(client, {
      placement: config.placement,
      now: this.#now,
      signal: this.#stopped,
    });
    this.#tracker = new VmTracker({
      client,
      hosts: this.#hosts,
      nodeTag: this.#nodeTag,
      nodeName: options.nodeName,
      logLines: config.logLines,
      now: this.#now,
      report: (tracked) => this.#report(tracked),
      forgotten: (key) => this.#reporter.forget(key),
      recordEvent: options.recordEvent,
    });
    this.#capacity = new NodeCapacity({
      client,
      resolver: this.#resolver,
      hosts: this.#hosts,
      maxPods: config.maxPods,
      ownVms: () =>
        this.#tracker.all().filter((tracked) => tracked.deleted === undefined)
          .map((tracked) => tracked.vm),
    });
    this.#vmActions = {
      client,
      tracker: this.#tracker,
      hosts: this.#hosts,
      now: this.#now,
      waitIntervalMs: Math.min(config.pollIntervalSeconds * 1000, maxWaitIntervalMs),
    };
    this.#volumes = {
      ...this.#vmActions,
      resolver: this.#resolver,
      owner: this.#owner,
      nodeTag: this.#nodeTag,
      defaults: config.volumes,
    };
    this.#stopped.addEventListener("abort", () => this.#tracker.wakeAll(), { once: true });
  }

  /**
   * Checks once, at start-up, that the configured zone, cluster and host exist: a placement
   * that names nothing would register a node with no capacity, so it is refused as
   * `InvalidInputError` (the agent exits with status 2 and the message). A ZStack that does
   * not answer (or refuses the login) is no reason to stop: the node says so instead.
   */
  async verifyPlacement(signal: AbortSignal): Promise<void> {
    try {
      await this.#resolver.placement(AbortSignal.any([signal, AbortSignal.timeout(15_000)]));
    } catch (error) {
      if (isInvalidInput(error)) throw error;
      logger.warn("cannot check the placement at start-up: {error}; checked again on use", {
        error: errorMessage(error),
      });
    }
  }

  /** Logs out of the ZStack session (best effort, at most 2 s), so restarts leave none open. */
  async close(): Promise<void> {
    await this.#client.close(AbortSignal.timeout(2_000));
  }

  // -- NodeProvider ---------------------------------------------------------

  /**
   * Checks that the management node answers an authenticated query (re-logging in when
   * the session expired); throws `UnavailableError` naming the endpoint otherwise.
   */
  async ping(signal: AbortSignal): Promise<void> {
    try {
      await this.#client.get(zones.path, {
        query: buildQueryString({ limit: 1 }),
        schema: queryReplySchema(zoneOrClusterSchema),
        signal,
      });
    } catch (error) {
      if (signal.aborted || isUnauthenticated(error)) throw error;
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
    this.#nodeCallbacks.add(signal, callback);
    if (signal.aborted || this.#watchingCapacity) return;
    this.#watchingCapacity = true;
    void this.#capacity.watch({
      intervalMs: this.#config.capacityRefreshSeconds * 1000,
      signal: this.#stopped,
      onChange: (resources) => {
        if (this.#node === undefined) return;
        this.#node = { ...this.#node, status: { ...this.#node.status, ...resources } };
        this.#nodeCallbacks.emit(this.#node);
      },
    });
  }

  /**
   * Returns the node with capacity and allocatable from the hosts of the configured
   * placement (allocatable: what ZStack has free plus what this node's VMs use), nodeInfo
   * and labels; addresses and the kubelet version stay the agent's. When ZStack cannot be
   * reached the node starts with zero CPU and memory and gets its capacity on the next
   * refresh.
   */
  async configureNode(node: Node, signal: AbortSignal): Promise<Node> {
    try {
      await this.#tracker.refresh(signal); // this node's VMs count towards allocatable
      await this.#capacity.refresh(signal);
    } catch (error) {
      if (signal.aborted) throw error;
      logger.warn("cannot read ZStack capacity yet: {error}; the node starts with none", {
        error: errorMessage(error),
      });
    }
    this.#node = describeNode(
      node,
      zstackNodeDescription({
        placement: await this.#resolver.knownPlacement(),
        resources: this.#capacity.resources(),
        host: this.#hosts.first(),
        nodeTag: this.#nodeTag,
        bootId: this.#bootId,
        endpoint: this.#client.endpoint,
        operatingSystem: this.#options.operatingSystem,
        labels: this.#config.labels,
        providerID: this.#config.providerID,
      }),
    );
    return structuredClone(this.#node);
  }

  // -- PodLifecycleHandler --------------------------------------------------

  /**
   * Creates and starts the pod's VM, waits for ZStack to finish the job and reports the
   * pod's status. A VM that already exists for the pod's workload UID (an earlier attempt,
   * or the VM of a VirtualMachine whose VM-Pod was re-created) is adopted instead.
   */
  async createPod(pod: Pod, signal: AbortSignal): Promise<void> {
    const validated = validatePod(pod, this.#config.images.aliases);
    const { identity } = validated;
    const key = identityKey(identity);
    const other = this.#tracker.get(identity.namespace, identity.name);
    if (other !== undefined && other.identity.uid !== identity.uid && other.deleted === undefined) {
      throw new AlreadyExistsError(
        `zstack provider: pod ${key} already runs as VM ${other.vm.uuid} for uid "${other.identity.uid}": expected it gone before creating uid "${identity.uid}"`,
      );
    }
    await createVm(pod, {
      validated,
      client: this.#client,
      tracker: this.#tracker,
      resolver: this.#resolver,
      config: this.#config,
      owner: this.#owner,
      now: this.#now,
      signal,
    });
    // The job's answer holds the VM as it is now (Running once it booted): report it at once
    // rather than at the next poll.
    const created = this.#tracker.get(identity.namespace, identity.name);
    if (created !== undefined) this.#report(created);
  }

  /**
   * Records a changed pod (labels, annotations, env) in the VM description and rebinds the
   * VM to the pod object given (a VM-Pod re-created for the same VirtualMachine has a new
   * UID). A changed image would need a new VM and is refused with `InvalidInputError`.
   */
  async updatePod(pod: Pod, signal: AbortSignal): Promise<void> {
    const { identity, container } = validatePod(pod, this.#config.images.aliases);
    const key = identityKey(identity);
    const tracked = await this.#tracker.find(identity.namespace, identity.name, {
      uid: identity.uid,
      signal,
    });
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
          {
            body: { updateVmInstance: { description } },
            schema: inventoryReplySchema(vmInstanceSchema),
            signal,
          },
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
    this.#tracker.setPod(tracked, pod);
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
    const tracked = await this.#tracker.find(namespace, name, { uid: workloadUid(pod), signal });
    const uuid = tracked.vm.uuid;
    const eviction = evictionOf(pod);
    // An evicted pod's VM ran the whole time: at most a recoverable destroy.
    const policy = eviction ? this.#config.onEvictedPodDelete : this.#config.onPodDelete;
    tracked.deleting = true;
    try {
      await removeVm(tracked, {
        client: this.#client,
        policy,
        nodeTag: this.#nodeTag,
        log: (text) => tracked.log.append(new Date(this.#now()), text),
        waitIntervalMs: this.#vmActions.waitIntervalMs,
        signal,
      });
    } catch (error) {
      throw toProviderError(error, `zstack provider: deleting VM ${uuid} of pod ${key}`);
    } finally {
      tracked.deleting = undefined;
    }
    const at = new Date(this.#now());
    tracked.deleted = { at, byUs: true, ...(policy === "keep" ? { kept: true } : {}) };
    if (policy !== "keep") tracked.vm = { ...tracked.vm, state: "Destroyed" };
    tracked.log.append(at, removedText(tracked, policy));
    logger.info("pod {pod}: VM {uuid} {what}", {
      pod: key,
      uuid,
      what: policy === "keep" ? "released" : "destroyed",
    });
    if (eviction) {
      const recovery = policy === "keep"
        ? `VM ${tracked.vm.name} (${uuid}) is left running and released (onEvictedPodDelete: keep)`
        : `VM ${tracked.vm.name} (${uuid}) is destroyed but NOT expunged: recover it within ZStack's expunge period with RecoverVmInstance (PUT /v1/vm-instances/${uuid}/actions {"recoverVmInstance": {}}), then start it; set onEvictedPodDelete: keep to leave such VMs running`;
      this.#options.recordEvent?.(
        pod,
        "Warning",
        "EvictedPodVMKept",
        `Pod evicted by the control plane (${eviction.reason}: ${eviction.message}); ${recovery}`,
      );
      logger.warn("pod {pod} was evicted ({reason}); {recovery}", {
        pod: key,
        reason: eviction.reason,
        recovery,
      });
    }
    this.#report(tracked);
    this.#tracker.setReleased(uuid, true);
    this.#tracker.forget(tracked);
  }

  /** Returns the pod a tagged VM serves, with status, or `undefined`. */
  async getPod(namespace: string, name: string, signal: AbortSignal): Promise<Pod | undefined> {
    await this.#tracker.ensureFresh(signal);
    const tracked = this.#tracker.get(namespace, name);
    return tracked === undefined ? undefined : this.#tracker.fullPod(tracked);
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
    await this.#tracker.ensureFresh(signal);
    return this.#tracker.all().map((tracked) => this.#tracker.fullPod(tracked));
  }

  /**
   * Registers a pod status callback until `signal` aborts and starts polling: one query of
   * this node's VMs every `pollIntervalSeconds`, reporting only pods whose status changed.
   */
  notifyPods(signal: AbortSignal, callback: (pod: Pod) => void): void {
    this.#reporter.subscribe(signal, callback);
    if (signal.aborted || this.#polling) return;
    this.#polling = true;
    void pollPodStatus({
      intervalMs: this.#config.pollIntervalSeconds * 1000,
      list: async (pollSignal) => {
        await this.#tracker.refresh(pollSignal);
        return this.#tracker.current().map((tracked) => this.#tracker.fullPod(tracked));
      },
      reporter: this.#reporter,
      what: `the VMs at ZStack ${this.#client.endpoint}`,
      signal: this.#stopped,
    });
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
    await this.#tracker.ensureFresh(signal);
    const key = `${namespace}/${podName}`;
    const tracked = this.#tracker.get(namespace, podName);
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
    return streamLogLines(tracked.log, options, AbortSignal.any([signal, this.#stopped]));
  }

  // -- VirtualMachinePower -------------------------------------------------

  /** Returns the power state, host name and uuid of the VM behind `pod`. */
  async getVirtualMachineState(pod: Pod, signal: AbortSignal): Promise<VirtualMachineState> {
    await this.#tracker.ensureFresh(signal);
    return virtualMachineState(await this.#vmOf(pod, signal), this.#hosts);
  }

  /** Powers the VM on (resumes a Paused one) and resolves once it runs. */
  async startVirtualMachine(pod: Pod, signal: AbortSignal): Promise<void> {
    await powerOn(this.#vmActions, await this.#vmOf(pod, signal), { signal });
  }

  /**
   * Powers the VM off: a graceful stop, then a cold one after `gracePeriodSeconds` (60 s by
   * default); a cold stop at once with `force`. The VM, its disks and its pod stay.
   */
  async stopVirtualMachine(pod: Pod, options: StopOptions, signal: AbortSignal): Promise<void> {
    await powerOff(this.#vmActions, await this.#vmOf(pod, signal), { ...options, signal });
  }

  /** Reboots the running VM (a cold stop and a start with `force`). */
  async restartVirtualMachine(pod: Pod, options: StopOptions, signal: AbortSignal): Promise<void> {
    await reboot(this.#vmActions, await this.#vmOf(pod, signal), { ...options, signal });
  }

  // -- VirtualMachineSnapshots ----------------------------------------------

  /**
   * Takes snapshot `options.name` of every volume of the VM (see `vm_snapshots.ts`) and
   * resolves once it is ready; a repeat finds the parts already taken or being taken.
   */
  async createVirtualMachineSnapshot(
    pod: Pod,
    options: { name: string },
    signal: AbortSignal,
  ): Promise<VirtualMachineSnapshot> {
    return await takeSnapshot(this.#vmActions, await this.#vmOf(pod, signal), {
      name: options.name,
      signal,
    });
  }

  /** Lists the VM's snapshots, oldest first, complete or not. */
  async listVirtualMachineSnapshots(
    pod: Pod,
    signal: AbortSignal,
  ): Promise<VirtualMachineSnapshot[]> {
    return await listSnapshots(this.#vmActions, await this.#vmOf(pod, signal), { signal });
  }

  /** Reverts the VM's disks to snapshot `snapshotId`; the VM must be Stopped. */
  async restoreVirtualMachineSnapshot(
    pod: Pod,
    snapshotId: string,
    signal: AbortSignal,
  ): Promise<void> {
    await restoreSnapshot(this.#vmActions, await this.#vmOf(pod, signal), {
      snapshotId,
      signal,
    });
  }

  /** Deletes snapshot `snapshotId` of the VM; `NotFoundError` when it is gone. */
  async deleteVirtualMachineSnapshot(
    pod: Pod,
    snapshotId: string,
    signal: AbortSignal,
  ): Promise<void> {
    await deleteSnapshot(this.#vmActions, await this.#vmOf(pod, signal), { snapshotId, signal });
  }

  // -- VirtualMachineMigration ----------------------------------------------

  /** Live-migrates the VM and resolves with the name of its new host. */
  async migrateVirtualMachine(
    pod: Pod,
    options: { targetHost?: string },
    signal: AbortSignal,
  ): Promise<string> {
    return await migrate(this.#vmActions, await this.#vmOf(pod, signal), {
      ...options,
      signal,
    });
  }

  /** Names the hosts the VM could be live-migrated to now. */
  async listMigrationTargets(pod: Pod, signal: AbortSignal): Promise<string[]> {
    return await migrationTargets(this.#vmActions, await this.#vmOf(pod, signal), { signal });
  }

  // -- VolumeProvisioner ---------------------------------------------------

  /**
   * Creates the data volume of a claim (see `data_volumes.ts`) and resolves once it is
   * ready; a repeat finds the volume of that name, also while its create job runs.
   */
  async createVolume(request: VolumeRequest, signal: AbortSignal): Promise<ProvisionedVolume> {
    return await createVolume(this.#volumes, request, signal);
  }

  /** Returns the data volume `volumeId`, or `undefined` when it is gone or deleted. */
  async getVolume(volumeId: string, signal: AbortSignal): Promise<ProvisionedVolume | undefined> {
    return await getVolume(this.#volumes, volumeId, signal);
  }

  /** Lists the data volumes tagged for this node. */
  async listVolumes(signal: AbortSignal): Promise<ProvisionedVolume[]> {
    return await listVolumes(this.#volumes, signal);
  }

  /** Deletes and expunges a detached data volume this cluster's agents provisioned. */
  async deleteVolume(volumeId: string, signal: AbortSignal): Promise<void> {
    await deleteVolume(this.#volumes, volumeId, signal);
  }

  /** Grows a data volume to at least `sizeBytes` and resolves with its size. */
  async expandVolume(volumeId: string, sizeBytes: number, signal: AbortSignal): Promise<number> {
    return await expandVolume(this.#volumes, volumeId, { sizeBytes, signal });
  }

  /** Attaches a data volume to the VM behind `pod` (a hot plug while it runs). */
  async attachVolume(volumeId: string, pod: Pod, signal: AbortSignal): Promise<void> {
    await attachVolume(this.#volumes, volumeId, { tracked: await this.#vmOf(pod, signal), signal });
  }

  /** Detaches a data volume from the VM behind `pod`; a pod without a VM has none attached. */
  async detachVolume(volumeId: string, pod: Pod, signal: AbortSignal): Promise<void> {
    let tracked: TrackedVm | undefined;
    try {
      tracked = await this.#vmOf(pod, signal);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    await detachVolume(this.#volumes, volumeId, { tracked, signal });
  }

  // -- Restarts ------------------------------------------------------------------

  /**
   * Restarts the pod's one container the only way a VM can: a reboot of the running VM
   * (a cold one for a grace period of 0), or a start of a stopped or crashed one. The pod
   * then shows one restart more and the run that ended as the last state. The agent's
   * probes dial the VM's IP themselves, so this provider opens no connections for them.
   */
  async restartContainer(
    ref: ContainerRef,
    options: RestartOptions,
    signal: AbortSignal,
  ): Promise<void> {
    await this.#tracker.ensureFresh(signal);
    const key = `${ref.namespace}/${ref.pod}`;
    const tracked = this.#tracker.get(ref.namespace, ref.pod);
    if (tracked === undefined || tracked.deleted !== undefined) {
      throw new NotFoundError(`pod "${key}" not found in the zstack provider`);
    }
    const container = tracked.pod.spec?.containers?.[0]?.name ?? "vm";
    if (ref.container !== container) {
      throw new NotFoundError(
        `container "${ref.container}" not found in pod "${key}": expected "${container}"`,
      );
    }
    const before = this.#tracker.fullPod(tracked).status?.containerStatuses?.[0];
    const running = tracked.vm.state === "Running";
    if (running) {
      await reboot(this.#vmActions, tracked, {
        ...(options.gracePeriodSeconds === 0 ? { force: true } : {}),
        signal,
      });
    } else {
      await powerOn(this.#vmActions, tracked, { signal });
    }
    const now = new Date(this.#now());
    const ended = before?.state?.terminated ?? {
      exitCode: 137,
      reason: "Error",
      message: `${describeVm(tracked)} was rebooted by vkedge: ${options.reason}`,
      ...(before?.state?.running?.startedAt ? { startedAt: before.state.running.startedAt } : {}),
      finishedAt: formatTime(now),
      containerID: `zstack://${tracked.vm.uuid}`,
    };
    tracked.restarts = { count: (tracked.restarts?.count ?? 0) + 1, last: ended };
    tracked.log.append(
      now,
      `container restarted (${options.reason}): VM ${running ? "rebooted" : "started"}`,
    );
    logger.info("pod {pod}: VM {uuid} {what} to restart its container ({reason})", {
      pod: key,
      uuid: tracked.vm.uuid,
      what: running ? "rebooted" : "started",
      reason: options.reason,
    });
    this.#report(tracked);
  }

  // -- Port-forward, exec and attach ------------------------------------------

  /** Dials the VM's IP and `options.port` from the agent (`port_forward.ts`). */
  async portForward(ref: PodRef, options: PortForwardOptions, signal: AbortSignal): Promise<void> {
    await forwardToVm(await this.#endpoint(ref, signal), options, signal);
  }

  /** Refuses: a VM has no exec channel; the message says to SSH to its IP. */
  async runInContainer(ref: ContainerRef, _options: unknown, signal: AbortSignal): Promise<number> {
    throw noExecChannel(await this.#endpoint(ref, signal), "exec");
  }

  /** Refuses: a VM has no attach channel; the message says to SSH to its IP. */
  async attachToContainer(
    ref: ContainerRef,
    _options: unknown,
    signal: AbortSignal,
  ): Promise<void> {
    throw noExecChannel(await this.#endpoint(ref, signal), "attach");
  }

  // -- helpers --------------------------------------------------------------

  /** The tracked VM behind `pod` (by its workload UID); `NotFoundError` when it has none. */
  async #vmOf(pod: Pod, signal: AbortSignal): Promise<TrackedVm> {
    const namespace = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    const tracked = await this.#tracker.find(namespace, name, { uid: workloadUid(pod), signal });
    if (tracked.deleted !== undefined) {
      throw new NotFoundError(
        `zstack provider: ${describeVm(tracked)} is ${
          tracked.deleted.kept ? "released" : "gone"
        }: there is no VM to act on`,
      );
    }
    return tracked;
  }

  async #endpoint(ref: PodRef, signal: AbortSignal): Promise<VmEndpoint> {
    const pod = await this.getPod(ref.namespace, ref.pod, signal);
    const key = `${ref.namespace}/${ref.pod}`;
    if (pod === undefined) throw new NotFoundError(`pod "${key}" not found in the zstack provider`);
    const tracked = this.#tracker.get(ref.namespace, ref.pod);
    return { pod: key, ip: pod.status?.podIP, state: tracked?.vm.state };
  }

  #report(tracked: TrackedVm): void {
    this.#reporter.report(this.#tracker.fullPod(tracked));
  }
}
