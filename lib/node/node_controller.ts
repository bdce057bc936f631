/**
 * Registers the virtual Node and keeps its status true: capacity and addresses from the
 * provider, a Ready condition that follows the provider's health (`node_conditions.ts`),
 * the Lease heartbeat (`lease_controller.ts`), and the Node itself, which is created again
 * if someone deletes it. Status is written with strategic-merge patches, so conditions,
 * labels, annotations and taints written by others survive. The Node is watched through
 * the agent's shared informers.
 *
 * @module
 */

import type { Node, NodeStatus } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import {
  type Informer,
  type KubeClient,
  KubeConflictError,
  KubeNotFoundError,
  NODES,
  type ResourceClient,
  type SharedInformerFactory,
} from "../kube/mod.ts";
import { hasNodeStatusNotifier, type NodeProvider } from "../provider.ts";
import type { EventRecorder } from "../events.ts";
import { asError, errorMessage } from "../errors.ts";
import { abortableSleep } from "../sleep.ts";
import { type Controller, readiness } from "../controller.ts";
import { baseNode, type NodeSpecOptions, withAgentFields, withMaxPods } from "./base_node.ts";
import { LeaseController } from "./lease_controller.ts";
import { NodeConditions, PROVIDER_UNAVAILABLE_TAINT } from "./node_conditions.ts";
import { nodeReady } from "./node_metrics.ts";

export { baseNode, type NodeSpecOptions } from "./base_node.ts";

/** Timings of {@linkcode NodeController} (defaults are the kubelet's). */
export interface NodeControllerOptions extends NodeSpecOptions {
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  statusIntervalMs?: number;
  leaseDurationSeconds?: number;
  leaseRenewIntervalMs?: number;
  events?: EventRecorder;
}

/** What the node controller needs of the agent. */
export interface NodeControllerDeps {
  client: KubeClient;
  provider: NodeProvider;
  informers: SharedInformerFactory;
}

/** Registers the Node, renews its Lease and keeps its status, until aborted. */
export class NodeController implements Controller {
  /** Controller name. */
  readonly name = "node";
  readonly #nodes: ResourceClient<Node>;
  readonly #provider: NodeProvider;
  readonly #options: NodeControllerOptions;
  readonly #log = getLogger(["vkedge", "node"]);
  readonly #lease: LeaseController;
  readonly #informer: Informer<Node>;
  readonly #conditions: NodeConditions;
  readonly #readiness = readiness();
  #desired: Node | undefined;
  #uid: string | undefined;
  #pingError: Error | undefined;
  /** Whether the provider-unavailable taint is on the node (undefined: not known yet). */
  #unavailableTainted: boolean | undefined;
  #pinged = false;
  #wake: (() => void) | undefined;
  #dirty = false;
  #needsRegister = true;
  /** `spec.unschedulable` as last seen, to tell cordon and uncordon apart. */
  #unschedulable: boolean | undefined;
  /** When the API server last took a write of this controller (status patch or Lease). */
  #lastApiSuccess: number | undefined;

  /** A controller for `options.nodeName` backed by `deps.provider`. */
  constructor(deps: NodeControllerDeps, options: NodeControllerOptions) {
    // The heartbeat: never behind pod work in the client (see request_dispatcher.ts).
    const heartbeat = deps.client.withPriority("critical");
    this.#nodes = heartbeat.resource<Node>(NODES);
    this.#provider = deps.provider;
    this.#options = options;
    this.#conditions = new NodeConditions(options.providerName);
    this.#lease = new LeaseController(heartbeat, options.nodeName, {
      durationSeconds: options.leaseDurationSeconds,
      renewIntervalMs: options.leaseRenewIntervalMs,
      nodeUid: () => this.#uid,
      onNodeMissing: () => this.#nodeGone(),
    });
    this.#informer = deps.informers.informer<Node>(NODES, {
      fieldSelector: `metadata.name=${options.nodeName}`,
    });
  }

  /** Resolves once the Node is registered with its first status. */
  get ready(): Promise<void> {
    return this.#readiness.ready;
  }

  /** The UID of the registered Node, if known. */
  get uid(): string | undefined {
    return this.#uid;
  }

  /** Whether the provider answered its last ping. */
  get providerHealthy(): boolean {
    return this.#pinged && this.#pingError === undefined;
  }

  /** Runs registration, ping, lease and status loops until the signal aborts. */
  async start(signal: AbortSignal): Promise<void> {
    const configured = await this.#provider.configureNode(baseNode(this.#options), signal);
    this.#desired = withAgentFields(configured, this.#options);
    if (hasNodeStatusNotifier(this.#provider)) {
      this.#provider.notifyNodeStatus(signal, (node) => this.#providerChanged(node));
    }
    this.#informer.addHandlers({
      onAdd: (node) => this.#observe(node),
      onUpdate: (_old, node) => this.#observe(node),
      onDelete: (node) => {
        if (node.metadata?.uid === this.#uid) this.#nodeGone();
      },
    });
    await Promise.all([
      this.#pingLoop(signal),
      this.#statusLoop(signal),
      this.#lease.run(signal),
    ]);
  }

  /** Only status, labels and annotations may change after registration. */
  #providerChanged(node: Node): void {
    const desired = this.#desired!;
    this.#desired = {
      ...desired,
      metadata: {
        ...desired.metadata,
        labels: { ...desired.metadata?.labels, ...node.metadata?.labels },
        annotations: { ...desired.metadata?.annotations, ...node.metadata?.annotations },
      },
      status: { ...desired.status, ...node.status },
    };
    this.#trigger();
  }

  #observe(node: Node): void {
    if (this.#uid !== undefined && node.metadata?.uid !== this.#uid && !this.#needsRegister) {
      this.#log.info("node {node} was replaced by someone else (uid {uid})", {
        node: this.#options.nodeName,
        uid: node.metadata?.uid,
      });
    }
    if (node.metadata?.uid) this.#uid = node.metadata.uid;
    // The node-lifecycle controller marks a node Unknown once it missed its heartbeats (as
    // after an API server outage): say at once that the agent runs, not at the next period.
    const ready = node.status?.conditions?.find((condition) => condition.type === "Ready");
    if (!this.#needsRegister && ready !== undefined && ready.status !== "True") this.#trigger();
    this.#observeSchedulable(node);
  }

  /** Records `NodeSchedulable` or `NodeNotSchedulable` when the node is uncordoned or cordoned. */
  #observeSchedulable(node: Node): void {
    const unschedulable = node.spec?.unschedulable === true;
    const previous = this.#unschedulable;
    this.#unschedulable = unschedulable;
    if (previous === undefined || previous === unschedulable) return;
    const name = this.#options.nodeName;
    const reason = unschedulable ? "NodeNotSchedulable" : "NodeSchedulable";
    this.#log.info("node {node} is now {reason}", { node: name, reason });
    this.#options.events?.record(
      { kind: "Node", metadata: { name, uid: node.metadata?.uid } },
      "Normal",
      reason,
      `Node ${name} status is now: ${reason}`,
    );
  }

  /**
   * Whether the API server took one of this controller's writes (status, Lease) within
   * `withinMs`, and if not, since when it did not.
   */
  apiServerReachable(withinMs: number, now = Date.now()): boolean {
    const last = Math.max(this.#lastApiSuccess ?? 0, this.#lease.lastRenew?.getTime() ?? 0);
    return last > 0 && now - last <= withinMs;
  }

  /** Why the provider's last ping failed, or `undefined` when it answered (or was not pinged yet). */
  get providerError(): Error | undefined {
    return this.#pingError;
  }

  #nodeGone(): void {
    if (this.#needsRegister) return;
    this.#log.warn("node {node} was deleted; registering it again", {
      node: this.#options.nodeName,
    });
    this.#uid = undefined;
    this.#needsRegister = true;
    this.#trigger();
  }

  #trigger(): void {
    this.#dirty = true;
    this.#wake?.();
  }

  async #pingLoop(signal: AbortSignal): Promise<void> {
    const interval = this.#options.pingIntervalMs ?? 10_000;
    const timeout = this.#options.pingTimeoutMs ?? Math.max(interval, 5_000);
    while (!signal.aborted) {
      const pingSignal = AbortSignal.any([signal, AbortSignal.timeout(timeout)]);
      let error: Error | undefined;
      try {
        await this.#provider.ping(pingSignal);
      } catch (caught) {
        if (signal.aborted) break;
        error = asError(caught);
        if (pingSignal.aborted) error = new Error(`no answer within ${timeout / 1000}s`);
      }
      const changed = !this.#pinged || (error === undefined) !== (this.#pingError === undefined);
      this.#pinged = true;
      this.#pingError = error;
      if (changed) {
        if (error) {
          this.#log.warn("provider {provider} ping failed: {error}", {
            provider: this.#options.providerName,
            error: error.message,
          });
        } else {
          this.#log.info("provider {provider} is healthy", {
            provider: this.#options.providerName,
          });
        }
        this.#trigger();
      }
      await abortableSleep(interval, signal);
    }
  }

  async #statusLoop(signal: AbortSignal): Promise<void> {
    const interval = this.#options.statusIntervalMs ?? 60_000;
    while (!this.#pinged && !signal.aborted) await abortableSleep(50, signal);
    let failures = 0;
    while (!signal.aborted) {
      this.#dirty = false;
      try {
        if (this.#needsRegister) await this.#register(signal);
        await this.#patchStatus(signal);
        this.#lastApiSuccess = Date.now();
        this.#readiness.markReady();
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        failures++;
        if (error instanceof KubeNotFoundError) this.#nodeGone();
        this.#log.warn("cannot update node {node}: {error}", {
          node: this.#options.nodeName,
          error: errorMessage(error),
        });
      }
      if (this.#dirty) continue;
      const wait = failures > 0 ? Math.min(interval, 1000 * 2 ** Math.min(failures, 5)) : interval;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, wait);
        signal.addEventListener("abort", done, { once: true });
        this.#wake = done;
        function done() {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          resolve();
        }
      });
      this.#wake = undefined;
    }
  }

  /** Creates the Node, or adopts an existing one, merging our labels and taint in. */
  async #register(signal: AbortSignal): Promise<void> {
    const desired = this.#desired!;
    let node: Node;
    try {
      node = await this.#nodes.get(this.#options.nodeName, { signal });
      node = await this.#adopt(node, desired, signal);
    } catch (error) {
      if (!(error instanceof KubeNotFoundError)) throw error;
      node = await this.#nodes.create({ ...desired, status: undefined }, { signal });
      this.#log.info("registered node {node}", { node: this.#options.nodeName });
      this.#options.events?.record(
        node,
        "Normal",
        "RegisteredNode",
        `Node ${node.metadata?.name} registered by vkedge`,
      );
    }
    this.#uid = node.metadata?.uid;
    this.#needsRegister = false;
    await this.#lease.renew(signal).catch((error: unknown) => {
      this.#log.warn("cannot create lease: {error}", { error: errorMessage(error) });
    });
  }

  async #adopt(node: Node, desired: Node, signal: AbortSignal): Promise<Node> {
    for (let attempt = 0;; attempt++) {
      const taints = [...(node.spec?.taints ?? [])];
      for (const taint of desired.spec?.taints ?? []) {
        if (!taints.some((t) => t.key === taint.key && t.effect === taint.effect)) {
          taints.push(taint);
        }
      }
      const labels = { ...node.metadata?.labels, ...desired.metadata?.labels };
      const annotations = { ...node.metadata?.annotations, ...desired.metadata?.annotations };
      try {
        return await this.#nodes.update({
          ...node,
          metadata: { ...node.metadata, labels, annotations },
          spec: { ...node.spec, taints },
        }, { signal });
      } catch (error) {
        if (!(error instanceof KubeConflictError) || attempt >= 5) throw error;
        node = await this.#nodes.get(this.#options.nodeName, { signal });
      }
    }
  }

  /** Adds or removes the provider-unavailable `NoSchedule` taint, as the provider's health says. */
  async #syncUnavailableTaint(unavailable: boolean, signal: AbortSignal): Promise<void> {
    if (this.#unavailableTainted === unavailable) return;
    const { key, effect } = PROVIDER_UNAVAILABLE_TAINT;
    for (let attempt = 0;; attempt++) {
      const node = await this.#nodes.get(this.#options.nodeName, { signal });
      const others = (node.spec?.taints ?? []).filter((t) => t.key !== key);
      const taints = unavailable
        ? [...others, { key, effect, value: this.#options.providerName }]
        : others;
      if (taints.length === (node.spec?.taints ?? []).length && !unavailable) break; // none to remove
      if (unavailable && (node.spec?.taints ?? []).some((t) => t.key === key)) break;
      try {
        await this.#nodes.update({ ...node, spec: { ...node.spec, taints } }, { signal });
        break;
      } catch (error) {
        if (!(error instanceof KubeConflictError) || attempt >= 5) throw error;
      }
    }
    this.#unavailableTainted = unavailable;
  }

  #recordProviderChange(status: string): void {
    const name = this.#options.nodeName;
    const target = { kind: "Node", metadata: { name, uid: this.#uid } };
    const provider = this.#options.providerName;
    if (status === "True") {
      this.#options.events?.record(
        target,
        "Normal",
        "ProviderAvailable",
        `Provider ${provider} answers again; the ${PROVIDER_UNAVAILABLE_TAINT.key} taint is removed`,
      );
    } else {
      this.#options.events?.record(
        target,
        "Warning",
        "ProviderUnavailable",
        `Provider ${provider} is unavailable (${
          this.#pingError?.message ?? "unknown"
        }): the node stays Ready so that no pod is evicted, and is tainted ${PROVIDER_UNAVAILABLE_TAINT.key}:NoSchedule so that nothing new lands`,
      );
    }
  }

  #recordReadyChange(status: string): void {
    const name = this.#options.nodeName;
    const target = { kind: "Node", metadata: { name, uid: this.#uid } };
    if (status === "True") {
      this.#options.events?.record(
        target,
        "Normal",
        "NodeReady",
        `Node ${name} status is now: NodeReady`,
      );
    } else {
      this.#options.events?.record(
        target,
        "Warning",
        "NodeNotReady",
        `Node ${name} status is now: NodeNotReady (${this.#pingError?.message ?? "unknown"})`,
      );
    }
  }

  async #patchStatus(signal: AbortSignal): Promise<void> {
    const desired = this.#desired!;
    const { conditions, readyChanged, providerChanged } = this.#conditions.compute(new Date(), {
      pingError: this.#pingError,
      providerConditions: desired.status?.conditions,
    });
    if (readyChanged !== undefined) this.#recordReadyChange(readyChanged);
    if (providerChanged !== undefined) this.#recordProviderChange(providerChanged);
    await this.#syncUnavailableTaint(this.#pingError !== undefined, signal);
    const status: NodeStatus = {
      ...withMaxPods(desired.status ?? {}, this.#options.maxPods),
      conditions,
    };
    delete status.phase;
    const node = await this.#nodes.patchStatus(this.#options.nodeName, { status }, {
      type: "strategic",
      signal,
    });
    if (node.metadata?.uid) this.#uid = node.metadata.uid;
    nodeReady.set(conditions.some((c) => c.type === "Ready" && c.status === "True") ? 1 : 0);
  }
}
