/**
 * The HTTP layer of the ZStack client: one exchange with the management node (bounded
 * concurrency, a timeout, lenient JSON), repeated with jittered exponential backoff after
 * a connection error or a transient 503, replies validated with zod, and failures turned
 * into {@linkcode ZStackApiError} or {@linkcode ZStackHttpError}. Every exchange is
 * counted in `vkedge_zstack_requests_total{method,code}` and timed in
 * `vkedge_zstack_request_duration_seconds{method}`.
 *
 * @module
 */

import type { z } from "zod";
import { getLogger } from "@logtape/logtape";
import { UnavailableError } from "../../lib/provider.ts";
import { counter, errorMessage, histogram, Limiter, sleep } from "../../lib/provider_kit/mod.ts";
import { errorReplySchema } from "./api_types.ts";
import { transientCodes, unavailableCodes, ZStackApiError, ZStackHttpError } from "./errors.ts";

const logger = getLogger(["vkedge", "provider", "zstack", "client"]);

const requestsTotal = counter({
  name: "vkedge_zstack_requests_total",
  help: "HTTP exchanges with the ZStack API, by method and HTTP status (error: no answer).",
  labelNames: ["method", "code"],
});
const requestDuration = histogram({
  name: "vkedge_zstack_request_duration_seconds",
  help: "Duration of one HTTP exchange with the ZStack API, by method.",
  labelNames: ["method"],
});

/** One HTTP answer as the client reads it. */
export interface Exchange {
  /** HTTP status. */
  status: number;
  /** The body as text. */
  text: string;
  /** The body parsed, when it is a JSON object. */
  json: unknown;
  /** `Retry-After`, in milliseconds, when the server sent one. */
  retryAfterMs?: number;
}

/** Sets the authentication headers of one request (a session or an AccessKey signature). */
export type Authorizer = (
  headers: Headers,
  request: { method: string; path: string },
) => void | Promise<void>;

/** One request to send. */
export interface ExchangeRequest {
  /** HTTP method. */
  method: string;
  /** API path, such as `/v1/vm-instances`; AccessKey signatures cover it. */
  path: string;
  /** Query string without `?`. */
  query?: string;
  /** Full URL to use instead of endpoint + path + query (job locations). */
  url?: string;
  /** JSON body. */
  body?: unknown;
  /** Extra headers, such as `X-Job-UUID`. */
  headers?: Record<string, string>;
  /** Authentication; absent for login and session checks. */
  authorize?: Authorizer;
}

/** Options of {@linkcode ZStackTransport.send}. */
export interface SendOptions {
  /**
   * Whether this submits work (a sync call, a login or a job submission): only those are
   * repeated after a transient 503 with an `ErrorCode`; a job's 503 is its verdict.
   */
  submitting: boolean;
  /** Aborts the exchange and the waits between attempts. */
  signal: AbortSignal;
}

/** Options of {@linkcode ZStackTransport}. */
export interface ZStackTransportOptions {
  /** Base URL without a trailing slash. */
  endpoint: string;
  /** Requests in flight at most. */
  maxConcurrentRequests: number;
  /** Timeout of one HTTP exchange. */
  requestTimeoutMs: number;
  /** Retries after a connection error or a transient 503. */
  retries: number;
  /** First backoff delay; doubles per retry, with jitter. */
  retryBaseDelayMs: number;
  /** Longest backoff delay. */
  retryMaxDelayMs: number;
  /** `fetch` to use. */
  fetch: typeof fetch;
}

/** Counters of the HTTP layer. */
export interface TransportStats {
  /** HTTP exchanges sent (polls and logins included). */
  requests: number;
  /** Requests repeated after a connection error or a transient 503. */
  retries: number;
  /** Requests in flight now. */
  inFlight: number;
  /** Most requests in flight at once. */
  maxInFlight: number;
}

/** A connection-level failure (refused, reset, DNS, timeout): always worth a retry. */
class TransportError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = "TransportError";
  }
}

function parseJson(text: string): unknown {
  if (!text.trimStart().startsWith("{")) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The HTTP exchanges of one client with one endpoint. */
export class ZStackTransport {
  /** The endpoint, without a trailing slash. */
  readonly endpoint: string;
  readonly #options: ZStackTransportOptions;
  readonly #limiter: Limiter;
  readonly #stats: TransportStats = { requests: 0, retries: 0, inFlight: 0, maxInFlight: 0 };

  /** Creates the transport; nothing is sent until the first request. */
  constructor(options: ZStackTransportOptions) {
    this.endpoint = options.endpoint;
    this.#options = options;
    this.#limiter = new Limiter(options.maxConcurrentRequests);
  }

  /** A copy of the counters. */
  stats(): TransportStats {
    return { ...this.#stats };
  }

  /** Sends `request` with retries (see {@linkcode SendOptions}) and returns the answer. */
  send(operation: string, request: ExchangeRequest, options: SendOptions): Promise<Exchange> {
    return this.#withRetries(operation, options, () => this.exchange(request, options.signal));
  }

  /** Validates the JSON of `reply` with `schema`; `UnavailableError` naming the field otherwise. */
  parse<S extends z.ZodType>(operation: string, reply: Exchange, schema: S): z.output<S> {
    const parsed = schema.safeParse(reply.json ?? {});
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    const field = issue?.path.length ? issue.path.map(String).join(".") : "(top level)";
    throw new UnavailableError(
      `ZStack at ${this.endpoint}: ${operation}: unexpected reply: field "${field}": ${
        issue?.message ?? "invalid"
      }`,
      { cause: parsed.error },
    );
  }

  /** The error an unsuccessful answer stands for: an API error (503 + ErrorCode) or HTTP. */
  failure(operation: string, reply: Exchange): ZStackApiError | ZStackHttpError {
    if (reply.status === 503) {
      const parsed = errorReplySchema.safeParse(reply.json);
      if (parsed.success) return new ZStackApiError(operation, reply.status, parsed.data.error);
    }
    return new ZStackHttpError(operation, reply.status, reply.text.trim().slice(0, 500));
  }

  /** One HTTP exchange, once a slot of the concurrency bound is free; no retries. */
  async exchange(request: ExchangeRequest, signal: AbortSignal): Promise<Exchange> {
    const release = await this.#limiter.acquire(signal);
    this.#stats.requests++;
    this.#stats.inFlight = this.#limiter.active;
    this.#stats.maxInFlight = Math.max(this.#stats.maxInFlight, this.#limiter.active);
    const { method, path } = request;
    const started = performance.now();
    let code = "error";
    try {
      const headers = new Headers(request.headers);
      if (request.body !== undefined) headers.set("Content-Type", "application/json");
      await request.authorize?.(headers, { method, path });
      const url = request.url ?? this.#url(path, request.query ?? "");
      const timeout = AbortSignal.timeout(this.#options.requestTimeoutMs);
      let response: Response;
      let text: string;
      try {
        response = await this.#options.fetch(url, {
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
        throw new TransportError(`${method} ${url}: ${reason}`, error);
      }
      code = String(response.status);
      const retryAfter = Number(response.headers.get("Retry-After"));
      return {
        status: response.status,
        text,
        json: parseJson(text),
        ...(Number.isFinite(retryAfter) && retryAfter > 0
          ? { retryAfterMs: retryAfter * 1000 }
          : {}),
      };
    } finally {
      release();
      this.#stats.inFlight = this.#limiter.active;
      requestsTotal.inc({ method, code });
      requestDuration.observe({ method }, (performance.now() - started) / 1000);
    }
  }

  #url(path: string, query: string): string {
    return `${this.endpoint}${path}${query === "" ? "" : `?${query}`}`;
  }

  #retryable(reply: Exchange, submitting: boolean): boolean {
    if (reply.status === 502 || reply.status === 504) return true;
    if (reply.status !== 503) return false;
    const parsed = errorReplySchema.safeParse(reply.json);
    if (!parsed.success) return true; // a proxy or a starting server, not an API verdict
    const code = parsed.data.error.code;
    // "Not ready" and "unavailable" are about the management node: ask again. Other
    // codes from a job are its verdict; only a submission or a sync call may be repeated.
    return unavailableCodes.has(code) || (submitting && transientCodes.has(code));
  }

  async #withRetries(
    operation: string,
    options: SendOptions,
    send: () => Promise<Exchange>,
  ): Promise<Exchange> {
    const { retries, retryBaseDelayMs, retryMaxDelayMs } = this.#options;
    let lastProblem = "";
    let retryAfterMs: number | undefined;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) {
        this.#stats.retries++;
        const backoff = Math.min(retryMaxDelayMs, retryBaseDelayMs * 2 ** (attempt - 1));
        const wait = Math.max(retryAfterMs ?? 0, backoff * (0.5 + Math.random() / 2));
        logger.debug("retrying {operation} in {wait} ms after {problem}", {
          operation,
          wait: Math.round(wait),
          problem: lastProblem,
        });
        await sleep(wait, options.signal);
      }
      try {
        const reply = await send();
        if (!this.#retryable(reply, options.submitting)) return reply;
        lastProblem = `HTTP ${reply.status} ${reply.text.trim().slice(0, 200)}`;
        retryAfterMs = reply.retryAfterMs;
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        lastProblem = error.message;
        retryAfterMs = undefined;
      }
    }
    throw new UnavailableError(
      `ZStack at ${this.endpoint} unavailable: ${operation}: expected an answer, found ${lastProblem} after ${
        retries + 1
      } attempts`,
      { retryAfterMs },
    );
  }
}
