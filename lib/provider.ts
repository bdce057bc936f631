/**
 * The provider contract: what the agent asks of the system that actually runs pods
 * (a ZStack cloud, an in-memory mock, …). Three required interfaces mirror upstream
 * virtual-kubelet; everything optional is a separate capability detected at runtime with
 * the `has*` type guards, and errors crossing the contract are typed so controllers decide
 * between retrying and giving up without string matching.
 *
 * @module
 */

import type { Node, Pod, PodStatus } from "kubernetes-types/core/v1.d.ts";
import type { MetricFamily, Summary } from "./stats_types.ts";

// ---------------------------------------------------------------------------
// Required interfaces
// ---------------------------------------------------------------------------

/**
 * Creates, updates and deletes pods in the provider and reports them back.
 * Every method may be called repeatedly for the same pod and must converge.
 */
export interface PodLifecycleHandler {
  /** Makes the pod real; throws `AlreadyExistsError` if a pod with this namespace/name exists. */
  createPod(pod: Pod, signal: AbortSignal): Promise<void>;
  /** Applies a changed spec (or metadata) to a pod the provider already runs. */
  updatePod(pod: Pod, signal: AbortSignal): Promise<void>;
  /**
   * Stops and removes the pod; throws `NotFoundError` if the provider does not know it.
   * A notifying provider reports the terminal status through its `notifyPods` callback.
   */
  deletePod(pod: Pod, signal: AbortSignal): Promise<void>;
  /** Returns the pod as the provider sees it (status included), or `undefined` if unknown. */
  getPod(namespace: string, name: string, signal: AbortSignal): Promise<Pod | undefined>;
  /** Returns the status of the pod, or `undefined` if unknown. */
  getPodStatus(
    namespace: string,
    name: string,
    signal: AbortSignal,
  ): Promise<PodStatus | undefined>;
  /** Returns every pod the provider runs for this node, status included. */
  getPods(signal: AbortSignal): Promise<Pod[]>;
}

/** Pushes pod status changes to the agent instead of being polled. */
export interface PodNotifier {
  /**
   * Registers `callback`, called with the full pod whenever its status changes, until
   * `signal` aborts. Must return at once; the callback must not block either.
   */
  notifyPods(signal: AbortSignal, callback: (pod: Pod) => void): void;
}

/** The node side of a provider: liveness, node status and the node's description. */
export interface NodeProvider {
  /** Cheap liveness probe of the backend; throws (typically `UnavailableError`) when down. */
  ping(signal: AbortSignal): Promise<void>;
  /**
   * Registers `callback`, called with an updated node whenever the provider changes node
   * status, until `signal` aborts. Must return at once.
   */
  notifyNodeStatus(signal: AbortSignal, callback: (node: Node) => void): void;
  /**
   * Returns `node` completed with what the provider knows: capacity and allocatable,
   * addresses, nodeInfo, extra labels and conditions. The agent owns name, taints, base
   * labels and the Ready condition, and calls this once before registering the node.
   */
  configureNode(node: Node, signal: AbortSignal): Promise<Node>;
}

/** A loaded provider: the required interfaces plus any optional capabilities. */
export type Provider = PodLifecycleHandler & NodeProvider & {
  /** Provider name as chosen by `--provider`, such as `mock`. */
  readonly name: string;
};

// ---------------------------------------------------------------------------
// Optional capabilities
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
    namespace: string,
    podName: string,
    containerName: string,
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

/** Streams of an exec session; absent streams were not requested by the client. */
export interface ExecStreams {
  /** Input from the client. */
  stdin?: ReadableStream<Uint8Array>;
  /** Output to the client. */
  stdout?: WritableStream<Uint8Array>;
  /** Error output to the client (absent with a TTY). */
  stderr?: WritableStream<Uint8Array>;
  /** Whether a terminal was requested. */
  tty: boolean;
  /** Terminal resize events, when `tty` is set. */
  resize?: AsyncIterable<TerminalSize>;
}

/** Runs commands in containers (`kubectl exec`). */
export interface ExecInContainer {
  /** Runs `command` in the container and resolves with its exit code. */
  runInContainer(
    namespace: string,
    podName: string,
    containerName: string,
    command: string[],
    streams: ExecStreams,
    signal: AbortSignal,
  ): Promise<number>;
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

/** Where a virtual machine runs and whether it is powered. */
export interface VirtualMachineState {
  /** Power state as the IaaS reports it. */
  power: "Running" | "Stopped" | "Starting" | "Stopping" | "Migrating" | "Unknown";
  /** Host (hypervisor) the VM is on, when known. */
  host?: string;
}

/** A snapshot of a virtual machine. */
export interface VirtualMachineSnapshot {
  /** Provider identifier used to restore or delete it. */
  id: string;
  /** Name given at creation. */
  name: string;
  /** Creation time (RFC 3339). */
  createdAt: string;
  /** Size, when known. */
  sizeBytes?: number;
}

/** Power, snapshot and migration operations on the VM behind a pod. */
export interface VirtualMachineLifecycle {
  /** Returns the current power state and host of the VM behind `pod`. */
  getVirtualMachineState(pod: Pod, signal: AbortSignal): Promise<VirtualMachineState>;
  /** Powers the VM on; a running VM is left alone. */
  startVirtualMachine(pod: Pod, signal: AbortSignal): Promise<void>;
  /** Powers the VM off, gracefully unless `force`. */
  stopVirtualMachine(pod: Pod, options: { force?: boolean }, signal: AbortSignal): Promise<void>;
  /** Reboots the VM. */
  restartVirtualMachine(pod: Pod, signal: AbortSignal): Promise<void>;
  /** Takes a snapshot named `name`. */
  snapshotVirtualMachine(
    pod: Pod,
    name: string,
    signal: AbortSignal,
  ): Promise<VirtualMachineSnapshot>;
  /** Reverts the VM to the snapshot `snapshotId`. */
  restoreVirtualMachine(pod: Pod, snapshotId: string, signal: AbortSignal): Promise<void>;
  /** Deletes the snapshot `snapshotId`. */
  deleteVirtualMachineSnapshot(pod: Pod, snapshotId: string, signal: AbortSignal): Promise<void>;
  /** Live-migrates the VM, to `targetHost` or a host the IaaS picks; resolves with the new host. */
  migrateVirtualMachine(
    pod: Pod,
    options: { targetHost?: string },
    signal: AbortSignal,
  ): Promise<string>;
}

/** What to create for a PersistentVolumeClaim. */
export interface VolumeRequest {
  /** Name to give the volume (the PV name). */
  name: string;
  /** Requested size. */
  sizeBytes: number;
  /** StorageClass parameters. */
  parameters: Record<string, string>;
  /** Requested access modes, such as `ReadWriteOnce`. */
  accessModes: string[];
}

/** A volume as the provider knows it. */
export interface ProvisionedVolume {
  /** Provider identifier. */
  id: string;
  /** Actual size. */
  sizeBytes: number;
  /** Provider-specific attributes recorded on the PV (CSI-style volume attributes). */
  attributes?: Record<string, string>;
}

/** Creates IaaS volumes for PVCs and attaches them to the VMs behind pods. */
export interface VolumeProvisioner {
  /** Creates a volume; idempotent for the same `request.name`. */
  createVolume(request: VolumeRequest, signal: AbortSignal): Promise<ProvisionedVolume>;
  /** Deletes a volume; throws `NotFoundError` if it is already gone. */
  deleteVolume(volumeId: string, signal: AbortSignal): Promise<void>;
  /** Attaches a volume to the VM behind `pod`. */
  attachVolume(volumeId: string, pod: Pod, signal: AbortSignal): Promise<void>;
  /** Detaches a volume from the VM behind `pod`. */
  detachVolume(volumeId: string, pod: Pod, signal: AbortSignal): Promise<void>;
}

function hasMethods(value: object, names: string[]): boolean {
  const record = value as Record<string, unknown>;
  return names.every((name) => typeof record[name] === "function");
}

/** Tells whether the provider streams container logs. */
export function hasContainerLogs<P extends Provider>(provider: P): provider is P & ContainerLogs {
  return hasMethods(provider, ["getContainerLogs"]);
}

/** Tells whether the provider runs commands in containers. */
export function hasExecInContainer<P extends Provider>(
  provider: P,
): provider is P & ExecInContainer {
  return hasMethods(provider, ["runInContainer"]);
}

/** Tells whether the provider serves `/stats/summary`. */
export function hasStatsSummary<P extends Provider>(provider: P): provider is P & StatsSummary {
  return hasMethods(provider, ["getStatsSummary"]);
}

/** Tells whether the provider serves `/metrics/resource`. */
export function hasMetricsResource<P extends Provider>(
  provider: P,
): provider is P & MetricsResource {
  return hasMethods(provider, ["getMetricsResource"]);
}

/** Tells whether the provider pushes pod status changes (otherwise the agent polls). */
export function hasPodNotifier<P extends Provider>(provider: P): provider is P & PodNotifier {
  return hasMethods(provider, ["notifyPods"]);
}

/** Tells whether the provider can power, snapshot and migrate the VMs behind pods. */
export function hasVirtualMachineLifecycle<P extends Provider>(
  provider: P,
): provider is P & VirtualMachineLifecycle {
  return hasMethods(provider, [
    "getVirtualMachineState",
    "startVirtualMachine",
    "stopVirtualMachine",
    "restartVirtualMachine",
    "snapshotVirtualMachine",
    "restoreVirtualMachine",
    "deleteVirtualMachineSnapshot",
    "migrateVirtualMachine",
  ]);
}

/** Tells whether the provider provisions volumes. */
export function hasVolumeProvisioner<P extends Provider>(
  provider: P,
): provider is P & VolumeProvisioner {
  return hasMethods(provider, ["createVolume", "deleteVolume", "attachVolume", "detachVolume"]);
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/** Options of the provider error constructors. */
export interface ProviderErrorOptions {
  /** The underlying error. */
  cause?: unknown;
}

/**
 * Base class of every error a provider throws on purpose. `retryable` tells controllers
 * whether trying again later can succeed.
 */
export class ProviderError extends Error {
  /** Whether the same call may succeed later without any change to the request. */
  readonly retryable: boolean;

  /** Creates an error; most code throws one of the subclasses instead. */
  constructor(message: string, retryable: boolean, options: ProviderErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ProviderError";
    this.retryable = retryable;
  }
}

/** The pod, container, VM or volume does not exist in the provider. Not retried. */
export class NotFoundError extends ProviderError {
  /** Creates the error. */
  constructor(message: string, options: ProviderErrorOptions = {}) {
    super(message, false, options);
    this.name = "NotFoundError";
  }
}

/** The object already exists in the provider. Not retried as such. */
export class AlreadyExistsError extends ProviderError {
  /** Creates the error. */
  constructor(message: string, options: ProviderErrorOptions = {}) {
    super(message, false, options);
    this.name = "AlreadyExistsError";
  }
}

/** The request itself is wrong (for instance the pod spec); retrying cannot help. */
export class InvalidInputError extends ProviderError {
  /** Creates the error. */
  constructor(message: string, options: ProviderErrorOptions = {}) {
    super(message, false, options);
    this.name = "InvalidInputError";
  }
}

/** The backend cannot serve now (IaaS down, quota, timeout); retry later. */
export class UnavailableError extends ProviderError {
  /** Suggested delay before retrying, when the backend said so. */
  readonly retryAfterMs?: number;

  /** Creates the error. */
  constructor(message: string, options: ProviderErrorOptions & { retryAfterMs?: number } = {}) {
    super(message, true, options);
    this.name = "UnavailableError";
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The provider does not support this operation. Not retried. */
export class NotImplementedError extends ProviderError {
  /** Creates the error. */
  constructor(message: string, options: ProviderErrorOptions = {}) {
    super(message, false, options);
    this.name = "NotImplementedError";
  }
}

/**
 * Finds the first `ProviderError` in `error` or its chain of `cause`s, so that wrapped
 * errors keep their classification.
 */
export function findProviderError(error: unknown): ProviderError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 16 && current !== undefined && current !== null; depth++) {
    if (current instanceof ProviderError) return current;
    if (!(current instanceof Error)) return undefined;
    current = current.cause;
  }
  return undefined;
}

/**
 * Tells whether a failed call may succeed if repeated: `ProviderError`s say so themselves;
 * anything unclassified is assumed transient, as upstream virtual-kubelet does.
 */
export function isRetryable(error: unknown): boolean {
  return findProviderError(error)?.retryable ?? true;
}

/** Tells whether `error` (or a cause) is a `NotFoundError`. */
export function isNotFound(error: unknown): boolean {
  return findProviderError(error) instanceof NotFoundError;
}

/** Tells whether `error` (or a cause) is an `AlreadyExistsError`. */
export function isAlreadyExists(error: unknown): boolean {
  return findProviderError(error) instanceof AlreadyExistsError;
}

/** Tells whether `error` (or a cause) is an `InvalidInputError`. */
export function isInvalidInput(error: unknown): boolean {
  return findProviderError(error) instanceof InvalidInputError;
}

/** Tells whether `error` (or a cause) is an `UnavailableError`. */
export function isUnavailable(error: unknown): boolean {
  return findProviderError(error) instanceof UnavailableError;
}

/** Tells whether `error` (or a cause) is a `NotImplementedError`. */
export function isNotImplemented(error: unknown): boolean {
  return findProviderError(error) instanceof NotImplementedError;
}

// ---------------------------------------------------------------------------
// Provider modules
// ---------------------------------------------------------------------------

/** What the agent hands a provider module when it creates the provider. */
export interface ProviderCreateOptions {
  /** Name of the Node this agent registers. */
  nodeName: string;
  /** `nodeInfo.operatingSystem` of the node, such as `linux`. */
  operatingSystem: string;
  /** Address the API server uses to reach the kubelet API (InternalIP). */
  internalIp: string;
  /** Port of the kubelet API (`daemonEndpoints.kubeletEndpoint.Port`). */
  daemonPort: number;
  /** `nodeInfo.kubeletVersion` to report; providers fall back to their own default. */
  kubeletVersion?: string;
  /** Raw provider configuration (parsed YAML/JSON, or `undefined`), validated by the provider. */
  config: unknown;
  /** Aborts when the agent stops; long-running provider work must end with it. */
  signal: AbortSignal;
  /**
   * Records a Kubernetes event about a pod (such as a VM state change the
   * provider observed); never blocks, never throws.
   */
  recordEvent?: PodEventRecorder;
}

/** Records an event about a pod: Normal or Warning, a CamelCase reason, a message. */
export type PodEventRecorder = (
  pod: Pod,
  type: "Normal" | "Warning",
  reason: string,
  message: string,
) => void;

/**
 * What a provider instance needs besides its configuration: the create
 * options without `config`, an optional signal, and a clock tests may fake.
 */
export interface ProviderRuntimeOptions extends Omit<ProviderCreateOptions, "config" | "signal"> {
  /** Aborting it ends the provider's loops and streams. */
  signal?: AbortSignal;
  /** Clock in milliseconds since the epoch. */
  now?: () => number;
}

/** A provider implementation as registered in `providers/mod.ts`. */
export interface ProviderModule {
  /** Name used with `--provider`. */
  readonly name: string;
  /** One-line description for `--help`. */
  readonly description: string;
  /** Validates `options.config` and builds the provider. */
  create(options: ProviderCreateOptions): Promise<Provider>;
}
