/**
 * The node side of the swarm provider: `ping` (the Engine answers and is an active Swarm
 * manager), the Node described from the Swarm nodes and the tasks of other workloads, and
 * the refresh that notifies the node status callbacks when capacity, allocatable, the
 * `SwarmNodesReady` condition or the labels change (on node events, else periodically).
 *
 * @module
 */

import type { Node } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import { type ProviderRuntimeOptions, UnavailableError } from "../../lib/provider.ts";
import {
  abortableSleep,
  CallbackSet,
  canonicalJson,
  describeNode,
  errorMessage,
  formatTime,
} from "../../lib/provider_kit/mod.ts";
import type { EngineInfo } from "./api_types.ts";
import type { EngineClient } from "./client.ts";
import type { SwarmConfig } from "./config.ts";
import { nodeLabelValue, type Owner, ownerLabels, shortHash } from "./identity.ts";
import { swarmNodeDescription } from "./node_description.ts";
import type { ServiceTracker } from "./service_tracker.ts";

const logger = getLogger(["vkedge", "provider", "swarm"]);

/** What {@linkcode SwarmNodeStatus} works with. */
export interface SwarmNodeStatusOptions {
  config: SwarmConfig;
  client: EngineClient;
  tracker: ServiceTracker;
  owner: Owner;
  runtime: ProviderRuntimeOptions;
  now: () => number;
  /** Stops the refresh. */
  stopped: AbortSignal;
  /** Starts the tracker (once), whose node events wake the refresh. */
  ensureStarted(): void;
}

/** The provider's NodeProvider half and node status notifications. */
export class SwarmNodeStatus {
  readonly #config: SwarmConfig;
  readonly #client: EngineClient;
  readonly #options: SwarmNodeStatusOptions;
  readonly #bootId = crypto.randomUUID();
  readonly #callbacks = new CallbackSet<Node>("node status");
  #watchingNodes = false;
  #node: Node | undefined;
  #nodeText = "";
  #conditionSince = "";
  #conditionText = "";
  #info: EngineInfo | undefined;
  #nodesChanged: (() => void) | undefined;

  /** Keeps the options and listens to the tracker's node events. */
  constructor(options: SwarmNodeStatusOptions) {
    this.#config = options.config;
    this.#client = options.client;
    this.#options = options;
    options.tracker.onNodesChanged(() => this.#nodesChanged?.());
  }

  /**
   * Checks that the Engine answers and is a Swarm manager; throws `UnavailableError`
   * naming the endpoint and what was wrong otherwise.
   */
  async ping(signal: AbortSignal): Promise<void> {
    let info: EngineInfo;
    try {
      info = await this.#client.info(signal);
    } catch (error) {
      if (signal.aborted) throw error;
      throw new UnavailableError(
        `Docker Engine at ${this.#client.endpoint}: expected an answer to GET /info, found ${
          errorMessage(error)
        }`,
        { cause: error },
      );
    }
    this.#info = info;
    if (info.Swarm.LocalNodeState !== "active" || info.Swarm.ControlAvailable !== true) {
      throw new UnavailableError(
        `Docker Engine at ${this.#client.endpoint}: expected an active Swarm manager, found Swarm state "${info.Swarm.LocalNodeState}"${
          info.Swarm.ControlAvailable ? "" : " without the manager role"
        }${info.Swarm.Error ? ` (${info.Swarm.Error})` : ""}`,
      );
    }
  }

  /** The Engine's `/info` as the last ping read it (read now if none did; undefined on failure). */
  async engineInfo(signal: AbortSignal): Promise<EngineInfo | undefined> {
    this.#info ??= await this.#client.info(signal).catch(() => undefined);
    return this.#info;
  }

  /** Completes `node` with capacity, allocatable, the Swarm condition and nodeInfo. */
  async configureNode(node: Node, signal: AbortSignal): Promise<Node> {
    this.#node = node;
    try {
      return await this.#describe(node, signal);
    } catch (error) {
      logger.warn("cannot read the Swarm nodes yet: {error}; the node starts without capacity", {
        error: errorMessage(error),
      });
      return describeNode(node, {
        labels: this.#config.labels,
        capacity: { cpu: "0", memory: "0", pods: String(this.#config.maxPods) },
      });
    }
  }

  /** Registers a node status callback, called when capacity or the Swarm condition change. */
  notifyNodeStatus(signal: AbortSignal, callback: (node: Node) => void): void {
    this.#callbacks.add(signal, callback);
    if (signal.aborted || this.#watchingNodes) return;
    this.#watchingNodes = true;
    this.#options.ensureStarted();
    void this.#watchNodes(this.#options.stopped);
  }

  async #describe(node: Node, signal: AbortSignal): Promise<Node> {
    const [nodes, running, version] = await Promise.all([
      this.#client.listNodes(signal),
      this.#client.listTasks({ "desired-state": ["running"] }, signal),
      this.#client.version(signal),
    ]);
    const mine = nodeLabelValue(this.#options.owner);
    const others = running.filter((task) =>
      task.Spec?.ContainerSpec?.Labels?.[ownerLabels.node] !== mine
    );
    const since = formatTime(new Date(this.#options.now()));
    const facts = {
      nodes,
      otherTasks: others,
      maxPods: this.#config.maxPods,
      conditionSince: this.#conditionSince || since,
      endpoint: this.#client.endpoint,
      engineVersion: version.Version,
      operatingSystem: this.#options.runtime.operatingSystem,
      machineId: shortHash(mine).repeat(4),
      bootId: this.#bootId,
      labels: this.#config.labels,
    };
    let description = swarmNodeDescription(facts);
    const condition = description.conditions![0];
    const conditionText = `${condition.status} ${condition.reason} ${condition.message}`;
    if (conditionText !== this.#conditionText) {
      this.#conditionText = conditionText;
      this.#conditionSince = since;
      description = swarmNodeDescription({ ...facts, conditionSince: since });
    }
    return describeNode(node, description);
  }

  async #watchNodes(signal: AbortSignal): Promise<void> {
    let changed = false;
    let wake: (() => void) | undefined;
    this.#nodesChanged = () => {
      changed = true;
      wake?.();
    };
    while (!signal.aborted) {
      if (this.#node !== undefined) {
        try {
          const described = await this.#describe(this.#node, signal);
          const text = canonicalJson({
            capacity: described.status?.capacity,
            allocatable: described.status?.allocatable,
            conditions: described.status?.conditions,
            labels: described.metadata?.labels,
          });
          if (text !== this.#nodeText) {
            this.#nodeText = text;
            this.#callbacks.emit(described);
          }
        } catch (error) {
          if (signal.aborted) return;
          logger.debug("reading the Swarm nodes failed: {error}", { error: errorMessage(error) });
        }
      }
      changed = false;
      await Promise.race([
        abortableSleep(this.#config.capacityRefreshSeconds * 1000, signal),
        new Promise<void>((resolve) => wake = resolve),
      ]);
      wake = undefined;
      if (changed) await abortableSleep(500, signal); // a burst of node events reads once
    }
  }
}
