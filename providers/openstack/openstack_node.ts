/**
 * The Node of the openstack provider: the ping that says whether Keystone and Nova
 * answer, the Node built at start-up (capacity from the project's quota, bounded by
 * Placement's inventories when readable, nodeInfo and labels) and the node status
 * callbacks, called when capacity or allocatable change.
 *
 * @module
 */

import type { Node } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import { isUnauthenticated, UnavailableError } from "../../lib/provider.ts";
import { CallbackSet, describeNode, errorMessage } from "../../lib/provider_kit/mod.ts";
import { anyReplySchema } from "./api_types.ts";
import type { NodeCapacity } from "./capacity.ts";
import type { OpenStackClient } from "./client.ts";
import type { OpenStackConfig } from "./config.ts";
import { openstackNodeDescription } from "./node_description.ts";
import type { ServerTracker } from "./server_tracker.ts";

const logger = getLogger(["vkedge", "provider", "openstack"]);

/** Options of {@linkcode OpenStackNode}. */
export interface OpenStackNodeOptions {
  config: OpenStackConfig;
  client: OpenStackClient;
  /** This node's servers: they count towards allocatable. */
  tracker: ServerTracker;
  capacity: NodeCapacity;
  /** The tag of this node's servers. */
  nodeTag: string;
  /** `nodeInfo.operatingSystem` of the node. */
  operatingSystem: string;
  /** Aborts when the provider stops: the capacity watch ends then. */
  stopped: AbortSignal;
}

/** The provider's Node and its status notifications. */
export class OpenStackNode {
  readonly #options: OpenStackNodeOptions;
  readonly #bootId = crypto.randomUUID();
  readonly #callbacks = new CallbackSet<Node>("node status");
  #node: Node | undefined;
  #watchingCapacity = false;

  /** Creates the node; nothing is sent to OpenStack until the first call. */
  constructor(options: OpenStackNodeOptions) {
    this.#options = options;
  }

  /**
   * Checks that Keystone gives a token and Nova answers an authenticated call with it;
   * `UnauthenticatedError` when Keystone refuses the credentials, `UnavailableError`
   * naming the cloud otherwise.
   */
  async ping(signal: AbortSignal): Promise<void> {
    const { client } = this.#options;
    try {
      await client.request("compute", "GET", "/flavors", {
        query: { limit: "1" },
        schema: anyReplySchema,
        signal,
      });
    } catch (error) {
      if (signal.aborted || isUnauthenticated(error)) throw error;
      throw new UnavailableError(
        `OpenStack at ${client.authUrl}: expected Keystone to give a token and Nova to answer with it, found ${
          errorMessage(error)
        }`,
        { cause: error },
      );
    }
  }

  /** Registers a node status callback, called when capacity or allocatable change. */
  notifyNodeStatus(signal: AbortSignal, callback: (node: Node) => void): void {
    this.#callbacks.add(signal, callback);
    if (signal.aborted || this.#watchingCapacity) return;
    this.#watchingCapacity = true;
    void this.#options.capacity.watch({
      intervalMs: this.#options.config.capacityRefreshSeconds * 1000,
      signal: this.#options.stopped,
      onChange: (resources) => {
        if (this.#node === undefined) return;
        this.#node = { ...this.#node, status: { ...this.#node.status, ...resources } };
        this.#callbacks.emit(this.#node);
      },
    });
  }

  /**
   * Returns `node` with capacity, nodeInfo and labels. When OpenStack cannot be reached
   * the node starts with zero CPU and memory and gets its capacity on the next refresh.
   */
  async configureNode(node: Node, signal: AbortSignal): Promise<Node> {
    const { client, config, capacity } = this.#options;
    let computeVersion: string | undefined;
    try {
      await this.#options.tracker.refresh(signal); // this node's servers count towards allocatable
      await capacity.refresh(signal);
      computeVersion = await client.computeVersion(signal);
    } catch (error) {
      if (signal.aborted) throw error;
      logger.warn("cannot read the OpenStack capacity yet: {error}; the node starts with none", {
        error: errorMessage(error),
      });
    }
    const token = await client.token(signal).catch(() => undefined);
    this.#node = describeNode(
      node,
      openstackNodeDescription({
        resources: capacity.resources(),
        nodeTag: this.#options.nodeTag,
        bootId: this.#bootId,
        authUrl: client.authUrl,
        project: token?.projectName ?? token?.projectId,
        computeVersion,
        region: config.region,
        availabilityZone: config.availabilityZone,
        operatingSystem: this.#options.operatingSystem,
        labels: config.labels,
        providerID: config.providerID,
      }),
    );
    return structuredClone(this.#node);
  }
}
