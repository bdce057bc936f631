/**
 * The optional capabilities of a provider, each a small interface detected at runtime with
 * its `has*` guard, so that a backend offers exactly what it can (power without snapshots,
 * logs without exec) and the agent answers the rest with 501 or a clear condition.
 *
 * @module
 */

import type { Node, Pod } from "kubernetes-types/core/v1.d.ts";
import type { MetricFamily, Summary } from "./stats_types.ts";

/** Names one container of one pod. */
export interface ContainerRef {
  /** Pod namespace. */
  namespace: string;
  /** Pod name. */
  pod: string;
  /** Container name. */
  container: string;
}

// ---------------------------------------------------------------------------
// Notifications
// ---------------------------------------------------------------------------

/** Pushes pod status changes to the agent; without it the agent polls `getPods`. */
export interface PodNotifier {
  /**
   * Registers `callback`, called with the full pod whenever its status changes, until
   * `signal` aborts. Must return at once; the callback must not block either.
   */
  notifyPods(signal: AbortSignal, callback: (pod: Pod) => void): void;
}

/** Pushes node status changes (capacity, conditions) to the agent. */
export interface NodeStatusNotifier {
  /**
   * Registers `callback`, called with an updated node whenever the provider changes node
   * status, until `signal` aborts. Must return at once.
   */
  notifyNodeStatus(signal: AbortSignal, callback: (node: Node) => void): void;
}

// ---------------------------------------------------------------------------
// Kubelet API
// ---------------------------------------------------------------------------

/** Options of a container log request, as in the kubelet's `/containerLogs` query. */
export interface ContainerLogOptions {
  /** Only the last `tail` lines (before following). */
  tail?: number;
  /** Keep streaming new lines until the signal aborts or the container ends. */
  follow?: boolean;
  /** Stop after this many bytes. */
  limitBytes?: number;
  /** Only lines newer than this many seconds. */
  sinceSeconds?: number;
  /** Only lines at or after this time. */
  sinceTime?: Date;
  /** Prefix every line with its RFC 3339 timestamp (nanosecond precision) and a space. */
  timestamps?: boolean;
  /** Logs of the previous, terminated instance of the container. */
  previous?: boolean;
}

/** Streams container logs (`kubectl logs`). */
export interface ContainerLogs {
  /**
   * Returns the log of one container as a byte stream. Throws `NotFoundError` for an
   * unknown pod or container and `InvalidInputError` for an impossible request.
   */
  getContainerLogs(
    ref: ContainerRef,
    options: ContainerLogOptions,
    signal: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>>;
}

/** Terminal size sent by an interactive client. */
export interface TerminalSize {
  /** Columns. */
  width: number;
  /** Rows. */
  height: number;
}

/** A two-way byte stream, such as a TCP connection. */
export interface ByteStream {
  /** Bytes from the other side; ends when it half-closes. */
  readable: ReadableStream<Uint8Array>;
  /** Bytes to the other side; closing it half-closes the stream. */
  writable: WritableStream<Uint8Array>;
}

/**
 * Streams of an exec or attach session; absent streams were not requested by the client.
 * The provider closes `stdout` and `stderr` when the process ends; the agent closes `stdin`
 * when the client does and ends `resize` with the session.
 */
export interface ExecStreams {
  /** Input from the client. */
  stdin?: ReadableStream<Uint8Array>;
  /** Output to the client. */
  stdout?: WritableStream<Uint8Array>;
  /** Error output to the client (absent with a TTY: the terminal carries both). */
  stderr?: WritableStream<Uint8Array>;
  /** Whether a terminal was requested (`kubectl exec -t`). */
  tty: boolean;
  /** Terminal sizes, the first as soon as the client sends it, when `tty` is set. */
  resize?: AsyncIterable<TerminalSize>;
}

/** What to run in a container, and its streams. */
export interface ExecOptions {
  /** The command and its arguments. */
  command: string[];
  /** The session's streams. */
  streams: ExecStreams;
}

/** Runs commands in containers (`kubectl exec`). */
export interface ExecInContainer {
  /**
   * Runs `options.command` in the container and resolves with its exit code (0 to 255).
   * `signal` aborts when the client goes away or the session times out: the command should
   * then stop. `NotFoundError` for an unknown pod or container, `InvalidInputError` for a
   * container that does not run; a command that cannot be found is exit code 127.
   */
  runInContainer(ref: ContainerRef, options: ExecOptions, signal: AbortSignal): Promise<number>;
}

/** What to connect to a container's main process. */
export interface AttachOptions {
  /** The session's streams. */
  streams: ExecStreams;
}

/** Connects to the main process of containers (`kubectl attach`, `kubectl run -i`). */
export interface AttachToContainer {
  /**
   * Connects `options.streams` to the container's process (its output from now on, and its
   * input when `stdin` is given) and resolves when the process ends or `signal` aborts (the
   * client detached). `NotFoundError` for an unknown pod or container.
   */
  attachToContainer(ref: ContainerRef, options: AttachOptions, signal: AbortSignal): Promise<void>;
}

/** Names one pod. */
export interface PodRef {
  /** Pod namespace. */
  namespace: string;
  /** Pod name. */
  pod: string;
  /** Pod UID, when the caller named one. */
  uid?: string;
}

/** One forwarded connection. */
export interface PortForwardOptions {
  /** Port of the pod to connect to (1 to 65535). */
  port: number;
  /** The client's side of the connection. */
  connection: ByteStream;
}

/** Forwards connections to ports of pods (`kubectl port-forward`). */
export interface PortForwarder {
  /**
   * Connects `options.connection` to `options.port` of the pod and copies bytes both ways
   * until both sides have ended or `signal` aborts, then resolves. `NotFoundError` for an
   * unknown pod, `UnavailableError` when nothing answers on the port (the message reaches
   * the kubectl user).
   */
  portForward(ref: PodRef, options: PortForwardOptions, signal: AbortSignal): Promise<void>;
}

/** How to restart a container. */
export interface RestartOptions {
  /** Why, in the kubelet's words (`failed liveness probe`, `restart policy Always`), for logs. */
  reason: string;
  /**
   * How long a run that still goes on may take to stop before it is killed (the probe's
   * or the pod's `terminationGracePeriodSeconds`); the provider's default when absent.
   */
  gracePeriodSeconds?: number;
}

/** Restarts containers: after a liveness or startup probe failure, and as `restartPolicy` asks. */
export interface ContainerRestarter {
  /**
   * Ends the container's current run if it still goes on, starts a new one, and resolves
   * once it started. From then on the provider's status shows `restartCount` one higher
   * and the ended run as `lastState.terminated`. `NotFoundError` for an unknown pod or
   * container, `InvalidInputError` when the container cannot run again.
   */
  restartContainer(ref: ContainerRef, options: RestartOptions, signal: AbortSignal): Promise<void>;
}

/**
 * A backend with a kubelet of its own (another cluster's nodes): it runs the pods' probes and
 * applies their restart policy itself, so the agent runs no probes and restarts nothing for
 * its pods, and reports their readiness and restarts as the backend does.
 */
export interface LifecycleBelow {
  readonly probesAndRestartsBelow: true;
}

/** Where to connect for a probe. */
export interface DialOptions {
  /** Port of the pod (1 to 65535). */
  port: number;
}

/**
 * Opens connections to the ports of pods for the agent's `httpGet`, `tcpSocket` and `grpc`
 * probes, for a provider whose pod IPs the agent cannot dial itself. Without this
 * capability the agent dials the pod IP (an edge host reaches its VMs' network).
 */
export interface PodDialer {
  /**
   * A connection to `options.port` of the pod; the agent closes it. `UnavailableError` when
   * nothing listens there (the probe fails with the message), `NotImplementedError` when the
   * agent cannot reach this pod's network at all (the probe is unsupported: the agent says
   * so in an event and never counts it as passed).
   */
  dialPod(ref: PodRef, options: DialOptions, signal: AbortSignal): Promise<ByteStream>;
}

/** Serves the kubelet's `/stats/summary`. */
export interface StatsSummary {
  /** Returns node and per-pod usage; container counts must match the running containers. */
  getStatsSummary(signal: AbortSignal): Promise<Summary>;
}

/** Serves the kubelet's `/metrics/resource`. */
export interface MetricsResource {
  /**
   * Returns the families of the kubelet's resource metrics (`node_cpu_usage_seconds_total`,
   * `container_memory_working_set_bytes`, `resource_scrape_error`, …).
   */
  getMetricsResource(signal: AbortSignal): Promise<MetricFamily[]>;
}

// ---------------------------------------------------------------------------
// Virtual machines
// ---------------------------------------------------------------------------

/** Where a virtual machine runs and whether it is powered. */
export interface VirtualMachineState {
  /**
   * Power state as the IaaS reports it. `Stopped` is a clean power-off (by vkedge or the
   * guest); `Crashed` an unclean end (the guest crashed, the hypervisor killed it).
   */
  power:
    | "Running"
    | "Stopped"
    | "Starting"
    | "Stopping"
    | "Rebooting"
    | "Migrating"
    | "Paused"
    | "Crashed"
    | "Unknown";
  /** Host (hypervisor) the VM is on, by the name `migrateVirtualMachine` accepts, when known. */
  host?: string;
  /** The IaaS identifier of the VM (a uuid, a managed-object id), when known. */
  id?: string;
}

/** How to power a VM off. */
export interface StopOptions {
  /** Cut the power at once instead of asking the guest to shut down. */
  force?: boolean;
  /** How long the guest may take to shut down before the power is cut (provider default). */
  gracePeriodSeconds?: number;
}

/**
 * Powers the VM behind a pod on, off and through a reboot. Every method is idempotent and
 * leaves the VM and its disks in place; `NotFoundError` when the pod has no VM.
 */
export interface VirtualMachinePower {
  /** Returns the current power state and host of the VM behind `pod`. */
  getVirtualMachineState(pod: Pod, signal: AbortSignal): Promise<VirtualMachineState>;
  /** Powers the VM on and resolves once it runs; a running VM is left alone. */
  startVirtualMachine(pod: Pod, signal: AbortSignal): Promise<void>;
  /**
   * Powers the VM off, gracefully unless `options.force` (a graceful stop that outlasts
   * `gracePeriodSeconds` cuts the power), and resolves once it is off; a stopped VM is
   * left alone.
   */
  stopVirtualMachine(pod: Pod, options: StopOptions, signal: AbortSignal): Promise<void>;
  /** Reboots a running VM, gracefully unless `options.force`; `InvalidInputError` when it is off. */
  restartVirtualMachine(pod: Pod, options: StopOptions, signal: AbortSignal): Promise<void>;
}

/** A snapshot of a virtual machine. */
export interface VirtualMachineSnapshot {
  /** Provider identifier used to restore or delete it. */
  id: string;
  /** Name given at creation. */
  name: string;
  /** Creation time (RFC 3339). */
  createdAt: string;
  /** Whether it can be restored from yet (false while it is being taken). */
  ready: boolean;
  /** Set when taking it failed; the snapshot is then useless and may be deleted. */
  error?: string;
  /** Size, when known. */
  sizeBytes?: number;
}

/**
 * Snapshots of the VM behind a pod (all of its disks). Names are unique per VM and chosen
 * by the caller, which is what makes a create repeated after an agent restart safe.
 */
export interface VirtualMachineSnapshots {
  /**
   * Takes a snapshot named `options.name` and resolves once it is ready. Idempotent for
   * the same name: a snapshot of that name that exists, or is still being taken by an
   * interrupted earlier call, is waited for and returned, never taken twice.
   */
  createVirtualMachineSnapshot(
    pod: Pod,
    options: { name: string },
    signal: AbortSignal,
  ): Promise<VirtualMachineSnapshot>;
  /** Lists the VM's snapshots, so a reconcile after a restart finds what exists. */
  listVirtualMachineSnapshots(pod: Pod, signal: AbortSignal): Promise<VirtualMachineSnapshot[]>;
  /**
   * Reverts the VM's disks to the snapshot `snapshotId`. The VM must be stopped
   * (`InvalidInputError` otherwise); reverting twice to the same snapshot is harmless.
   */
  restoreVirtualMachineSnapshot(pod: Pod, snapshotId: string, signal: AbortSignal): Promise<void>;
  /** Deletes the snapshot `snapshotId`; throws `NotFoundError` if it is gone. */
  deleteVirtualMachineSnapshot(pod: Pod, snapshotId: string, signal: AbortSignal): Promise<void>;
}

/** Moves the VM behind a pod to another host. */
export interface VirtualMachineMigration {
  /**
   * Live-migrates the running VM, to `targetHost` or a host the IaaS picks, and resolves
   * with the new host once it runs there. `InvalidInputError` when `targetHost` is unknown
   * or cannot take the VM, or the VM is not running; `ResourceExhaustedError`
   * (`capacity`) when no host can take it.
   */
  migrateVirtualMachine(
    pod: Pod,
    options: { targetHost?: string },
    signal: AbortSignal,
  ): Promise<string>;
  /** Hosts the VM could be migrated to now (the names `targetHost` accepts). */
  listMigrationTargets(pod: Pod, signal: AbortSignal): Promise<string[]>;
}

// ---------------------------------------------------------------------------
// Volumes
// ---------------------------------------------------------------------------

/** What to create for a PersistentVolumeClaim. */
export interface VolumeRequest {
  /**
   * Name to give the volume: the PV name, `pvc-<claim UID>`. The key of idempotence: a create
   * repeated after an agent crash (also while the first create's IaaS job runs) finds the
   * volume of that name instead of making a second one.
   */
  name: string;
  /** Requested size. */
  sizeBytes: number;
  /** StorageClass parameters (a disk offering, a primary storage, …, as the provider names them). */
  parameters: Record<string, string>;
  /** Requested access modes, such as `ReadWriteOnce`; the agent passes only ones a disk can give. */
  accessModes: string[];
  /** The claim, `namespace/name`, for the volume's description and tags. */
  claim: string;
}

/** A volume as the provider knows it. */
export interface ProvisionedVolume {
  /** Provider identifier. */
  id: string;
  /** The `VolumeRequest.name` it was created for. */
  name: string;
  /** Actual size. */
  sizeBytes: number;
  /** Pods (`namespace/name`) whose VMs have it attached. */
  attachedTo: string[];
  /** Whether it is usable (false while the IaaS still creates it). */
  ready: boolean;
  /** Provider-specific attributes recorded on the PV (CSI-style volume attributes). */
  attributes?: Record<string, string>;
}

/**
 * Creates IaaS volumes (data disks) for PVCs and attaches them to the VMs behind pods. A
 * volume outlives the VMs it is attached to: deleting a pod's VM detaches its volumes and
 * leaves them in place.
 */
export interface VolumeProvisioner {
  /**
   * Creates a volume and resolves once it is ready; idempotent for the same `request.name`.
   * `InvalidInputError` for parameters that name nothing (an unknown disk offering),
   * `ResourceExhaustedError` when there is no room.
   */
  createVolume(request: VolumeRequest, signal: AbortSignal): Promise<ProvisionedVolume>;
  /** Returns the volume `volumeId`, or `undefined` if it does not exist. */
  getVolume(volumeId: string, signal: AbortSignal): Promise<ProvisionedVolume | undefined>;
  /** Lists the volumes this node's agent created, so a reconcile after a restart finds them. */
  listVolumes(signal: AbortSignal): Promise<ProvisionedVolume[]>;
  /** Deletes (and where the IaaS has it, expunges) a detached volume; `NotFoundError` if it is gone. */
  deleteVolume(volumeId: string, signal: AbortSignal): Promise<void>;
  /** Grows a volume to at least `sizeBytes`; resolves with the new size. Never shrinks. */
  expandVolume(volumeId: string, sizeBytes: number, signal: AbortSignal): Promise<number>;
  /** Attaches a volume to the VM behind `pod`; attached already is fine. */
  attachVolume(volumeId: string, pod: Pod, signal: AbortSignal): Promise<void>;
  /** Detaches a volume from the VM behind `pod`; detached already is fine. */
  detachVolume(volumeId: string, pod: Pod, signal: AbortSignal): Promise<void>;
}

// ---------------------------------------------------------------------------
// Guards
// ---------------------------------------------------------------------------

/**
 * A type guard for capability `C`: true when the provider has every method in `methods`.
 * The names are checked against `C` by the compiler, so a guard cannot miss a method.
 */
function capability<C>(
  ...methods: (keyof C & string)[]
): <P extends object>(provider: P) => provider is P & C {
  return <P extends object>(provider: P): provider is P & C => {
    const record = provider as Record<string, unknown>;
    return methods.every((name) => typeof record[name] === "function");
  };
}

/** Tells whether the provider pushes pod status changes (otherwise the agent polls). */
export const hasPodNotifier = capability<PodNotifier>("notifyPods");

/** Tells whether the provider pushes node status changes. */
export const hasNodeStatusNotifier = capability<NodeStatusNotifier>("notifyNodeStatus");

/** Tells whether the provider streams container logs. */
export const hasContainerLogs = capability<ContainerLogs>("getContainerLogs");

/** Tells whether the provider runs commands in containers. */
export const hasExecInContainer = capability<ExecInContainer>("runInContainer");

/** Tells whether the provider attaches to the main process of containers. */
export const hasAttachToContainer = capability<AttachToContainer>("attachToContainer");

/** Tells whether the provider forwards connections to ports of pods. */
export const hasPortForwarder = capability<PortForwarder>("portForward");

/** Tells whether the provider restarts containers. */
export const hasContainerRestarter = capability<ContainerRestarter>("restartContainer");

/** Tells whether the provider's backend runs the pods' probes and restarts itself. */
export function hasLifecycleBelow<P extends object>(provider: P): provider is P & LifecycleBelow {
  return (provider as Partial<LifecycleBelow>).probesAndRestartsBelow === true;
}

/** Tells whether the provider opens connections to pod ports for probes. */
export const hasPodDialer = capability<PodDialer>("dialPod");

/** Tells whether the provider serves `/stats/summary`. */
export const hasStatsSummary = capability<StatsSummary>("getStatsSummary");

/** Tells whether the provider serves `/metrics/resource`. */
export const hasMetricsResource = capability<MetricsResource>("getMetricsResource");

/** Tells whether the provider powers the VMs behind pods on and off. */
export const hasVirtualMachinePower = capability<VirtualMachinePower>(
  "getVirtualMachineState",
  "startVirtualMachine",
  "stopVirtualMachine",
  "restartVirtualMachine",
);

/** Tells whether the provider snapshots the VMs behind pods. */
export const hasVirtualMachineSnapshots = capability<VirtualMachineSnapshots>(
  "createVirtualMachineSnapshot",
  "listVirtualMachineSnapshots",
  "restoreVirtualMachineSnapshot",
  "deleteVirtualMachineSnapshot",
);

/** Tells whether the provider migrates the VMs behind pods between hosts. */
export const hasVirtualMachineMigration = capability<VirtualMachineMigration>(
  "migrateVirtualMachine",
  "listMigrationTargets",
);

/** Tells whether the provider provisions volumes. */
export const hasVolumeProvisioner = capability<VolumeProvisioner>(
  "createVolume",
  "expandVolume",
  "getVolume",
  "listVolumes",
  "deleteVolume",
  "attachVolume",
  "detachVolume",
);
