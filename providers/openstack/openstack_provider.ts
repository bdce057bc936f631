/**
 * The openstack provider: one Nova server per pod. Servers carry ownership metadata and
 * tags naming cluster, node, namespace, pod and workload UID (a VM-Pod's VirtualMachine
 * UID, else the pod UID); the provider keeps no local state, so after a restart it adopts
 * its servers by the node tag and the metadata (never by name) and rebuilds each pod from
 * the spec its metadata remembers. Status comes from one list of this node's servers per
 * interval; only changes are reported. `kubectl logs` shows the server's lifecycle and its
 * console output. The server behind a pod powers off and on, reboots, is snapshotted and
 * restored, and (in {@linkcode MigratingOpenStackProvider}) migrates.
 *
 * This class is the contract over files named after their jobs: `server_tracker.ts`
 * (this node's servers), `server_creation.ts` and `server_removal.ts`, `resolver.ts`
 * (names to ids), `capacity.ts` and `node_description.ts` (the Node), `server_log.ts`,
 * `mapping.ts` (pod ↔ server), `server_power.ts`, `server_snapshots.ts` and
 * `server_migration.ts` (the VM capabilities) and `client.ts` (the APIs).
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
  pollPodStatus,
  streamLogLines,
  workloadUid,
} from "../../lib/provider_kit/mod.ts";
import { anyReplySchema, consoleOutputSchema } from "./api_types.ts";
import { NodeCapacity } from "./capacity.ts";
import type { OpenStackClient } from "./client.ts";
import type { OpenStackConfig } from "./config.ts";
import { OpenStackHttpError, toProviderError } from "./errors.ts";
import { KnownHosts } from "./hosts.ts";
import { identityKey, nodeTag, type ServerOwner } from "./identity.ts";
import { NO_NETWORK, validatePod } from "./pod_to_server.ts";
import { NameResolver } from "./resolver.ts";
import { describeServer, type ServerActionContext } from "./server_action.ts";
import { createServer } from "./server_creation.ts";
import { rememberPod } from "./server_metadata.ts";
import { migrate, type MigrationKind, migrationTargets } from "./server_migration.ts";
import { powerOff, powerOn, reboot, serverState } from "./server_power.ts";
import { type RemovalPolicy, removedText, removeServer } from "./server_removal.ts";
import {
  deleteSnapshot,
  listSnapshots,
  restoreSnapshot,
  takeSnapshot,
} from "./server_snapshots.ts";
import { openstackNodeDescription } from "./node_description.ts";
import { ServerTracker, type TrackedServer } from "./server_tracker.ts";
import { decodePodSpec } from "./stored_spec.ts";

const logger = getLogger(["vkedge", "provider", "openstack"]);

/** Options of the provider besides its configuration. */
export interface OpenStackProviderOptions extends ProviderRuntimeOptions {
  /** The tag of this node's servers (see {@linkcode nodeTag}). */
  nodeTag: string;
}

/** Longest pause between two reads while waiting for a server or an image. */
const maxWaitIntervalMs = 2_000;
/** Pause between two reads of the console while a log is followed. */
const consoleFollowMs = 2_000;

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
  readonly #bootId = crypto.randomUUID();
  readonly #hosts: KnownHosts;
  readonly #resolver: NameResolver;
  readonly #tracker: ServerTracker;
  readonly #capacity: NodeCapacity;
  /** What the VM capabilities work with. */
  protected readonly actions: ServerActionContext;
  readonly #reporter = new PodStatusReporter();
  readonly #nodeCallbacks = new CallbackSet<Node>("node status");
  #node: Node | undefined;
  #polling = false;
  #watchingCapacity = false;

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
    const bounded = AbortSignal.any([signal, AbortSignal.timeout(20_000)]);
    try {
      await this.#client.computeVersion(bounded);
      const networks = this.#config.networks.default;
      if (!(networks.length === 1 && networks[0] === NO_NETWORK)) {
        for (const ref of networks) await this.#resolver.network(ref, bounded);
      }
      const flavor = this.#config.flavors.default;
      if (flavor !== undefined) {
        const flavors = await this.#resolver.flavors(bounded);
        if (!flavors.some((candidate) => candidate.name === flavor || candidate.id === flavor)) {
          throw new InvalidInputError(
            `openstack provider config: flavors.default: flavor "${flavor}" not found: expected one of ${
              flavors.map((candidate) => candidate.name).join(", ")
            }`,
          );
        }
      }
    } catch (error) {
      if (isInvalidInput(error)) throw error;
      logger.warn("cannot check the configuration at start-up: {error}; checked again on use", {
        error: errorMessage(error),
      });
    }
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
    try {
      await this.#client.request("compute", "GET", "/flavors", {
        query: { limit: "1" },
        schema: anyReplySchema,
        signal,
      });
    } catch (error) {
      if (signal.aborted || isUnauthenticated(error)) throw error;
      throw new UnavailableError(
        `OpenStack at ${this.#client.authUrl}: expected Keystone to give a token and Nova to answer with it, found ${
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
   * Returns the node with capacity from the project's quota (bounded by Placement's
   * inventories when readable), nodeInfo and labels. When OpenStack cannot be reached the
   * node starts with zero CPU and memory and gets its capacity on the next refresh.
   */
  async configureNode(node: Node, signal: AbortSignal): Promise<Node> {
    let computeVersion: string | undefined;
    try {
      await this.#tracker.refresh(signal); // this node's servers count towards allocatable
      await this.#capacity.refresh(signal);
      computeVersion = await this.#client.computeVersion(signal);
    } catch (error) {
      if (signal.aborted) throw error;
      logger.warn("cannot read the OpenStack capacity yet: {error}; the node starts with none", {
        error: errorMessage(error),
      });
    }
    const token = await this.#client.token(signal).catch(() => undefined);
    this.#node = describeNode(
      node,
      openstackNodeDescription({
        resources: this.#capacity.resources(),
        nodeTag: this.#options.nodeTag,
        bootId: this.#bootId,
        authUrl: this.#client.authUrl,
        project: token?.projectName ?? token?.projectId,
        computeVersion,
        region: this.#config.region,
        availabilityZone: this.#config.availabilityZone,
        operatingSystem: this.#options.operatingSystem,
        labels: this.#config.labels,
        providerID: this.#config.providerID,
      }),
    );
    return structuredClone(this.#node);
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
    const namespace = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    const key = `${namespace}/${name}`;
    const tracked = await this.#tracker.find(namespace, name, { uid: workloadUid(pod), signal });
    const id = tracked.server.id;
    const eviction = evictionOf(pod);
    const policy: RemovalPolicy = eviction
      ? this.#config.onEvictedPodDelete
      : this.#config.onPodDelete;
    tracked.deleting = true;
    try {
      await removeServer(tracked, {
        client: this.#client,
        policy,
        nodeTag: this.#options.nodeTag,
        log: (text) => tracked.log.append(new Date(this.#now()), text),
        signal,
      });
    } catch (error) {
      throw toProviderError(error, `openstack provider: deleting server ${id} of pod ${key}`);
    } finally {
      tracked.deleting = undefined;
    }
    const at = new Date(this.#now());
    tracked.deleted = { at, byUs: true, ...(policy === "delete" ? {} : { kept: true }) };
    tracked.log.append(at, removedText(tracked, policy));
    logger.info("pod {pod}: server {id} {what}", {
      pod: key,
      id,
      what: policy === "delete" ? "deleted" : "released",
    });
    if (eviction) {
      const kept = `server ${tracked.server.name} (${id}) is ${
        policy === "stop" ? "stopped" : "left running"
      } and released (onEvictedPodDelete: ${policy}): its node and uid tags are removed, its metadata still names the pod; delete it, or start it again, with the openstack CLI`;
      this.#options.recordEvent?.(
        pod,
        "Warning",
        "EvictedPodServerKept",
        `Pod evicted by the control plane (${eviction.reason}: ${eviction.message}); ${kept}`,
      );
      logger.warn("pod {pod} was evicted ({reason}); {kept}", {
        pod: key,
        reason: eviction.reason,
        kept,
      });
    }
    this.#report(tracked);
    this.#tracker.setReleased(id);
    this.#tracker.forget(tracked);
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

  /** Reads the server's console (its last `length` lines) into its log; failures are logged. */
  async #readConsole(tracked: TrackedServer, length: number, signal: AbortSignal): Promise<void> {
    if (tracked.deleted !== undefined || tracked.server.status === "BUILD") return;
    try {
      const reply = await this.#client.request(
        "compute",
        "POST",
        `/servers/${tracked.server.id}/action`,
        {
          body: { "os-getConsoleOutput": { length } },
          schema: consoleOutputSchema,
          retry: "idempotent",
          signal,
        },
      );
      tracked.log.mergeConsole(reply.value.output ?? "", new Date(this.#now()));
    } catch (error) {
      if (signal.aborted) return;
      // No console yet (409 while it builds), or none for this hypervisor: lifecycle only.
      logger.debug("console of {server}: {error}", {
        server: describeServer(tracked),
        error: errorMessage(error),
      });
    }
  }

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
    const { namespace, pod: podName, container: containerName } = ref;
    await this.#tracker.ensureFresh(signal);
    const key = `${namespace}/${podName}`;
    const tracked = this.#tracker.get(namespace, podName);
    if (tracked === undefined) {
      throw new NotFoundError(`pod "${key}" not found in the openstack provider`);
    }
    const container = tracked.pod.spec?.containers?.[0]?.name ?? "vm";
    if (containerName !== container) {
      throw new NotFoundError(
        `container "${containerName}" not found in pod "${key}": expected "${container}"`,
      );
    }
    if (options.previous) {
      throw new InvalidInputError(
        `previous terminated container "${containerName}" in pod "${key}" not found: a server has no earlier instance`,
      );
    }
    const length = Math.min(this.#config.logLines, options.tail ?? this.#config.logLines);
    await this.#readConsole(tracked, Math.max(1, length), signal);
    const stop = AbortSignal.any([signal, this.#stopped]);
    if (options.follow) {
      void (async () => {
        while (!stop.aborted && tracked.deleted === undefined) {
          await abortableSleep(consoleFollowMs, stop);
          if (stop.aborted) return;
          await this.#readConsole(tracked, this.#config.logLines, stop);
        }
      })();
    }
    return streamLogLines(tracked.log, options, stop);
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

/** The openstack provider with VM migration (live or cold, as configured). */
export class MigratingOpenStackProvider extends OpenStackProvider
  implements VirtualMachineMigration {
  readonly #kind: MigrationKind;

  /** Creates the provider; `kind` is how servers move. */
  constructor(
    config: OpenStackConfig,
    client: OpenStackClient,
    options: OpenStackProviderOptions & { kind: MigrationKind },
  ) {
    super(config, client, options);
    this.#kind = options.kind;
  }

  /** Migrates the server and resolves with the name of its new host. */
  async migrateVirtualMachine(
    pod: Pod,
    options: { targetHost?: string },
    signal: AbortSignal,
  ): Promise<string> {
    return await migrate(this.actions, await this.serverOf(pod, signal), {
      ...options,
      kind: this.#kind,
      signal,
    });
  }

  /** Names the compute hosts the server could move to now. */
  async listMigrationTargets(pod: Pod, signal: AbortSignal): Promise<string[]> {
    return await migrationTargets(this.actions, await this.serverOf(pod, signal), { signal });
  }
}

/**
 * Whether the credentials may migrate servers, as far as the cloud tells at start-up:
 * live migration needs them to see the hypervisors, which by default only an admin may.
 * A cloud that does not answer is given the benefit of the doubt.
 */
async function mayMigrate(client: OpenStackClient, signal: AbortSignal): Promise<boolean> {
  try {
    await client.request("compute", "GET", "/os-hypervisors", {
      query: { limit: "1" },
      schema: anyReplySchema,
      signal: AbortSignal.any([signal, AbortSignal.timeout(15_000)]),
    });
    return true;
  } catch (error) {
    if (error instanceof OpenStackHttpError && error.status === 403) return false;
    logger.warn(
      "cannot ask OpenStack whether these credentials may migrate: {error}; assuming they may",
      {
        error: errorMessage(error),
      },
    );
    return true;
  }
}

/**
 * Builds the provider for `config`: with migration (live or cold) unless `migration: off`,
 * or `auto` and the cloud's policy does not let the credentials see the hypervisors (then
 * a VirtualMachineMigration fails at once saying the provider cannot migrate).
 */
export async function createOpenStackProvider(
  config: OpenStackConfig,
  client: OpenStackClient,
  options: ProviderRuntimeOptions & { signal: AbortSignal },
): Promise<OpenStackProvider> {
  const tag = await nodeTag({ clusterName: config.clusterName, nodeName: options.nodeName });
  const base = { ...options, nodeTag: tag };
  let kind: MigrationKind | undefined = config.migration === "cold" ? "cold" : "live";
  if (config.migration === "off") kind = undefined;
  if (config.migration === "auto" && !(await mayMigrate(client, options.signal))) {
    logger.warn(
      "the cloud's policy does not let these credentials see Nova's hypervisors: VM migration is off (admin credentials, or migration: live, turn it on)",
    );
    kind = undefined;
  }
  const provider = kind === undefined
    ? new OpenStackProvider(config, client, base)
    : new MigratingOpenStackProvider(config, client, { ...base, kind });
  await provider.verifyConfig(options.signal);
  return provider;
}
