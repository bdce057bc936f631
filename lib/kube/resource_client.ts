/**
 * Typed verbs on one resource (and namespace): get, list (every page), create, update,
 * patch in each format, server-side apply, delete and watch, as returned by
 * `KubeClient.resource`.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { DeleteOptions, Preconditions, Status } from "kubernetes-types/meta/v1.d.ts";
import { countOpenWatch, resourceLabel, watchEventCounter } from "./client_metrics.ts";
import { KubeGoneError } from "./errors.ts";
import type { QueryParams, RequestSender } from "./request.ts";
import { apiVersionOf, type ResourceDescriptor } from "./resources.ts";
import { SubresourceClient } from "./subresource_client.ts";
import type { KubeList, KubeObject, ListOptions, WatchOptions } from "./types.ts";
import { WatchStream } from "./watch.ts";

const logger = getLogger(["vkedge", "kube", "client"]);

/** Options of create and update calls. */
export interface WriteOptions {
  /** The field manager recorded in managedFields. */
  fieldManager?: string;
  /** Validate and answer without persisting (`dryRun=All`). */
  dryRun?: boolean;
  /** How unknown or duplicate fields are treated by the server. */
  fieldValidation?: "Ignore" | "Warn" | "Strict";
  /** Aborts the request. */
  signal?: AbortSignal;
}

/** The patch formats: JSON merge, strategic merge, JSON patch (RFC 6902), server-side apply. */
export type PatchType = "merge" | "strategic" | "json" | "apply";

/** Options of patch calls. */
export interface PatchOptions extends WriteOptions {
  /** The patch format (default `merge`). */
  type?: PatchType;
  /** For `apply`: take ownership of conflicting fields. */
  force?: boolean;
  /** Patch a subresource such as `status` or `scale`. */
  subresource?: string;
}

/** Options of delete calls. */
export interface DeleteCallOptions {
  /** Seconds before the object is deleted; 0 deletes immediately. */
  gracePeriodSeconds?: number;
  /** How dependents are garbage-collected. */
  propagationPolicy?: "Orphan" | "Background" | "Foreground";
  /** Delete only if the object still has this UID and/or resourceVersion; else `KubeConflictError`. */
  preconditions?: Preconditions;
  /** Validate and answer without deleting. */
  dryRun?: boolean;
  /** Aborts the request. */
  signal?: AbortSignal;
}

/** Options of get calls. */
export interface GetOptions {
  /** Read at this resourceVersion (e.g. `0` for the watch cache). */
  resourceVersion?: string;
  /** Aborts the request. */
  signal?: AbortSignal;
}

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  json: "application/json-patch+json",
  apply: "application/apply-patch+yaml",
};

function encodeSegment(field: string, value: string): string {
  if (value === "" || value === "." || value === ".." || value.includes("/")) {
    throw new TypeError(
      `${field}: expected a non-empty name without "/", found ${JSON.stringify(value)}`,
    );
  }
  return encodeURIComponent(value);
}

/** Typed verbs on one resource (and namespace), as returned by `KubeClient.resource`. */
export class ResourceClient<T extends KubeObject = KubeObject> {
  /** The client requests go through. */
  readonly client: RequestSender;
  /** The addressed resource. */
  readonly descriptor: ResourceDescriptor;
  /** The namespace, or `undefined` for all namespaces / cluster-scoped resources. */
  readonly namespace: string | undefined;

  readonly #resource: string;

  /** Creates a resource client; prefer `KubeClient.resource`. */
  constructor(client: RequestSender, descriptor: ResourceDescriptor, namespace?: string) {
    if (!descriptor.namespaced && namespace !== undefined && namespace !== "") {
      throw new TypeError(
        `namespace: expected none for cluster-scoped ${descriptor.plural}, found ${
          JSON.stringify(namespace)
        }`,
      );
    }
    this.client = client;
    this.descriptor = descriptor;
    this.namespace = namespace === "" ? undefined : namespace;
    this.#resource = resourceLabel(descriptor);
  }

  /** The URL path of the collection, an object (`name`) or its subresource. */
  path(options: { name?: string; subresource?: string; namespace?: string } = {}): string {
    const { group, version, plural, namespaced } = this.descriptor;
    let path = group === "" ? `/api/${version}` : `/apis/${group}/${version}`;
    const namespace = options.namespace ?? this.namespace;
    if (namespaced && namespace !== undefined) {
      path += `/namespaces/${encodeSegment("namespace", namespace)}`;
    }
    path += `/${plural}`;
    if (options.name !== undefined) path += `/${encodeSegment("name", options.name)}`;
    if (options.subresource !== undefined) {
      if (options.subresource.split("/").some((s) => s === "" || s === "." || s === "..")) {
        throw new TypeError(
          `subresource: expected segments such as "status" or "proxy/stats", found ${
            JSON.stringify(options.subresource)
          }`,
        );
      }
      path += `/${options.subresource.split("/").map(encodeURIComponent).join("/")}`;
    }
    return path;
  }

  #objectPath(verb: string, name: string, object?: T, subresource?: string): string {
    if (!this.descriptor.namespaced) return this.path({ name, subresource });
    const namespace = this.namespace ?? object?.metadata?.namespace;
    if (namespace === undefined || namespace === "") {
      throw new TypeError(
        `namespace: expected a namespace to ${verb} ${this.descriptor.plural}/${name}, found none`,
      );
    }
    return this.path({ name, subresource, namespace });
  }

  #nameOf(verb: string, object: T): string {
    const name = object.metadata?.name;
    if (name === undefined || name === "") {
      throw new TypeError(
        `metadata.name: expected a name to ${verb} ${this.descriptor.plural}, found none`,
      );
    }
    return name;
  }

  #withTypeMeta(object: T): T {
    if (object.apiVersion !== undefined && object.kind !== undefined) return object;
    return {
      ...object,
      apiVersion: object.apiVersion ?? apiVersionOf(this.descriptor),
      ...(this.descriptor.kind !== undefined ? { kind: object.kind ?? this.descriptor.kind } : {}),
    };
  }

  /** Reads one object; throws `KubeNotFoundError` when it does not exist. */
  async get(name: string, options: GetOptions = {}): Promise<T> {
    return await this.client.request<T>({
      method: "GET",
      path: this.#objectPath("get", name),
      query: { resourceVersion: options.resourceVersion },
      signal: options.signal,
    });
  }

  /** Lists one page; `metadata.continue` is set when more pages follow. */
  async list(options: ListOptions = {}): Promise<KubeList<T>> {
    const list = await this.client.request<KubeList<T>>({
      method: "GET",
      path: this.path(),
      query: {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        limit: options.limit,
        continue: options.continue,
        resourceVersion: options.resourceVersion,
        resourceVersionMatch: options.resourceVersionMatch,
      },
      signal: options.signal,
    });
    return { ...list, items: list.items ?? [], metadata: list.metadata ?? {} };
  }

  /**
   * Lists every page (`limit` is the page size, default 500) and returns all
   * items with the collection's resourceVersion; if the continue token expires
   * midway it falls back to one unpaged list.
   */
  async listAll(options: ListOptions = {}): Promise<KubeList<T>> {
    const limit = options.limit ?? 500;
    const first = await this.list({ ...options, limit });
    const items = [...first.items];
    let next = first.metadata.continue;
    while (next !== undefined && next !== "") {
      let page: KubeList<T>;
      try {
        page = await this.list({ ...options, limit, continue: next, resourceVersion: undefined });
      } catch (error) {
        if (!(error instanceof KubeGoneError)) throw error;
        logger.info("continue token of {path} expired, listing without pages", {
          path: this.path(),
        });
        return await this.list({ ...options, limit: undefined, continue: undefined });
      }
      items.push(...page.items);
      next = page.metadata.continue;
    }
    return {
      ...first,
      items,
      metadata: { ...first.metadata, continue: undefined, remainingItemCount: undefined },
    };
  }

  /** Creates an object (POST; retried only on 429); throws `KubeAlreadyExistsError` if the name is taken. */
  async create(object: T, options: WriteOptions = {}): Promise<T> {
    const namespaced = this.descriptor.namespaced;
    const namespace = this.namespace ?? object.metadata?.namespace;
    if (namespaced && (namespace === undefined || namespace === "")) {
      throw new TypeError(
        `namespace: expected a namespace to create ${this.descriptor.plural}, found none`,
      );
    }
    return await this.client.request<T>({
      method: "POST",
      path: namespaced ? this.path({ namespace }) : this.path(),
      query: writeQuery(options),
      body: this.#withTypeMeta(object),
      idempotent: false,
      signal: options.signal,
    });
  }

  /** Replaces an object (PUT); a stale `metadata.resourceVersion` throws `KubeConflictError`. */
  async update(object: T, options: WriteOptions = {}): Promise<T> {
    const name = this.#nameOf("update", object);
    return await this.client.request<T>({
      method: "PUT",
      path: this.#objectPath("update", name, object),
      query: writeQuery(options),
      body: this.#withTypeMeta(object),
      idempotent: true,
      signal: options.signal,
    });
  }

  /** Replaces the status subresource (PUT `.../status`). */
  async updateStatus(object: T, options: WriteOptions = {}): Promise<T> {
    const name = this.#nameOf("update the status of", object);
    return await this.client.request<T>({
      method: "PUT",
      path: this.#objectPath("update the status of", name, object, "status"),
      query: writeQuery(options),
      body: this.#withTypeMeta(object),
      idempotent: true,
      signal: options.signal,
    });
  }

  /**
   * Patches an object: `merge` (default), `strategic`, `json` (an RFC 6902
   * array) or `apply` (server-side apply; needs `fieldManager`).
   */
  async patch(name: string, patch: unknown, options: PatchOptions = {}): Promise<T> {
    const type = options.type ?? "merge";
    if (type === "apply" && !options.fieldManager) {
      throw new TypeError(
        "fieldManager: expected a field manager for a server-side apply, found none",
      );
    }
    if (type === "json" && !Array.isArray(patch)) {
      throw new TypeError(
        `patch: expected a JSON patch array for type json, found ${typeof patch}`,
      );
    }
    return await this.client.request<T>({
      method: "PATCH",
      path: this.#objectPath("patch", name, undefined, options.subresource),
      query: { ...writeQuery(options), force: type === "apply" ? options.force : undefined },
      body: type === "apply" ? this.#withTypeMeta(patch as T) : patch,
      contentType: PATCH_CONTENT_TYPES[type],
      idempotent: false,
      signal: options.signal,
    });
  }

  /** Patches the status subresource. */
  async patchStatus(name: string, patch: unknown, options: PatchOptions = {}): Promise<T> {
    return await this.patch(name, patch, { ...options, subresource: "status" });
  }

  /** Server-side applies `object` as `fieldManager`; a conflict without `force` throws `KubeConflictError`. */
  async apply(
    object: T,
    options: WriteOptions & { fieldManager: string; force?: boolean; subresource?: string },
  ): Promise<T> {
    const name = this.#nameOf("apply", object);
    const namespace = this.namespace ?? object.metadata?.namespace;
    const target = namespace === this.namespace || !this.descriptor.namespaced
      ? this
      : new ResourceClient<T>(this.client, this.descriptor, namespace);
    return await target.patch(name, object, { ...options, type: "apply" });
  }

  /**
   * Deletes an object; returns the object while it is being deleted (grace
   * period or finalizers) or the `Status` once it is gone.
   */
  async delete(name: string, options: DeleteCallOptions = {}): Promise<T | Status> {
    const body: DeleteOptions = { kind: "DeleteOptions", apiVersion: "v1" };
    if (options.gracePeriodSeconds !== undefined) {
      body.gracePeriodSeconds = options.gracePeriodSeconds;
    }
    if (options.propagationPolicy !== undefined) body.propagationPolicy = options.propagationPolicy;
    if (options.preconditions !== undefined) body.preconditions = options.preconditions;
    if (options.dryRun) body.dryRun = ["All"];
    return await this.client.request<T | Status>({
      method: "DELETE",
      path: this.#objectPath("delete", name),
      body,
      idempotent: true,
      signal: options.signal,
    });
  }

  /**
   * Opens a watch (`?watch=1`, bookmarks on by default); errors while opening,
   * such as `KubeGoneError` for a too old resourceVersion, are thrown here.
   */
  async watch(options: WatchOptions = {}): Promise<WatchStream<T>> {
    const abort = new AbortController();
    const response = await this.client.openStream({
      method: "GET",
      path: this.path(),
      query: {
        watch: 1,
        allowWatchBookmarks: options.allowWatchBookmarks ?? true,
        resourceVersion: options.resourceVersion,
        timeoutSeconds: options.timeoutSeconds,
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
      },
      idempotent: true,
      signal: options.signal,
    }, abort);
    const body = countOpenWatch(response, this.#resource, {
      signals: [abort.signal, options.signal],
    });
    return new WatchStream<T>(body, {
      signal: options.signal,
      what: `watch ${this.descriptor.plural}`,
      abort: () => abort.abort(),
      onEvent: watchEventCounter(this.#resource),
    });
  }

  /** Verbs on a subresource of one object, e.g. `subresource("web", "log")` or `("node-1", "proxy/stats/summary")`. */
  subresource(name: string, subresource: string): SubresourceClient {
    return new SubresourceClient(
      this.client,
      this.#objectPath("use", name, undefined, subresource),
    );
  }
}

function writeQuery(options: WriteOptions): QueryParams {
  return {
    fieldManager: options.fieldManager,
    dryRun: options.dryRun ? "All" : undefined,
    fieldValidation: options.fieldValidation,
  };
}
