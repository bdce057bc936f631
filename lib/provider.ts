/**
 * The provider contract: what the agent asks of the system that actually runs pods
 * (a ZStack cloud, an in-memory mock, …). Two required interfaces mirror upstream
 * virtual-kubelet's PodLifecycleHandler and NodeProvider; everything optional is a separate
 * capability detected at runtime with the `has*` guards: pod and node notifications, logs,
 * exec and stats in `provider_capabilities.ts`, VM power, snapshots, migration and volumes
 * in `provider_vm_capabilities.ts`. Errors crossing the contract are the typed ones of
 * `provider_errors.ts`. Providers import this module and `lib/provider_kit/`, nothing else
 * of `lib/`.
 *
 * @module
 */

import type { ConfigMap, Node, Pod, PodStatus, Secret } from "kubernetes-types/core/v1.d.ts";

export * from "./provider_capabilities.ts";
export * from "./provider_vm_capabilities.ts";
export * from "./provider_errors.ts";

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
  /**
   * Returns every pod the provider runs for this node, status included. The agent lists
   * with it after a restart, on every resync, and, for a provider without `PodNotifier`,
   * once per status poll: it must be one cheap call to the backend, not one per pod.
   */
  getPods(signal: AbortSignal): Promise<Pod[]>;
}

/** The node side of a provider: liveness and the node's description. */
export interface NodeProvider {
  /** Cheap liveness probe of the backend; throws (typically `UnavailableError`) when down. */
  ping(signal: AbortSignal): Promise<void>;
  /**
   * Returns `node` completed with what the provider knows: capacity and allocatable,
   * nodeInfo (but `kubeletVersion`, which is the agent's), providerID, extra labels and
   * conditions. The agent owns name, taints, base labels, addresses and the Ready
   * condition, and calls this once before registering the node. `describeNode` of the
   * provider kit does the merge.
   */
  configureNode(node: Node, signal: AbortSignal): Promise<Node>;
}

/** A loaded provider: the required interfaces plus any optional capabilities. */
export type Provider = PodLifecycleHandler & NodeProvider & {
  /** Provider name as chosen by `--provider`, such as `mock`. */
  readonly name: string;
  /**
   * Called once when the agent stops cleanly, after every controller stopped: release what
   * the backend keeps for us (log out of the IaaS session). Optional; pods keep running.
   */
  close?(): Promise<void>;
};

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
  /** Raw provider configuration (parsed YAML/JSON, or `undefined`), validated by the provider. */
  config: unknown;
  /** Aborts when the agent stops; long-running provider work must end with it. */
  signal: AbortSignal;
  /**
   * Records a Kubernetes event about a pod (such as a VM state change the
   * provider observed); never blocks, never throws.
   */
  recordEvent?: PodEventRecorder;
  /**
   * Read access to the node's own cluster (its pods as the API server has them, ConfigMaps,
   * Secrets), for a provider that must copy what pods reference to its backend.
   */
  cluster?: ClusterReader;
}

/** A ConfigMap or Secret of the node's cluster that was added, changed or deleted. */
export interface ClusterObjectChange {
  /** Which kind of object. */
  kind: "ConfigMap" | "Secret";
  /** Its namespace. */
  namespace: string;
  /** Its name. */
  name: string;
}

/**
 * What a provider may read of the cluster its node belongs to, from the agent's own caches
 * (the informers the pod controller reads), as upstream virtual-kubelet hands providers its
 * resource manager. Reading adds no request and no watch.
 */
export interface ClusterReader {
  /** The pod bound to this node as the API server has it (env unresolved), or `undefined`. */
  getPod(namespace: string, name: string): Pod | undefined;
  /** The ConfigMap `namespace/name`, or `undefined`. */
  getConfigMap(namespace: string, name: string): ConfigMap | undefined;
  /** The Secret `namespace/name`, or `undefined`. */
  getSecret(namespace: string, name: string): Secret | undefined;
  /** Resolves true once the caches hold the cluster's objects, false if `signal` aborts first. */
  waitForSync(signal: AbortSignal): Promise<boolean>;
  /** Calls `callback` on every change of a ConfigMap or Secret until `signal` aborts. */
  onChange(signal: AbortSignal, callback: (change: ClusterObjectChange) => void): void;
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
