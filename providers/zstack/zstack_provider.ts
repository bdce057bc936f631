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
 * This class is the contract over files named after their jobs: `node_status.ts` (ping and
 * the Node), `pod_lifecycle.ts` (pod create, update, delete), `pod_status.ts` (pod reads
 * and the poll), `vm_capabilities.ts` (power, snapshots, migration, container restarts),
 * `container_access.ts` (logs, port-forward, exec, attach), `data_volumes.ts` (volumes);
 * under them `vm_tracker.ts` (this node's VMs), `name_resolver.ts` (name → uuid),
 * `capacity.ts`, `mapping.ts` (pod ↔ VM) and `client.ts` (the REST API).
 *
 * @module
 */

import type { Node, Pod, PodStatus } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import {
  type AttachToContainer,
  type ContainerLogOptions,
  type ContainerLogs,
  type ContainerRef,
  type ContainerRestarter,
  type ExecInContainer,
  isInvalidInput,
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
  type VirtualMachineMigration,
  type VirtualMachinePower,
  type VirtualMachineSnapshot,
  type VirtualMachineSnapshots,
  type VirtualMachineState,
  type VolumeProvisioner,
  type VolumeRequest,
} from "../../lib/provider.ts";
import { errorMessage, workloadUid } from "../../lib/provider_kit/mod.ts";
import { NodeCapacity } from "./capacity.ts";
import type { ZStackClient } from "./client.ts";
import { ContainerAccess } from "./container_access.ts";
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
import { KnownHosts } from "./hosts.ts";
import { nodeTag, type VmOwner } from "./identity.ts";
import { NameResolver } from "./name_resolver.ts";
import { ZStackNodeStatus } from "./node_status.ts";
import { PodLifecycle } from "./pod_lifecycle.ts";
import { PodStatusFeed } from "./pod_status.ts";
import { describeVm, type VmActionContext } from "./vm_action.ts";
import { VmCapabilities } from "./vm_capabilities.ts";
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
  readonly #stopped: AbortSignal;
  readonly #resolver: NameResolver;
  readonly #tracker: VmTracker;
  readonly #volumes: VolumeContext;
  readonly #nodeStatus: ZStackNodeStatus;
  readonly #pods: PodLifecycle;
  readonly #vms: VmCapabilities;
  readonly #containers: ContainerAccess;
  readonly #podStatus: PodStatusFeed;

  /** Creates the provider; nothing is sent to ZStack until the first call. */
  constructor(config: ZStackConfig, client: ZStackClient, options: ZStackProviderOptions) {
    this.#config = config;
    this.#client = client;
    const now = options.now ?? Date.now;
    this.#stopped = options.signal ?? new AbortController().signal;
    const owner: VmOwner = { clusterName: config.clusterName, nodeName: options.nodeName };
    const tag = nodeTag(config.clusterName, options.nodeName);
    const hosts = new KnownHosts(client);
    this.#resolver = new NameResolver(client, {
      placement: config.placement,
      now,
      signal: this.#stopped,
    });
    this.#tracker = new VmTracker({
      client,
      hosts,
      nodeTag: tag,
      nodeName: options.nodeName,
      logLines: config.logLines,
      now,
      report: (tracked) => this.#report(tracked),
      forgotten: (key) => this.#podStatus.forget(key),
      recordEvent: options.recordEvent,
    });
    this.#podStatus = new PodStatusFeed({
      tracker: this.#tracker,
      pollIntervalMs: config.pollIntervalSeconds * 1000,
      endpoint: client.endpoint,
      stopped: this.#stopped,
    });
    const capacity = new NodeCapacity({
      client,
      resolver: this.#resolver,
      hosts,
      maxPods: config.maxPods,
      ownVms: () =>
        this.#tracker.all().filter((tracked) => tracked.deleted === undefined)
          .map((tracked) => tracked.vm),
    });
    const vmActions: VmActionContext = {
      client,
      tracker: this.#tracker,
      hosts,
      now,
      waitIntervalMs: Math.min(config.pollIntervalSeconds * 1000, maxWaitIntervalMs),
    };
    this.#volumes = {
      ...vmActions,
      resolver: this.#resolver,
      owner,
      nodeTag: tag,
      defaults: config.volumes,
    };
    this.#nodeStatus = new ZStackNodeStatus({
      config,
      client,
      tracker: this.#tracker,
      capacity,
      resolver: this.#resolver,
      hosts,
      nodeTag: tag,
      bootId: crypto.randomUUID(),
      runtime: options,
      stopped: this.#stopped,
    });
    const report = (tracked: TrackedVm) => this.#report(tracked);
    this.#pods = new PodLifecycle({
      config,
      client,
      tracker: this.#tracker,
      resolver: this.#resolver,
      owner,
      nodeTag: tag,
      now,
      waitIntervalMs: vmActions.waitIntervalMs,
      recordEvent: options.recordEvent,
      report,
    });
    this.#vms = new VmCapabilities(vmActions, (pod, signal) => this.#vmOf(pod, signal), report);
    this.#containers = new ContainerAccess(this.#tracker, this.#stopped);
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

  // -- NodeProvider (node_status.ts) ----------------------------------------

  /**
   * Checks that the management node answers an authenticated query (re-logging in when
   * the session expired); throws `UnavailableError` naming the endpoint otherwise.
   */
  ping(signal: AbortSignal): Promise<void> {
    return this.#nodeStatus.ping(signal);
  }

  /** Registers a node status callback, called when capacity or allocatable change. */
  notifyNodeStatus(signal: AbortSignal, callback: (node: Node) => void): void {
    this.#nodeStatus.notifyNodeStatus(signal, callback);
  }

  /** Returns the node: capacity and allocatable from the placement's hosts, nodeInfo, labels. */
  configureNode(node: Node, signal: AbortSignal): Promise<Node> {
    return this.#nodeStatus.configureNode(node, signal);
  }

  // -- PodLifecycleHandler (writes in pod_lifecycle.ts) ---------------------

  /** Creates and starts the pod's VM, or adopts the VM already serving its workload UID. */
  createPod(pod: Pod, signal: AbortSignal): Promise<void> {
    return this.#pods.createPod(pod, signal);
  }

  /** Records a changed pod in its VM description; a changed image is `InvalidInputError`. */
  updatePod(pod: Pod, signal: AbortSignal): Promise<void> {
    return this.#pods.updatePod(pod, signal);
  }

  /** Lets the pod's VM go as `onPodDelete` says; `NotFoundError` when no VM serves the pod. */
  deletePod(pod: Pod, signal: AbortSignal): Promise<void> {
    return this.#pods.deletePod(pod, signal);
  }

  /** Returns the pod a tagged VM serves, with status, or `undefined`. */
  getPod(namespace: string, name: string, signal: AbortSignal): Promise<Pod | undefined> {
    return this.#podStatus.getPod(namespace, name, signal);
  }

  /** Returns the status of the pod's VM, or `undefined`. */
  getPodStatus(
    namespace: string,
    name: string,
    signal: AbortSignal,
  ): Promise<PodStatus | undefined> {
    return this.#podStatus.getPodStatus(namespace, name, signal);
  }

  /** Returns the pods of every VM tagged for this node (one query), with status. */
  getPods(signal: AbortSignal): Promise<Pod[]> {
    return this.#podStatus.getPods(signal);
  }

  /** Registers a pod status callback until `signal` aborts and starts polling (pod_status.ts). */
  notifyPods(signal: AbortSignal, callback: (pod: Pod) => void): void {
    this.#podStatus.notifyPods(signal, callback);
  }

  // -- Logs, port-forward, exec and attach (container_access.ts) ------------

  /** Streams the VM lifecycle as vkedge observed it; follows until the pod is deleted. */
  getContainerLogs(
    ref: ContainerRef,
    options: ContainerLogOptions,
    signal: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>> {
    return this.#containers.getContainerLogs(ref, options, signal);
  }

  /** Dials the VM's IP and `options.port` from the agent. */
  portForward(ref: PodRef, options: PortForwardOptions, signal: AbortSignal): Promise<void> {
    return this.#containers.portForward(ref, options, signal);
  }

  /** Refuses: a VM has no exec channel; the message says to SSH to its IP. */
  runInContainer(ref: ContainerRef, options: unknown, signal: AbortSignal): Promise<number> {
    return this.#containers.runInContainer(ref, options, signal);
  }

  /** Refuses: a VM has no attach channel; the message says to SSH to its IP. */
  attachToContainer(ref: ContainerRef, options: unknown, signal: AbortSignal): Promise<void> {
    return this.#containers.attachToContainer(ref, options, signal);
  }

  // -- VM capabilities (vm_capabilities.ts) --------------------------------

  /** Returns the power state, host name and uuid of the VM behind `pod`. */
  getVirtualMachineState(pod: Pod, signal: AbortSignal): Promise<VirtualMachineState> {
    return this.#vms.getVirtualMachineState(pod, signal);
  }

  /** Powers the VM on (resumes a Paused one) and resolves once it runs. */
  startVirtualMachine(pod: Pod, signal: AbortSignal): Promise<void> {
    return this.#vms.startVirtualMachine(pod, signal);
  }

  /** Powers the VM off (graceful, then cold after the grace period; cold with `force`). */
  stopVirtualMachine(pod: Pod, options: StopOptions, signal: AbortSignal): Promise<void> {
    return this.#vms.stopVirtualMachine(pod, options, signal);
  }

  /** Reboots the running VM (a cold stop and a start with `force`). */
  restartVirtualMachine(pod: Pod, options: StopOptions, signal: AbortSignal): Promise<void> {
    return this.#vms.restartVirtualMachine(pod, options, signal);
  }

  /** Takes snapshot `options.name` of every volume of the VM; resolves once it is ready. */
  createVirtualMachineSnapshot(
    pod: Pod,
    options: { name: string },
    signal: AbortSignal,
  ): Promise<VirtualMachineSnapshot> {
    return this.#vms.createVirtualMachineSnapshot(pod, options, signal);
  }

  /** Lists the VM's snapshots, oldest first, complete or not. */
  listVirtualMachineSnapshots(pod: Pod, signal: AbortSignal): Promise<VirtualMachineSnapshot[]> {
    return this.#vms.listVirtualMachineSnapshots(pod, signal);
  }

  /** Reverts the VM's disks to snapshot `snapshotId`; the VM must be Stopped. */
  restoreVirtualMachineSnapshot(pod: Pod, snapshotId: string, signal: AbortSignal): Promise<void> {
    return this.#vms.restoreVirtualMachineSnapshot(pod, snapshotId, signal);
  }

  /** Deletes snapshot `snapshotId` of the VM; `NotFoundError` when it is gone. */
  deleteVirtualMachineSnapshot(pod: Pod, snapshotId: string, signal: AbortSignal): Promise<void> {
    return this.#vms.deleteVirtualMachineSnapshot(pod, snapshotId, signal);
  }

  /** Live-migrates the VM and resolves with the name of its new host. */
  migrateVirtualMachine(
    pod: Pod,
    options: { targetHost?: string },
    signal: AbortSignal,
  ): Promise<string> {
    return this.#vms.migrateVirtualMachine(pod, options, signal);
  }

  /** Names the hosts the VM could be live-migrated to now. */
  listMigrationTargets(pod: Pod, signal: AbortSignal): Promise<string[]> {
    return this.#vms.listMigrationTargets(pod, signal);
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

  // -- Restarts (vm_capabilities.ts) ---------------------------------------

  /** Restarts the pod's one container: a reboot of the running VM, a start of a stopped one. */
  restartContainer(ref: ContainerRef, options: RestartOptions, signal: AbortSignal): Promise<void> {
    return this.#vms.restartContainer(ref, options, signal);
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

  #report(tracked: TrackedVm): void {
    this.#podStatus.report(tracked);
  }
}
