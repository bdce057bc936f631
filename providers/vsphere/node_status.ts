/**
 * The node side of the vsphere provider: `ping` (vSphere answers an authenticated call),
 * the Node described from the placement's hosts, and the capacity refresh that notifies
 * the node status callbacks when the hosts' cores or memory change.
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
import {
  abortableSleep,
  CallbackSet,
  describeNode,
  errorMessage,
} from "../../lib/provider_kit/mod.ts";
import type { VsphereClient } from "./client.ts";
import type { VsphereConfig } from "./config.ts";
import type { Inventory } from "./inventory.ts";
import { nodeOwner } from "./identity.ts";
import { vsphereNodeDescription, type VsphereNodeOptions } from "./node_description.ts";
import { retrieveObjects } from "./property_collector.ts";

const logger = getLogger(["vkedge", "provider", "vsphere"]);

/** How long `ping` waits: less than the agent's own ping timeout, so the node names vSphere. */
const pingTimeoutMs = 3_000;

/** What {@linkcode VsphereNodeStatus} works with. */
export interface VsphereNodeStatusOptions {
  config: VsphereConfig;
  client: VsphereClient;
  inventory: Inventory;
  runtime: ProviderRuntimeOptions;
  /** Stops the capacity refresh. */
  stopped: AbortSignal;
}

/** The provider's NodeProvider half and node status notifications. */
export class VsphereNodeStatus {
  readonly #config: VsphereConfig;
  readonly #client: VsphereClient;
  readonly #inventory: Inventory;
  readonly #runtime: ProviderRuntimeOptions;
  readonly #stopped: AbortSignal;
  readonly #callbacks = new CallbackSet<Node>("node status");
  readonly #bootId = crypto.randomUUID();
  #node: Node | undefined;
  #watchingCapacity = false;

  /** Keeps the options; nothing is sent to vSphere until the first call. */
  constructor(options: VsphereNodeStatusOptions) {
    this.#config = options.config;
    this.#client = options.client;
    this.#inventory = options.inventory;
    this.#runtime = options.runtime;
    this.#stopped = options.stopped;
  }

  /**
   * Checks that vSphere answers an authenticated call (logging in again when the session
   * ended); throws `UnavailableError` naming the endpoint otherwise.
   */
  async ping(signal: AbortSignal): Promise<void> {
    const timeout = AbortSignal.timeout(pingTimeoutMs);
    const pingSignal = AbortSignal.any([signal, timeout]);
    try {
      const { sessionManager } = await this.#client.serviceContent(pingSignal);
      const read = () =>
        retrieveObjects(this.#client, [sessionManager], ["currentSession"], pingSignal);
      // vSphere answers reads of the SessionManager without a session, with no currentSession.
      if ((await read())[0]?.props.get("currentSession") === undefined) {
        this.#client.forgetSession();
        if ((await read())[0]?.props.get("currentSession") === undefined) {
          throw new Error("expected a current session after logging in, found none");
        }
      }
    } catch (error) {
      if (signal.aborted || isUnauthenticated(error)) throw error;
      if (timeout.aborted) {
        throw new UnavailableError(
          `vSphere at ${this.#client.url}: expected an authenticated answer, found none within ${
            pingTimeoutMs / 1000
          } s`,
          { cause: error },
        );
      }
      throw new UnavailableError(
        `vSphere at ${this.#client.url}: expected an authenticated answer, found ${
          errorMessage(error)
        }`,
        { cause: error },
      );
    }
  }

  /** Registers a node status callback, called when capacity changes. */
  notifyNodeStatus(signal: AbortSignal, callback: (node: Node) => void): void {
    this.#callbacks.add(signal, callback);
    if (signal.aborted || this.#watchingCapacity) return;
    this.#watchingCapacity = true;
    void this.#watchCapacity();
  }

  /**
   * Returns the node with capacity from the placement's hosts (their cores and memory) and
   * `maxPods`, nodeInfo and labels naming the datacenter and compute resource; addresses
   * and the kubelet version stay the agent's. When vSphere cannot be reached the node
   * starts with no CPU and memory and gets them on the next refresh.
   */
  async configureNode(node: Node, signal: AbortSignal): Promise<Node> {
    let placement;
    let about;
    try {
      placement = await this.#inventory.placement(signal);
      about = (await this.#client.serviceContent(signal)).about;
    } catch (error) {
      if (signal.aborted) throw error;
      logger.warn(
        "cannot read the vSphere placement yet: {error}; the node starts without capacity",
        {
          error: errorMessage(error),
        },
      );
    }
    this.#node = this.#describe(node, { placement, about, hosts: placement?.hosts ?? [] });
    return structuredClone(this.#node);
  }

  #describe(node: Node, found: Pick<VsphereNodeOptions, "placement" | "about" | "hosts">): Node {
    return describeNode(
      node,
      vsphereNodeDescription({
        ...found,
        maxPods: this.#config.maxPods,
        owner: nodeOwner(this.#config.clusterName, this.#runtime.nodeName),
        bootId: this.#bootId,
        endpoint: this.#client.url,
        operatingSystem: this.#runtime.operatingSystem,
        labels: this.#config.labels,
      }),
    );
  }

  async #watchCapacity(): Promise<void> {
    while (!this.#stopped.aborted) {
      await abortableSleep(this.#config.capacityRefreshSeconds * 1000, this.#stopped);
      if (this.#stopped.aborted || this.#node === undefined) continue;
      try {
        const placement = await this.#inventory.placement(this.#stopped);
        const hosts = await this.#inventory.hosts(this.#stopped);
        const about = (await this.#client.serviceContent(this.#stopped)).about;
        const updated = this.#describe(this.#node, { placement, about, hosts });
        if (
          JSON.stringify(updated.status?.capacity) !== JSON.stringify(this.#node.status?.capacity)
        ) {
          this.#node = updated;
          this.#callbacks.emit(updated);
        }
      } catch (error) {
        logger.debug("capacity refresh failed: {error}", { error: errorMessage(error) });
      }
    }
  }
}
