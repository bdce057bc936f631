/**
 * Deletion in the pod controller. Graceful deletion lets the provider go first (it gets
 * the grace period), then removes the API object with a UID precondition, after the last
 * status the provider reported has landed; a pod that vanished from the API server
 * (force-deleted, or deleted while the agent was away) is let go in the provider too.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { KubeConflictError, KubeNotFoundError, PODS } from "../kube/mod.ts";
import { errorMessage } from "../errors.ts";
import { isNotFound } from "../provider.ts";
import { podKey, statusEqual } from "./compare.ts";
import { sameWorkload } from "../provider_kit/workload.ts";
import { type PodContext, providerPodOf, splitPodKey } from "./context.ts";
import { syncPodStatus } from "./status_sync.ts";

/** The API object of `key` is gone: makes sure the provider lets the pod go too. */
export async function releaseRemovedPod(
  context: PodContext,
  key: string,
  signal: AbortSignal,
): Promise<void> {
  const [namespace] = splitPodKey(key);
  context.applied.delete(key);
  context.waitingForEnv.get(namespace)?.delete(key);
  const providerPod = await providerPodOf(context, key, signal);
  if (providerPod) {
    const retained = context.retention.verdict(providerPod);
    if (retained.keep) {
      context.log.info("pod {pod} is gone; its VM is kept: {reason}", {
        pod: key,
        reason: retained.reason,
      });
    } else {
      await context.operations.run(key, async () => {
        const deleted = await context.provider.deletePod(providerPod, signal).then(
          () => true,
          (error) => {
            if (!isNotFound(error)) throw error;
            return false;
          },
        );
        if (deleted) {
          context.log.info("pod {pod} deleted in provider {provider}: its API object is gone", {
            pod: key,
            provider: context.provider.name,
          });
        }
        context.reported.delete(key);
      });
      return;
    }
  }
  context.reported.delete(key);
}

/** Graceful deletion: provider first (it gets the grace period), then the API object. */
export async function deletePodGracefully(
  context: PodContext,
  apiPod: Pod,
  signal: AbortSignal,
): Promise<void> {
  const key = podKey(apiPod);
  const providerPod = await providerPodOf(context, key, signal);
  const retained = context.retention.verdict(apiPod);
  if (providerPod && retained.keep) {
    context.log.info("pod {pod} is being deleted; its VM is kept: {reason}", {
      pod: key,
      reason: retained.reason,
    });
    context.events.record(
      apiPod,
      "Normal",
      "VirtualMachineKept",
      `Pod deleted; its VM is kept: ${retained.reason}`,
    );
  } else if (providerPod && sameWorkload(providerPod, apiPod)) {
    await context.operations.run(key, async () => {
      try {
        await context.provider.deletePod(apiPod, signal);
        context.log.info("pod {pod} deleted in provider {provider}", {
          pod: key,
          provider: context.provider.name,
        });
        context.events.record(
          apiPod,
          "Normal",
          "ProviderDeleteSuccess",
          "Delete pod in provider successfully",
        );
      } catch (error) {
        if (!isNotFound(error)) {
          if (signal.aborted) throw error;
          context.events.record(apiPod, "Warning", "ProviderDeleteFailed", errorMessage(error));
          throw error; // retried with backoff; the API object stays until the provider let it go
        }
      }
      removeWhenReleased(context, apiPod);
    });
    return;
  }
  removeWhenReleased(context, apiPod);
}

/** The provider let the pod go: the API object can go too. */
function removeWhenReleased(context: PodContext, apiPod: Pod): void {
  const key = podKey(apiPod);
  context.applied.delete(key);
  context.queues.delete.add(`${key}/${apiPod.metadata!.uid}`);
}

/** Removes the API object of a pod the provider no longer runs (`namespace/name/uid`). */
export async function removeApiPod(
  context: PodContext,
  keyWithUid: string,
  signal: AbortSignal,
): Promise<void> {
  const [namespace, name, uid] = keyWithUid.split("/");
  const key = `${namespace}/${name}`;
  const apiPod = context.pods.get(key);
  if (!apiPod || apiPod.metadata?.uid !== uid) return;
  // Let the last status from the provider land before the object goes.
  const reported = context.reported.get(key);
  if (reported?.status && !statusEqual(reported.status, apiPod.status)) {
    await syncPodStatus(context, key, signal).catch(() => undefined);
  }
  try {
    await context.client.resource<Pod>(PODS, namespace).delete(name, {
      gracePeriodSeconds: 0,
      preconditions: { uid },
      signal,
    });
  } catch (error) {
    if (!(error instanceof KubeNotFoundError) && !(error instanceof KubeConflictError)) {
      throw error;
    }
  }
  context.reported.delete(key);
}
