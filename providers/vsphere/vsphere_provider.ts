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
 * `inventory.ts` (names → objects), `vm_tracker.ts` (this node's VMs), `vm_lifecycle.ts`
 * (create, delete), `vm_power.ts`, `vm_snapshots.ts`, `vm_migration.ts` (the VM
 * capabilities), `mapping.ts` (pod ↔ VM) and `node_description.ts` (the Node).
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
  InvalidInputError,
  isInvalidInput,
  isUnauthenticated,
  type NodeStatusNotifier,
  NotFoundError,
  type PodNotifier,
  type Provider,
  type ProviderRuntimeOptions,
  type StopOptions,
  UnavailableError,
  type VirtualMachineMigration,
  type VirtualMachinePower,
  type VirtualMachineSnapshot,
  type VirtualMachineSnapshots,
  type VirtualMachineState,
} from "../../lib/provider.ts";
import {
  abortableSleep,
  CallbackSet,
  describeNode,
  errorMessage,
  evictionOf,
  PodStatusReporter,
  streamLogLines,
  workloadUid,
} from "../../lib/provider_kit/mod.ts";
import type { VsphereClient } from "./client.ts";
import type { VsphereConfig } from "./config.ts";
import { toProviderError } from "./faults.ts";
import { Inventory } from "./inventory.ts";
import { retrieveObjects } from "./property_collector.ts";
import { identityKey, nodeOwner, podStatusOf, validatePod } from "./mapping.ts";
import { vsphereNodeDescription } from "./node_description.ts";
import type { VmActionContext } from "./vm_action.ts";
import { createVm, destroyVm, releaseVm, rememberPod, resumePowerOn } from "./vm_lifecycle.ts";
import { migrateVm, migrationTargets } from "./vm_migration.ts";
import { powerStateOf, restartVm, startVm, stopVm, taskTransitionOf } from "./vm_power.ts";
import { createSnapshot, deleteSnapshot, listSnapshots, restoreSnapshot } from "./vm_snapshots.ts";
import { type TrackedPod, VmTracker } from "./vm_tracker.ts";

const logger = getLogger(["vkedge", "provider", "vsphere"]);

/** How long `ping` waits: less than the agent's own ping timeout, so the node names vSphere. */
const pingTimeoutMs = 3_000;

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
  readonly #options: VsphereProviderOptions;
  readonly #now: () => number;
  readonly #stopped: AbortSignal;
  readonly #inventory: Inventory;
  readonly #tracker: VmTracker;
  readonly #actions: VmActionContext;
  readonly #reporter = new PodStatusReporter();
  readonly #nodeCallbacks = new CallbackSet<Node>("node status");
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #bootId = crypto.randomUUID();
  #node: Node | undefined;
  #resumed = false;
  #watchingCapacity = false;

  /** Creates the provider; nothing is sent to vSphere until the first call. */
  constructor(config: VsphereConfig, client: VsphereClient, options: VsphereProviderOptions) {
    this.#config = config;
    this.#client = client;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#stopped = options.signal ?? new AbortController().signal;
    this.#inventory = new Inventory(client, config);
    this.#tracker = new VmTracker({
      client,
      inventory: this.#inventory,
      owner: nodeOwner(config.clusterName, options.nodeName),
      nodeName: options.nodeName,
      logLines: config.logLines,
      now: this.#now,
      report: (tracked) => this.#report(tracked),
      recordEvent: options.recordEvent,
    });
    this.#actions = {
      client,
      tracker: this.#tracker,
      inventory: this.#inventory,
      config,
      report: (tracked) => this.#report(tracked),
      serialize: (key, body) => this.#serialize(key, body),
    };
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

  // -- NodeProvider ---------------------------------------------------------

  /**
   * Checks that vSphere answers an authenticated call (logging in again when the session
   * ended); throws `UnavailableError` naming the endpoint otherwise.
   */
  async ping(signal: AbortSignal): Promise<void> {
    const timeout = AbortSignal.timeout(pingTimeoutMs);
    const pingSignal = AbortSignal.any([signal, timeout]);
    try {
      const { sessionManager } = await this.#client.serviceContent(pingSignal);
      const read = () =>
        retrieveObjects(this.#client, [sessionManager], ["currentSession"], pingSignal);
      // vSphere answers reads of the SessionManager without a session, with no currentSession.
      if ((await read())[0]?.props.get("currentSession") === undefined) {
        this.#client.forgetSession();
        if ((await read())[0]?.props.get("currentSession") === undefined) {
          throw new Error("expected a current session after logging in, found none");
        }
      }
    } catch (error) {
      if (signal.aborted || isUnauthenticated(error)) throw error;
      if (timeout.aborted) {
        throw new UnavailableError(
          `vSphere at ${this.#client.url}: expected an authenticated answer, found none within ${
            pingTimeoutMs / 1000
          } s`,
          { cause: error },
        );
      }
      throw new UnavailableError(
        `vSphere at ${this.#client.url}: expected an authenticated answer, found ${
          errorMessage(error)
        }`,
        { cause: error },
      );
    }
  }

  /** Registers a node status callback, called when capacity changes. */
  notifyNodeStatus(signal: AbortSignal, callback: (node: Node) => void): void {
    this.#nodeCallbacks.add(signal, callback);
    if (signal.aborted || this.#watchingCapacity) return;
    this.#watchingCapacity = true;
    void this.#watchCapacity();
  }

  /**
   * Returns the node with capacity from the placement's hosts (their cores and memory) and
   * `maxPods`, nodeInfo and labels naming the datacenter and compute resource; addresses
   * and the kubelet version stay the agent's. When vSphere cannot be reached the node
   * starts with no CPU and memory and gets them on the next refresh.
   */
  async configureNode(node: Node, signal: AbortSignal): Promise<Node> {
    let placement;
    let about;
    try {
      placement = await this.#inventory.placement(signal);
      about = (await this.#client.serviceContent(signal)).about;
    } catch (error) {
      if (signal.aborted) throw error;
      logger.warn(
        "cannot read the vSphere placement yet: {error}; the node starts without capacity",
        {
          error: errorMessage(error),
        },
      );
    }
    this.#node = describeNode(
      node,
      vsphereNodeDescription({
        placement,
        about,
        hosts: placement?.hosts ?? [],
        maxPods: this.#config.maxPods,
        owner: nodeOwner(this.#config.clusterName, this.#options.nodeName),
        bootId: this.#bootId,
        endpoint: this.#client.url,
        operatingSystem: this.#options.operatingSystem,
        labels: this.#config.labels,
      }),
    );
    return structuredClone(this.#node);
  }

  // -- PodLifecycleHandler --------------------------------------------------

  /**
   * Clones and powers on the pod's VM and waits for both tasks. A VM that already serves
   * the pod's workload UID (a repeated create, or the VM of a VirtualMachine whose VM-Pod
   * was re-created) is adopted instead.
   */
  async createPod(pod: Pod, signal: AbortSignal): Promise<void> {
    const validated = validatePod(pod, this.#config.images.aliases);
    const { identity } = validated;
    const key = identityKey(identity);
    this.#startWatch();
    await this.#tracker.ensureFresh(signal).catch((error) => {
      throw toProviderError(error, `vsphere provider: listing VMs before creating pod ${key}`);
    });
    await this.#serialize(key, async () => {
      const existing = this.#tracker.get(identity.namespace, identity.name);
      if (existing !== undefined && existing.deleted === undefined) {
        if (existing.identity.uid !== identity.uid) {
          throw new AlreadyExistsError(
            `vsphere provider: pod ${key} already runs as ${
              existing.vm
                ? `VM ${existing.vm.name} (${existing.vm.ref.value})`
                : "a VM being cloned"
            } for workload uid "${existing.identity.uid}": expected it gone before creating uid "${identity.uid}"`,
          );
        }
        if (existing.vm !== undefined) {
          existing.pod = pod;
          await rememberPod(this.#actions, existing, pod, signal);
          await resumePowerOn(this.#actions, existing, signal).catch((error) => {
            throw toProviderError(error, `vsphere provider: powering on the VM of pod ${key}`);
          });
          this.#report(existing);
          return;
        }
      }
      const tracked = this.#tracker.ensure(identity, pod);
      tracked.pod = pod;
      tracked.creating = true;
      this.#report(tracked);
      try {
        await createVm(this.#actions, tracked, {
          pod,
          validated,
          owner: { clusterName: this.#config.clusterName, nodeName: this.#options.nodeName },
          signal,
        });
      } catch (error) {
        if (tracked.vm === undefined) this.#tracker.forget(tracked);
        throw error;
      } finally {
        tracked.creating = undefined;
      }
      this.#report(tracked);
    });
  }

  /**
   * Records a changed pod (labels, annotations, env) on the VM and rebinds it to the pod
   * object given (a VM-Pod re-created for the same VirtualMachine has a new UID). A changed
   * image would need a new VM and is refused with `InvalidInputError`.
   */
  async updatePod(pod: Pod, signal: AbortSignal): Promise<void> {
    const { identity, container } = validatePod(pod, this.#config.images.aliases);
    const key = identityKey(identity);
    const tracked = await this.#trackedOf(pod, signal);
    const previous = tracked.pod.spec?.containers?.[0]?.image;
    if (previous !== undefined && previous !== container.image) {
      throw new InvalidInputError(
        `vsphere provider: pod ${key}: expected image "${previous}" (the VM's template), found "${container.image}": a new image needs a new VM, so delete and recreate the pod`,
      );
    }
    await this.#serialize(key, () => rememberPod(this.#actions, tracked, pod, signal));
    tracked.pod = pod;
    this.#report(tracked);
  }

  /**
   * Powers off and destroys the pod's VM, reports the terminal status and forgets the pod.
   * A pod the control plane evicted keeps its VM running (vSphere has no recoverable
   * destroy): the VM is released from this node, and a Warning event says how to take it
   * back.
   */
  async deletePod(pod: Pod, signal: AbortSignal): Promise<void> {
    const tracked = await this.#trackedOf(pod, signal);
    const key = identityKey(tracked.identity);
    const eviction = evictionOf(pod);
    if (eviction) {
      await this.#serialize(key, () => releaseVm(this.#actions, tracked, signal));
      const vm = tracked.vm!;
      const recovery =
        `VM ${vm.name} (${vm.ref.value}) is left running and released from node ${this.#options.nodeName} (extraConfig guestinfo.vkedge.node cleared); to hand it back, set guestinfo.vkedge.node to "${
          nodeOwner(this.#config.clusterName, this.#options.nodeName)
        }" and create the pod again, or delete the VM in vSphere`;
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
    } else {
      await this.#serialize(key, () => destroyVm(this.#actions, tracked, signal));
    }
    tracked.deleted = { at: new Date(this.#now()), byUs: true };
    tracked.log.append(
      `VM ${tracked.vm?.name ?? ""} ${
        eviction ? "released (the pod was evicted)" : "destroyed for the pod's deletion"
      }`,
    );
    logger.info("pod {pod}: VM {vm} {what}", {
      pod: key,
      vm: tracked.vm?.ref.value,
      what: eviction ? "released" : "destroyed",
    });
    this.#report(tracked);
    this.#tracker.forget(tracked);
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

  // -- VirtualMachinePower -------------------------------------------------

  /** Returns the power state, host name and managed-object id of the VM behind `pod`. */
  async getVirtualMachineState(pod: Pod, signal: AbortSignal): Promise<VirtualMachineState> {
    const tracked = await this.#trackedOf(pod, signal);
    const transition = tracked.transition ??
      await taskTransitionOf(this.#actions, tracked, signal).catch((error) => {
        throw toProviderError(
          error,
          `vsphere provider: reading the tasks of pod ${identityKey(tracked.identity)}`,
        );
      });
    const vm = tracked.vm!;
    const host = this.#tracker.hostName(vm.host);
    return {
      power: powerStateOf(vm, transition),
      ...(host ? { host } : {}),
      id: vm.ref.value,
    };
  }

  /** Powers the VM on and resolves once it runs. */
  async startVirtualMachine(pod: Pod, signal: AbortSignal): Promise<void> {
    const tracked = await this.#trackedOf(pod, signal);
    await this.#serialize(
      identityKey(tracked.identity),
      () => startVm(this.#actions, tracked, signal),
    );
  }

  /** Shuts the guest down (power off after the grace period), or cuts the power with `force`. */
  async stopVirtualMachine(pod: Pod, options: StopOptions, signal: AbortSignal): Promise<void> {
    const tracked = await this.#trackedOf(pod, signal);
    await this.#serialize(
      identityKey(tracked.identity),
      () => stopVm(this.#actions, tracked, options, signal),
    );
  }

  /** Resets the running VM. */
  async restartVirtualMachine(pod: Pod, _options: StopOptions, signal: AbortSignal): Promise<void> {
    const tracked = await this.#trackedOf(pod, signal);
    await this.#serialize(
      identityKey(tracked.identity),
      () => restartVm(this.#actions, tracked, signal),
    );
  }

  // -- VirtualMachineSnapshots ----------------------------------------------

  /** Takes snapshot `options.name` of the VM (once per name) and resolves once it is ready. */
  async createVirtualMachineSnapshot(
    pod: Pod,
    options: { name: string },
    signal: AbortSignal,
  ): Promise<VirtualMachineSnapshot> {
    const tracked = await this.#trackedOf(pod, signal);
    return await this.#serialize(
      identityKey(tracked.identity),
      () => createSnapshot(this.#actions, tracked, options.name, signal),
    );
  }

  /** Lists the VM's snapshots. */
  async listVirtualMachineSnapshots(
    pod: Pod,
    signal: AbortSignal,
  ): Promise<VirtualMachineSnapshot[]> {
    return await listSnapshots(this.#actions, await this.#trackedOf(pod, signal), signal);
  }

  /** Reverts the powered-off VM to snapshot `snapshotId`. */
  async restoreVirtualMachineSnapshot(
    pod: Pod,
    snapshotId: string,
    signal: AbortSignal,
  ): Promise<void> {
    const tracked = await this.#trackedOf(pod, signal);
    await this.#serialize(
      identityKey(tracked.identity),
      () => restoreSnapshot(this.#actions, tracked, snapshotId, signal),
    );
  }

  /** Deletes snapshot `snapshotId`; `NotFoundError` when it is gone. */
  async deleteVirtualMachineSnapshot(
    pod: Pod,
    snapshotId: string,
    signal: AbortSignal,
  ): Promise<void> {
    const tracked = await this.#trackedOf(pod, signal);
    await this.#serialize(
      identityKey(tracked.identity),
      () => deleteSnapshot(this.#actions, tracked, snapshotId, signal),
    );
  }

  // -- VirtualMachineMigration ----------------------------------------------

  /** Live-migrates the VM and resolves with the name of its new host. */
  async migrateVirtualMachine(
    pod: Pod,
    options: { targetHost?: string },
    signal: AbortSignal,
  ): Promise<string> {
    const tracked = await this.#trackedOf(pod, signal);
    return await this.#serialize(
      identityKey(tracked.identity),
      () => migrateVm(this.#actions, tracked, options.targetHost, signal),
    );
  }

  /** Names the hosts the VM could be live-migrated to now. */
  async listMigrationTargets(pod: Pod, signal: AbortSignal): Promise<string[]> {
    return await migrationTargets(this.#actions, await this.#trackedOf(pod, signal), signal);
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
      for (const tracked of this.#tracker.all()) {
        void this.#serialize(
          identityKey(tracked.identity),
          () => resumePowerOn(this.#actions, tracked, this.#stopped),
        ).catch((error) =>
          logger.warn("powering on the VM of pod {pod} failed: {error}", {
            pod: identityKey(tracked.identity),
            error: errorMessage(error),
          })
        );
      }
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

  async #watchCapacity(): Promise<void> {
    while (!this.#stopped.aborted) {
      await abortableSleep(this.#config.capacityRefreshSeconds * 1000, this.#stopped);
      if (this.#stopped.aborted || this.#node === undefined) continue;
      try {
        const placement = await this.#inventory.placement(this.#stopped);
        const hosts = await this.#inventory.hosts(this.#stopped);
        const about = (await this.#client.serviceContent(this.#stopped)).about;
        const updated = describeNode(
          this.#node,
          vsphereNodeDescription({
            placement,
            about,
            hosts,
            maxPods: this.#config.maxPods,
            owner: nodeOwner(this.#config.clusterName, this.#options.nodeName),
            bootId: this.#bootId,
            endpoint: this.#client.url,
            operatingSystem: this.#options.operatingSystem,
            labels: this.#config.labels,
          }),
        );
        if (
          JSON.stringify(updated.status?.capacity) !== JSON.stringify(this.#node.status?.capacity)
        ) {
          this.#node = updated;
          this.#nodeCallbacks.emit(updated);
        }
      } catch (error) {
        logger.debug("capacity refresh failed: {error}", { error: errorMessage(error) });
      }
    }
  }
}
