/**
 * Pod sync latency: how long the spec sync of one pod took (environment resolution and the
 * provider's create, update or delete), by outcome, as the kubelet's pod worker duration.
 *
 * @module
 */

import { histogram } from "../metrics/mod.ts";

const podSyncDuration = histogram<"outcome">({
  name: "vkedge_pod_sync_duration_seconds",
  help: "Time one pod's spec sync took (environment, provider create, update or delete), " +
    "by outcome (success, error).",
  labelNames: ["outcome"],
});

/** Runs one pod's sync and records its duration with its outcome. */
export async function timedPodSync(sync: () => Promise<void>): Promise<void> {
  const started = performance.now();
  let outcome = "error";
  try {
    await sync();
    outcome = "success";
  } finally {
    podSyncDuration.observe({ outcome }, (performance.now() - started) / 1000);
  }
}
