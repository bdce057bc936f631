/**
 * Authentication and authorization of kubelet API requests, mirroring the kubelet's
 * webhook mode: a verified client certificate (CN = user, O = groups) or a bearer token
 * checked by a TokenReview callback identifies the caller; a SubjectAccessReview callback
 * decides on `nodes/<subresource>` attributes. The callbacks are injected, so this module
 * does not depend on the Kubernetes client; decisions are cached briefly.
 *
 * @module
 */

/** Who made a request. */
export interface UserInfo {
  /** User name (certificate CN, TokenReview username or `system:anonymous`). */
  name: string;
  /** User UID, when the TokenReview gave one. */
  uid?: string;
  /** Groups (certificate O, TokenReview groups), `system:authenticated` included. */
  groups: string[];
  /** Extra attributes from the TokenReview. */
  extra?: Record<string, string[]>;
}

/** The client certificate presented on the TLS connection. */
export interface PeerCertificate {
  /** Whether it chains to the configured client CA. */
  verified: boolean;
  /** Why it did not verify, when it did not. */
  error?: string;
  /** Subject CN. */
  commonName?: string;
  /** Subject O values. */
  organizations: string[];
}

/** What the server knows about the caller before authentication. */
export interface Credentials {
  /** Client certificate, if one was presented. */
  certificate?: PeerCertificate;
  /** Bearer token from the `Authorization` header, if any. */
  bearerToken?: string;
}

/** Result of authentication. */
export type AuthenticationResult =
  | { authenticated: true; user: UserInfo }
  | { authenticated: false; reason: string };

/** Identifies the caller of a request. */
export interface Authenticator {
  /** Returns the user behind `credentials`, or why there is none. Throws only on internal errors. */
  authenticate(credentials: Credentials, signal: AbortSignal): Promise<AuthenticationResult>;
}

/** The answer of a TokenReview. */
export type TokenReviewResult =
  | { authenticated: true; user: UserInfo }
  | { authenticated: false; reason?: string };

/** Asks the API server (TokenReview) who owns a bearer token. */
export type TokenReviewer = (token: string, signal: AbortSignal) => Promise<TokenReviewResult>;

/** Node subresources the kubelet authorizes against. */
export type NodeSubresource = "log" | "stats" | "metrics" | "proxy" | "pods" | "healthz";

/** Attributes of a SubjectAccessReview for a kubelet API request. */
export interface NodeAccessAttributes {
  /** User name. */
  user: string;
  /** User groups. */
  groups: string[];
  /** User UID, if known. */
  uid?: string;
  /** Extra user attributes, if known. */
  extra?: Record<string, string[]>;
  /** Kubernetes verb from the HTTP method. */
  verb: string;
  /** Always `nodes`. */
  resource: "nodes";
  /** Subresource from the path. */
  subresource: NodeSubresource;
  /** Node name. */
  name: string;
}

/** Result of authorization. */
export interface AccessDecision {
  /** Whether the request may proceed. */
  allowed: boolean;
  /** Explanation from the authorizer, possibly empty. */
  reason: string;
}

/** Decides whether a user may perform a kubelet API request. */
export interface Authorizer {
  /** Returns the decision; throws when no decision could be made (the server answers 500). */
  authorize(attributes: NodeAccessAttributes, signal: AbortSignal): Promise<AccessDecision>;
}

/** Asks the API server (SubjectAccessReview) for a decision. */
export type SubjectAccessReviewer = (
  attributes: NodeAccessAttributes,
  signal: AbortSignal,
) => Promise<AccessDecision>;

/** User name of unauthenticated callers. */
export const anonymousUser = "system:anonymous";
/** Group of unauthenticated callers. */
export const unauthenticatedGroup = "system:unauthenticated";
/** Group every authenticated caller belongs to. */
export const authenticatedGroup = "system:authenticated";

/** A small time-bounded cache with a size cap (oldest entries go first). */
class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; expires: number }>();
  readonly #capacity: number;
  readonly #now: () => number;

  constructor(capacity: number, now: () => number) {
    this.#capacity = capacity;
    this.#now = now;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) return;
    this.#entries.delete(key);
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(key, { value, expires: this.#now() + ttlMs });
  }
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function withAuthenticatedGroup(user: UserInfo): UserInfo {
  return user.groups.includes(authenticatedGroup)
    ? user
    : { ...user, groups: [...user.groups, authenticatedGroup] };
}

/** Options of `createAuthenticator`. */
export interface AuthenticatorOptions {
  /** TokenReview callback; without it bearer tokens are rejected. */
  tokenReview?: TokenReviewer;
  /** Accept callers without credentials as `system:anonymous` (then authorized as such). */
  anonymousAuth?: boolean;
  /** How long a successful token review is trusted; default 60 s. */
  tokenCacheTtlMs?: number;
  /** How long a failed token review is remembered; default 10 s. */
  tokenFailureCacheTtlMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * Builds the kubelet-style authenticator: a verified client certificate wins, then a bearer
 * token via `tokenReview`, then (if enabled) anonymous. A presented certificate that does
 * not verify fails the request unless a valid token is also given, like the kubelet.
 */
export function createAuthenticator(options: AuthenticatorOptions = {}): Authenticator {
  const now = options.now ?? Date.now;
  const cache = new TtlCache<TokenReviewResult>(4096, now);
  const successTtl = options.tokenCacheTtlMs ?? 60_000;
  const failureTtl = options.tokenFailureCacheTtlMs ?? 10_000;

  async function reviewToken(token: string, signal: AbortSignal): Promise<TokenReviewResult> {
    if (options.tokenReview === undefined) {
      return { authenticated: false, reason: "bearer tokens are not accepted (no TokenReview)" };
    }
    const key = await sha256Hex(token);
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    const result = await options.tokenReview(token, signal);
    cache.set(key, result, result.authenticated ? successTtl : failureTtl);
    return result;
  }

  return {
    async authenticate(credentials, signal) {
      const certificate = credentials.certificate;
      if (certificate?.verified && certificate.commonName) {
        return {
          authenticated: true,
          user: withAuthenticatedGroup({
            name: certificate.commonName,
            groups: [...certificate.organizations],
          }),
        };
      }
      const reasons: string[] = [];
      if (certificate !== undefined) {
        reasons.push(
          certificate.verified
            ? "client certificate has no common name"
            : `client certificate did not verify: ${certificate.error ?? "unknown authority"}`,
        );
      }
      if (credentials.bearerToken !== undefined) {
        const review = await reviewToken(credentials.bearerToken, signal);
        if (review.authenticated) {
          return { authenticated: true, user: withAuthenticatedGroup(review.user) };
        }
        reasons.push(`bearer token rejected: ${review.reason || "token review denied it"}`);
      }
      if (reasons.length > 0) return { authenticated: false, reason: reasons.join("; ") };
      if (options.anonymousAuth) {
        return {
          authenticated: true,
          user: { name: anonymousUser, groups: [unauthenticatedGroup] },
        };
      }
      return { authenticated: false, reason: "no client certificate or bearer token" };
    },
  };
}

/** Options of `createWebhookAuthorizer`. */
export interface WebhookAuthorizerOptions {
  /** How long an allow decision is cached; default 60 s. */
  allowedTtlMs?: number;
  /** How long a deny decision is cached; default 10 s. */
  deniedTtlMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** Builds an authorizer that asks `subjectAccessReview` and caches its decisions briefly. */
export function createWebhookAuthorizer(
  subjectAccessReview: SubjectAccessReviewer,
  options: WebhookAuthorizerOptions = {},
): Authorizer {
  const cache = new TtlCache<AccessDecision>(4096, options.now ?? Date.now);
  const allowedTtl = options.allowedTtlMs ?? 60_000;
  const deniedTtl = options.deniedTtlMs ?? 10_000;
  return {
    async authorize(attributes, signal) {
      const key = JSON.stringify([
        attributes.user,
        [...attributes.groups].sort(),
        attributes.uid ?? "",
        attributes.extra ?? {},
        attributes.verb,
        attributes.subresource,
        attributes.name,
      ]);
      const cached = cache.get(key);
      if (cached !== undefined) return cached;
      const decision = await subjectAccessReview(attributes, signal);
      cache.set(key, decision, decision.allowed ? allowedTtl : deniedTtl);
      return decision;
    },
  };
}

/** An authorizer that allows everything; for local development without a cluster only. */
export function createAlwaysAllowAuthorizer(): Authorizer {
  return {
    authorize() {
      return Promise.resolve({ allowed: true, reason: "authorization disabled" });
    },
  };
}

/** Kubernetes verb of an HTTP method, as the kubelet maps it. */
export function verbForMethod(method: string): string {
  switch (method.toUpperCase()) {
    case "GET":
    case "HEAD":
      return "get";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return "delete";
    default:
      return method.toLowerCase();
  }
}

function isSubpath(path: string, prefix: string): boolean {
  const base = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  return path === base || path.startsWith(`${base}/`);
}

/**
 * Node subresources to check for a request path, in order; any allowed one admits the
 * request. As in the kubelet with fine-grained authorization: `/pods` and `/runningpods/`
 * try `pods` then `proxy`; `/stats` → `stats`, `/metrics` → `metrics`, `/logs` → `log`, and
 * everything else (container logs, exec, …) → `proxy`.
 */
export function subresourcesForPath(path: string): NodeSubresource[] {
  const out: NodeSubresource[] = [];
  if (isSubpath(path, "/pods") || isSubpath(path, "/runningpods")) out.push("pods");
  else if (isSubpath(path, "/healthz")) out.push("healthz");
  if (isSubpath(path, "/stats")) out.push("stats");
  else if (isSubpath(path, "/metrics")) out.push("metrics");
  else if (isSubpath(path, "/logs")) out.push("log");
  else out.push("proxy");
  return out;
}
