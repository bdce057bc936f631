/**
 * What the upper node says about the lower cluster: its nodes and the pods of others
 * running there, each from one watch, turned into capacity, allocatable and pressure
 * conditions (`capacity.ts`) and pushed to the agent on every change that alters them
 * (at most once a second), never polled.
 *
 * @module
 */

import type { Node, Pod } from "kubernetes-types/core/v1.d.ts";
import {
  CallbackSet,
  canonicalJson,
  describeNode,
  Informer,
  type KubeClient,
  type NodeDescription,
  NODES,
  PODS,
} from "../../lib/provider_kit/mod.ts";
import type { KubernetesConfig } from "./config.ts";
import { lowerCapacity, noUsableNode, pressureConditions } from "./capacity.ts";
import type { Ownership } from "./ownership.ts";

/** Debounce of node status notifications. */
const NOTIFY_DELAY_MS = 1_000;

/** The lower cluster's nodes and other pods, and the upper node they describe. */
export class LowerNodes {
  readonly nodes: Informer<Node>;
  readonly otherPods: Informer<Pod>;
  readonly #config: KubernetesConfig;
  readonly #callbacks = new CallbackSet<Node>("node status");
  #base: Node | undefined;
  #last = "";
  #timer: ReturnType<typeof setTimeout> | undefined;
  #extra: NodeDescription = {};

  /** Watches the lower nodes and every unfinished pod not `ownership`'s once `run` is called. */
  constructor(client: KubeClient, config: KubernetesConfig, ownership: Ownership) {
    this.#config = config;
    this.nodes = new Informer<Node>(client.resource<Node>(NODES), { name: "lower-nodes" });
    this.otherPods = new Informer<Pod>(client.resource<Pod>(PODS), {
      labelSelector: ownership.othersSelector,
      fieldSelector: "spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed",
      name: "lower-other-pods",
    });
    const changed = () => this.#changed();
    for (const informer of [this.nodes, this.otherPods] as Informer<Node | Pod>[]) {
      informer.addHandlers({ onAdd: changed, onUpdate: changed, onDelete: changed });
    }
  }

  /** Lists and watches until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener("abort", () => clearTimeout(this.#timer), { once: true });
    await Promise.all([this.nodes.run(signal), this.otherPods.run(signal)]);
  }

  /** Whether both are listed. */
  hasSynced(): boolean {
    return this.nodes.hasSynced() && this.otherPods.hasSynced();
  }

  /** Resolves once both are listed, or `signal` aborts. */
  async waitForSync(signal: AbortSignal): Promise<boolean> {
    return await this.nodes.waitForSync(signal) && await this.otherPods.waitForSync(signal);
  }

  /** Registers `callback` for node status changes until `signal` aborts. */
  subscribe(signal: AbortSignal, callback: (node: Node) => void): void {
    this.#callbacks.add(signal, callback);
  }

  /** Why no lower node can take pods, or undefined when one can (or nothing is known yet). */
  unusable(): string | undefined {
    if (!this.nodes.hasSynced()) return undefined;
    return noUsableNode(
      this.nodes.store.list(),
      this.#config.tolerations,
      this.#config.nodeSelector,
    );
  }

  /** What the provider knows of the node now. */
  description(): NodeDescription {
    const nodes = this.nodes.store.list();
    const { capacity, allocatable, usableNodes } = lowerCapacity({
      nodes,
      otherPods: this.otherPods.store.list(),
      tolerations: this.#config.tolerations,
      nodeSelector: this.#config.nodeSelector,
      reserve: this.#config.reserve,
    });
    const architectures = [...new Set(nodes.map((n) => n.status?.nodeInfo?.architecture))]
      .filter((arch): arch is string => arch !== undefined && arch !== "");
    return {
      ...this.#extra,
      capacity,
      allocatable,
      conditions: pressureConditions(nodes, usableNodes, this.#config.clusterName),
      nodeInfo: {
        ...this.#extra.nodeInfo,
        ...(architectures.length === 1 ? { architecture: architectures[0] } : {}),
      },
    };
  }

  /** The upper node `base` completed with the lower cluster's description; kept for notifications. */
  describe(base: Node, extra: NodeDescription): Node {
    this.#base = base;
    this.#extra = extra;
    const node = describeNode(base, this.description());
    this.#last = canonicalJson(node.status ?? {});
    return node;
  }

  #changed(): void {
    if (this.#base === undefined || !this.hasSynced() || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const node = describeNode(this.#base!, this.description());
      const text = canonicalJson(node.status ?? {});
      if (text === this.#last) return;
      this.#last = text;
      this.#callbacks.emit(node);
    }, NOTIFY_DELAY_MS);
  }
}
