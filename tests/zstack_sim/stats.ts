/**
 * Counts of the ZStack API calls the simulator served, by endpoint (method and route
 * pattern) and by API name, for `GET /__sim/stats` and for benchmarks that report API
 * calls per pod.
 *
 * @module
 */

/** A snapshot of the call counters. */
export interface StatsSnapshot {
  /** Every request under the context path, job polls and failed ones included. */
  total: number;
  /** By `METHOD /v1/route/{pattern}`; requests that matched no route count as `METHOD (unmatched)`. */
  endpoints: Record<string, number>;
  /** By API name (`QueryVmInstance`, `StartVmInstance`, ...), for calls that got past faults; polls are not APIs. */
  apis: Record<string, number>;
}

/** The call counters. */
export class Stats {
  #total = 0;
  #endpoints = new Map<string, number>();
  #apis = new Map<string, number>();

  /** Counts one request to `endpoint`. */
  countRequest(endpoint: string): void {
    this.#total++;
    this.#endpoints.set(endpoint, (this.#endpoints.get(endpoint) ?? 0) + 1);
  }

  /** Counts one call of `api` that reached the REST layer. */
  countApi(api: string): void {
    this.#apis.set(api, (this.#apis.get(api) ?? 0) + 1);
  }

  /** Sets every counter to zero. */
  reset(): void {
    this.#total = 0;
    this.#endpoints.clear();
    this.#apis.clear();
  }

  /** The counters now. */
  snapshot(): StatsSnapshot {
    return {
      total: this.#total,
      endpoints: Object.fromEntries(this.#endpoints),
      apis: Object.fromEntries(this.#apis),
    };
  }
}
