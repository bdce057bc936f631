/**
 * The node side of the zstack provider: `ping` (the management node answers an
 * authenticated query), the Node described from the hosts of the configured placement,
 * and the capacity watch that notifies the node status callbacks when capacity or
 * allocatable change. The capacity itself is read in `capacity.ts`.
 *
 * @module
 */

import type { Node } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import {
  isUnauthenticated,
  type ProviderRuntimeOptions,
  UnavailableError,
} from "../../lib/provider.ts";
import { CallbackSet, describeNode, errorMessage } from "../../lib/provider_kit/mod.ts";
import { queryReplySchema, zoneOrClusterSchema } from "./api_types.ts";
import type { NodeCapacity } from "./capacity.ts";
import type { ZStackClient } from "./client.ts";
import { zones } from "./collections.ts";
import type { ZStackConfig } from "./config.ts";
import type { KnownHosts } from "./hosts.ts";
import type { NameResolver } from "./name_resolver.ts";
import { zstackNodeDescription } from "./node_description.ts";
import { buildQueryString } from "./query.ts";
import type { VmTracker } from "./vm_tracker.ts";

const logger = getLogger(["vkedge", "provider", "zstack"]);

/** What {@linkcode ZStackNodeStatus} works with. */
export interface ZStackNodeStatusOptions {
  config: ZStackConfig;
  client: ZStackClient;
  /** This node's VMs: they count towards allocatable. */
  tracker: VmTracker;
  capacity: NodeCapacity;
  resolver: NameResolver;
  hosts: KnownHosts;
  /** The user tag naming this node on its VMs. */
  nodeTag: string;
  /** The boot id the Node reports (one per provider instance). */
  bootId: string;
  runtime: ProviderRuntimeOptions;
  /** Stops the capacity watch. */
  stopped: AbortSignal;
}

/** The provider's NodeProvider half and node status notifications. */
export class ZStackNodeStatus {
  readonly #options: ZStackNodeStatusOptions;
  readonly #nodeCallbacks = new CallbackSet<Node>("node status");
  #node: Node | undefined;
  #watchingCapacity = false;

  /** Works with `options`; nothing is sent to ZStack until the first call. */
  constructor(options: ZStackNodeStatusOptions) {
    this.#options = options;
  }

  /**
   * Checks that the management node answers an authenticated query (re-logging in when
   * the session expired); throws `UnavailableError` naming the endpoint otherwise.
   */
  async ping(signal: AbortSignal): Promise<void> {
    const { client } = this.#options;
    try {
      await client.get(zones.path, {
        query: buildQueryString({ limit: 1 }),
        schema: queryReplySchema(zoneOrClusterSchema),
        signal,
      });
    } catch (error) {
      if (signal.aborted || isUnauthenticated(error)) throw error;
      throw new UnavailableError(
        `ZStack management node at ${client.endpoint}: expected an authenticated answer, found ${
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
    void this.#options.capacity.watch({
      intervalMs: this.#options.config.capacityRefreshSeconds * 1000,
      signal: this.#options.stopped,
      onChange: (resources) => {
        if (this.#node === undefined) return;
        this.#node = { ...this.#node, status: { ...this.#node.status, ...resources } };
        this.#nodeCallbacks.emit(this.#node);
      },
    });
  }

  /**
   * Returns the node with capacity and allocatable from the hosts of the configured
   * placement (allocatable: what ZStack has free plus what this node's VMs use), nodeInfo
   * and labels; addresses and the kubelet version stay the agent's. When ZStack cannot be
   * reached the node starts with zero CPU and memory and gets its capacity on the next
   * refresh.
   */
  async configureNode(node: Node, signal: AbortSignal): Promise<Node> {
    const { config, client, tracker, capacity, resolver, hosts } = this.#options;
    try {
      await tracker.refresh(signal); // this node's VMs count towards allocatable
      await capacity.refresh(signal);
    } catch (error) {
      if (signal.aborted) throw error;
      logger.warn("cannot read ZStack capacity yet: {error}; the node starts with none", {
        error: errorMessage(error),
      });
    }
    this.#node = describeNode(
      node,
      zstackNodeDescription({
        placement: await resolver.knownPlacement(),
        resources: capacity.resources(),
        host: hosts.first(),
        nodeTag: this.#options.nodeTag,
        bootId: this.#options.bootId,
        endpoint: client.endpoint,
        operatingSystem: this.#options.runtime.operatingSystem,
        labels: config.labels,
        providerID: config.providerID,
      }),
    );
    return structuredClone(this.#node);
  }
}
