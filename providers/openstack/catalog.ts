/**
 * Choosing endpoints from Keystone's service catalog: by service type, interface
 * (`public`, `internal`, `admin`) and region, unless the configuration overrides the URL
 * of a service. A catalog without the endpoint asked for is a configuration mistake (a
 * wrong region or interface), refused with what the catalog does list.
 *
 * @module
 */

import { InvalidInputError } from "../../lib/provider.ts";
import type { CatalogEntry } from "./api_types.ts";

/** What to look for. */
export interface EndpointQuery {
  /** Service type: `compute`, `image`, `network`, `placement`. */
  type: string;
  /** `public`, `internal` or `admin`. */
  interface: string;
  /** Region; any when absent. */
  region?: string;
}

/** The URL of the endpoint `query` names, without a trailing slash, or `undefined`. */
export function findEndpoint(catalog: CatalogEntry[], query: EndpointQuery): string | undefined {
  for (const entry of catalog) {
    if (entry.type !== query.type) continue;
    for (const endpoint of entry.endpoints) {
      const region = endpoint.region_id ?? endpoint.region ?? undefined;
      if (endpoint.interface !== query.interface) continue;
      if (query.region !== undefined && region !== undefined && region !== query.region) continue;
      return endpoint.url.replace(/\/+$/, "");
    }
  }
  return undefined;
}

/** `compute (public, internal), image (public)`: what a catalog offers, for messages. */
export function describeCatalog(catalog: CatalogEntry[]): string {
  if (catalog.length === 0) return "nothing (the token has no catalog: is it scoped to a project?)";
  return catalog.map((entry) => {
    const faces = [
      ...new Set(
        entry.endpoints.map((e) =>
          `${e.interface}${e.region_id ?? e.region ? ` ${e.region_id ?? e.region}` : ""}`
        ),
      ),
    ];
    return `${entry.type} (${faces.join(", ")})`;
  }).join(", ");
}

/**
 * The endpoint of `query`: `override` when given, else the catalog's. Throws
 * `InvalidInputError` naming what the catalog lists when it has none.
 */
export function endpointFor(
  catalog: CatalogEntry[],
  query: EndpointQuery & { override?: string },
): string {
  if (query.override !== undefined) return query.override.replace(/\/+$/, "");
  const found = findEndpoint(catalog, query);
  if (found !== undefined) return found;
  throw new InvalidInputError(
    `openstack provider: expected a ${query.interface} ${query.type} endpoint${
      query.region ? ` in region ${query.region}` : ""
    } in the service catalog, found ${
      describeCatalog(catalog)
    }: check "region" and "interface" in the provider config, or set "endpoints.${query.type}"`,
  );
}
