/**
 * Which PriorityClasses the lower cluster has, read when a pod names one and remembered
 * for a few minutes: a lower pod keeps its class only when the lower cluster knows it.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import {
  errorMessage,
  type KubeClient,
  KubeNotFoundError,
  type ResourceDescriptor,
} from "../../lib/provider_kit/mod.ts";

const log = getLogger(["vkedge", "provider", "kubernetes"]);

const PRIORITY_CLASSES: ResourceDescriptor = {
  group: "scheduling.k8s.io",
  version: "v1",
  plural: "priorityclasses",
  namespaced: false,
  kind: "PriorityClass",
};

const PRIORITY_CLASS_TTL_MS = 5 * 60_000;

/** The lower cluster's PriorityClasses, looked up by name and cached. */
export class LowerPriorityClasses {
  readonly #client: KubeClient;
  readonly #now: () => number;
  readonly #known = new Map<string, { exists: boolean; at: number }>();

  /** Reads through `client`; `now` is the clock of the cache (default `Date.now`). */
  constructor(client: KubeClient, now: () => number = Date.now) {
    this.#client = client;
    this.#now = now;
  }

  /** Whether the lower cluster has the PriorityClass `name` (false when it cannot be read). */
  async exists(name: string, signal: AbortSignal): Promise<boolean> {
    const known = this.#known.get(name);
    const now = this.#now();
    if (known !== undefined && now - known.at < PRIORITY_CLASS_TTL_MS) return known.exists;
    let exists = false;
    try {
      await this.#client.resource(PRIORITY_CLASSES).get(name, { signal });
      exists = true;
    } catch (error) {
      if (!(error instanceof KubeNotFoundError)) {
        log.warn("cannot read priority class {name} of the lower cluster: {error}", {
          name,
          error: errorMessage(error),
        });
      }
    }
    this.#known.set(name, { exists, at: now });
    return exists;
  }
}
