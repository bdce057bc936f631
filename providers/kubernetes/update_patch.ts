/**
 * What an update of a running upper pod changes below: the strategic-merge patch that
 * brings the lower pod to the pod wanted now, as far as a running pod can change (labels,
 * annotations, images, `activeDeadlineSeconds`, added tolerations).
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { canonicalJson } from "../../lib/provider_kit/mod.ts";
import { UPPER_POD_ANNOTATION } from "./mapping.ts";

/**
 * The strategic-merge patch that brings `lower` to `desired` as far as a running pod can
 * change (labels, annotations, images, `activeDeadlineSeconds`, added tolerations), or
 * undefined when there is nothing to change. Labels and annotations the upper pod no
 * longer has are removed; those others put on the lower pod are kept.
 */
export function updatePatch(lower: Pod, desired: Pod): Record<string, unknown> | undefined {
  const previous = previousUpperKeys(lower);
  const metadata: Record<string, unknown> = {};
  for (const field of ["labels", "annotations"] as const) {
    const current = lower.metadata?.[field] ?? {};
    const wanted = desired.metadata?.[field] ?? {};
    const change: Record<string, string | null> = {};
    for (const [key, value] of Object.entries(wanted)) {
      if (current[key] !== value) change[key] = value;
    }
    for (const key of previous[field]) {
      if (!(key in wanted) && key in current) change[key] = null;
    }
    if (Object.keys(change).length > 0) metadata[field] = change;
  }
  const spec: Record<string, unknown> = {};
  for (const field of ["containers", "initContainers"] as const) {
    const images = (desired.spec?.[field] ?? []).filter((container) => {
      const running = lower.spec?.[field]?.find((c) => c.name === container.name);
      return running !== undefined && running.image !== container.image;
    }).map((container) => ({ name: container.name, image: container.image }));
    if (images.length > 0) spec[field] = images;
  }
  const deadline = desired.spec?.activeDeadlineSeconds;
  if (deadline !== undefined && deadline !== lower.spec?.activeDeadlineSeconds) {
    spec.activeDeadlineSeconds = deadline;
  }
  const tolerations = desired.spec?.tolerations ?? [];
  const running = (lower.spec?.tolerations ?? []).map((t) => canonicalJson(t));
  const wantedTolerations = tolerations.map((t) => canonicalJson(t));
  if (
    wantedTolerations.some((t) => !running.includes(t)) &&
    running.every((t) => wantedTolerations.includes(t))
  ) {
    spec.tolerations = tolerations;
  }
  if (Object.keys(metadata).length === 0 && Object.keys(spec).length === 0) return undefined;
  return {
    ...(Object.keys(metadata).length === 0 ? {} : { metadata }),
    ...(Object.keys(spec).length === 0 ? {} : { spec }),
  };
}

/** The upper label and annotation keys the lower pod was made or last updated with. */
function previousUpperKeys(lower: Pod): { labels: string[]; annotations: string[] } {
  try {
    const record = JSON.parse(lower.metadata?.annotations?.[UPPER_POD_ANNOTATION] ?? "{}") as {
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
    };
    return {
      labels: Object.keys(record.labels ?? {}),
      annotations: Object.keys(record.annotations ?? {}),
    };
  } catch {
    return { labels: [], annotations: [] };
  }
}
