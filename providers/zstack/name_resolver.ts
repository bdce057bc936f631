/**
 * Name → inventory resolution of what the configuration, pods and StorageClasses name
 * (zone, cluster, host, image, L3 network, instance and disk offering, primary storage: by
 * name or by uuid), cached for a minute.
 * Concurrent creates share one in-flight lookup per key instead of repeating it; the
 * shared lookup runs for the provider's lifetime, and each caller stops waiting when its
 * own signal aborts. A name that matches nothing, or more than one thing, or something
 * unusable (a disabled image, a system network) is an `InvalidInputError` saying so; a
 * zone, cluster, host, disk offering or primary storage that matches nothing is refused
 * naming the ones that exist there.
 * A VM-Pod's placement hints resolve the same way, over the configured placement.
 *
 * @module
 */

import type { z } from "zod";
import { InvalidInputError } from "../../lib/provider.ts";
import { canonicalJson, errorMessage } from "../../lib/provider_kit/mod.ts";
import type {
  DiskOffering,
  Image,
  InstanceOffering,
  L3Network,
  PrimaryStorage,
} from "./api_types.ts";
import type { ZStackClient } from "./client.ts";
import {
  clusters,
  type Collection,
  diskOfferings,
  hosts,
  images,
  instanceOfferings,
  l3Networks,
  primaryStorages,
  queryAll,
  zones,
} from "./collections.ts";
import type { ZStackConfig } from "./config.ts";
import { toProviderError } from "./errors.ts";
import { isZStackUuid } from "./identity.ts";
import {
  type ImageRef,
  type Placement,
  type PlacementHints,
  type PlacementRef,
  type PlacementRefs,
  placementRefsFor,
} from "./pod_to_vm.ts";
import { eq, type QueryCondition } from "./query.ts";

/** How long a name → uuid resolution is reused. */
export const resolutionTtlMs = 60_000;

/** How many existing names a refusal lists at most. */
const namesListed = 20;

/** What every inventory the resolver looks up has. */
type Named = { uuid: string; name: string };

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

/** What a lookup for something else than a pod (a volume) is for. */
export interface Lookup {
  /** What the name is for, in messages: `volume pvc-… StorageClass parameter diskOffering`. */
  context: string;
  /** Aborts this caller's wait. */
  signal: AbortSignal;
}

/** Options of one lookup. */
interface LookupOptions {
  /** What the name is for, in messages: `placement.zone`, `pod ns/name image`. */
  context: string;
  /** Conditions narrowing the lookup (the zone of a cluster). */
  extra?: QueryCondition[];
  /**
   * Where the lookup searched, such as `in zone "zone-1"` (`""` for everywhere): when
   * set, a name matching nothing is refused naming what exists there.
   */
  scope?: string;
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

  /**
   * Where the VM of one pod goes: the configured placement, or the pod's hints over it as
   * {@linkcode placementRefsFor} says. A hint matching nothing is `InvalidInputError`
   * naming the annotation, the name and what exists there.
   */
  async podPlacement(hints: PlacementHints, lookup: PodLookup): Promise<Placement> {
    if (hints.zone === undefined && hints.cluster === undefined && hints.host === undefined) {
      return await this.placement(lookup.signal);
    }
    return await this.#resolvePlacement(placementRefsFor(this.#options.placement, hints), lookup);
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

  /**
   * The disk offering a StorageClass or the configuration names; it must be Enabled. One
   * matching nothing is refused naming the offerings that exist.
   */
  async diskOffering(ref: string, lookup: Lookup): Promise<DiskOffering> {
    const offering = await this.#resolve(diskOfferings, ref, { ...lookup, scope: "" });
    if (offering.state !== undefined && offering.state !== "Enabled") {
      throw new InvalidInputError(
        `zstack provider: ${lookup.context}: expected disk offering "${ref}" to be Enabled, found ${offering.state}`,
      );
    }
    return offering;
  }

  /**
   * The primary storage a StorageClass or the configuration names, in the configured
   * zone; it must be Enabled and Connected. One matching nothing is refused naming the
   * primary storage the zone has.
   */
  async primaryStorage(ref: string, lookup: Lookup): Promise<PrimaryStorage> {
    const { zone } = await this.placement(lookup.signal);
    const storage = await this.#resolve(primaryStorages, ref, {
      ...lookup,
      extra: [eq("zoneUuid", zone.uuid)],
      scope: `in zone "${zone.name || zone.uuid}"`,
    });
    const problems = [
      ...(storage.state !== undefined && storage.state !== "Enabled"
        ? [`state ${storage.state}`]
        : []),
      ...(storage.status !== undefined && storage.status !== "Connected"
        ? [`status ${storage.status}`]
        : []),
    ];
    if (problems.length > 0) {
      throw new InvalidInputError(
        `zstack provider: ${lookup.context}: expected primary storage "${ref}" to be Enabled and Connected, found ${
          problems.join(", ")
        }`,
      );
    }
    return storage;
  }

  #loadPlacement(): Promise<Placement> {
    return this.#resolvePlacement(placementRefsFor(this.#options.placement, {}), {
      signal: this.#options.signal,
    });
  }

  /** The zone, then the cluster in it, then the host in the cluster (else the zone). */
  async #resolvePlacement(
    refs: PlacementRefs,
    options: { pod?: string; signal: AbortSignal },
  ): Promise<Placement> {
    const { signal } = options;
    const contextOf = (level: string, ref: PlacementRef): string =>
      ref.annotation === undefined
        ? `placement.${level}`
        : `pod ${options.pod} annotation ${ref.annotation}`;
    const zone = await this.#resolve(zones, refs.zone.ref, {
      context: contextOf("zone", refs.zone),
      scope: "",
      signal,
    });
    const cluster = refs.cluster === undefined
      ? undefined
      : await this.#resolve(clusters, refs.cluster.ref, {
        context: contextOf("cluster", refs.cluster),
        extra: [eq("zoneUuid", zone.uuid)],
        scope: `in zone "${zone.name || zone.uuid}"`,
        signal,
      });
    const host = refs.host === undefined ? undefined : await this.#resolve(hosts, refs.host.ref, {
      context: contextOf("host", refs.host),
      extra: [eq(cluster ? "clusterUuid" : "zoneUuid", cluster?.uuid ?? zone.uuid)],
      scope: cluster
        ? `in cluster "${cluster.name || cluster.uuid}"`
        : `in zone "${zone.name || zone.uuid}"`,
      signal,
    });
    return { zone, ...(cluster ? { cluster } : {}), ...(host ? { host } : {}) };
  }

  /** Exactly one item of `collection` by uuid or name, cached; the lookup is shared. */
  #resolve<S extends z.ZodType<Named>>(
    collection: Collection<S>,
    ref: string,
    options: LookupOptions,
  ): Promise<z.output<S>> {
    const extra = options.extra ?? [];
    const key = `${collection.path} ${ref} ${canonicalJson(extra)}`;
    const now = this.#options.now;
    const cached = this.#cache.get(key);
    if (cached !== undefined && (cached.at === undefined || now() - cached.at < resolutionTtlMs)) {
      return untilAborted(cached.promise as Promise<z.output<S>>, options.signal);
    }
    const entry: Entry = { promise: this.#lookUp(collection, ref, options) };
    this.#cache.set(key, entry);
    entry.promise.then(() => {
      entry.at = now();
    }, () => {
      if (this.#cache.get(key) === entry) this.#cache.delete(key);
    });
    return untilAborted(entry.promise as Promise<z.output<S>>, options.signal);
  }

  async #lookUp<S extends z.ZodType<Named>>(
    collection: Collection<S>,
    ref: string,
    options: LookupOptions,
  ): Promise<z.output<S>> {
    const { context, scope } = options;
    const extra = options.extra ?? [];
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
    if (found.length === 1) return found[0];
    const where = scope ? ` ${scope}` : "";
    const hint = found.length > 1
      ? ": name it by uuid instead"
      : scope === undefined
      ? ""
      : `; ${await this.#existing(collection, { extra, scope })}`;
    throw new InvalidInputError(
      `zstack provider: ${context}: expected one ${collection.kind} ${
        byUuid ? "with uuid" : "named"
      } "${ref}"${where}, found ${found.length}${hint}`,
    );
  }

  /** `the hosts there are host-1, host-2`: what a refused name could have been. */
  async #existing<S extends z.ZodType<Named>>(
    collection: Collection<S>,
    options: { extra: QueryCondition[]; scope: string },
  ): Promise<string> {
    const kinds = `${collection.kind}s`;
    const there = options.scope === "" ? "" : " there";
    let items: z.output<S>[];
    try {
      items = await queryAll(this.#client, collection, {
        conditions: options.extra,
        signal: this.#options.signal,
      });
    } catch (error) {
      return `the ${kinds}${there} could not be listed (${errorMessage(error)})`;
    }
    if (items.length === 0) return `there are no ${kinds}${there}`;
    const names = items.map((item) => item.name || item.uuid).sort();
    const listed = names.slice(0, namesListed).join(", ");
    const more = names.length > namesListed ? ` and ${names.length - namesListed} more` : "";
    return `the ${kinds}${there} are ${listed}${more}`;
  }
}
