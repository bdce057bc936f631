/**
 * The route table the server consults: every area's routes in one list, and the match of
 * a request's method and path (below the context path) against it, literal segments
 * winning over `{variables}`. A new API goes into its area's module; a new area adds one
 * line here.
 *
 * @module
 */

import type { Route } from "./api_spec.ts";
import { CATALOG_ROUTES } from "./catalog.ts";
import { HOST_ROUTES } from "./hosts.ts";
import { IDENTITY_ROUTES } from "./identity.ts";
import { NETWORK_ROUTES } from "./networks.ts";
import { STORAGE_ROUTES } from "./storage.ts";
import { TAG_ROUTES } from "./tags.ts";
import { VM_ROUTES } from "./vms.ts";
import { VOLUME_ROUTES } from "./volumes.ts";

/** Every route the simulator serves, by area; on a tie between two patterns the first wins. */
export const ROUTES: readonly Route[] = [
  ...IDENTITY_ROUTES,
  ...HOST_ROUTES,
  ...CATALOG_ROUTES,
  ...NETWORK_ROUTES,
  ...STORAGE_ROUTES,
  ...VM_ROUTES,
  ...VOLUME_ROUTES,
  ...TAG_ROUTES,
];

/** A route that matched a request, with its path variables. */
export interface RouteMatch {
  route: Route;
  path: Record<string, string>;
}

function matchPattern(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split("/");
  const have = path.split("/");
  if (want.length !== have.length) return undefined;
  const variables: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const segment = want[i];
    if (segment.startsWith("{")) {
      if (!have[i]) return undefined;
      variables[segment.slice(1, -1)] = decodeURIComponent(have[i]);
    } else if (segment !== have[i]) {
      return undefined;
    }
  }
  return variables;
}

function literalSegments(pattern: string): number {
  return pattern.split("/").filter((segment) => !segment.startsWith("{")).length;
}

/** Finds the route for `method` and `path` (below the context path); literal segments win. */
export function matchRoute(method: string, path: string): RouteMatch | undefined {
  let best: RouteMatch | undefined;
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const variables = matchPattern(route.pattern, path);
    if (!variables) continue;
    if (!best || literalSegments(route.pattern) > literalSegments(best.route.pattern)) {
      best = { route, path: variables };
    }
  }
  return best;
}
