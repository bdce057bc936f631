/**
 * The kubelet API's route table: each route names its path patterns (literal segments and
 * `:name` parameters, matched segment by segment), the methods it allows, and a handler for
 * plain requests, for upgrade requests (a raw socket after authentication), or both.
 * Resolving a path yields the route, a 404 or a 405, with the kubelet's texts.
 *
 * @module
 */

import type { Duplex } from "node:stream";
import type { UserInfo } from "./auth.ts";
import type { HttpFailure } from "./http_errors.ts";

/** What every handler receives about its request. */
export interface RouteContext {
  /** The request (for upgrades: without a body). */
  request: Request;
  /** Its parsed URL. */
  url: URL;
  /** Decoded path parameters by name, such as `namespace` and `pod`. */
  params: Record<string, string>;
  /** The authenticated user; undefined on public routes. */
  user?: UserInfo;
  /** Aborted when the client goes away or the server closes. */
  signal: AbortSignal;
}

/** What an upgrade handler receives: the request's context and the raw connection. */
export interface UpgradeContext extends RouteContext {
  /** The client's connection (a TLS socket), handed over after authentication and authorization. */
  socket: Duplex;
  /** Bytes the client sent after the request head, to be read before the socket's data. */
  head: Uint8Array;
  /** Writes `HTTP/1.1 101 Switching Protocols` with `headers`; from then on the socket is the handler's. */
  switchProtocols(headers: Record<string, string>): void;
  /**
   * Takes the socket over without writing a head, for a library that writes its own 101
   * (the WebSocket server); a failure after this destroys the socket instead of answering.
   */
  takeOver(): void;
  /** Answers with a plain HTTP response instead (`Connection: close`) and ends the socket. */
  respond(response: Response): Promise<void>;
}

/** Answers a plain (non-upgrade) request. */
export type PlainHandler = (context: RouteContext) => Promise<Response>;

/**
 * Takes over an upgrade request's socket; throwing before `switchProtocols` answers with the
 * error's status as a `metav1.Status`. The server ends the socket when the promise settles.
 */
export type UpgradeHandler = (context: UpgradeContext) => Promise<void>;

/** One entry of the route table. */
export interface Route {
  /** Short name for logs, such as `containerLogs` or `exec`. */
  name: string;
  /** Path patterns such as `/containerLogs/:namespace/:pod/:container`; a trailing slash is ignored. */
  paths: string[];
  /** Allowed HTTP methods, upper case. */
  methods: string[];
  /** Served without authentication (such as `/healthz`). */
  public?: boolean;
  /** Handler of plain requests; it also answers upgrade requests when `upgrade` is absent. */
  handle?: PlainHandler;
  /** Handler of upgrade requests (`Connection: Upgrade`). */
  upgrade?: UpgradeHandler;
}

/** Outcome of looking up a method and path in the table. */
export type RouteResolution =
  | { kind: "found"; route: Route; params: Record<string, string> }
  | { kind: "notFound" }
  | { kind: "methodNotAllowed"; allowed: string[] }
  | { kind: "malformed"; reason: string };

interface CompiledPattern {
  route: Route;
  segments: string[];
}

function pathSegments(path: string): string[] {
  const segments = path.split("/").slice(1);
  if (segments.at(-1) === "") segments.pop();
  return segments;
}

function matchSegments(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, part] of pattern.entries()) {
    if (part.startsWith(":")) params[part.slice(1)] = segments[index];
    else if (part !== segments[index]) return undefined;
  }
  return params;
}

/** The routes of one server, looked up by method and path; earlier routes win. */
export class RouteTable {
  readonly #patterns: CompiledPattern[] = [];

  /** Builds a table from `routes`, in order. */
  constructor(routes: Route[]) {
    for (const route of routes) {
      if (route.handle === undefined && route.upgrade === undefined) {
        throw new Error(`route ${route.name}: expected a plain or an upgrade handler, found none`);
      }
      for (const path of route.paths) {
        if (!path.startsWith("/")) {
          throw new Error(
            `route ${route.name}: expected a path starting with "/", found "${path}"`,
          );
        }
        this.#patterns.push({ route, segments: pathSegments(path) });
      }
    }
  }

  /** Whether `path` belongs to a public route, whatever the method (decides on authentication). */
  isPublic(path: string): boolean {
    const resolution = this.resolve("GET", path);
    return resolution.kind === "found" && resolution.route.public === true;
  }

  /** Finds the route for `method` and `path` (percent-decoded segment by segment). */
  resolve(method: string, path: string): RouteResolution {
    let segments: string[];
    try {
      segments = pathSegments(path).map((segment) => decodeURIComponent(segment));
    } catch {
      return {
        kind: "malformed",
        reason: `malformed path "${path}": expected valid percent-encoding`,
      };
    }
    const allowed: string[] = [];
    for (const pattern of this.#patterns) {
      const params = matchSegments(pattern.segments, segments);
      if (params === undefined) continue;
      if (pattern.route.methods.includes(method)) {
        return { kind: "found", route: pattern.route, params };
      }
      for (const each of pattern.route.methods) if (!allowed.includes(each)) allowed.push(each);
    }
    return allowed.length > 0 ? { kind: "methodNotAllowed", allowed } : { kind: "notFound" };
  }
}

/** The refusal of a request that found no route: 404, 405 naming the methods, or 400. */
export function routeRefusal(
  resolution: Exclude<RouteResolution, { kind: "found" }>,
  request: { method: string; path: string },
): HttpFailure {
  switch (resolution.kind) {
    case "notFound":
      return { status: 404, message: "404 request not found" };
    case "malformed":
      return { status: 400, message: resolution.reason };
    case "methodNotAllowed": {
      const expected = resolution.allowed.filter((method) => method !== "HEAD").join(" or ");
      return {
        status: 405,
        message: `method ${request.method} not allowed on ${request.path}: expected ${expected}`,
      };
    }
  }
}
