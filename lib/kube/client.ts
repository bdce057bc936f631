/**
 * The Kubernetes REST client: `fetch` with the cluster's TLS material, a
 * client-side rate limiter, retries for idempotent verbs, typed errors, and a
 * typed per-resource API (`client.resource<Pod>(PODS, "ns").get("web")`).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { DeleteOptions, Preconditions, Status } from "kubernetes-types/meta/v1.d.ts";
import { backoffDelay, sleep } from "./_async.ts";
import { VERSION } from "../version.ts";
import type { ClientConfig } from "./config.ts";
import {
  errorFromStatus,
  KubeApiError,
  KubeGoneError,
  KubeTooManyRequestsError,
  KubeUnavailableError,
  networkError,
} from "./errors.ts";
import { RateLimiter } from "./rate_limiter.ts";
import { apiVersionOf, type ResourceDescriptor } from "./resources.ts";
import type { KubeList, KubeObject, ListOptions, WatchOptions } from "./types.ts";
import { WatchStream } from "./watch.ts";

const logger = getLogger(["vkedge", "kube", "client"]);

const TOKEN_FILE_TTL_MS = 60_000;
const MAX_RETRY_AFTER_MS = 60_000;

/** Query parameters; `undefined` values are left out. */
export type QueryParams = Record<string, string | number | boolean | undefined>;

/** Options of {@linkcode KubeClient}. */
export interface KubeClientOptions {
  /** Sustained requests per second of the client-side limiter (default 5, like client-go). */
  qps?: number;
  /** Burst of the client-side limiter (default 10). */
  burst?: number;
  /** A limiter to share between clients; overrides `qps` and `burst`. */
  rateLimiter?: RateLimiter;
  /** The User-Agent header (default `vkedge/<version>`). */
  userAgent?: string;
  /** Retries after the first attempt for retriable failures (default 5). */
  maxRetries?: number;
  /** First retry delay (default 200 ms), doubling with jitter up to `retryMaxMs`. */
  retryInitialMs?: number;
  /** Longest retry delay (default 10 s). */
  retryMaxMs?: number;
  /** Timeout of each non-watch request in milliseconds (default 60 s); 0 disables it. */
  requestTimeoutMs?: number;
}

/** A low-level request; see {@linkcode KubeClient.request}. */
export interface KubeRequest {
  /** The HTTP method. */
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** The path below the server URL, e.g. `/api/v1/namespaces/default/pods`. */
  path: string;
  /** Query parameters. */
  query?: QueryParams;
  /** A JSON-serialisable body. */
  body?: unknown;
  /** The body's content type (default `application/json`). */
  contentType?: string;
  /** The Accept header (default `application/json`). */
  accept?: string;
  /** Retry 5xx and network failures (safe for GET, PUT, DELETE); 429 is always retried. */
  idempotent?: boolean;
  /** Aborts the request, including retries and rate-limiter waits. */
  signal?: AbortSignal;
}

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

/** Options of subresource calls. */
export interface SubresourceOptions {
  /** Query parameters, e.g. `{ container: "app", tailLines: 10 }` for `log`. */
  query?: QueryParams;
  /** Aborts the request. */
  signal?: AbortSignal;
}

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  json: "application/json-patch+json",
  apply: "application/apply-patch+yaml",
};

function isRetriable(error: KubeApiError, idempotent: boolean): boolean {
  if (error instanceof KubeTooManyRequestsError) return true;
  return idempotent && error instanceof KubeUnavailableError;
}

function retryAfterMs(response: Response | undefined): number | undefined {
  const header = response?.headers.get("Retry-After")?.trim();
  if (header === undefined || !/^\d+$/.test(header)) return undefined;
  return Math.min(Number(header) * 1000, MAX_RETRY_AFTER_MS);
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function encodeSegment(field: string, value: string): string {
  if (value === "" || value === "." || value === ".." || value.includes("/")) {
    throw new TypeError(
      `${field}: expected a non-empty name without "/", found ${JSON.stringify(value)}`,
    );
  }
  return encodeURIComponent(value);
}

/** A Kubernetes API client for one cluster; create resource clients with {@linkcode KubeClient.resource}. */
export class KubeClient {
  /** The configuration the client was created from. */
  readonly config: ClientConfig;
  readonly #httpClient: Deno.HttpClient | undefined;
  readonly #limiter: RateLimiter;
  readonly #userAgent: string;
  readonly #maxRetries: number;
  readonly #retryInitialMs: number;
  readonly #retryMaxMs: number;
  readonly #requestTimeoutMs: number;
  #token: { value: string; readAt: number } | undefined;

  /** Creates a client; it holds a connection pool until {@linkcode KubeClient.close}. */
  constructor(config: ClientConfig, options: KubeClientOptions = {}) {
    this.config = config;
    this.#limiter = options.rateLimiter ??
      new RateLimiter({ qps: options.qps ?? 5, burst: options.burst ?? 10 });
    this.#userAgent = options.userAgent ?? `vkedge/${VERSION}`;
    this.#maxRetries = options.maxRetries ?? 5;
    this.#retryInitialMs = options.retryInitialMs ?? 200;
    this.#retryMaxMs = options.retryMaxMs ?? 10_000;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
    const needsClient = config.caPem !== undefined || config.certPem !== undefined ||
      config.proxyUrl !== undefined;
    if (needsClient) {
      const tls = config.certPem !== undefined && config.keyPem !== undefined
        ? { cert: config.certPem, key: config.keyPem }
        : {};
      this.#httpClient = Deno.createHttpClient({
        ...(config.caPem !== undefined ? { caCerts: [config.caPem] } : {}),
        ...(config.proxyUrl !== undefined ? { proxy: { url: config.proxyUrl } } : {}),
        ...tls,
      });
    }
  }

  /** The default namespace of the configuration. */
  get namespace(): string {
    return this.config.namespace;
  }

  /** Releases the connection pool. */
  close(): void {
    this.#httpClient?.close();
  }

  /**
   * A typed client for one resource. For namespaced resources `namespace` selects
   * the namespace; without it, list and watch span all namespaces and writes use
   * the object's `metadata.namespace`.
   */
  resource<T extends KubeObject = KubeObject>(
    descriptor: ResourceDescriptor,
    namespace?: string,
  ): ResourceClient<T> {
    return new ResourceClient<T>(this, descriptor, namespace);
  }

  /** Sends a request and parses the JSON answer; failures throw typed {@linkcode KubeApiError}s. */
  async request<R>(request: KubeRequest): Promise<R> {
    return await this.#send(request, async (response) => await readBody(response) as R);
  }

  /** Sends a request and returns the answer as text (e.g. `pods/log`). */
  async requestText(request: KubeRequest): Promise<string> {
    return await this.#send(
      { accept: "*/*", ...request },
      async (response) => await response.text(),
    );
  }

  /** Opens a streaming response (e.g. a watch); establishment is retried like a GET, the body is not timed out. */
  async openStream(
    request: KubeRequest,
    abort: AbortController,
  ): Promise<ReadableStream<Uint8Array>> {
    const signal = request.signal === undefined
      ? abort.signal
      : AbortSignal.any([request.signal, abort.signal]);
    return await this.#send(
      { ...request, signal },
      (response) => {
        if (response.body === null) {
          throw new KubeUnavailableError(0, {
            kind: "Status",
            code: 503,
            reason: "ServiceUnavailable",
            message: `${request.method} ${request.path}: expected a response body, found none`,
          });
        }
        return Promise.resolve(response.body);
      },
      { stream: true },
    );
  }

  #url(path: string, query: QueryParams | undefined): string {
    const url = new URL(this.config.server + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.href;
  }

  async #bearerToken(): Promise<string | undefined> {
    const file = this.config.tokenFile;
    if (file === undefined) return this.config.token;
    const now = performance.now();
    if (this.#token !== undefined && now - this.#token.readAt < TOKEN_FILE_TTL_MS) {
      return this.#token.value;
    }
    try {
      const value = (await Deno.readTextFile(file)).trim();
      this.#token = { value, readAt: now };
      return value;
    } catch (error) {
      logger.warn("cannot read token file {file}: {error}", { file, error: String(error) });
      return this.#token?.value ?? this.config.token;
    }
  }

  async #headers(request: KubeRequest): Promise<Headers> {
    const headers = new Headers({
      "Accept": request.accept ?? "application/json",
      "User-Agent": this.#userAgent,
    });
    if (request.body !== undefined) {
      headers.set("Content-Type", request.contentType ?? "application/json");
    }
    const token = await this.#bearerToken();
    if (token !== undefined && token !== "") headers.set("Authorization", `Bearer ${token}`);
    return headers;
  }

  async #send<R>(
    request: KubeRequest,
    read: (response: Response) => Promise<R>,
    mode: { stream?: boolean } = {},
  ): Promise<R> {
    const url = this.#url(request.path, request.query);
    const what = `${request.method} ${request.path}`;
    const idempotent = request.idempotent ?? (request.method === "GET");
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    for (let attempt = 0;; attempt++) {
      await this.#limiter.acquire(request.signal);
      const timeoutMs = mode.stream ? 0 : this.#requestTimeoutMs;
      const timeout = new AbortController();
      const timer = timeoutMs > 0
        ? setTimeout(
          () => timeout.abort(new DOMException("request timed out", "TimeoutError")),
          timeoutMs,
        )
        : undefined;
      const signal = request.signal === undefined
        ? timeout.signal
        : AbortSignal.any([request.signal, timeout.signal]);
      const started = performance.now();
      let response: Response | undefined;
      let failure: KubeApiError;
      try {
        response = await fetch(url, {
          method: request.method,
          headers: await this.#headers(request),
          body,
          signal,
          ...(this.#httpClient !== undefined ? { client: this.#httpClient } : {}),
        });
        logger.debug("{method} {path} {code} {durationMs}ms", {
          method: request.method,
          path: request.path,
          code: response.status,
          durationMs: Math.round(performance.now() - started),
        });
        if (response.ok) return await read(response);
        failure = errorFromStatus(response.status, await readBody(response), {
          retryAfter: response.headers.get("Retry-After"),
        });
        if (response.status === 401) this.#token = undefined;
      } catch (error) {
        if (request.signal?.aborted) throw request.signal.reason;
        if (error instanceof KubeApiError) throw error;
        if (response !== undefined && response.ok) {
          // The answer arrived but its body could not be read: not safe to repeat a write.
          throw networkError(error, what);
        }
        failure = networkError(error, what);
        logger.debug("{method} {path} failed after {durationMs}ms: {error}", {
          method: request.method,
          path: request.path,
          durationMs: Math.round(performance.now() - started),
          error: failure.status.message,
        });
      } finally {
        clearTimeout(timer);
      }
      if (attempt >= this.#maxRetries || !isRetriable(failure, idempotent)) throw failure;
      const delay = retryAfterMs(response) ??
        backoffDelay(attempt, this.#retryInitialMs, this.#retryMaxMs);
      logger.debug("retrying {method} {path} in {delayMs}ms after {reason}", {
        method: request.method,
        path: request.path,
        delayMs: Math.round(delay),
        reason: failure.reason,
      });
      await sleep(delay, request.signal);
    }
  }
}

/** Typed verbs on one resource (and namespace), as returned by {@linkcode KubeClient.resource}. */
export class ResourceClient<T extends KubeObject = KubeObject> {
  /** The client requests go through. */
  readonly client: KubeClient;
  /** The addressed resource. */
  readonly descriptor: ResourceDescriptor;
  /** The namespace, or `undefined` for all namespaces / cluster-scoped resources. */
  readonly namespace: string | undefined;

  /** Creates a resource client; prefer {@linkcode KubeClient.resource}. */
  constructor(client: KubeClient, descriptor: ResourceDescriptor, namespace?: string) {
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
    const body = await this.client.openStream({
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
    return new WatchStream<T>(body, {
      signal: options.signal,
      what: `watch ${this.descriptor.plural}`,
      abort: () => abort.abort(),
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

/** Raw verbs on one subresource path (`pods/log`, `pods/eviction`, `nodes/proxy/...`). */
export class SubresourceClient {
  readonly #client: KubeClient;
  /** The subresource's URL path. */
  readonly path: string;

  /** Creates the client for `path`; prefer {@linkcode ResourceClient.subresource}. */
  constructor(client: KubeClient, path: string) {
    this.#client = client;
    this.path = path;
  }

  /** GETs the subresource as JSON. */
  async get<R>(options: SubresourceOptions = {}): Promise<R> {
    return await this.#client.request<R>({ method: "GET", path: this.path, ...options });
  }

  /** GETs the subresource as text (e.g. `log`). */
  async getText(options: SubresourceOptions = {}): Promise<string> {
    return await this.#client.requestText({ method: "GET", path: this.path, ...options });
  }

  /** POSTs a JSON body (e.g. an `Eviction`); retried only on 429. */
  async post<R>(body: unknown, options: SubresourceOptions = {}): Promise<R> {
    return await this.#client.request<R>({
      method: "POST",
      path: this.path,
      body,
      idempotent: false,
      ...options,
    });
  }

  /** PUTs a JSON body (e.g. a `Scale`). */
  async put<R>(body: unknown, options: SubresourceOptions = {}): Promise<R> {
    return await this.#client.request<R>({
      method: "PUT",
      path: this.path,
      body,
      idempotent: true,
      ...options,
    });
  }
}

function writeQuery(options: WriteOptions): QueryParams {
  return {
    fieldManager: options.fieldManager,
    dryRun: options.dryRun ? "All" : undefined,
    fieldValidation: options.fieldValidation,
  };
}
