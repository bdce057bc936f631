/**
 * Shared informers, in the spirit of client-go's `SharedInformerFactory`: one informer,
 * and so one list and one watch, per resource type, namespace and selector for the whole
 * agent. A controller asks the factory for what it reads and registers its handlers; a
 * second controller asking for the same thing gets the same informer and adds no watch.
 * Informers asked for before `start` start with it; those asked for later start at once.
 *
 * @module
 */

import { Informer } from "./informer.ts";
import type { ListerWatcher } from "./reflector.ts";
import { type ResourceDescriptor, resourceName } from "./resources.ts";
import type { KubeObject, SelectorOptions } from "./types.ts";

/** What an informer watches besides its resource type. */
export interface SharedInformerOptions extends SelectorOptions {
  /** Only this namespace (default: all namespaces). */
  namespace?: string;
}

/** Where informers list and watch from; a `KubeClient` is one. */
export interface ResourceSource {
  /** The list-and-watch client of one resource, in one namespace or all. */
  resource<T extends KubeObject>(
    descriptor: ResourceDescriptor,
    namespace?: string,
  ): ListerWatcher<T>;
}

/** One informer of the factory, for introspection and tests. */
export interface SharedInformerEntry {
  /** `plural[.group]`, e.g. `pods` or `leases.coordination.k8s.io`. */
  resource: string;
  /** Namespace and selectors, as asked for. */
  options: SharedInformerOptions;
  /** Whether its first list has been delivered. */
  synced: boolean;
}

interface Entry {
  resource: string;
  options: SharedInformerOptions;
  informer: Informer<KubeObject>;
}

function keyOf(descriptor: ResourceDescriptor, options: SharedInformerOptions): string {
  return [
    descriptor.group,
    descriptor.version,
    descriptor.plural,
    options.namespace ?? "",
    options.labelSelector ?? "",
    options.fieldSelector ?? "",
  ].join("|");
}

function nameOf(resource: string, options: SharedInformerOptions): string {
  const scope = [
    options.namespace ? `namespace=${options.namespace}` : "",
    options.labelSelector ?? "",
    options.fieldSelector ?? "",
  ].filter((part) => part !== "").join(",");
  return scope === "" ? resource : `${resource}(${scope})`;
}

/**
 * The object without `metadata.managedFields`, which no controller of the agent reads and
 * which is often the larger part of an object (half of a pod's JSON, as kube-scheduler
 * strips them from its caches too).
 */
export function withoutManagedFields<T extends KubeObject>(object: T): T {
  if (object.metadata?.managedFields === undefined) return object;
  const { managedFields: _managedFields, ...metadata } = object.metadata;
  return { ...object, metadata };
}

/**
 * Hands out one informer per resource type, namespace and selector, and runs them; their
 * caches hold objects without `managedFields`.
 */
export class SharedInformerFactory {
  readonly #client: ResourceSource;
  readonly #entries = new Map<string, Entry>();
  readonly #runs: Promise<void>[] = [];
  #signal: AbortSignal | undefined;

  /** A factory whose informers list and watch through `client`. */
  constructor(client: ResourceSource) {
    this.#client = client;
  }

  /**
   * The informer of `descriptor` with `options` (namespace, label and field selector),
   * created on first request and shared afterwards.
   */
  informer<T extends KubeObject>(
    descriptor: ResourceDescriptor,
    options: SharedInformerOptions = {},
  ): Informer<T> {
    const key = keyOf(descriptor, options);
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      const resource = resourceName(descriptor);
      const informer = new Informer<KubeObject>(
        this.#client.resource<KubeObject>(descriptor, options.namespace),
        {
          labelSelector: options.labelSelector,
          fieldSelector: options.fieldSelector,
          name: nameOf(resource, options),
          transform: withoutManagedFields,
        },
      );
      entry = { resource, options: { ...options }, informer };
      this.#entries.set(key, entry);
      if (this.#signal !== undefined) this.#run(entry.informer, this.#signal);
    }
    // One factory entry per key; callers agree on T for the same descriptor.
    return entry.informer as unknown as Informer<T>;
  }

  /** Starts every informer asked for so far, and any asked for later, until `signal` aborts. */
  start(signal: AbortSignal): void {
    if (this.#signal !== undefined) {
      throw new Error("shared informers: expected start() once, found a second call");
    }
    this.#signal = signal;
    for (const entry of this.#entries.values()) this.#run(entry.informer, signal);
  }

  /** Resolves true once every informer asked for so far has synced, false if `signal` aborts first. */
  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    for (const entry of [...this.#entries.values()]) {
      if (!(await entry.informer.waitForSync(signal))) return false;
    }
    return true;
  }

  /** Resolves once every informer has stopped (after the start signal aborted). */
  async stopped(): Promise<void> {
    await Promise.all(this.#runs);
  }

  /** The informers handed out so far. */
  entries(): SharedInformerEntry[] {
    return [...this.#entries.values()].map((entry) => ({
      resource: entry.resource,
      options: { ...entry.options },
      synced: entry.informer.hasSynced(),
    }));
  }

  #run(informer: Informer<KubeObject>, signal: AbortSignal): void {
    this.#runs.push(informer.run(signal));
  }
}
