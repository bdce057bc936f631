/**
 * The Kubernetes REST client: `fetch` with the cluster's TLS material, a client-side rate
 * limiter, retries for idempotent verbs, typed errors and metrics for every attempt. The
 * typed per-resource API (`client.resource<Pod>(PODS, "ns").get("web")`) is in
 * `resource_client.ts` and `subresource_client.ts`.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { VERSION } from "../version.ts";
import { backoffDelay, sleep } from "./_async.ts";
import { BearerToken } from "./bearer_token.ts";
import type { ClientConfig } from "./client_config.ts";
import {
  describeRequest,
  observeAttempt,
  observeRateLimiterWait,
  observeRetry,
} from "./client_metrics.ts";
import {
  errorFromStatus,
  KubeApiError,
  KubeTooManyRequestsError,
  KubeUnavailableError,
  networkError,
} from "./errors.ts";
import type { RateLimiter } from "./rate_limiter.ts";
import { type Admission, RequestDispatcher, type RequestPriority } from "./request_dispatcher.ts";
import type { KubeRequest, QueryParams, RequestSender } from "./request.ts";
import { ResourceClient } from "./resource_client.ts";
import type { ResourceDescriptor } from "./resources.ts";
import type { KubeObject } from "./types.ts";

const logger = getLogger(["vkedge", "kube", "client"]);

const MAX_RETRY_AFTER_MS = 60_000;

/** Options of {@linkcode KubeClient}. */
export interface KubeClientOptions {
  /** Sustained requests per second of the client-side limiter (default 5, like client-go). */
  qps?: number;
  /** Burst of the client-side limiter (default 10). */
  burst?: number;
  /** A limiter to share between clients; overrides `qps` and `burst`. */
  rateLimiter?: RateLimiter;
  /** A dispatcher to share between clients; overrides `qps`, `burst` and `rateLimiter`. */
  dispatcher?: RequestDispatcher;
  /** The priority of this client's requests (default `normal`; see `request_dispatcher.ts`). */
  priority?: RequestPriority;
  /** A connection pool to share; the client does not close it. */
  httpClient?: Deno.HttpClient;
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

function createHttpClient(config: ClientConfig): Deno.HttpClient | undefined {
  const needsClient = config.caPem !== undefined || config.certPem !== undefined ||
    config.proxyUrl !== undefined;
  if (!needsClient) return undefined;
  const tls = config.certPem !== undefined && config.keyPem !== undefined
    ? { cert: config.certPem, key: config.keyPem }
    : {};
  return Deno.createHttpClient({
    ...(config.caPem !== undefined ? { caCerts: [config.caPem] } : {}),
    ...(config.proxyUrl !== undefined ? { proxy: { url: config.proxyUrl } } : {}),
    ...tls,
  });
}

/** A Kubernetes API client for one cluster; create resource clients with {@linkcode KubeClient.resource}. */
export class KubeClient implements RequestSender {
  /** The configuration the client was created from. */
  readonly config: ClientConfig;
  readonly #options: KubeClientOptions;
  readonly #httpClient: Deno.HttpClient | undefined;
  readonly #ownsHttpClient: boolean;
  readonly #dispatcher: RequestDispatcher;
  readonly #priority: RequestPriority;
  readonly #userAgent: string;
  readonly #maxRetries: number;
  readonly #retryInitialMs: number;
  readonly #retryMaxMs: number;
  readonly #requestTimeoutMs: number;
  readonly #token: BearerToken;

  /** Creates a client; it holds a connection pool until {@linkcode KubeClient.close}. */
  constructor(config: ClientConfig, options: KubeClientOptions = {}) {
    this.config = config;
    this.#options = options;
    this.#dispatcher = options.dispatcher ?? new RequestDispatcher(
      options.rateLimiter === undefined
        ? { qps: options.qps ?? 5, burst: options.burst ?? 10 }
        : { limiter: options.rateLimiter },
    );
    this.#priority = options.priority ?? "normal";
    this.#userAgent = options.userAgent ?? `vkedge/${VERSION}`;
    this.#maxRetries = options.maxRetries ?? 5;
    this.#retryInitialMs = options.retryInitialMs ?? 200;
    this.#retryMaxMs = options.retryMaxMs ?? 10_000;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
    this.#token = new BearerToken(config);
    this.#ownsHttpClient = options.httpClient === undefined;
    this.#httpClient = options.httpClient ?? createHttpClient(config);
  }

  /**
   * A client for the same cluster whose requests have `priority`, sharing this one's
   * dispatcher (rate limit and back-off) and connections: the node's heartbeat is
   * `critical`, events are `background`.
   */
  withPriority(priority: RequestPriority): KubeClient {
    return new KubeClient(this.config, {
      ...this.#options,
      dispatcher: this.#dispatcher,
      httpClient: this.#httpClient,
      priority,
    });
  }

  /** The dispatcher this client's requests go through. */
  get dispatcher(): RequestDispatcher {
    return this.#dispatcher;
  }

  /** The default namespace of the configuration. */
  get namespace(): string {
    return this.config.namespace;
  }

  /** Releases the connection pool (unless it was given in the options). */
  close(): void {
    if (this.#ownsHttpClient) this.#httpClient?.close();
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

  async #headers(request: KubeRequest): Promise<Headers> {
    const headers = new Headers({
      "Accept": request.accept ?? "application/json",
      "User-Agent": this.#userAgent,
    });
    if (request.body !== undefined) {
      headers.set("Content-Type", request.contentType ?? "application/json");
    }
    const token = await this.#token.get();
    if (token !== undefined && token !== "") headers.set("Authorization", `Bearer ${token}`);
    return headers;
  }

  async #admit(signal: AbortSignal | undefined): Promise<Admission> {
    const started = performance.now();
    const admission = await this.#dispatcher.admit(this.#priority, signal);
    observeRateLimiterWait(performance.now() - started);
    return admission;
  }

  async #send<R>(
    request: KubeRequest,
    read: (response: Response) => Promise<R>,
    mode: { stream?: boolean } = {},
  ): Promise<R> {
    const url = this.#url(request.path, request.query);
    const what = `${request.method} ${request.path}`;
    const labels = describeRequest(request);
    const idempotent = request.idempotent ?? (request.method === "GET");
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    for (let attempt = 0;; attempt++) {
      const turn = await this.#admit(request.signal);
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
        const milliseconds = performance.now() - started;
        observeAttempt(labels, { code: response.status, milliseconds });
        logger.debug("{method} {path} {code} {durationMs}ms", {
          method: request.method,
          path: request.path,
          code: response.status,
          durationMs: Math.round(milliseconds),
        });
        if (response.ok) {
          // A stream's turn ends once it is open; a watch is no work in flight.
          if (mode.stream) turn.done();
          return await read(response);
        }
        failure = errorFromStatus(response.status, await readBody(response), {
          retryAfter: response.headers.get("Retry-After"),
        });
        if (response.status === 401) this.#token.invalidate();
        if (failure instanceof KubeTooManyRequestsError) {
          const seconds = failure.retryAfterSeconds;
          this.#dispatcher.throttled(seconds === undefined ? undefined : seconds * 1000);
        }
      } catch (error) {
        if (request.signal?.aborted) throw request.signal.reason;
        if (error instanceof KubeApiError) throw error;
        if (response !== undefined && response.ok) {
          // The answer arrived but its body could not be read: not safe to repeat a write.
          throw networkError(error, what);
        }
        failure = networkError(error, what);
        const milliseconds = performance.now() - started;
        if (response === undefined) observeAttempt(labels, { code: "error", milliseconds });
        logger.debug("{method} {path} failed after {durationMs}ms: {error}", {
          method: request.method,
          path: request.path,
          durationMs: Math.round(milliseconds),
          error: failure.status.message,
        });
      } finally {
        clearTimeout(timer);
        turn.done();
      }
      if (attempt >= this.#maxRetries || !isRetriable(failure, idempotent)) throw failure;
      const delay = retryAfterMs(response) ??
        backoffDelay(attempt, this.#retryInitialMs, this.#retryMaxMs);
      observeRetry(labels, response?.status ?? "error");
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
