/**
 * Name → inventory resolution of what the configuration and pods name (zone, cluster,
 * host, image, L3 network, instance offering: by name or by uuid), cached for a minute.
 * Concurrent creates share one in-flight lookup per key instead of repeating it; the
 * shared lookup runs for the provider's lifetime, and each caller stops waiting when its
 * own signal aborts. A name that matches nothing, or more than one thing, or something
 * unusable (a disabled image, a system network) is an `InvalidInputError` saying so.
 *
 * @module
 */

import type { z } from "zod";
import { InvalidInputError } from "../../lib/provider.ts";
import { canonicalJson } from "../../lib/provider_kit/mod.ts";
import type { Image, InstanceOffering, L3Network } from "./api_types.ts";
import type { ZStackClient } from "./client.ts";
import {
  clusters,
  type Collection,
  hosts,
  images,
  instanceOfferings,
  l3Networks,
  queryAll,
  zones,
} from "./collections.ts";
import type { ZStackConfig } from "./config.ts";
import { toProviderError } from "./errors.ts";
import { isZStackUuid } from "./identity.ts";
import type { ImageRef, Placement } from "./pod_to_vm.ts";
import { eq, type QueryCondition } from "./query.ts";

/** How long a name → uuid resolution is reused. */
export const resolutionTtlMs = 60_000;

/** Options of {@linkcode NameResolver}. */
export interface NameResolverOptions {
  /** Where VMs go, as configured. */
  placement: ZStackConfig["placement"];
  /** Clock in milliseconds. */
  now: () => number;
  /** The provider's lifetime: shared lookups end with it. */
  signal: AbortSignal;
}

/** What a pod-level lookup is for. */
export interface PodLookup {
  /** `namespace/name` of the pod, for messages. */
  pod: string;
  /** Aborts this caller's wait. */
  signal: AbortSignal;
}

interface Entry {
  promise: Promise<unknown>;
  /** When it resolved; absent while in flight. */
  at?: number;
}

/** Waits for `promise`, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const aborted = (): void => reject(signal.reason);
    signal.addEventListener("abort", aborted, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", aborted));
  });
}

/** Resolves names and uuids to ZStack inventories, with a TTL cache and shared lookups. */
export class NameResolver {
  readonly #client: ZStackClient;
  readonly #options: NameResolverOptions;
  readonly #cache = new Map<string, Entry>();
  #placement: Promise<Placement> | undefined;

  /** Creates the resolver; nothing is queried until asked. */
  constructor(client: ZStackClient, options: NameResolverOptions) {
    this.#client = client;
    this.#options = options;
  }

  /** The configured placement resolved (zone, then cluster and host within it); single flight. */
  placement(signal: AbortSignal): Promise<Placement> {
    if (this.#placement === undefined) {
      const pending = this.#loadPlacement();
      this.#placement = pending;
      pending.catch(() => {
        if (this.#placement === pending) this.#placement = undefined;
      });
    }
    return untilAborted(this.#placement, signal);
  }

  /** The placement if it was resolved already (or is being resolved and succeeds). */
  async knownPlacement(): Promise<Placement | undefined> {
    return await this.#placement?.catch(() => undefined);
  }

  /** The image a pod names; it must be an Enabled, Ready root-volume template. */
  async image(ref: ImageRef, lookup: PodLookup): Promise<Image> {
    const text = ref.kind === "uuid" ? ref.uuid : ref.name;
    const image = await this.#resolve(images, text, {
      context: `pod ${lookup.pod} image`,
      signal: lookup.signal,
    });
    const problems: string[] = [];
    if (image.state !== undefined && image.state !== "Enabled") {
      problems.push(`state ${image.state}`);
    }
    if (image.status !== undefined && image.status !== "Ready") {
      problems.push(`status ${image.status}`);
    }
    if (image.mediaType !== undefined && image.mediaType !== "RootVolumeTemplate") {
      problems.push(`media type ${image.mediaType}`);
    }
    if (image.system) problems.push("a system image");
    if (problems.length > 0) {
      this.#cache.clear();
      throw new InvalidInputError(
        `zstack provider: pod ${lookup.pod}: expected image "${text}" to be an Enabled, Ready RootVolumeTemplate, found ${
          problems.join(", ")
        }`,
      );
    }
    return image;
  }

  /** An L3 network a pod names; it must be Enabled and not a system network. */
  async l3Network(ref: string, lookup: PodLookup): Promise<L3Network> {
    const network = await this.#resolve(l3Networks, ref, {
      context: `pod ${lookup.pod} L3 network`,
      signal: lookup.signal,
    });
    if ((network.state !== undefined && network.state !== "Enabled") || network.system) {
      throw new InvalidInputError(
        `zstack provider: pod ${lookup.pod}: expected L3 network "${ref}" to be Enabled and not a system network, found state ${
          network.state ?? "unknown"
        }${network.system ? ", system" : ""}`,
      );
    }
    return network;
  }

  /** The instance offering a pod (or the defaults) names; it must be Enabled. */
  async instanceOffering(ref: string, lookup: PodLookup): Promise<InstanceOffering> {
    const offering = await this.#resolve(instanceOfferings, ref, {
      context: `pod ${lookup.pod} instance offering`,
      signal: lookup.signal,
    });
    if (offering.state !== undefined && offering.state !== "Enabled") {
      throw new InvalidInputError(
        `zstack provider: pod ${lookup.pod}: expected instance offering "${ref}" to be Enabled, found ${offering.state}`,
      );
    }
    return offering;
  }

  async #loadPlacement(): Promise<Placement> {
    const { placement, signal } = this.#options;
    const zone = await this.#resolve(zones, placement.zone, { context: "placement.zone", signal });
    const cluster = placement.cluster === undefined
      ? undefined
      : await this.#resolve(clusters, placement.cluster, {
        context: "placement.cluster",
        extra: [eq("zoneUuid", zone.uuid)],
        signal,
      });
    const host = placement.host === undefined ? undefined : await this.#resolve(
      hosts,
      placement.host,
      {
        context: "placement.host",
        extra: [eq(cluster ? "clusterUuid" : "zoneUuid", cluster?.uuid ?? zone.uuid)],
        signal,
      },
    );
    return { zone, ...(cluster ? { cluster } : {}), ...(host ? { host } : {}) };
  }

  /** Exactly one item of `collection` by uuid or name, cached; the lookup is shared. */
  #resolve<S extends z.ZodType>(
    collection: Collection<S>,
    ref: string,
    options: { context: string; extra?: QueryCondition[]; signal: AbortSignal },
  ): Promise<z.output<S>> {
    const extra = options.extra ?? [];
    const key = `${collection.path} ${ref} ${canonicalJson(extra)}`;
    const now = this.#options.now;
    const cached = this.#cache.get(key);
    if (cached !== undefined && (cached.at === undefined || now() - cached.at < resolutionTtlMs)) {
      return untilAborted(cached.promise as Promise<z.output<S>>, options.signal);
    }
    const entry: Entry = { promise: this.#lookUp(collection, ref, options.context, extra) };
    this.#cache.set(key, entry);
    entry.promise.then(() => {
      entry.at = now();
    }, () => {
      if (this.#cache.get(key) === entry) this.#cache.delete(key);
    });
    return untilAborted(entry.promise as Promise<z.output<S>>, options.signal);
  }

  async #lookUp<S extends z.ZodType>(
    collection: Collection<S>,
    ref: string,
    context: string,
    extra: QueryCondition[],
  ): Promise<z.output<S>> {
    const byUuid = isZStackUuid(ref);
    let found: z.output<S>[];
    try {
      found = await queryAll(this.#client, collection, {
        conditions: [eq(byUuid ? "uuid" : "name", ref), ...extra],
        signal: this.#options.signal,
      });
    } catch (error) {
      throw toProviderError(
        error,
        `zstack provider: ${context}: looking up ${collection.kind} "${ref}"`,
      );
    }
    if (found.length !== 1) {
      throw new InvalidInputError(
        `zstack provider: ${context}: expected one ${collection.kind} ${
          byUuid ? "with uuid" : "named"
        } "${ref}", found ${found.length}${found.length > 1 ? ": name it by uuid instead" : ""}`,
      );
    }
    return found[0];
  }
}
