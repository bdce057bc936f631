/**
 * Typed HTTP client of the ZStack REST API: sync GETs and async calls (202 + job
 * polling), authenticated by account session or AccessKey, with zod-validated replies.
 * The parts live in files named after their jobs: `transport.ts` (HTTP exchanges,
 * backoff on 503 and connection errors, the bound on concurrent requests),
 * `session.ts` (login, re-login on `ID.1001`, AccessKey signing), `jobs.ts` (job polling
 * and the `location` rewrite) and `errors.ts` (what the client throws and how it becomes a
 * contract error).
 *
 * @module
 */

import type { z } from "zod";
import { asyncReplySchema } from "./api_types.ts";
import { pollJob, randomZStackUuid } from "./jobs.ts";
import { type ZStackCredentials, ZStackSession } from "./session.ts";
import { ZStackTransport } from "./transport.ts";
import { UnavailableError } from "../../lib/provider.ts";

/** Options of {@linkcode ZStackClient}. */
export interface ZStackClientOptions {
  /** Base URL including the context path, such as `http://mn:8080/zstack`. */
  endpoint: string;
  /** Account or AccessKey. */
  credentials: ZStackCredentials;
  /** Requests in flight at most (polls included). Default 8. */
  maxConcurrentRequests?: number;
  /** Timeout of one HTTP exchange. Default 30 s. */
  requestTimeoutMs?: number;
  /** Longest pause between two polls of a job; polling starts at 100 ms and doubles. Default 2 s. */
  maxPollIntervalMs?: number;
  /** Longest wait for one job, whatever its `apiTimeout`. Default 30 min. */
  jobTimeoutMs?: number;
  /** Retries after a connection error or a transient 503. Default 4. */
  retries?: number;
  /** First backoff delay; doubles per retry, with jitter. Default 250 ms. */
  retryBaseDelayMs?: number;
  /** Longest backoff delay. Default 8 s. */
  retryMaxDelayMs?: number;
  /** `fetch` to use; tests may pass their own. */
  fetch?: typeof fetch;
}

/** Options of a sync GET. */
export interface GetOptions<S extends z.ZodType> {
  /** Query string (without `?`), such as `q=name=zone-1&limit=1`. */
  query?: string;
  /** Validates the reply. */
  schema: S;
  /** Aborts the request. */
  signal: AbortSignal;
}

/** Options of one async call. */
export interface CallOptions<S extends z.ZodType> {
  /** JSON body, such as `{ params: {...} }`; none for most DELETEs. */
  body?: unknown;
  /** Query string (without `?`), such as `deleteMode=Permissive`. */
  query?: string;
  /** Validates the job's result. */
  schema: S;
  /** Aborts the call, polling included. */
  signal: AbortSignal;
}

/** Counters of what the client did, for tests. */
export interface ZStackClientStats {
  /** HTTP exchanges sent (polls and logins included). */
  requests: number;
  /** Successful logins. */
  logins: number;
  /** Requests repeated after a connection error or a transient 503. */
  retries: number;
  /** Requests in flight now. */
  inFlight: number;
  /** Most requests in flight at once. */
  maxInFlight: number;
}

/** Client of one ZStack management node (or a load balancer in front of several). */
export class ZStackClient {
  /** The endpoint, without a trailing slash; error messages name it. */
  readonly endpoint: string;
  readonly #transport: ZStackTransport;
  readonly #session: ZStackSession;
  readonly #maxPollIntervalMs: number;
  readonly #jobTimeoutMs: number;

  /** Creates a client; nothing is sent until the first call. */
  constructor(options: ZStackClientOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, "");
    this.#transport = new ZStackTransport({
      endpoint: this.endpoint,
      maxConcurrentRequests: options.maxConcurrentRequests ?? 8,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      retries: options.retries ?? 4,
      retryBaseDelayMs: options.retryBaseDelayMs ?? 250,
      retryMaxDelayMs: options.retryMaxDelayMs ?? 8_000,
      fetch: options.fetch ?? fetch,
    });
    this.#session = new ZStackSession(options.credentials, this.#transport);
    this.#maxPollIntervalMs = options.maxPollIntervalMs ?? 2_000;
    this.#jobTimeoutMs = options.jobTimeoutMs ?? 30 * 60_000;
  }

  /** A copy of the counters. */
  stats(): ZStackClientStats {
    const { requests, retries, inFlight, maxInFlight } = this.#transport.stats();
    return { requests, logins: this.#session.logins, retries, inFlight, maxInFlight };
  }

  /**
   * A sync GET of `path` (`/v1/...`), re-logging in once the session expired; the reply is
   * validated with `options.schema`.
   */
  get<S extends z.ZodType>(path: string, options: GetOptions<S>): Promise<z.output<S>> {
    const { query = "", schema, signal } = options;
    const operation = `GET ${path}`;
    const transport = this.#transport;
    return this.#session.authenticated(signal, async (authorize) => {
      const reply = await transport.send(operation, { method: "GET", path, query, authorize }, {
        submitting: true,
        signal,
      });
      if (reply.status === 200) return transport.parse(operation, reply, schema);
      throw transport.failure(operation, reply);
    });
  }

  /**
   * An async call (POST, PUT or DELETE): submits it with a fresh `X-Job-UUID`, polls the
   * job until it ends and validates the result with `options.schema`. Connection errors while
   * submitting are retried with the same job uuid; a "Duplicate job uuid" answer then
   * means an earlier attempt got through, and that job is polled.
   */
  call<S extends z.ZodType>(
    method: "POST" | "PUT" | "DELETE",
    path: string,
    options: CallOptions<S>,
  ): Promise<z.output<S>> {
    const operation = `${method} ${path}`;
    const { body, schema, signal } = options;
    const transport = this.#transport;
    return this.#session.authenticated(signal, async (authorize) => {
      const jobUuid = randomZStackUuid();
      const submitted = await transport.send(operation, {
        method,
        path,
        query: options.query ?? "",
        body,
        headers: { "X-Job-UUID": jobUuid },
        authorize,
      }, { submitting: true, signal });
      let location: string;
      let apiTimeoutMs: number | undefined;
      if (submitted.status === 202) {
        const accepted = asyncReplySchema.safeParse(submitted.json);
        if (!accepted.success) {
          throw new UnavailableError(
            `ZStack at ${this.endpoint}: ${operation}: expected {"location": ...} with HTTP 202, found ${
              submitted.text.slice(0, 200)
            }`,
          );
        }
        location = accepted.data.location;
        apiTimeoutMs = accepted.data.apiTimeout;
      } else if (submitted.status === 400 && /duplicate job uuid/i.test(submitted.text)) {
        location = `${this.endpoint}/v1/api-jobs/${jobUuid}`;
      } else if (submitted.status === 200) {
        return transport.parse(operation, submitted, schema); // a sync API
      } else {
        throw transport.failure(operation, submitted);
      }
      const result = await pollJob(transport, {
        operation,
        location,
        apiTimeoutMs,
        jobTimeoutMs: this.#jobTimeoutMs,
        maxPollIntervalMs: this.#maxPollIntervalMs,
        authorize,
        signal,
      });
      return transport.parse(operation, result, schema);
    });
  }

  /**
   * Checks that the management node answers and the session (if any) is valid, logging
   * in again when it is not. Throws `UnavailableError` naming the endpoint otherwise.
   */
  checkSession(signal: AbortSignal): Promise<void> {
    return this.#session.check(signal);
  }

  /** Logs out (best effort), so that restarts do not pile up sessions. */
  close(signal: AbortSignal): Promise<void> {
    return this.#session.close(signal);
  }
}
