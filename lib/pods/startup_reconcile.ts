/**
 * Reconciling with what the provider already runs: at start-up (after a restart by cron
 * or systemd) and every resync period. Start-up adopts every provider pod that matches its
 * API object (no create, update or delete), deletes provider pods of this node that
 * Kubernetes no longer has (only after the informer synced, so never a live workload by
 * mistake), and queues every pod for a level-based check. The periodic check queues pods
 * the provider lost.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { errorMessage } from "../errors.ts";
import { isNotFound } from "../provider.ts";
import { isTerminal, podKey, podsEqual, providerRelevant } from "./compare.ts";
import { type PodContext, reportedForm } from "./context.ts";
import { sameWorkload } from "../provider_kit/workload.ts";
import { resolvePodEnv } from "./env.ts";

/** Adopts, deletes what Kubernetes no longer has, and queues status checks; run once at start. */
export async function reconcileAtStart(context: PodContext, signal: AbortSignal): Promise<void> {
  let providerPods: Pod[];
  try {
    providerPods = await context.provider.getPods(signal);
  } catch (error) {
    context.log.warn(
      "cannot list provider pods at start-up: {error}; every pod is checked one by one",
      { error: errorMessage(error) },
    );
    return;
  }
  const dangling: Pod[] = [];
  for (const providerPod of providerPods) {
    const nodeName = providerPod.spec?.nodeName;
    if (nodeName && nodeName !== context.nodeName) continue; // another node's pod
    const key = podKey(providerPod);
    const apiPod = context.pods.get(key);
    if (!apiPod || !sameWorkload(providerPod, apiPod)) {
      const retained = context.retention.verdict(providerPod);
      if (retained.keep) {
        context.log.info("provider pod {pod} has no API pod; its VM is kept: {reason}", {
          pod: key,
          reason: retained.reason,
        });
      } else {
        dangling.push(providerPod);
      }
      continue;
    }
    context.reported.set(key, reportedForm(providerPod));
    if (providerPod.metadata?.uid !== apiPod.metadata?.uid) {
      // The same workload under a new pod object: the spec sync rebinds it.
      context.queues.status.add(key);
      continue;
    }
    const resolved = resolveQuietly(context, apiPod);
    if (resolved && podsEqual(resolved, providerPod)) {
      context.applied.set(key, { uid: apiPod.metadata!.uid!, spec: providerRelevant(resolved) });
    }
    context.queues.status.add(key);
  }
  for (const pod of dangling) {
    context.log.info("deleting provider pod {pod}: Kubernetes no longer has it", {
      pod: podKey(pod),
    });
    try {
      await context.provider.deletePod(pod, signal);
    } catch (error) {
      if (!isNotFound(error)) {
        context.log.warn("cannot delete dangling provider pod {pod}: {error}", {
          pod: podKey(pod),
          error: errorMessage(error),
        });
      }
    }
  }
}

/**
 * The periodic level-based check: every pod the provider does not run is queued for its
 * spec sync; one it had accepted and lost is created again, with a warning event.
 */
export async function checkProviderPods(context: PodContext, signal: AbortSignal): Promise<void> {
  const running = new Set((await context.provider.getPods(signal)).map(podKey));
  for (const pod of context.pods.list()) {
    const key = podKey(pod);
    if (isTerminal(pod) || running.has(key)) continue;
    if (context.applied.has(key)) {
      context.log.warn("provider no longer has pod {pod}; creating it again", { pod: key });
      context.events.record(
        pod,
        "Warning",
        "ProviderPodMissing",
        "The provider no longer has this pod; creating it again",
      );
      context.applied.delete(key);
    }
    context.queues.sync.add(key);
  }
}

function resolveQuietly(context: PodContext, pod: Pod): Pod | undefined {
  try {
    return resolvePodEnv(pod, context.envSources);
  } catch {
    return undefined;
  }
}
