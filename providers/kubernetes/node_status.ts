/**
 * The node side of the kubernetes provider: `ping` (the lower API server answers and a
 * lower node can take pods) and the Node described from the lower cluster's capacity,
 * conditions and version.
 *
 * @module
 */

import type { Node } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import { UnavailableError } from "../../lib/provider.ts";
import { errorMessage, type KubeClient } from "../../lib/provider_kit/mod.ts";
import { toProviderError } from "./errors.ts";
import type { LowerNodes } from "./lower_nodes.ts";

const log = getLogger(["vkedge", "provider", "kubernetes"]);

/** How long `configureNode` waits for the lower nodes' first list and the version. */
const CONFIGURE_TIMEOUT_MS = 10_000;

/** The lower cluster seen as the node. */
export class LowerClusterNode {
  readonly #client: KubeClient;
  readonly #nodes: LowerNodes;

  /** The node of the lower cluster behind `client`, whose nodes `nodes` watches. */
  constructor(client: KubeClient, nodes: LowerNodes) {
    this.#client = client;
    this.#nodes = nodes;
  }

  /** Answers when the lower API server does and at least one lower node can take pods. */
  async ping(signal: AbortSignal): Promise<void> {
    try {
      await this.#client.requestText({ method: "GET", path: "/readyz", signal });
    } catch (error) {
      throw toProviderError(error, `lower cluster ${this.#client.config.server}`);
    }
    const unusable = this.#nodes.unusable();
    if (unusable !== undefined) throw new UnavailableError(unusable);
  }

  /** The node with the lower cluster's capacity, allocatable, pressure and version. */
  async configureNode(node: Node, signal: AbortSignal): Promise<Node> {
    const wait = AbortSignal.any([signal, AbortSignal.timeout(CONFIGURE_TIMEOUT_MS)]);
    if (!(await this.#nodes.waitForSync(wait))) {
      signal.throwIfAborted();
      log.warn("the lower cluster's nodes are not listed yet; the node starts without capacity");
    }
    let version = "unknown";
    try {
      const info = await this.#client.request<{ gitVersion?: string }>({
        method: "GET",
        path: "/version",
        signal: wait,
      });
      version = info.gitVersion ?? version;
    } catch (error) {
      log.warn("cannot read the lower cluster's version: {error}", { error: errorMessage(error) });
    }
    const server = new URL(this.#client.config.server).host;
    return this.#nodes.describe(node, {
      providerID: `kubernetes://${server}`,
      nodeInfo: {
        osImage: `Kubernetes ${version} cluster at ${server}`,
        containerRuntimeVersion: `kubernetes://${version}`,
        kernelVersion: version,
      },
    });
  }
}
