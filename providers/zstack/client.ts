/**
 * Typed HTTP client of the ZStack REST API: login by account (SHA-512 password) or
 * AccessKey signing, transparent re-login on `ID.1001`, async calls (202 + job polling
 * with the `location` host rewritten to the configured endpoint), backoff on 503 and
 * connection errors, a bound on concurrent requests, and zod-validated replies.
 *
 * The client throws {@linkcode ZStackApiError} when an API ran and failed (a 503 with an
 * `ErrorCode`), {@linkcode ZStackHttpError} for the plain-text 4xx/5xx answers, and the
 * contract's `UnavailableError` when the management node cannot be reached. Callers turn
 * the first two into contract errors with {@linkcode toProviderError}, which knows what
 * they were doing.
 *
 * @module
 */

import type { z } from "zod";
import { getLogger } from "@logtape/logtape";
import {
  type ExhaustedResource,
  InvalidInputError,
  NotFoundError,
  type ProviderError,
  ResourceExhaustedError,
  UnavailableError,
} from "../../lib/provider.ts";
import {
  asyncReplySchema,
  errorReplySchema,
  loginReplySchema,
  sessionValidReplySchema,
  type ZStackErrorCode,
} from "./api_types.ts";

const logger = getLogger(["vkedge", "provider", "zstack", "client"]);

/** How the client authenticates. Passwords are plaintext here and hashed before sending. */
export type ZStackCredentials =
  | {
    kind: "account";
    /** Account name, such as `admin`. */
    accountName: string;
    /** The password, or its SHA-512 hex digest when `passwordIsSha512`. */
    password: string;
    /** Whether `password` already is the lowercase SHA-512 hex digest. */
    passwordIsSha512?: boolean;
  }
  | {
    kind: "accessKey";
    /** AccessKey ID. */
    accessKeyId: string;
    /** AccessKey secret. */
    accessKeySecret: string;
  };

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

/** Options of one async call. */
export interface CallOptions {
  /** Query string (without `?`), such as `deleteMode=Permissive`. */
  query?: string;
  /** Aborts the call, polling included. */
  signal: AbortSignal;
}

/** Counters of what the client did, for tests and metrics. */
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

/** An API ran and failed: a 503 with `{"error": ErrorCode}`, directly or from a job. */
export class ZStackApiError extends Error {
  /** The error as ZStack reported it. */
  readonly error: ZStackErrorCode;
  /** HTTP status (503). */
  readonly status: number;
  /** What was called, such as `POST /v1/vm-instances`. */
  readonly operation: string;

  /** Creates the error. */
  constructor(operation: string, status: number, error: ZStackErrorCode) {
    super(`${operation} failed: ${describeErrorCode(error)}`);
    this.name = "ZStackApiError";
    this.error = error;
    this.status = status;
    this.operation = operation;
  }

  /** The top-level code, such as `SYS.1003`. */
  get code(): string {
    return this.error.code;
  }

  /** Every code in the error and its causes. */
  get codes(): string[] {
    const codes: string[] = [];
    const visit = (error: ZStackErrorCode | undefined, depth: number): void => {
      if (error === undefined || depth > 8) return;
      codes.push(error.code);
      visit(error.cause, depth + 1);
      for (const cause of error.causes ?? []) visit(cause, depth + 1);
    };
    visit(this.error, 0);
    return codes;
  }
}

/** A plain-text HTTP answer: bad request (400), no route or expired job (404), 405, 500, … */
export class ZStackHttpError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** The body, trimmed to 500 characters. */
  readonly body: string;
  /** What was called. */
  readonly operation: string;

  /** Creates the error. */
  constructor(operation: string, status: number, body: string) {
    super(`${operation}: expected a JSON reply, found HTTP ${status} "${body}"`);
    this.name = "ZStackHttpError";
    this.status = status;
    this.body = body;
    this.operation = operation;
  }
}

/** Formats an `ErrorCode` with its causes: `SYS.1006 details (cause VM.1010 details)`. */
export function describeErrorCode(error: ZStackErrorCode): string {
  const text = `${error.code} ${error.details ?? error.description ?? ""}`.trim();
  const causes = [error.cause, ...(error.causes ?? [])].filter((cause) =>
    cause !== undefined
  ) as ZStackErrorCode[];
  if (causes.length === 0) return text;
  return `${text} (cause ${causes.map(describeErrorCode).join("; ")})`;
}

/** Codes of a session that is unknown or expired. */
const invalidSessionCode = "ID.1001";
/** 503 codes of a management node that cannot serve now (not ready, unavailable). */
const unavailableCodes = new Set(["SYS.1010", "SYS.1012"]);
/** 503 codes worth repeating a sync call or a submission for (internal error, timeout). */
const transientCodes = new Set(["SYS.1000", "SYS.1001"]);
/** Codes and prefixes that mean "no room" on hosts or storage, and a quota refusal. */
const capacityCodes = /^(HOST_ALLOCATION|PRIMARY_STORAGE_ALLOCATION|ALLOCATION)\./;
const quotaCodes = /^QUOTA\.|^ID\.1003$/;
const capacityWords =
  /\bno (?:available |candidate |suitable )?hosts?\b|insufficient|not enough|capacity/i;

function errorTexts(error: ZStackErrorCode, depth = 0): string[] {
  if (depth > 8) return [];
  return [
    `${error.code} ${error.description ?? ""} ${error.details ?? ""} ${error.elaboration ?? ""}`,
    ...(error.cause === undefined ? [] : errorTexts(error.cause, depth + 1)),
    ...(error.causes ?? []).flatMap((cause) => errorTexts(cause, depth + 1)),
  ];
}

/** What a failed API call says there is no room for: a quota, or hosts and storage. */
export function exhaustedResource(error: ZStackApiError): ExhaustedResource | undefined {
  const texts = errorTexts(error.error);
  if (error.codes.some((code) => quotaCodes.test(code)) || texts.some((t) => /quota/i.test(t))) {
    return "quota";
  }
  if (
    error.codes.some((code) => capacityCodes.test(code)) ||
    texts.some((text) => capacityWords.test(text))
  ) {
    return "capacity";
  }
  return undefined;
}

/**
 * Turns what the client threw into a contract error: a quota or capacity refusal becomes
 * `ResourceExhaustedError` (retried: it may fit later), invalid arguments
 * `InvalidInputError`, an unknown resource `NotFoundError` (or `InvalidInputError`
 * when `notFound` says the missing resource was an input, such as an image), everything
 * else (management node down, wrong VM state, session trouble) `UnavailableError`.
 * `what` starts the message, such as `creating VM for pod default/web`.
 */
export function toProviderError(
  error: unknown,
  what: string,
  options: { notFound?: "not-found" | "invalid-input" } = {},
): ProviderError | unknown {
  if (error instanceof ZStackApiError) {
    const message = `${what}: ${error.message}`;
    const exhausted = exhaustedResource(error);
    if (exhausted !== undefined) {
      return new ResourceExhaustedError(message, { cause: error, resource: exhausted });
    }
    if (error.code === "SYS.1007") return new InvalidInputError(message, { cause: error });
    if (error.code === "SYS.1003") {
      return options.notFound === "invalid-input"
        ? new InvalidInputError(message, { cause: error })
        : new NotFoundError(message, { cause: error });
    }
    return new UnavailableError(message, { cause: error });
  }
  if (error instanceof ZStackHttpError) {
    const message = `${what}: ${error.message}`;
    if (error.status === 400) return new InvalidInputError(message, { cause: error });
    return new UnavailableError(message, { cause: error });
  }
  return error;
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(done, Math.max(0, ms));
    function done(): void {
      signal.removeEventListener("abort", aborted);
      resolve();
    }
    function aborted(): void {
      clearTimeout(timer);
      reject(signal.reason);
    }
    signal.addEventListener("abort", aborted, { once: true });
  });
}

/** 32 random lowercase hex characters, the form of every ZStack uuid. */
export function randomZStackUuid(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

/** Lowercase hex SHA-512 of `text`, the password form `logInByAccount` wants. */
export async function sha512Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-512", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** `base64(HMAC-SHA1(secret, "METHOD\nDate\nURI"))`, the AccessKey signature. */
export async function accessKeySignature(
  secret: string,
  request: { method: string; date: string; uri: string },
): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  const text = `${request.method}\n${request.date}\n${request.uri}`;
  const signature = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text)),
  );
  return btoa(String.fromCharCode(...signature));
}

/**
 * Replaces scheme, host, port and context of a job `location` with the configured
 * endpoint (the server builds it from its own, possibly internal, address).
 */
export function rewriteJobLocation(location: string, endpoint: string): string {
  const index = location.indexOf("/v1/api-jobs/");
  if (index < 0) {
    throw new UnavailableError(
      `ZStack at ${endpoint}: expected a job location containing "/v1/api-jobs/", found "${location}"`,
    );
  }
  return `${endpoint.replace(/\/+$/, "")}${location.slice(index)}`;
}

/** A connection-level failure (refused, reset, DNS, timeout): always worth a retry. */
class TransportError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = "TransportError";
  }
}

interface Exchange {
  status: number;
  text: string;
  json: unknown;
  retryAfterMs?: number;
}

/** Counting semaphore; waiters are served in order. */
class Limiter {
  readonly #limit: number;
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  get active(): number {
    return this.#active;
  }

  async acquire(signal: AbortSignal): Promise<() => void> {
    if (this.#active >= this.#limit) {
      await new Promise<void>((resolve, reject) => {
        const wake = (): void => {
          signal.removeEventListener("abort", aborted);
          resolve();
        };
        const aborted = (): void => {
          const index = this.#waiting.indexOf(wake);
          if (index >= 0) this.#waiting.splice(index, 1);
          reject(signal.reason);
        };
        this.#waiting.push(wake);
        signal.addEventListener("abort", aborted, { once: true });
      });
    } else {
      this.#active++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next === undefined) this.#active--;
      else next(); // the slot passes to the next waiter
    };
  }
}

type Auth = { header: string } | { accessKey: true };

/** Client of one ZStack management node (or a load balancer in front of several). */
export class ZStackClient {
  /** The endpoint, without a trailing slash; error messages name it. */
  readonly endpoint: string;
  readonly #credentials: ZStackCredentials;
  readonly #fetch: typeof fetch;
  readonly #limiter: Limiter;
  readonly #requestTimeoutMs: number;
  readonly #maxPollIntervalMs: number;
  readonly #jobTimeoutMs: number;
  readonly #retries: number;
  readonly #retryBaseDelayMs: number;
  readonly #retryMaxDelayMs: number;
  #session: { promise: Promise<string>; value?: string } | undefined;
  readonly #stats: ZStackClientStats = {
    requests: 0,
    logins: 0,
    retries: 0,
    inFlight: 0,
    maxInFlight: 0,
  };

  /** Creates a client; nothing is sent until the first call. */
  constructor(options: ZStackClientOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, "");
    this.#credentials = options.credentials;
    this.#fetch = options.fetch ?? fetch;
    this.#limiter = new Limiter(options.maxConcurrentRequests ?? 8);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#maxPollIntervalMs = options.maxPollIntervalMs ?? 2_000;
    this.#jobTimeoutMs = options.jobTimeoutMs ?? 30 * 60_000;
    this.#retries = options.retries ?? 4;
    this.#retryBaseDelayMs = options.retryBaseDelayMs ?? 250;
    this.#retryMaxDelayMs = options.retryMaxDelayMs ?? 8_000;
  }

  /** A copy of the counters. */
  stats(): ZStackClientStats {
    return { ...this.#stats };
  }

  /**
   * A sync GET (`/v1/...`, query string without `?`), re-logging in once the session
   * expired; the reply is validated with `schema`.
   */
  get<S extends z.ZodType>(
    path: string,
    query: string,
    schema: S,
    signal: AbortSignal,
  ): Promise<z.output<S>> {
    const operation = `GET ${path}`;
    return this.#authenticated(signal, async (auth) => {
      const reply = await this.#withRetries(
        operation,
        signal,
        true,
        () => this.#exchange("GET", this.#url(path, query), path, auth, undefined, {}, signal),
      );
      if (reply.status === 200) return this.#parse(operation, reply, schema);
      throw this.#failure(operation, reply);
    });
  }

  /**
   * An async call (POST, PUT or DELETE): submits it with a fresh `X-Job-UUID`, polls the
   * job until it ends and validates the result with `schema`. Connection errors while
   * submitting are retried with the same job uuid; a "Duplicate job uuid" answer then
   * means an earlier attempt got through, and that job is polled.
   */
  call<S extends z.ZodType>(
    method: "POST" | "PUT" | "DELETE",
    path: string,
    body: unknown,
    schema: S,
    options: CallOptions,
  ): Promise<z.output<S>> {
    const operation = `${method} ${path}`;
    const { signal } = options;
    return this.#authenticated(signal, async (auth) => {
      const jobUuid = randomZStackUuid();
      const submitted = await this.#withRetries(operation, signal, true, () =>
        this.#exchange(
          method,
          this.#url(path, options.query ?? ""),
          path,
          auth,
          body,
          { "X-Job-UUID": jobUuid },
          signal,
        ));
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
        return this.#parse(operation, submitted, schema); // a sync API
      } else {
        throw this.#failure(operation, submitted);
      }
      const result = await this.#poll(operation, location, apiTimeoutMs, auth, signal);
      return this.#parse(operation, result, schema);
    });
  }

  /**
   * Checks that the management node answers and the session (if any) is valid, logging
   * in again when it is not. Throws `UnavailableError` naming the endpoint otherwise.
   */
  async checkSession(signal: AbortSignal): Promise<void> {
    if (this.#credentials.kind !== "account") return;
    const session = await this.#currentSession(signal);
    const path = `/v1/accounts/sessions/${session}/valid`;
    const reply = await this.#withRetries(
      `GET ${path}`,
      signal,
      false,
      () => this.#exchange("GET", this.#url(path, ""), path, undefined, undefined, {}, signal),
    );
    if (reply.status !== 200) throw this.#failure(`GET ${path}`, reply);
    const valid = sessionValidReplySchema.safeParse(reply.json);
    if (valid.success && valid.data.valid) return;
    logger.info("ZStack session at {endpoint} is no longer valid; logging in again", {
      endpoint: this.endpoint,
    });
    this.#forget(session);
    await this.#currentSession(signal);
  }

  /** Logs out (best effort), so that restarts do not pile up sessions. */
  async close(signal: AbortSignal): Promise<void> {
    const pending = this.#session;
    this.#session = undefined;
    if (pending === undefined) return;
    try {
      const session = await pending.promise;
      const path = `/v1/accounts/sessions/${session}`;
      await this.#exchange("DELETE", this.#url(path, ""), path, undefined, undefined, {}, signal);
    } catch (error) {
      logger.debug("ZStack logout at {endpoint} failed: {error}", {
        endpoint: this.endpoint,
        error: String(error),
      });
    }
  }

  // -- authentication -------------------------------------------------------

  async #authenticated<T>(signal: AbortSignal, work: (auth: Auth) => Promise<T>): Promise<T> {
    if (this.#credentials.kind === "accessKey") return await work({ accessKey: true });
    for (let attempt = 0;; attempt++) {
      const session = await this.#currentSession(signal);
      try {
        return await work({ header: `OAuth ${session}` });
      } catch (error) {
        if (!(error instanceof ZStackApiError) || error.code !== invalidSessionCode) throw error;
        this.#forget(session);
        if (attempt >= 2) {
          throw new UnavailableError(
            `ZStack at ${this.endpoint}: expected a fresh session to be accepted, found ${
              describeErrorCode(error.error)
            } after ${attempt + 1} logins`,
            { cause: error },
          );
        }
        logger.info("ZStack session at {endpoint} expired; logging in again", {
          endpoint: this.endpoint,
        });
      }
    }
  }

  #currentSession(signal: AbortSignal): Promise<string> {
    if (this.#session === undefined) {
      const entry: { promise: Promise<string>; value?: string } = { promise: this.#login(signal) };
      entry.promise.then((value) => {
        entry.value = value;
      }, () => {
        if (this.#session === entry) this.#session = undefined;
      });
      this.#session = entry;
    }
    return this.#session.promise;
  }

  /** Drops `session` unless a newer login already replaced it. */
  #forget(session: string): void {
    if (this.#session?.value === session) this.#session = undefined;
  }

  async #login(signal: AbortSignal): Promise<string> {
    const credentials = this.#credentials;
    if (credentials.kind !== "account") throw new Error("login needs account credentials");
    const password = credentials.passwordIsSha512
      ? credentials.password.toLowerCase()
      : await sha512Hex(credentials.password);
    const path = "/v1/accounts/login";
    const operation = `PUT ${path}`;
    const body = { logInByAccount: { accountName: credentials.accountName, password } };
    const reply = await this.#withRetries(
      operation,
      signal,
      true,
      () => this.#exchange("PUT", this.#url(path, ""), path, undefined, body, {}, signal),
    );
    if (reply.status !== 200) {
      const failure = this.#failure(operation, reply);
      throw new UnavailableError(
        `ZStack at ${this.endpoint}: login of account "${credentials.accountName}" failed: ${failure.message}`,
        { cause: failure },
      );
    }
    const session = this.#parse(operation, reply, loginReplySchema).inventory.uuid;
    this.#stats.logins++;
    logger.debug("logged in to ZStack at {endpoint}", { endpoint: this.endpoint });
    return session;
  }

  // -- jobs -----------------------------------------------------------------

  async #poll(
    operation: string,
    location: string,
    apiTimeoutMs: number | undefined,
    auth: Auth,
    signal: AbortSignal,
  ): Promise<Exchange> {
    const url = rewriteJobLocation(location, this.endpoint);
    const path = url.slice(url.indexOf("/v1/api-jobs/"));
    const limit = Math.min(apiTimeoutMs ?? this.#jobTimeoutMs, this.#jobTimeoutMs);
    const deadline = Date.now() + limit;
    let pause = 100;
    while (true) {
      const reply = await this.#withRetries(
        `${operation} (job ${path})`,
        signal,
        false,
        () => this.#exchange("GET", url, path, auth, undefined, {}, signal),
      );
      if (reply.status === 200) return reply;
      if (reply.status === 404) {
        throw new UnavailableError(
          `ZStack at ${this.endpoint}: ${operation}: expected the job ${path} to be known, found HTTP 404 "${
            reply.text.slice(0, 200)
          }" (job results expire after about 3 h)`,
        );
      }
      if (reply.status !== 202) throw this.#failure(operation, reply);
      if (Date.now() + pause > deadline) {
        throw new UnavailableError(
          `ZStack at ${this.endpoint}: ${operation}: expected job ${path} to end within ${limit} ms, found it still running`,
        );
      }
      await delay(pause, signal);
      pause = Math.min(pause * 2, this.#maxPollIntervalMs);
    }
  }

  // -- HTTP -----------------------------------------------------------------

  #url(path: string, query: string): string {
    return `${this.endpoint}${path}${query === "" ? "" : `?${query}`}`;
  }

  #parse<S extends z.ZodType>(operation: string, reply: Exchange, schema: S): z.output<S> {
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

  #failure(operation: string, reply: Exchange): ZStackApiError | ZStackHttpError {
    if (reply.status === 503) {
      const parsed = errorReplySchema.safeParse(reply.json);
      if (parsed.success) return new ZStackApiError(operation, reply.status, parsed.data.error);
    }
    return new ZStackHttpError(operation, reply.status, reply.text.trim().slice(0, 500));
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
    signal: AbortSignal,
    submitting: boolean,
    send: () => Promise<Exchange>,
  ): Promise<Exchange> {
    let lastProblem = "";
    let retryAfterMs: number | undefined;
    for (let attempt = 0; attempt <= this.#retries; attempt++) {
      if (attempt > 0) {
        this.#stats.retries++;
        const backoff = Math.min(
          this.#retryMaxDelayMs,
          this.#retryBaseDelayMs * 2 ** (attempt - 1),
        );
        const wait = Math.max(retryAfterMs ?? 0, backoff * (0.5 + Math.random() / 2));
        logger.debug("retrying {operation} in {wait} ms after {problem}", {
          operation,
          wait: Math.round(wait),
          problem: lastProblem,
        });
        await delay(wait, signal);
      }
      try {
        const reply = await send();
        if (!this.#retryable(reply, submitting)) return reply;
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
        this.#retries + 1
      } attempts`,
      { retryAfterMs },
    );
  }

  async #exchange(
    method: string,
    url: string,
    path: string,
    auth: Auth | undefined,
    body: unknown,
    extraHeaders: Record<string, string>,
    signal: AbortSignal,
  ): Promise<Exchange> {
    const release = await this.#limiter.acquire(signal);
    this.#stats.requests++;
    this.#stats.inFlight = this.#limiter.active;
    this.#stats.maxInFlight = Math.max(this.#stats.maxInFlight, this.#limiter.active);
    try {
      const headers = new Headers(extraHeaders);
      if (body !== undefined) headers.set("Content-Type", "application/json");
      if (auth !== undefined && "header" in auth) headers.set("Authorization", auth.header);
      if (auth !== undefined && "accessKey" in auth) {
        await this.#signAccessKey(headers, method, path);
      }
      const timeout = AbortSignal.timeout(this.#requestTimeoutMs);
      let response: Response;
      let text: string;
      try {
        response = await this.#fetch(url, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.any([signal, timeout]),
        });
        text = await response.text();
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        const reason = timeout.aborted
          ? `no answer within ${this.#requestTimeoutMs} ms`
          : error instanceof Error
          ? error.message
          : String(error);
        throw new TransportError(`${method} ${url}: ${reason}`, error);
      }
      let json: unknown;
      if (text.trimStart().startsWith("{")) {
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
      }
      const retryAfter = Number(response.headers.get("Retry-After"));
      return {
        status: response.status,
        text,
        json,
        ...(Number.isFinite(retryAfter) && retryAfter > 0
          ? { retryAfterMs: retryAfter * 1000 }
          : {}),
      };
    } finally {
      release();
      this.#stats.inFlight = this.#limiter.active;
    }
  }

  async #signAccessKey(headers: Headers, method: string, path: string): Promise<void> {
    const credentials = this.#credentials;
    if (credentials.kind !== "accessKey") return;
    const date = new Date().toUTCString();
    const signature = await accessKeySignature(credentials.accessKeySecret, {
      method,
      date,
      uri: path,
    });
    headers.set("Date", date);
    headers.set("Authorization", `ZStack ${credentials.accessKeyId}:${signature}`);
  }
}
