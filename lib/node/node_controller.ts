/**
 * Registers the virtual Node and keeps its status true: capacity and
 * addresses from the provider, a Ready condition that follows the provider's
 * health (Ready=False with a reason naming the provider when its ping fails),
 * the Lease heartbeat, and the Node itself, which is created again if someone
 * deletes it. Status is written with strategic-merge patches, so conditions,
 * labels, annotations and taints written by others survive.
 *
 * @module
 */

import type { Node, NodeCondition, NodeStatus, Taint } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import {
  Informer,
  type KubeClient,
  KubeConflictError,
  KubeNotFoundError,
  NODES,
  type ResourceClient,
} from "../kube/mod.ts";
import { hasNodeStatusNotifier, type NodeProvider } from "../provider.ts";
import type { EventRecorder } from "../events.ts";
import { abortableSleep } from "../sleep.ts";
import { LeaseController } from "./lease_controller.ts";
import { asError, errorMessage } from "../errors.ts";

/** What the agent itself decides about its Node (the provider adds the rest). */
export interface NodeSpecOptions {
  nodeName: string;
  providerName: string;
  operatingSystem: string;
  /** InternalIP address; also where the API server reaches the kubelet API. */
  internalIp?: string;
  kubeletPort: number;
  kubeletVersion: string;
  /** The provider taint, or undefined when disabled. */
  taint?: Taint;
}

/** Timings of {@linkcode NodeController} (defaults are the kubelet's). */
export interface NodeControllerOptions extends NodeSpecOptions {
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  statusIntervalMs?: number;
  leaseDurationSeconds?: number;
  leaseRenewIntervalMs?: number;
  events?: EventRecorder;
}

/** Node condition types the agent owns; others' conditions are left alone. */
const OWN_CONDITIONS = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"] as const;

function nodeArch(): string {
  return Deno.build.arch === "aarch64" ? "arm64" : "amd64";
}

function capitalized(name: string): string {
  return name.split(/[^A-Za-z0-9]+/).map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}

function kubeTime(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, "Z");
}

/** The Node object the agent registers, before the provider configures it. */
export function baseNode(options: NodeSpecOptions): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: options.nodeName,
      labels: {
        "type": "virtual-kubelet",
        "kubernetes.io/role": "agent",
        "kubernetes.io/hostname": options.nodeName,
        "kubernetes.io/os": options.operatingSystem,
        "kubernetes.io/arch": nodeArch(),
        "beta.kubernetes.io/os": options.operatingSystem,
        "beta.kubernetes.io/arch": nodeArch(),
      },
    },
    spec: { taints: options.taint ? [options.taint] : [] },
    status: {
      phase: "Running",
      addresses: [
        ...(options.internalIp ? [{ type: "InternalIP", address: options.internalIp }] : []),
        { type: "Hostname", address: options.nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: options.kubeletPort } },
      nodeInfo: {
        architecture: nodeArch(),
        operatingSystem: options.operatingSystem,
        kubeletVersion: options.kubeletVersion,
        kubeProxyVersion: "",
        containerRuntimeVersion: `vkedge://${options.providerName}`,
        bootID: "",
        kernelVersion: "",
        machineID: "",
        osImage: "",
        systemUUID: "",
      },
    },
  };
}

/** Registers the Node, renews its Lease and keeps its status, until aborted. */
export class NodeController {
  readonly #nodes: ResourceClient<Node>;
  readonly #client: KubeClient;
  readonly #provider: NodeProvider;
  readonly #options: NodeControllerOptions;
  readonly #log = getLogger(["vkedge", "node"]);
  readonly #lease: LeaseController;
  #desired: Node | undefined;
  #uid: string | undefined;
  #pingError: Error | undefined;
  #pinged = false;
  #wake: (() => void) | undefined;
  #dirty = false;
  #needsRegister = true;
  #ready: Promise<void>;
  #markReady!: () => void;
  readonly #transitions = new Map<string, { status: string; at: string }>();

  /** A controller for `options.nodeName` backed by `provider`. */
  constructor(client: KubeClient, provider: NodeProvider, options: NodeControllerOptions) {
    this.#client = client;
    this.#nodes = client.resource<Node>(NODES);
    this.#provider = provider;
    this.#options = options;
    this.#lease = new LeaseController(client, options.nodeName, {
      durationSeconds: options.leaseDurationSeconds,
      renewIntervalMs: options.leaseRenewIntervalMs,
      nodeUid: () => this.#uid,
      onNodeMissing: () => this.#nodeGone(),
    });
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
  }

  /** Resolves once the Node is registered with its first status. */
  get ready(): Promise<void> {
    return this.#ready;
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
  async run(signal: AbortSignal): Promise<void> {
    const configured = await this.#provider.configureNode(baseNode(this.#options), signal);
    this.#desired = this.#withAgentFields(configured);
    if (hasNodeStatusNotifier(this.#provider)) {
      this.#provider.notifyNodeStatus(signal, (node) => {
        // Only status, labels and annotations may change after registration.
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
      });
    }
    const informer = new Informer<Node>(this.#nodes, {
      fieldSelector: `metadata.name=${this.#options.nodeName}`,
      name: "node",
    });
    informer.addHandlers({
      onAdd: (node) => this.#observe(node),
      onUpdate: (_old, node) => this.#observe(node),
      onDelete: (node) => {
        if (node.metadata?.uid === this.#uid) this.#nodeGone();
      },
    });
    await Promise.all([
      informer.run(signal),
      this.#pingLoop(signal),
      this.#statusLoop(signal),
      this.#lease.run(signal),
    ]);
  }

  #observe(node: Node): void {
    if (this.#uid !== undefined && node.metadata?.uid !== this.#uid && !this.#needsRegister) {
      this.#log.info("node {node} was replaced by someone else (uid {uid})", {
        node: this.#options.nodeName,
        uid: node.metadata?.uid,
      });
    }
    if (node.metadata?.uid) this.#uid = node.metadata.uid;
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

  #withAgentFields(node: Node): Node {
    // The agent owns name, base labels and taints whatever the provider did.
    const base = baseNode(this.#options);
    return {
      ...node,
      metadata: {
        ...node.metadata,
        name: this.#options.nodeName,
        labels: { ...node.metadata?.labels, ...base.metadata!.labels },
      },
      spec: { ...node.spec, taints: base.spec!.taints },
    };
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
        this.#markReady();
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
      this.#log.warn("cannot create lease: {error}", {
        error: errorMessage(error),
      });
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

  #conditions(now: Date): NodeCondition[] {
    const provider = this.#options.providerName;
    const error = this.#pingError;
    const own: Record<(typeof OWN_CONDITIONS)[number], Omit<NodeCondition, "type">> = {
      Ready: error
        ? {
          status: "False",
          reason: `${capitalized(provider)}ProviderUnreachable`,
          message: `provider ${provider} did not answer its health check: ${error.message}`,
        }
        : {
          status: "True",
          reason: "KubeletReady",
          message: `vkedge is posting ready status; provider ${provider} is healthy`,
        },
      MemoryPressure: {
        status: "False",
        reason: "KubeletHasSufficientMemory",
        message: "vkedge has sufficient memory available",
      },
      DiskPressure: {
        status: "False",
        reason: "KubeletHasNoDiskPressure",
        message: "vkedge has no disk pressure",
      },
      PIDPressure: {
        status: "False",
        reason: "KubeletHasSufficientPID",
        message: "vkedge has sufficient PID available",
      },
    };
    const fromProvider = new Map(
      (this.#desired?.status?.conditions ?? []).map((c) => [c.type, c] as const),
    );
    const stamp = kubeTime(now);
    return OWN_CONDITIONS.map((type) => {
      // A provider may report pressure conditions; Ready is always the agent's.
      const base = type !== "Ready" && fromProvider.has(type) ? fromProvider.get(type)! : own[type];
      const previous = this.#transitions.get(type);
      const status = base.status;
      if (!previous || previous.status !== status) {
        this.#transitions.set(type, { status, at: stamp });
        if (type === "Ready" && previous) this.#recordReadyChange(status);
      }
      return {
        type,
        status,
        reason: base.reason,
        message: base.message,
        lastHeartbeatTime: stamp,
        lastTransitionTime: this.#transitions.get(type)!.at,
      };
    });
  }

  #recordReadyChange(status: string): void {
    const target = {
      kind: "Node",
      metadata: { name: this.#options.nodeName, uid: this.#uid },
    };
    if (status === "True") {
      this.#options.events?.record(
        target,
        "Normal",
        "NodeReady",
        `Node ${this.#options.nodeName} status is now: NodeReady`,
      );
    } else {
      this.#options.events?.record(
        target,
        "Warning",
        "NodeNotReady",
        `Node ${this.#options.nodeName} status is now: NodeNotReady (${
          this.#pingError?.message ?? "unknown"
        })`,
      );
    }
  }

  async #patchStatus(signal: AbortSignal): Promise<void> {
    const desired = this.#desired!;
    const status: NodeStatus = {
      ...desired.status,
      conditions: this.#conditions(new Date()),
    };
    delete status.phase;
    const node = await this.#nodes.patchStatus(this.#options.nodeName, { status }, {
      type: "strategic",
      signal,
    });
    if (node.metadata?.uid) this.#uid = node.metadata.uid;
  }
}
