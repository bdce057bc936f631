/**
 * How the route modules declare an API: what a handler gets, the spec of one API (query,
 * synchronous call or async job, the JSON types the REST layer checks, the 202's
 * `apiTimeout`), one route, and the few builders every area uses.
 *
 * @module
 */

import type { Auth, Identity } from "../auth.ts";
import type { SimState } from "../state/store.ts";
import type { Collection } from "./collection.ts";
import type { FieldType, Params } from "./params.ts";

/** What an API handler gets. */
export interface ApiContext {
  state: SimState;
  auth: Auth;
  /** Path variables by name (`uuid`, `volumeUuid`, ...). */
  path: Record<string, string>;
  query: URLSearchParams;
  params: Params;
  systemTags: string[];
  userTags: string[];
  /** Who calls; absent for the APIs that need no authentication. */
  identity?: Identity;
}

/** One API. */
export interface ApiSpec {
  /** The API name without `API` and `Msg`, e.g. `StartVmInstance`. */
  name: string;
  /** `query` and `sync` answer at once; `async` answers 202 and runs as a job. */
  kind: "query" | "sync" | "async";
  /** False for the session APIs, which need no Authorization header. */
  authenticated: boolean;
  /** Parameter types checked by the REST layer (400 on a mismatch). */
  fields?: Record<string, FieldType>;
  /** The `apiTimeout` announced in the 202 answer, in milliseconds (30 min by default). */
  timeoutMs?: number;
  /** For queries, the collection they read. */
  collection?: Collection;
  /** Runs the API; the returned object (or promise of it) is the reply body before serialization. */
  run(context: ApiContext): unknown;
}

/** One route; PUT routes choose among `actions` by the body's key. */
export interface Route {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** The path below the context path, e.g. `/v1/vm-instances/{uuid}/actions`. */
  pattern: string;
  api?: ApiSpec;
  actions?: Record<string, ApiSpec>;
}

/** What an API may declare besides its name and handler. */
export interface ApiOptions {
  /** `async` (the default) answers 202 and runs as a job; `sync` answers at once. */
  kind?: "sync" | "async";
  /** Parameter types checked by the REST layer. */
  fields?: Record<string, FieldType>;
  /** The `apiTimeout` of an async API, in milliseconds. */
  timeoutMs?: number;
  /** False for the APIs that need no Authorization header (default true). */
  authenticated?: boolean;
}

/** The options of an API answered at once. */
export const SYNC: ApiOptions = { kind: "sync" };

/** One hour in milliseconds, the unit of ZStack's API timeouts. */
export const HOUR = 3600_000;

/** An API whose reply is what `run` returns: at once, or as the result of a job. */
export function defineApi(
  name: string,
  run: (context: ApiContext) => unknown,
  options: ApiOptions = {},
): ApiSpec {
  const { kind = "async", fields, timeoutMs, authenticated = true } = options;
  return { name, kind, authenticated, fields, timeoutMs, run };
}

/** An async API on the path's `uuid` whose reply is the inventory `act` gives. */
export function uuidAction(
  name: string,
  act: (state: SimState, uuid: string) => unknown,
  options: ApiOptions = {},
): ApiSpec {
  return defineApi(
    name,
    async ({ state, path }) => inventory(await act(state, path.uuid)),
    options,
  );
}

/** An async API on the path's `uuid` with an empty reply. */
export function uuidCommand(
  name: string,
  act: (state: SimState, uuid: string) => unknown,
  options: ApiOptions = {},
): ApiSpec {
  return defineApi(name, async ({ state, path }) => {
    await act(state, path.uuid);
    return {};
  }, options);
}

/** The routes of a query API: the whole collection and one item by uuid. */
export function queryRoutes(name: string, collection: Collection): Route[] {
  const api: ApiSpec = { name, kind: "query", authenticated: true, collection, run: () => ({}) };
  return [
    { method: "GET", pattern: `/v1${collection.path}`, api },
    { method: "GET", pattern: `/v1${collection.path}/{uuid}`, api },
  ];
}

/** The reply of an API that returns one inventory. */
export function inventory(value: unknown): { inventory: unknown } {
  return { inventory: value };
}
