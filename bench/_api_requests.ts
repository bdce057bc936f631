/**
 * Counting Kubernetes API requests as the API server sees them: its
 * `apiserver_request_total` counter, summed by verb and resource (with subresource), read
 * before and after a phase. The counter has no client label, so a phase's count includes
 * the control plane's own background requests (leader-election leases, mostly); a rate
 * measured on the idle control plane is subtracted. Watches are left out: the API server
 * counts one when it ends, so the controllers' watches ending at random (every 5 to 10
 * minutes) would be counted against whoever runs then; `bench/watch_count.ts` counts the
 * agent's open watches instead.
 *
 * @module
 */

import type { KubeClient } from "../lib/kube/mod.ts";

/** Requests by `VERB resource[/subresource]`, such as `PATCH pods/status`. */
export type RequestCounts = Map<string, number>;

/** The API server's request counters now. */
export async function apiRequestCounts(kube: KubeClient): Promise<RequestCounts> {
  const text = await kube.requestText({ method: "GET", path: "/metrics" });
  const counts: RequestCounts = new Map();
  for (const line of text.split("\n")) {
    if (!line.startsWith("apiserver_request_total{")) continue;
    const labels = Object.fromEntries(
      [...line.matchAll(/(\w+)="([^"]*)"/g)].map(([, name, value]) => [name, value]),
    );
    if (!labels.resource) continue; // /metrics, /healthz and other non-resource paths
    if (labels.verb === "WATCH") continue;
    const resource = labels.subresource
      ? `${labels.resource}/${labels.subresource}`
      : labels.resource;
    const key = `${labels.verb} ${resource}`;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    counts.set(key, (counts.get(key) ?? 0) + value);
  }
  return counts;
}

/** `after - before` per key, leaving out keys that did not grow. */
export function countsBetween(before: RequestCounts, after: RequestCounts): RequestCounts {
  const delta: RequestCounts = new Map();
  for (const [key, value] of after) {
    const grown = value - (before.get(key) ?? 0);
    if (grown > 0) delta.set(key, grown);
  }
  return delta;
}

/** The control plane's own requests per second, by key, from two readings `ms` apart. */
export async function backgroundRate(kube: KubeClient, ms: number): Promise<RequestCounts> {
  const before = await apiRequestCounts(kube);
  await new Promise((resolve) => setTimeout(resolve, ms));
  const rate: RequestCounts = new Map();
  for (const [key, value] of countsBetween(before, await apiRequestCounts(kube))) {
    rate.set(key, value / (ms / 1000));
  }
  return rate;
}

/**
 * The requests of a phase of `seconds` that are not background: `delta` less the
 * background rate over that time, rounded, and less `own` (requests the benchmark itself
 * made, such as its pod creations).
 */
export function phaseRequests(
  delta: RequestCounts,
  options: { background: RequestCounts; seconds: number; own?: RequestCounts },
): RequestCounts {
  const result: RequestCounts = new Map();
  for (const [key, value] of delta) {
    const background = (options.background.get(key) ?? 0) * options.seconds;
    const left = Math.round(value - background) - (options.own?.get(key) ?? 0);
    if (left > 0) result.set(key, left);
  }
  return result;
}

/** `VERB resource 1.00 · …` per pod, largest first, leaving out what rounds to 0.00. */
export function perPodText(counts: RequestCounts, pods: number): string {
  const parts = [...counts].sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .filter(([, value]) => value / pods >= 0.005)
    .map(([key, value]) => `${key} ${(value / pods).toFixed(2)}`);
  const total = [...counts.values()].reduce((sum, value) => sum + value, 0);
  return `${(total / pods).toFixed(2)}: ${parts.join(", ")}`;
}
