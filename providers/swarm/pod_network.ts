/**
 * The pod network: one attachable overlay network that every container of every pod of
 * this node joins (the Swarm's counterpart of a CNI network), found by name and created
 * with the cluster's label when missing. Its ID is cached; a create that finds the network
 * gone forgets it and looks again.
 *
 * @module
 */

import { InvalidInputError } from "../../lib/provider.ts";
import type { EngineClient } from "./client.ts";
import { toProviderError } from "./errors.ts";
import { ownerLabels } from "./identity.ts";

/** Options of {@linkcode PodNetwork}. */
export interface PodNetworkOptions {
  client: EngineClient;
  /** Network name. */
  name: string;
  /** Create it when missing. */
  create: boolean;
  /** `clusterName`, for the label of a network vkedge creates. */
  clusterName: string;
}

/** The pod network's ID, found or created once. */
export class PodNetwork {
  readonly #options: PodNetworkOptions;
  #id: string | undefined;
  #pending: Promise<string> | undefined;

  /** Creates the finder; nothing is sent until `id`. */
  constructor(options: PodNetworkOptions) {
    this.#options = options;
  }

  /** The network name. */
  get name(): string {
    return this.#options.name;
  }

  /** The ID, when known. */
  get knownId(): string | undefined {
    return this.#id;
  }

  /** The network's ID: looked up, or created when missing and allowed. */
  id(signal: AbortSignal): Promise<string> {
    if (this.#id !== undefined) return Promise.resolve(this.#id);
    this.#pending ??= this.#find(signal).finally(() => this.#pending = undefined);
    return this.#pending;
  }

  /** Forgets the cached ID (the network was removed behind vkedge's back). */
  forget(): void {
    this.#id = undefined;
  }

  async #lookup(signal: AbortSignal): Promise<string | undefined> {
    const { client, name } = this.#options;
    const networks = await client.listNetworks({ name: [name] }, signal);
    const found = networks.find((network) => network.Name === name);
    if (found !== undefined && (found.Driver !== "overlay" || found.Attachable === false)) {
      throw new InvalidInputError(
        `pod network ${name}: expected an attachable overlay network, found driver ${found.Driver}${
          found.Attachable === false ? ", not attachable" : ""
        }`,
      );
    }
    return found?.Id;
  }

  async #find(signal: AbortSignal): Promise<string> {
    const { client, name } = this.#options;
    try {
      let id = await this.#lookup(signal);
      if (id === undefined) {
        if (!this.#options.create) {
          throw new InvalidInputError(
            `pod network ${name}: expected an attachable overlay network of that name, found none (create it with 'docker network create -d overlay --attachable ${name}', or set network.create)`,
          );
        }
        try {
          id = await client.createOverlayNetwork(
            name,
            { [ownerLabels.cluster]: this.#options.clusterName },
            signal,
          );
        } catch (error) {
          // Another agent may have created it at the same moment.
          id = await this.#lookup(signal);
          if (id === undefined) throw error;
        }
      }
      this.#id = id;
      return id;
    } catch (error) {
      throw toProviderError(error, `finding the pod network ${name}`);
    }
  }
}
