/**
 * The QoS class the kubelet reports in a pod's status, for providers that
 * build pod statuses themselves.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";

/** `Guaranteed`, `Burstable` or `BestEffort`, from the pod's CPU and memory requests and limits. */
export function qosClassOf(pod: Pod): string {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const container of containers) {
    for (const resource of ["cpu", "memory"]) {
      const limit = container.resources?.limits?.[resource];
      const request = container.resources?.requests?.[resource] ?? limit;
      if (limit !== undefined || request !== undefined) any = true;
      if (limit === undefined || String(request) !== String(limit)) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}
