/**
 * The shape of one request to the API server, and the sending interface the resource and
 * subresource clients build on (implemented by `KubeClient`).
 *
 * @module
 */

/** Query parameters; `undefined` values are left out. */
export type QueryParams = Record<string, string | number | boolean | undefined>;

/** A low-level request; see `KubeClient.request`. */
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

/** Sends requests to one API server: what `ResourceClient` and `SubresourceClient` need of `KubeClient`. */
export interface RequestSender {
  /** Sends a request and parses the JSON answer; failures throw typed `KubeApiError`s. */
  request<R>(request: KubeRequest): Promise<R>;
  /** Sends a request and returns the answer as text. */
  requestText(request: KubeRequest): Promise<string>;
  /** Opens a streaming response; aborting `abort` cancels it. */
  openStream(request: KubeRequest, abort: AbortController): Promise<ReadableStream<Uint8Array>>;
}
