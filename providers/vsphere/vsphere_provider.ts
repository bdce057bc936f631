/**
 * The vsphere provider: one vSphere VM per pod, cloned from a template, on vCenter or a
 * lone ESXi host. Ownership lives on the VM (`guestinfo.vkedge.*` extraConfig), so the
 * provider keeps no local state: after a restart it finds its VMs by the node key and
 * rebuilds each pod from the pod record there. Status is pushed by vSphere through a
 * `WaitForUpdatesEx` filter on the VMs of the placement's folder; only changes are
 * reported. `kubectl logs` shows the VM lifecycle as vkedge observed it. The VM behind a
 * pod powers off and on, resets, is snapshotted, reverted and live-migrated through the
 * VM capabilities.
 *
 * This class is the contract over files named after their jobs: `client.ts` (SOAP and the
 * session), `property_collector.ts` and `tasks.ts` (reads, updates, tasks),
 * `inventory.ts` (names → objects), `vm_tracker.ts` (this node's VMs), `node_status.ts`
 * (ping, the Node and its capacity), `pod_lifecycle.ts` (pod create, update, delete over
 * `vm_lifecycle.ts`), `vm_capabilities.ts` (power, snapshots, migration over `vm_power.ts`,
 * `vm_snapshots.ts`, `vm_migration.ts`), `mapping.ts` (pod ↔ VM) and
 * `node_description.ts` (the Node).
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
  isInvalidInput,
  type NodeStatusNotifier,
  NotFoundError,
  type PodNotifier,
  type Provider,
  type ProviderRuntimeOptions,
  type StopOptions,
  type VirtualMachineMigration,
  type VirtualMachinePower,
  type VirtualMachineSnapshot,
  type VirtualMachineSnapshots,
  type VirtualMachineState,
} from "../../lib/provider.ts";
import {
  errorMessage,
  PodStatusReporter,
  streamLogLines,
  workloadUid,
} from "../../lib/provider_kit/mod.ts";
import type { VsphereClient } from "./client.ts";
import type { VsphereConfig } from "./config.ts";
import { toProviderError } from "./faults.ts";
import { Inventory } from "./inventory.ts";
import { nodeOwner } from "./identity.ts";
import { podStatusOf } from "./vm_to_pod.ts";
import { VsphereNodeStatus } from "./node_status.ts";
import { PodLifecycle } from "./pod_lifecycle.ts";
import type { VmActionContext } from "./vm_action.ts";
import { VmCapabilities } from "./vm_capabilities.ts";
import { type TrackedPod, VmTracker } from "./vm_tracker.ts";

const logger = getLogger(["vkedge", "provider", "vsphere"]);

/** Options of the provider besides its configuration. */
export type VsphereProviderOptions = ProviderRuntimeOptions;

/**
 * Provider running each pod as a vSphere VM: the required interfaces, pod notifications
 * pushed by vSphere, node status notifications, container logs (the VM lifecycle) and the
 * VM capabilities: power, snapshots and migration.
 */
export class VsphereProvider
  implements
    Provider,
    PodNotifier,
    NodeStatusNotifier,
    ContainerLogs,
    VirtualMachinePower,
    VirtualMachineSnapshots,
    VirtualMachineMigration {
  /** Provider name. */
  readonly name = "vsphere";
  readonly #config: VsphereConfig;
  readonly #client: VsphereClient;
  readonly #stopped: AbortSignal;
  readonly #inventory: Inventory;
  readonly #tracker: VmTracker;
  readonly #nodeStatus: VsphereNodeStatus;
  readonly #pods: PodLifecycle;
  readonly #vms: VmCapabilities;
  readonly #reporter = new PodStatusReporter();
  readonly #queues = new Map<string, Promise<unknown>>();
  #resumed = false;

  /** Creates the provider; nothing is sent to vSphere until the first call. */
  constructor(config: VsphereConfig, client: VsphereClient, options: VsphereProviderOptions) {
    this.#config = config;
    this.#client = client;
    const now = options.now ?? Date.now;
    this.#stopped = options.signal ?? new AbortController().signal;
    this.#inventory = new Inventory(client, config);
    this.#tracker = new VmTracker({
      client,
      inventory: this.#inventory,
      owner: nodeOwner(config.clusterName, options.nodeName),
      nodeName: options.nodeName,
      logLines: config.logLines,
      now,
      report: (tracked) => this.#report(tracked),
      recordEvent: options.recordEvent,
    });
    const actions: VmActionContext = {
      client,
      tracker: this.#tracker,
      inventory: this.#inventory,
      config,
      report: (tracked) => this.#report(tracked),
      serialize: (key, body) => this.#serialize(key, body),
    };
    const trackedOf = (pod: Pod, signal: AbortSignal) => this.#trackedOf(pod, signal);
    this.#nodeStatus = new VsphereNodeStatus({
      config,
      client,
      inventory: this.#inventory,
      runtime: options,
      stopped: this.#stopped,
    });
    this.#pods = new PodLifecycle(actions, {
      owner: { clusterName: config.clusterName, nodeName: options.nodeName },
      now,
      recordEvent: options.recordEvent,
      startWatch: () => this.#startWatch(),
      trackedOf,
    });
    this.#vms = new VmCapabilities(actions, trackedOf);
    this.#stopped.addEventListener("abort", () => {
      for (const tracked of this.#tracker.all()) tracked.log.wake();
    }, { once: true });
  }

  /**
   * Checks once, at start-up, that the configured datacenter, cluster or host, pool,
   * datastore and folder exist: a placement naming nothing is refused as
   * `InvalidInputError` (the agent exits with status 2 and the message). A vSphere that
   * does not answer (or refuses the login) is no reason to stop: the node says so instead.
   */
  async verifyPlacement(signal: AbortSignal): Promise<void> {
    try {
      await this.#inventory.placement(AbortSignal.any([signal, AbortSignal.timeout(15_000)]));
    } catch (error) {
      if (isInvalidInput(error)) throw error;
      logger.warn("cannot check the placement at start-up: {error}; checked again on use", {
        error: errorMessage(error),
      });
    }
  }

  /** Logs out of the vSphere session (best effort, at most 2 s), so restarts leave none open. */
  async close(): Promise<void> {
    await this.#client.close(AbortSignal.timeout(2_000));
  }

  // -- NodeProvider (node_status.ts) ----------------------------------------

  /**
   * Checks that vSphere answers an authenticated call (logging in again when the session
   * ended); throws `UnavailableError` naming the endpoint otherwise.
   */
  ping(signal: AbortSignal): Promise<void> {
    return this.#nodeStatus.ping(signal);
  }

  /** Registers a node status callback, called when capacity changes. */
  notifyNodeStatus(signal: AbortSignal, callback: (node: Node) => void): void {
    this.#nodeStatus.notifyNodeStatus(signal, callback);
  }

  /** Returns the node with capacity from the placement's hosts, labels and nodeInfo. */
  configureNode(node: Node, signal: AbortSignal): Promise<Node> {
    return this.#nodeStatus.configureNode(node, signal);
  }

  // -- PodLifecycleHandler (writes in pod_lifecycle.ts) ---------------------

  /** Clones and powers on the pod's VM, or adopts the VM already serving its workload. */
  createPod(pod: Pod, signal: AbortSignal): Promise<void> {
    return this.#pods.createPod(pod, signal);
  }

  /** Records a changed pod on its VM; a changed image is refused with `InvalidInputError`. */
  updatePod(pod: Pod, signal: AbortSignal): Promise<void> {
    return this.#pods.updatePod(pod, signal);
  }

  /** Destroys the pod's VM (an evicted pod's VM is released instead) and forgets the pod. */
  deletePod(pod: Pod, signal: AbortSignal): Promise<void> {
    return this.#pods.deletePod(pod, signal);
  }

  /** Returns the pod an owned VM serves, with status, or `undefined`. */
  async getPod(namespace: string, name: string, signal: AbortSignal): Promise<Pod | undefined> {
    await this.#fresh(signal);
    const tracked = this.#tracker.get(namespace, name);
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

  /** Returns the pods of every VM of this node, with status. */
  async getPods(signal: AbortSignal): Promise<Pod[]> {
    await this.#fresh(signal);
    return this.#tracker.all().filter((tracked) => tracked.vm !== undefined || tracked.creating)
      .map((tracked) => this.#fullPod(tracked));
  }

  /**
   * Registers a pod status callback until `signal` aborts and starts the watch: vSphere
   * pushes every change of this node's VMs, and only pods whose status changed are reported.
   */
  notifyPods(signal: AbortSignal, callback: (pod: Pod) => void): void {
    this.#reporter.subscribe(signal, callback);
    this.#startWatch();
  }

  // -- ContainerLogs --------------------------------------------------------

  /** Streams the VM lifecycle as vkedge observed it; follows until the pod is deleted. */
  async getContainerLogs(
    ref: ContainerRef,
    options: ContainerLogOptions,
    signal: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>> {
    const { namespace, pod: podName, container: containerName } = ref;
    await this.#fresh(signal);
    const key = `${namespace}/${podName}`;
    const tracked = this.#tracker.get(namespace, podName);
    if (tracked === undefined) {
      throw new NotFoundError(`pod "${key}" not found in the vsphere provider`);
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

  // -- VM capabilities (vm_capabilities.ts) --------------------------------

  /** Returns the power state, host name and managed-object id of the VM behind `pod`. */
  getVirtualMachineState(pod: Pod, signal: AbortSignal): Promise<VirtualMachineState> {
    return this.#vms.getVirtualMachineState(pod, signal);
  }

  /** Powers the VM on and resolves once it runs. */
  startVirtualMachine(pod: Pod, signal: AbortSignal): Promise<void> {
    return this.#vms.startVirtualMachine(pod, signal);
  }

  /** Shuts the guest down (power off after the grace period), or cuts the power with `force`. */
  stopVirtualMachine(pod: Pod, options: StopOptions, signal: AbortSignal): Promise<void> {
    return this.#vms.stopVirtualMachine(pod, options, signal);
  }

  /** Resets the running VM. */
  restartVirtualMachine(pod: Pod, options: StopOptions, signal: AbortSignal): Promise<void> {
    return this.#vms.restartVirtualMachine(pod, options, signal);
  }

  /** Takes snapshot `options.name` of the VM (once per name) and resolves once it is ready. */
  createVirtualMachineSnapshot(
    pod: Pod,
    options: { name: string },
    signal: AbortSignal,
  ): Promise<VirtualMachineSnapshot> {
    return this.#vms.createVirtualMachineSnapshot(pod, options, signal);
  }

  /** Lists the VM's snapshots. */
  listVirtualMachineSnapshots(pod: Pod, signal: AbortSignal): Promise<VirtualMachineSnapshot[]> {
    return this.#vms.listVirtualMachineSnapshots(pod, signal);
  }

  /** Reverts the powered-off VM to snapshot `snapshotId`. */
  restoreVirtualMachineSnapshot(pod: Pod, snapshotId: string, signal: AbortSignal): Promise<void> {
    return this.#vms.restoreVirtualMachineSnapshot(pod, snapshotId, signal);
  }

  /** Deletes snapshot `snapshotId`; `NotFoundError` when it is gone. */
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

  // -- helpers --------------------------------------------------------------

  #startWatch(): void {
    if (this.#stopped.aborted) return;
    this.#tracker.watch(this.#stopped);
  }

  /** Reads the VMs unless the watch keeps them current, then resumes interrupted creations. */
  async #fresh(signal: AbortSignal): Promise<void> {
    this.#startWatch();
    try {
      await this.#tracker.ensureFresh(signal);
    } catch (error) {
      throw toProviderError(error, `vsphere provider: listing the VMs at ${this.#client.url}`);
    }
    if (!this.#resumed) {
      this.#resumed = true;
      this.#pods.resumeAll(this.#stopped);
    }
  }

  /** The tracked pod of `pod` with a VM (by its workload UID); `NotFoundError` otherwise. */
  async #trackedOf(pod: Pod, signal: AbortSignal): Promise<TrackedPod> {
    const namespace = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    const key = `${namespace}/${name}`;
    await this.#fresh(signal);
    const tracked = this.#tracker.get(namespace, name);
    const uid = workloadUid(pod);
    if (
      tracked === undefined || tracked.vm === undefined || tracked.deleted !== undefined ||
      (uid !== undefined && tracked.identity.uid !== uid)
    ) {
      throw new NotFoundError(
        `vsphere provider: pod ${key} (workload uid "${uid}") has no VM on this node`,
      );
    }
    return tracked;
  }

  #fullPod(tracked: TrackedPod): Pod {
    const vm = tracked.vm;
    return {
      ...tracked.pod,
      status: podStatusOf(vm, {
        pod: tracked.pod,
        hostName: this.#tracker.hostName(vm?.host),
        stateSince: tracked.stateSince,
        createdAt: tracked.createdAt,
        runningSince: tracked.runningSince,
        waitForGuestIp: this.#config.waitForGuestIp,
        transition: tracked.transition,
        creating: tracked.creating,
        deleted: tracked.deleted,
      }),
    };
  }

  #report(tracked: TrackedPod): void {
    this.#reporter.report(this.#fullPod(tracked));
  }

  #serialize<T>(key: string, body: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(body);
    const settled = next.catch(() => undefined);
    this.#queues.set(key, settled);
    void settled.then(() => {
      if (this.#queues.get(key) === settled) this.#queues.delete(key);
    });
    return next;
  }
}
