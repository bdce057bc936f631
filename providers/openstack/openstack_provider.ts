/**
 * The openstack provider: one Nova server per pod. Servers carry ownership metadata and
 * tags naming cluster, node, namespace, pod and workload UID (a VM-Pod's VirtualMachine
 * UID, else the pod UID); the provider keeps no local state, so after a restart it adopts
 * its servers by the node tag and the metadata (never by name) and rebuilds each pod from
 * the spec its metadata remembers. Status comes from one list of this node's servers per
 * interval; only changes are reported. `kubectl logs` shows the server's lifecycle and its
 * console output. The server behind a pod powers off and on, reboots, is snapshotted and
 * restored, and (in `MigratingOpenStackProvider`, `create_provider.ts`) migrates.
 *
 * This class is the contract over files named after their jobs: `server_tracker.ts`
 * (this node's servers), `server_creation.ts`, `pod_deletion.ts` and `server_removal.ts`,
 * `resolver.ts` (names to ids), `config_check.ts` (the start-up check), `openstack_node.ts`,
 * `capacity.ts` and `node_description.ts` (the Node), `container_logs.ts` and
 * `server_log.ts`, `mapping.ts` (pod ↔ server), `server_power.ts`, `server_snapshots.ts`
 * and `server_migration.ts` (the VM capabilities) and `client.ts` (the APIs).
 *
 * @module
 */

import type { Node, Pod, PodStatus } from "kubernetes-types/core/v1.d.ts";
import {
  AlreadyExistsError,
  type ContainerLogOptions,
  type ContainerLogs,
  type ContainerRef,
  InvalidInputError,
  type NodeStatusNotifier,
  NotFoundError,
  type PodNotifier,
  type Provider,
  type ProviderRuntimeOptions,
  type StopOptions,
  type VirtualMachinePower,
  type VirtualMachineSnapshot,
  type VirtualMachineSnapshots,
  type VirtualMachineState,
} from "../../lib/provider.ts";
import { PodStatusReporter, pollPodStatus, workloadUid } from "../../lib/provider_kit/mod.ts";
import { NodeCapacity } from "./capacity.ts";
import type { OpenStackClient } from "./client.ts";
import type { OpenStackConfig } from "./config.ts";
import { verifyOpenStackConfig } from "./config_check.ts";
import { serverContainerLogs } from "./container_logs.ts";
import { KnownHosts } from "./hosts.ts";
import { identityKey, type ServerOwner } from "./identity.ts";
import { OpenStackNode } from "./openstack_node.ts";
import { deletePodServer } from "./pod_deletion.ts";
import { validatePod } from "./pod_to_server.ts";
import { NameResolver } from "./resolver.ts";
import { describeServer, type ServerActionContext } from "./server_action.ts";
import { createServer } from "./server_creation.ts";
import { rememberPod } from "./server_metadata.ts";
import { powerOff, powerOn, reboot, serverState } from "./server_power.ts";
import {
  deleteSnapshot,
  listSnapshots,
  restoreSnapshot,
  takeSnapshot,
} from "./server_snapshots.ts";
import { ServerTracker, type TrackedServer } from "./server_tracker.ts";
import { decodePodSpec } from "./stored_spec.ts";

/** Options of the provider besides its configuration. */
export interface OpenStackProviderOptions extends ProviderRuntimeOptions {
  /** The tag of this node's servers (see `nodeTag` in `identity.ts`). */
  nodeTag: string;
}

/** Longest pause between two reads while waiting for a server or an image. */
const maxWaitIntervalMs = 2_000;

/**
 * Provider running each pod as a Nova server: the required interfaces, pod notifications
 * by polling, node status notifications, container logs and the power and snapshot VM
 * capabilities.
 */
export class OpenStackProvider
  implements
    Provider,
    PodNotifier,
    NodeStatusNotifier,
    ContainerLogs,
    VirtualMachinePower,
    VirtualMachineSnapshots {
  /** Provider name. */
  readonly name = "openstack";
  readonly #config: OpenStackConfig;
  readonly #client: OpenStackClient;
  readonly #options: OpenStackProviderOptions;
  readonly #now: () => number;
  readonly #stopped: AbortSignal;
  readonly #owner: ServerOwner;
  readonly #hosts: KnownHosts;
  readonly #resolver: NameResolver;
  readonly #tracker: ServerTracker;
  readonly #capacity: NodeCapacity;
  /** What the VM capabilities work with. */
  protected readonly actions: ServerActionContext;
  readonly #node: OpenStackNode;
  readonly #reporter = new PodStatusReporter();
  #polling = false;

  /** Creates the provider; nothing is sent to OpenStack until the first call. */
  constructor(config: OpenStackConfig, client: OpenStackClient, options: OpenStackProviderOptions) {
    this.#config = config;
    this.#client = client;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#stopped = options.signal ?? new AbortController().signal;
    this.#owner = { clusterName: config.clusterName, nodeName: options.nodeName };
    this.#hosts = new KnownHosts(client, this.#now);
    this.#resolver = new NameResolver(client, this.#now);
    this.#tracker = new ServerTracker({
      client,
      hosts: this.#hosts,
      owner: this.#owner,
      nodeTag: options.nodeTag,
      logLines: config.logLines,
      now: this.#now,
      report: (tracked) => this.#report(tracked),
      forgotten: (key) => this.#reporter.forget(key),
      recordEvent: options.recordEvent,
    });
    this.#capacity = new NodeCapacity({
      client,
      maxPods: config.maxPods,
      ownServers: () =>
        this.#tracker.all().filter((tracked) => tracked.deleted === undefined)
          .map((tracked) => tracked.server),
    });
    this.#node = new OpenStackNode({
      config,
      client,
      tracker: this.#tracker,
      capacity: this.#capacity,
      nodeTag: options.nodeTag,
      operatingSystem: options.operatingSystem,
      stopped: this.#stopped,
    });
    this.actions = {
      client,
      tracker: this.#tracker,
      hosts: this.#hosts,
      now: this.#now,
      waitIntervalMs: Math.min(config.pollIntervalSeconds * 1000, maxWaitIntervalMs),
      actionTimeoutMs: config.actionTimeoutSeconds * 1000,
    };
    this.#stopped.addEventListener("abort", () => this.#tracker.wakeAll(), { once: true });
  }

  /**
   * Checks once, at start-up, what the configuration names: the compute microversion, the
   * default networks and the default flavor. One that names nothing is refused as
   * `InvalidInputError` (the agent exits with status 2 and the message); a cloud that does
   * not answer, or refuses the credentials, is no reason to stop: the node says so.
   */
  async verifyConfig(signal: AbortSignal): Promise<void> {
    await verifyOpenStackConfig(this.#config, {
      client: this.#client,
      resolver: this.#resolver,
      signal,
    });
  }

  /** Revokes the agent's token (best effort, at most 2 s), so restarts leave none valid. */
  async close(): Promise<void> {
    await this.#client.close(AbortSignal.timeout(2_000));
  }

  // -- NodeProvider ---------------------------------------------------------

  /**
   * Checks that Keystone gives a token and Nova answers an authenticated call with it;
   * `UnauthenticatedError` when Keystone refuses the credentials, `UnavailableError`
   * naming the cloud otherwise.
   */
  async ping(signal: AbortSignal): Promise<void> {
    await this.#node.ping(signal);
  }

  /** Registers a node status callback, called when capacity or allocatable change. */
  notifyNodeStatus(signal: AbortSignal, callback: (node: Node) => void): void {
    this.#node.notifyNodeStatus(signal, callback);
  }

  /**
   * Returns the node with capacity from the project's quota (bounded by Placement's
   * inventories when readable), nodeInfo and labels. When OpenStack cannot be reached the
   * node starts with zero CPU and memory and gets its capacity on the next refresh.
   */
  async configureNode(node: Node, signal: AbortSignal): Promise<Node> {
    return await this.#node.configureNode(node, signal);
  }

  // -- PodLifecycleHandler --------------------------------------------------

  /**
   * Creates the pod's server (Nova answers at once; the server goes ACTIVE in the
   * background, and the poll reports it). A server that already exists for the pod's
   * workload UID is adopted instead.
   */
  async createPod(pod: Pod, signal: AbortSignal): Promise<void> {
    const validated = validatePod(pod, this.#config.images.aliases);
    const { identity } = validated;
    const other = this.#tracker.get(identity.namespace, identity.name);
    if (other !== undefined && other.identity.uid !== identity.uid && other.deleted === undefined) {
      throw new AlreadyExistsError(
        `openstack provider: pod ${
          identityKey(identity)
        } already runs as server ${other.server.id} for uid "${other.identity.uid}": expected it gone before creating uid "${identity.uid}"`,
      );
    }
    await createServer(pod, {
      validated,
      client: this.#client,
      tracker: this.#tracker,
      resolver: this.#resolver,
      config: this.#config,
      owner: this.#owner,
      now: this.#now,
      signal,
    });
  }

  /**
   * Records a changed pod (labels, annotations, env) in the server's metadata and rebinds
   * the server to the pod object given. A changed image would need a new server and is
   * refused with `InvalidInputError`.
   */
  async updatePod(pod: Pod, signal: AbortSignal): Promise<void> {
    const { identity, container } = validatePod(pod, this.#config.images.aliases);
    const tracked = await this.#tracker.find(identity.namespace, identity.name, {
      uid: identity.uid,
      signal,
    });
    const previous = tracked.stored?.containers[0]?.image;
    if (previous !== undefined && previous !== container.image) {
      throw new InvalidInputError(
        `openstack provider: pod ${
          identityKey(identity)
        }: expected image "${previous}" (the server's), found "${container.image}": a new image needs a new server, so delete and recreate the pod`,
      );
    }
    const { server } = await rememberPod(this.#client, tracked.server, {
      pod,
      identity,
      owner: this.#owner,
      signal,
    });
    tracked.server = server;
    tracked.stored = await decodePodSpec(server.metadata);
    this.#tracker.setPod(tracked, pod);
    this.#report(tracked);
  }

  /**
   * Lets the pod's server go as `onPodDelete` says (delete by default; an evicted pod's as
   * `onEvictedPodDelete` says, never a delete), reports the terminal status and forgets the
   * pod. Throws `NotFoundError` when no server serves it.
   */
  async deletePod(pod: Pod, signal: AbortSignal): Promise<void> {
    await deletePodServer(pod, {
      client: this.#client,
      tracker: this.#tracker,
      config: this.#config,
      nodeTag: this.#options.nodeTag,
      now: this.#now,
      recordEvent: this.#options.recordEvent,
      report: (tracked) => this.#report(tracked),
      signal,
    });
  }

  /** Returns the pod a server of this node serves, with status, or `undefined`. */
  async getPod(namespace: string, name: string, signal: AbortSignal): Promise<Pod | undefined> {
    await this.#tracker.ensureFresh(signal);
    const tracked = this.#tracker.get(namespace, name);
    return tracked === undefined ? undefined : this.#tracker.fullPod(tracked);
  }

  /** Returns the status of the pod's server, or `undefined`. */
  async getPodStatus(
    namespace: string,
    name: string,
    signal: AbortSignal,
  ): Promise<PodStatus | undefined> {
    return (await this.getPod(namespace, name, signal))?.status;
  }

  /** Returns the pods of every server tagged for this node (one list), with status. */
  async getPods(signal: AbortSignal): Promise<Pod[]> {
    await this.#tracker.ensureFresh(signal);
    return this.#tracker.all().map((tracked) => this.#tracker.fullPod(tracked));
  }

  /**
   * Registers a pod status callback until `signal` aborts and starts polling: one list of
   * this node's servers every `pollIntervalSeconds`, reporting only pods whose status changed.
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
      what: `the servers at OpenStack ${this.#client.authUrl}`,
      signal: this.#stopped,
    });
  }

  // -- ContainerLogs --------------------------------------------------------

  /**
   * Streams the server's log: vkedge's lifecycle lines and the console output
   * (`os-getConsoleOutput`, its last `tail` lines when a tail is given). Follows new lines
   * (the console read every 2 s) until `signal` aborts or the pod is deleted.
   */
  async getContainerLogs(
    ref: ContainerRef,
    options: ContainerLogOptions,
    signal: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>> {
    return await serverContainerLogs(
      {
        client: this.#client,
        tracker: this.#tracker,
        logLines: this.#config.logLines,
        now: this.#now,
        stopped: this.#stopped,
      },
      ref,
      { log: options, signal },
    );
  }

  // -- VirtualMachinePower -------------------------------------------------

  /** Returns the power state, host and id of the server behind `pod`. */
  async getVirtualMachineState(pod: Pod, signal: AbortSignal): Promise<VirtualMachineState> {
    await this.#tracker.ensureFresh(signal);
    return serverState(await this.serverOf(pod, signal));
  }

  /** Powers the server on and resolves once it is ACTIVE. */
  async startVirtualMachine(pod: Pod, signal: AbortSignal): Promise<void> {
    await powerOn(this.actions, await this.serverOf(pod, signal), { signal });
  }

  /** Powers the server off (`os-stop`) and resolves once it is SHUTOFF. */
  async stopVirtualMachine(pod: Pod, options: StopOptions, signal: AbortSignal): Promise<void> {
    await powerOff(this.actions, await this.serverOf(pod, signal), { ...options, signal });
  }

  /** Reboots the ACTIVE server (soft; hard with `force`). */
  async restartVirtualMachine(pod: Pod, options: StopOptions, signal: AbortSignal): Promise<void> {
    await reboot(this.actions, await this.serverOf(pod, signal), { ...options, signal });
  }

  // -- VirtualMachineSnapshots ----------------------------------------------

  /** Takes snapshot `options.name` (a Glance image) and resolves once it is active. */
  async createVirtualMachineSnapshot(
    pod: Pod,
    options: { name: string },
    signal: AbortSignal,
  ): Promise<VirtualMachineSnapshot> {
    return await takeSnapshot(this.actions, await this.serverOf(pod, signal), {
      name: options.name,
      signal,
    });
  }

  /** Lists the server's snapshots, oldest first. */
  async listVirtualMachineSnapshots(
    pod: Pod,
    signal: AbortSignal,
  ): Promise<VirtualMachineSnapshot[]> {
    return await listSnapshots(this.actions, await this.serverOf(pod, signal), { signal });
  }

  /** Rebuilds the stopped server from snapshot `snapshotId`. */
  async restoreVirtualMachineSnapshot(
    pod: Pod,
    snapshotId: string,
    signal: AbortSignal,
  ): Promise<void> {
    await restoreSnapshot(this.actions, await this.serverOf(pod, signal), { snapshotId, signal });
  }

  /** Deletes snapshot `snapshotId`; `NotFoundError` when it is gone. */
  async deleteVirtualMachineSnapshot(
    pod: Pod,
    snapshotId: string,
    signal: AbortSignal,
  ): Promise<void> {
    await deleteSnapshot(this.actions, await this.serverOf(pod, signal), { snapshotId, signal });
  }

  // -- helpers --------------------------------------------------------------

  /** The tracked server behind `pod` (by its workload UID); `NotFoundError` when it has none. */
  protected async serverOf(pod: Pod, signal: AbortSignal): Promise<TrackedServer> {
    const namespace = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    const tracked = await this.#tracker.find(namespace, name, { uid: workloadUid(pod), signal });
    if (tracked.deleted !== undefined) {
      throw new NotFoundError(
        `openstack provider: ${describeServer(tracked)} is ${
          tracked.deleted.kept ? "released" : "gone"
        }: there is no VM to act on`,
      );
    }
    return tracked;
  }

  #report(tracked: TrackedServer): void {
    this.#reporter.report(this.#tracker.fullPod(tracked));
  }
}
