/**
 * Names to ids for what pods and the configuration name: Glance images, Nova flavors and
 * Neutron networks, each by name or id. Answers are cached for a minute (flavors: the
 * whole list, one call), concurrent lookups of the same name share one call, and a name
 * that matches nothing (or several things) is `InvalidInputError` saying what exists.
 *
 * @module
 */

import { InvalidInputError } from "../../lib/provider.ts";
import {
  type Flavor,
  flavorListSchema,
  type Image,
  imageListSchema,
  imageSchema,
  type Network,
  networkListSchema,
} from "./api_types.ts";
import type { OpenStackClient } from "./client.ts";
import { OpenStackHttpError, toProviderError } from "./errors.ts";
import { isOpenStackId } from "./pod_to_server.ts";

/** How long an answer is reused. */
export const cacheMs = 60_000;

interface Cached<T> {
  at: number;
  value: Promise<T>;
}

/** Resolves image, flavor and network references of one cloud. */
export class NameResolver {
  readonly #client: OpenStackClient;
  readonly #now: () => number;
  readonly #images = new Map<string, Cached<Image>>();
  readonly #networks = new Map<string, Cached<Network>>();
  #flavors: Cached<Flavor[]> | undefined;

  /** Creates the resolver; `now` is the clock of the cache. */
  constructor(client: OpenStackClient, now: () => number) {
    this.#client = client;
    this.#now = now;
  }

  #cached<T>(
    map: Map<string, Cached<T>>,
    key: string,
    load: () => Promise<T>,
  ): Promise<T> {
    const hit = map.get(key);
    if (hit !== undefined && this.#now() - hit.at < cacheMs) return hit.value;
    const value = load();
    map.set(key, { at: this.#now(), value });
    value.catch(() => map.delete(key));
    return value;
  }

  /** Every flavor the project may use (one call a minute). */
  flavors(signal: AbortSignal): Promise<Flavor[]> {
    const hit = this.#flavors;
    if (hit !== undefined && this.#now() - hit.at < cacheMs) return hit.value;
    const value = (async () => {
      try {
        return (await this.#client.request("compute", "GET", "/flavors/detail", {
          schema: flavorListSchema,
          signal,
        })).value.flavors;
      } catch (error) {
        throw toProviderError(error, "openstack provider: listing flavors");
      }
    })();
    this.#flavors = { at: this.#now(), value };
    value.catch(() => this.#flavors = undefined);
    return value;
  }

  /** The image `ref` names (an id, or a unique name), active. */
  image(ref: string, signal: AbortSignal): Promise<Image> {
    return this.#cached(this.#images, ref, async () => {
      let image: Image | undefined;
      try {
        if (isOpenStackId(ref)) {
          image = (await this.#client.request("image", "GET", `/v2/images/${ref}`, {
            schema: imageSchema,
            signal,
          })).value;
        } else {
          const found = (await this.#client.request("image", "GET", "/v2/images", {
            query: { name: ref, limit: "5" },
            schema: imageListSchema,
            signal,
          })).value.images;
          if (found.length > 1) {
            throw new InvalidInputError(
              `image "${ref}": expected one Glance image of that name, found ${found.length} (${
                found.map((candidate) => candidate.id).join(", ")
              }): name it by id`,
            );
          }
          image = found[0];
        }
      } catch (error) {
        if (error instanceof OpenStackHttpError && error.status === 404) image = undefined;
        else throw toProviderError(error, `openstack provider: looking up image "${ref}"`);
      }
      if (image === undefined) {
        throw new InvalidInputError(
          `image "${ref}" not found in Glance: expected the name or id of an image this project can use (openstack image list)`,
        );
      }
      if (image.status !== "active") {
        throw new InvalidInputError(
          `image "${ref}" (${image.id}) is ${image.status}: expected an active image`,
        );
      }
      return image;
    });
  }

  /** The network `ref` names (an id, or a unique name). */
  network(ref: string, signal: AbortSignal): Promise<Network> {
    return this.#cached(this.#networks, ref, async () => {
      let found: Network[];
      try {
        found = (await this.#client.request("network", "GET", "/v2.0/networks", {
          query: isOpenStackId(ref) ? { id: ref } : { name: ref },
          schema: networkListSchema,
          signal,
        })).value.networks;
      } catch (error) {
        throw toProviderError(error, `openstack provider: looking up network "${ref}"`);
      }
      if (found.length === 1) return found[0];
      const all = await this.#client.request("network", "GET", "/v2.0/networks", {
        query: { fields: ["id", "name"] },
        schema: networkListSchema,
        signal,
      }).then((reply) => reply.value.networks, () => []);
      throw new InvalidInputError(
        `network "${ref}": expected one Neutron network of that name or id, found ${found.length}; the networks this project sees are ${
          all.map((network) => network.name || network.id).join(", ") || "none"
        }`,
      );
    });
  }

  /** Forgets every cached answer (after a create refused one as unknown). */
  forget(): void {
    this.#images.clear();
    this.#networks.clear();
    this.#flavors = undefined;
  }
}
