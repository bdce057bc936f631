/**
 * Raw verbs on one subresource path (`pods/log`, `pods/eviction`, `nodes/proxy/...`), as
 * returned by `ResourceClient.subresource`.
 *
 * @module
 */

import type { QueryParams, RequestSender } from "./request.ts";

/** Options of subresource calls. */
export interface SubresourceOptions {
  /** Query parameters, e.g. `{ container: "app", tailLines: 10 }` for `log`. */
  query?: QueryParams;
  /** Aborts the request. */
  signal?: AbortSignal;
}

/** Raw verbs on one subresource path (`pods/log`, `pods/eviction`, `nodes/proxy/...`). */
export class SubresourceClient {
  readonly #client: RequestSender;
  /** The subresource's URL path. */
  readonly path: string;

  /** Creates the client for `path`; prefer `ResourceClient.subresource`. */
  constructor(client: RequestSender, path: string) {
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
