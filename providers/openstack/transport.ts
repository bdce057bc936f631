/**
 * The HTTP layer of the OpenStack client: one exchange with a service (a bound on the
 * requests in flight, a timeout, lenient JSON), repeated with jittered exponential
 * backoff when the service says to (503, 502, 504, 409 for calls marked so, `Retry-After`)
 * or cannot be reached, and each exchange logged at debug level with the request id the
 * service gave it, counted in `vkedge_openstack_requests_total{service,method,code}` and
 * timed in `vkedge_openstack_request_duration_seconds{service,method}`.
 *
 * A request that creates something (`POST /servers`) is repeated only when the connection
 * was refused (it never reached the service); any other doubt is left to the caller, which
 * looks for what it made before making it again.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { UnavailableError } from "../../lib/provider.ts";
import { counter, errorMessage, histogram, Limiter, sleep } from "../../lib/provider_kit/mod.ts";

const logger = getLogger(["vkedge", "provider", "openstack", "http"]);

const requestsTotal = counter({
  name: "vkedge_openstack_requests_total",
  help:
    "HTTP exchanges with OpenStack services, by service, method and HTTP status (error: no answer).",
  labelNames: ["service", "method", "code"],
});
const requestDuration = histogram({
  name: "vkedge_openstack_request_duration_seconds",
  help: "Duration of one HTTP exchange with an OpenStack service, by service and method.",
  labelNames: ["service", "method"],
});

/** How a request may be repeated. */
export type RetryPolicy =
  /** Reads, deletes and actions whose repeat is harmless: every transient failure. */
  | "idempotent"
  /** An action that a conflicting task may refuse for a while (409): that too. */
  | "idempotent-or-conflict"
  /** Creates something: only when the connection was refused. */
  | "once";

/** One request. */
export interface HttpRequest {
  /** Service type, for logs and metrics: `identity`, `compute`, `image`, … */
  service: string;
  method: string;
  /** Full URL. */
  url: string;
  /** Headers (the token and microversion included). */
  headers?: Record<string, string>;
  /** JSON body. */
  body?: unknown;
  /** How it may be repeated. */
  retry: RetryPolicy;
}

/** One answer. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed, when it is JSON. */
  json: unknown;
  /** `x-openstack-request-id` (or `x-compute-request-id`). */
  requestId?: string;
}

/** Options of {@linkcode OpenStackTransport}. */
export interface TransportOptions {
  /** Requests in flight at most. */
  maxConcurrentRequests: number;
  /** Timeout of one exchange. */
  requestTimeoutMs: number;
  /** Repeats after a transient failure. */
  retries: number;
  /** First backoff; doubles per repeat, with jitter. */
  retryBaseDelayMs: number;
  /** Longest backoff. */
  retryMaxDelayMs: number;
  /** `fetch` to use. */
  fetch: typeof fetch;
}

/** Counters of the HTTP layer, by service, for tests and benchmarks. */
export interface TransportStats {
  /** Exchanges sent, by service type. */
  requests: Record<string, number>;
  /** Repeats after a transient failure. */
  retries: number;
}

/** A connection-level failure (refused, reset, timeout). */
class ConnectionError extends Error {
  readonly refused: boolean;
  constructor(message: string, options: { cause: unknown; refused: boolean }) {
    super(message, { cause: options.cause });
    this.name = "ConnectionError";
    this.refused = options.refused;
  }
}

/**
 * The request was sent and no answer came (the connection broke or timed out): unlike a
 * refused connection, the service may have acted on it, so a create may have made
 * something.
 */
export class AnswerLostError extends UnavailableError {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "AnswerLostError";
  }
}

function parseJson(text: string): unknown {
  const start = text.trimStart()[0];
  if (start !== "{" && start !== "[") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The path of a URL without its query, for logs and operation names. */
export function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

/** The HTTP exchanges of one client with every service of one cloud. */
export class OpenStackTransport {
  readonly #options: TransportOptions;
  readonly #limiter: Limiter;
  readonly #stats: TransportStats = { requests: {}, retries: 0 };

  /** Creates the transport; nothing is sent until the first request. */
  constructor(options: TransportOptions) {
    this.#options = options;
    this.#limiter = new Limiter(options.maxConcurrentRequests);
  }

  /** A copy of the counters. */
  stats(): TransportStats {
    return { requests: { ...this.#stats.requests }, retries: this.#stats.retries };
  }

  /**
   * Sends `request`, repeating it after transient failures as its retry policy allows,
   * and returns the last answer (whatever its status). Throws `UnavailableError` when the
   * service could not be reached at all.
   */
  async send(request: HttpRequest, signal: AbortSignal): Promise<HttpAnswer> {
    const { retries, retryBaseDelayMs, retryMaxDelayMs } = this.#options;
    let problem = "";
    let retryAfterMs: number | undefined;
    let lost = false;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) {
        this.#stats.retries++;
        const backoff = Math.min(retryMaxDelayMs, retryBaseDelayMs * 2 ** (attempt - 1));
        const wait = Math.max(retryAfterMs ?? 0, backoff * (0.5 + Math.random() / 2));
        logger.debug("repeating {method} {service} {path} in {wait} ms after {problem}", {
          method: request.method,
          service: request.service,
          path: pathOf(request.url),
          wait: Math.round(wait),
          problem,
        });
        await sleep(wait, signal);
      }
      let answer: HttpAnswer;
      try {
        answer = await this.#exchange(request, signal);
      } catch (error) {
        if (!(error instanceof ConnectionError)) throw error;
        problem = error.message;
        retryAfterMs = undefined;
        lost = !error.refused;
        if (request.retry === "once" && !error.refused) break;
        continue;
      }
      lost = false;
      if (!this.#transient(answer, request.retry)) return answer;
      problem = `HTTP ${answer.status}${answer.requestId ? ` (request ${answer.requestId})` : ""}`;
      const retryAfter = Number(answer.headers.get("Retry-After"));
      retryAfterMs = Number.isFinite(retryAfter) && retryAfter > 0
        ? Math.min(retryAfter * 1000, 60_000)
        : undefined;
      if (attempt === retries) return answer;
    }
    const message = `OpenStack ${request.service} at ${
      new URL(request.url).origin
    } unavailable: ${request.method} ${pathOf(request.url)}: expected an answer, found ${problem}`;
    if (lost) throw new AnswerLostError(message);
    throw new UnavailableError(message, { retryAfterMs });
  }

  #transient(answer: HttpAnswer, retry: RetryPolicy): boolean {
    if (retry === "once") return false;
    if ([502, 503, 504].includes(answer.status)) return true;
    return answer.status === 409 && retry === "idempotent-or-conflict";
  }

  async #exchange(request: HttpRequest, signal: AbortSignal): Promise<HttpAnswer> {
    const release = await this.#limiter.acquire(signal);
    const { service, method } = request;
    this.#stats.requests[service] = (this.#stats.requests[service] ?? 0) + 1;
    const started = performance.now();
    let code = "error";
    try {
      const headers = new Headers(request.headers);
      headers.set("Accept", "application/json");
      headers.set("User-Agent", "vkedge-openstack");
      if (request.body !== undefined) headers.set("Content-Type", "application/json");
      const timeout = AbortSignal.timeout(this.#options.requestTimeoutMs);
      let response: Response;
      let text: string;
      try {
        response = await this.#options.fetch(request.url, {
          method,
          headers,
          body: request.body === undefined ? undefined : JSON.stringify(request.body),
          signal: AbortSignal.any([signal, timeout]),
        });
        text = await response.text();
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        const reason = timeout.aborted
          ? `no answer within ${this.#options.requestTimeoutMs} ms`
          : errorMessage(error);
        logger.debug("{method} {service} {path} → error in {ms} ms ({reason})", {
          method,
          service,
          path: pathOf(request.url),
          ms: Math.round(performance.now() - started),
          reason,
        });
        throw new ConnectionError(`${method} ${request.url}: ${reason}`, {
          cause: error,
          refused: /refused|os error 111/i.test(reason),
        });
      }
      code = String(response.status);
      const requestId = response.headers.get("x-openstack-request-id") ??
        response.headers.get("x-compute-request-id") ?? undefined;
      logger.debug("{method} {service} {path} → {status} in {ms} ms ({requestId})", {
        method,
        service,
        path: pathOf(request.url),
        status: response.status,
        ms: Math.round(performance.now() - started),
        requestId: requestId ?? "no request id",
      });
      return {
        status: response.status,
        headers: response.headers,
        text,
        json: parseJson(text),
        ...(requestId === undefined ? {} : { requestId }),
      };
    } finally {
      release();
      requestsTotal.inc({ service, method, code });
      requestDuration.observe({ service, method }, (performance.now() - started) / 1000);
    }
  }
}
