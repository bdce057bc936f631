/**
 * The namespace mapping (`prefix + upper namespace + suffix`) and the lower namespaces
 * made on demand, labelled with the upper cluster, before the first pod goes there. They
 * are left in place when empty: deleting a namespace is slow and final, and the next pod
 * would need it again.
 *
 * @module
 */

import type { Namespace } from "kubernetes-types/core/v1.d.ts";
import { InvalidInputError } from "../../lib/provider.ts";
import {
  KubeAlreadyExistsError,
  type KubeClient,
  KubeNotFoundError,
  NAMESPACES,
} from "../../lib/provider_kit/mod.ts";
import { toProviderError } from "./errors.ts";
import { CLUSTER_LABEL, type Ownership } from "./ownership.ts";

const NAMESPACE_NAME = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;

/** The lower namespace of `upper`; `InvalidInputError` when the result is no valid name. */
export function lowerNamespace(mapping: { prefix: string; suffix: string }, upper: string): string {
  const name = `${mapping.prefix}${upper}${mapping.suffix}`;
  if (!NAMESPACE_NAME.test(name)) {
    throw new InvalidInputError(
      `namespace ${upper} maps to "${name}" in the lower cluster, which is no namespace name ` +
        "(at most 63 lower-case letters, digits or '-'): shorten the configured namespaces.prefix or suffix",
    );
  }
  return name;
}

/** Makes lower namespaces when first needed. */
export class LowerNamespaces {
  readonly #client: KubeClient;
  readonly #ownership: Ownership;
  readonly #known = new Set<string>();
  /** Namespaces being looked up or made now, so that concurrent creates ask once. */
  readonly #pending = new Map<string, Promise<void>>();

  /** Namespaces made through `client`, labelled for `ownership`'s cluster. */
  constructor(client: KubeClient, ownership: Ownership) {
    this.#client = client;
    this.#ownership = ownership;
  }

  /** Makes sure the lower namespace `name` exists. */
  async ensure(name: string, signal: AbortSignal): Promise<void> {
    if (this.#known.has(name)) return;
    let pending = this.#pending.get(name);
    if (pending === undefined) {
      pending = this.#make(name, signal).finally(() => this.#pending.delete(name));
      this.#pending.set(name, pending);
    }
    await pending;
  }

  async #make(name: string, signal: AbortSignal): Promise<void> {
    const namespaces = this.#client.resource<Namespace>(NAMESPACES);
    try {
      const existing = await namespaces.get(name, { signal });
      if (existing.status?.phase === "Terminating") {
        throw toProviderError(
          new Error(`namespace ${name} is being terminated`),
          `lower namespace ${name}`,
        );
      }
    } catch (error) {
      if (!(error instanceof KubeNotFoundError)) {
        throw toProviderError(error, `lower namespace ${name}`);
      }
      try {
        await namespaces.create({
          apiVersion: "v1",
          kind: "Namespace",
          metadata: {
            name,
            labels: { [CLUSTER_LABEL]: this.#ownership.cluster },
            annotations: { [CLUSTER_LABEL]: this.#ownership.cluster },
          },
        }, { signal });
      } catch (createError) {
        if (!(createError instanceof KubeAlreadyExistsError)) {
          throw toProviderError(createError, `create lower namespace ${name}`);
        }
      }
    }
    this.#known.add(name);
  }

  /** Forgets `name` (it was deleted below), so the next pod makes it again. */
  forget(name: string): void {
    this.#known.delete(name);
  }
}
