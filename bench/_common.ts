/**
 * What the pod start-up benchmarks share: percentiles, the agent's resident memory, and
 * timing pods from creation to Running through a watch.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { type KubeClient, PODS } from "../lib/kube/mod.ts";
import { isRunning } from "../tests/_harness/pods.ts";

/** The value at fraction `p` (0..1) of an ascending list (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

/** Resident memory of process `pid`, in MiB. */
export function rssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? "0");
  return kb / 1024;
}

/** Seconds with two decimals, such as `2.31 s`. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/**
 * Creates `pods` in `ns` at once and returns, ascending, how many milliseconds each took
 * from the start of the creation to Running and Ready, as a watch saw it.
 */
export async function timePodsToRunning(
  kube: KubeClient,
  ns: string,
  pods: Pod[],
  timeoutMs = 600_000,
): Promise<number[]> {
  const size = pods.length;
  const start = performance.now();
  await Promise.all(pods.map((pod) => kube.resource<Pod>(PODS, ns).create(pod)));
  const runningAt = new Map<string, number>();
  const watcher = new AbortController();
  const timeout = setTimeout(() => watcher.abort(), timeoutMs);
  try {
    // Re-list and re-watch until every pod was seen Running (a watch may end early).
    while (runningAt.size < size && !watcher.signal.aborted) {
      const stream = await kube.resource<Pod>(PODS, ns).watch({ signal: watcher.signal });
      for await (const event of stream) {
        const name = event.object.metadata?.name ?? "";
        if (!runningAt.has(name) && isRunning(event.object)) {
          runningAt.set(name, performance.now() - start);
          if (runningAt.size === size) break;
        }
      }
    }
  } catch (error) {
    if (!watcher.signal.aborted) throw error;
  } finally {
    watcher.abort();
    clearTimeout(timeout);
  }
  if (runningAt.size < size) {
    throw new Error(
      `only ${runningAt.size} of ${size} pods Running after ${timeoutMs / 1000} s`,
    );
  }
  return [...runningAt.values()].sort((a, b) => a - b);
}
