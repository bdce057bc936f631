/**
 * The optional capabilities of a provider, each a small interface detected at runtime with
 * its `has*` guard, so that a backend offers exactly what it can (power without snapshots,
 * logs without exec) and the agent answers the rest with 501 or a clear condition. This
 * module has the pod and node notifications and the kubelet API (logs, exec, attach,
 * port-forward, restarts, probes' dialer, stats); the VM capabilities are in
 * `provider_vm_capabilities.ts`.
 *
 * @module
 */

import type { Node, Pod } from "kubernetes-types/core/v1.d.ts";
import type { MetricFamily, Summary } from "./stats_types.ts";
import { capability } from "./_capability.ts";

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
// Guards
// ---------------------------------------------------------------------------

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
