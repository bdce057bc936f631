/**
 * The OpenStack client: one Keystone session and the endpoints of its catalog (compute,
 * image, network, placement, by interface and region, each overridable), requests with a
 * fresh token (renewed and repeated once when a service answers 401), the compute
 * microversion negotiated once from Nova's version document (`OpenStack-API-Version:
 * compute X.Y` on every compute call), replies validated with zod and failures thrown as
 * {@linkcode OpenStackHttpError}. The parts live in files named after their jobs:
 * `transport.ts` (HTTP, retries, metrics), `keystone.ts` (tokens), `catalog.ts`
 * (endpoints), `errors.ts` (faults and contract errors).
 *
 * @module
 */

import type { z } from "zod";
import { InvalidInputError, UnavailableError } from "../../lib/provider.ts";
import { computeVersionSchema } from "./api_types.ts";
import { endpointFor } from "./catalog.ts";
import { faultOf, OpenStackHttpError } from "./errors.ts";
import { type KeystoneCredentials, KeystoneSession, type Token } from "./keystone.ts";
import { OpenStackTransport, pathOf, type RetryPolicy } from "./transport.ts";

/** The services the provider calls. */
export type ServiceType = "compute" | "image" | "network" | "placement" | "identity";

/** The least compute microversion vkedge needs: create-time server tags. */
export const MIN_COMPUTE_VERSION = "2.52";
/** The compute microversion vkedge speaks when the cloud offers it. */
export const PREFERRED_COMPUTE_VERSION = "2.79";
/** The Placement microversion of its calls. */
export const PLACEMENT_VERSION = "1.14";

/** Options of {@linkcode OpenStackClient}. */
export interface OpenStackClientOptions {
  /** Keystone v3 URL. */
  authUrl: string;
  credentials: KeystoneCredentials;
  /** Region of the endpoints; any when absent. */
  region?: string;
  /** Catalog interface (default `public`). */
  interface?: string;
  /** URLs that replace the catalog's, by service type. */
  endpoints?: Partial<Record<ServiceType, string>>;
  /** Requests in flight at most (default 8). */
  maxConcurrentRequests?: number;
  /** Timeout of one exchange (default 30 s). */
  requestTimeoutMs?: number;
  /** Repeats after a transient failure (default 4). */
  retries?: number;
  /** First backoff (default 250 ms). */
  retryBaseDelayMs?: number;
  /** Longest backoff (default 8 s). */
  retryMaxDelayMs?: number;
  /** `fetch` to use. */
  fetch?: typeof fetch;
  /** Clock in milliseconds (token renewal). */
  now?: () => number;
}

/** Options of one request. */
export interface RequestOptions<S extends z.ZodType> {
  /** Query parameters. */
  query?: Record<string, string | string[] | undefined>;
  /** JSON body. */
  body?: unknown;
  /** Validates the reply (a 204 validates `{}`). */
  schema: S;
  /** How it may be repeated (default: `idempotent` for GET/PUT/DELETE, `once` for POST). */
  retry?: RetryPolicy;
  /** Statuses that count as success besides 2xx. */
  accept?: number[];
  signal: AbortSignal;
}

/** A reply and where it came from. */
export interface Reply<T> {
  value: T;
  status: number;
  headers: Headers;
  requestId?: string;
}

/** Counters of what the client did, for tests and benchmarks. */
export interface OpenStackClientStats {
  /** HTTP exchanges by service type (`identity` counts the token requests). */
  requests: Record<string, number>;
  /** Tokens obtained. */
  logins: number;
  /** Repeats after transient failures. */
  retries: number;
}

function compareVersions(a: string, b: string): number {
  const [aMajor, aMinor] = a.split(".").map(Number);
  const [bMajor, bMinor] = b.split(".").map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}

/** The microversion to use given what Nova offers (`min`..`max`); throws when it is too old. */
export function chooseComputeVersion(
  offered: { min?: string; max?: string },
  endpoint: string,
): string {
  const max = offered.max && offered.max !== "" ? offered.max : "2.1";
  if (compareVersions(max, MIN_COMPUTE_VERSION) < 0) {
    throw new InvalidInputError(
      `openstack provider: Nova at ${endpoint} offers compute microversions up to ${max}; vkedge needs ${MIN_COMPUTE_VERSION} or later (create-time server tags, Nova 17/Queens)`,
    );
  }
  return compareVersions(max, PREFERRED_COMPUTE_VERSION) < 0 ? max : PREFERRED_COMPUTE_VERSION;
}

/** The versioned root of a compute endpoint: `…/v2.1` without a project id after it. */
export function computeRoot(endpoint: string): string {
  return endpoint.replace(/(\/v2(?:\.1)?)\/[^/]+$/, "$1");
}

function queryString(query: RequestOptions<z.ZodType>["query"]): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, item);
  }
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

/** Client of one cloud, as one project-scoped identity. */
export class OpenStackClient {
  readonly #options: OpenStackClientOptions;
  readonly #transport: OpenStackTransport;
  readonly #session: KeystoneSession;
  #computeVersion: Promise<string> | undefined;

  /** Creates the client; nothing is sent until the first request. */
  constructor(options: OpenStackClientOptions) {
    this.#options = options;
    this.#transport = new OpenStackTransport({
      maxConcurrentRequests: options.maxConcurrentRequests ?? 8,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      retries: options.retries ?? 4,
      retryBaseDelayMs: options.retryBaseDelayMs ?? 250,
      retryMaxDelayMs: options.retryMaxDelayMs ?? 8_000,
      fetch: options.fetch ?? fetch,
    });
    this.#session = new KeystoneSession({
      authUrl: options.authUrl,
      credentials: options.credentials,
      transport: this.#transport,
      now: options.now ?? Date.now,
    });
  }

  /** Keystone's URL, as error messages name the cloud. */
  get authUrl(): string {
    return this.#session.authUrl;
  }

  /** A copy of the counters. */
  stats(): OpenStackClientStats {
    const { requests, retries } = this.#transport.stats();
    return { requests, logins: this.#session.logins, retries };
  }

  /** A valid token (renewed when due), for the project and user ids it names. */
  token(signal: AbortSignal): Promise<Token> {
    return this.#session.token(signal);
  }

  /** The endpoint of `service` from the current token's catalog (or its override). */
  async endpoint(service: ServiceType, signal: AbortSignal): Promise<string> {
    if (service === "identity") return this.#session.authUrl;
    const token = await this.#session.token(signal);
    return endpointFor(token.catalog, {
      type: service,
      interface: this.#options.interface ?? "public",
      region: this.#options.region,
      override: this.#options.endpoints?.[service],
    });
  }

  /** The compute microversion in use, negotiated with Nova on first use. */
  computeVersion(signal: AbortSignal): Promise<string> {
    if (this.#computeVersion === undefined) {
      this.#computeVersion = this.#negotiate(signal);
      this.#computeVersion.catch(() => this.#computeVersion = undefined);
    }
    return this.#computeVersion;
  }

  async #negotiate(signal: AbortSignal): Promise<string> {
    const endpoint = await this.endpoint("compute", signal);
    const root = computeRoot(endpoint);
    const reply = await this.#send("compute", "GET", `${root}/`, {
      schema: computeVersionSchema,
      signal,
    }, { versioned: false });
    return chooseComputeVersion({
      min: reply.value.version.min_version ?? undefined,
      max: reply.value.version.version ?? undefined,
    }, root);
  }

  /**
   * Calls `method path` of `service` (path relative to its endpoint, such as
   * `/servers/detail`) and returns the validated reply. Compute calls carry the negotiated
   * microversion, Placement calls 1.14.
   */
  async request<S extends z.ZodType>(
    service: ServiceType,
    method: string,
    path: string,
    options: RequestOptions<S>,
  ): Promise<Reply<z.output<S>>> {
    const endpoint = await this.endpoint(service, options.signal);
    return await this.#send(service, method, `${endpoint}${path}`, options);
  }

  async #send<S extends z.ZodType>(
    service: ServiceType,
    method: string,
    url: string,
    options: RequestOptions<S>,
    how: { versioned: boolean } = { versioned: true },
  ): Promise<Reply<z.output<S>>> {
    const { signal } = options;
    const headers: Record<string, string> = {};
    if (service === "compute" && how.versioned) {
      headers["OpenStack-API-Version"] = `compute ${await this.computeVersion(signal)}`;
    } else if (service === "placement") {
      headers["OpenStack-API-Version"] = `placement ${PLACEMENT_VERSION}`;
    }
    const full = `${url}${queryString(options.query)}`;
    const retry = options.retry ?? (method === "POST" ? "once" : "idempotent");
    let token = await this.#session.token(signal);
    let answer = await this.#transport.send({
      service,
      method,
      url: full,
      headers: { ...headers, "X-Auth-Token": token.value },
      body: options.body,
      retry,
    }, signal);
    if (answer.status === 401) {
      // Revoked, or expired early: one fresh token, one more try.
      token = await this.#session.renewAfterRefusal(token.value, signal);
      answer = await this.#transport.send({
        service,
        method,
        url: full,
        headers: { ...headers, "X-Auth-Token": token.value },
        body: options.body,
        retry,
      }, signal);
    }
    const operation = `${method} ${pathOf(url)}`;
    const ok = (answer.status >= 200 && answer.status < 300) ||
      (options.accept ?? []).includes(answer.status);
    if (!ok) {
      throw new OpenStackHttpError({
        service,
        operation,
        status: answer.status,
        fault: faultOf(answer.json, answer.text),
        requestId: answer.requestId,
      });
    }
    const parsed = options.schema.safeParse(answer.json ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.length ? issue.path.map(String).join(".") : "(top level)";
      throw new UnavailableError(
        `OpenStack ${service} ${operation}: unexpected reply: field "${field}": ${
          issue?.message ?? "invalid"
        }${answer.requestId ? ` (request ${answer.requestId})` : ""}`,
        { cause: parsed.error },
      );
    }
    return {
      value: parsed.data,
      status: answer.status,
      headers: answer.headers,
      ...(answer.requestId === undefined ? {} : { requestId: answer.requestId }),
    };
  }

  /** Revokes the token (best effort, bounded by `signal`). */
  close(signal: AbortSignal): Promise<void> {
    return this.#session.revoke(signal);
  }
}
