/**
 * The spec path of the pod controller, level-based for one pod key: resolve its
 * environment (ConfigMaps, Secrets, downward API, service links), then create or update it
 * in the provider only when the provider-relevant spec changed. A missing reference or a
 * provider refusal is recorded as an event and in the pod's status; a wrong spec waits for
 * the spec to change, anything else is retried with backoff.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { errorMessage } from "../errors.ts";
import { isInvalidInput } from "../provider.ts";
import { EnvResolutionError, resolvePodEnv } from "./env.ts";
import { isTerminal, podKey, podsEqual, providerRelevant } from "./compare.ts";
import { sameWorkload } from "../provider_kit/workload.ts";
import { type PodContext, providerPodOf, splitPodKey } from "./context.ts";
import { deletePodGracefully, releaseRemovedPod } from "./deletion.ts";
import { PROVIDER_FAILED, restoreStatusAfterFailure, writePendingStatus } from "./status_sync.ts";

/** Brings the provider in line with the API object of `key` (or its absence). */
export async function syncPodSpec(
  context: PodContext,
  key: string,
  signal: AbortSignal,
): Promise<void> {
  if (context.operations.deferIfBusy(key)) return; // synchronised again once its call ends
  const apiPod = context.pods.get(key);
  if (!apiPod) return await releaseRemovedPod(context, key, signal);
  if (apiPod.metadata?.deletionTimestamp) return await deletePodGracefully(context, apiPod, signal);
  if (isTerminal(apiPod)) return;

  const resolved = await resolveOrWait(context, apiPod, signal);
  const spec = providerRelevant(resolved);
  const applied = context.applied.get(key);
  const uid = apiPod.metadata!.uid!;
  if (applied && applied.uid === uid && applied.spec === spec) {
    restoreStatusAfterFailure(context, apiPod);
    return;
  }

  const providerPod = await providerPodOf(context, key, signal);
  await context.operations.run(
    key,
    () => applySpec(context, { apiPod, resolved, providerPod, spec }, signal),
  );
}

/** The provider call of a spec sync and what follows it, run by `context.operations`. */
async function applySpec(
  context: PodContext,
  pods: { apiPod: Pod; resolved: Pod; providerPod: Pod | undefined; spec: string },
  signal: AbortSignal,
): Promise<void> {
  const { apiPod, resolved, providerPod, spec } = pods;
  const key = podKey(apiPod);
  const uid = apiPod.metadata!.uid!;
  try {
    if (providerPod && providerPod.metadata?.uid && providerPod.metadata.uid !== uid) {
      if (sameWorkload(providerPod, apiPod)) {
        // A new pod object for the same workload (a re-created VM-Pod): rebind, keep the VM.
        await context.provider.updatePod(resolved, signal);
        context.log.info("pod {pod}: new pod object for the same VM; adopted it", { pod: key });
      } else {
        const retained = context.retention.verdict(providerPod);
        if (retained.keep) {
          throw new Error(
            `pod ${key}: the name is still held by a VM that is kept (${retained.reason}); waiting for it`,
          );
        }
        // Same name, new pod: the old one goes first.
        await context.provider.deletePod(providerPod, signal);
        await create(context, apiPod, resolved, signal);
      }
    } else if (!providerPod) {
      await create(context, apiPod, resolved, signal);
    } else if (!podsEqual(providerPod, resolved)) {
      await context.provider.updatePod(resolved, signal);
      context.events.record(
        apiPod,
        "Normal",
        "ProviderUpdateSuccess",
        "Update pod in provider successfully",
      );
    }
  } catch (error) {
    if (signal.aborted) throw error;
    await providerFailed(context, apiPod, providerPod ? "Update" : "Create", error, signal);
    if (isInvalidInput(error)) return; // the spec is wrong: wait for it to change
    throw error;
  }
  context.applied.set(key, { uid, spec });
  restoreStatusAfterFailure(context, apiPod);
}

/**
 * The pod with its environment resolved. A missing ConfigMap or Secret is written to the
 * status and rethrown: the key is retried with backoff, and at once when the reference
 * appears (the controller watches for it through `waitingForEnv`).
 */
async function resolveOrWait(context: PodContext, apiPod: Pod, signal: AbortSignal): Promise<Pod> {
  const key = podKey(apiPod);
  const [namespace] = splitPodKey(key);
  try {
    const resolved = resolvePodEnv(apiPod, context.envSources, {
      recordEvent: (event) =>
        context.events.record(apiPod, event.type, event.reason, event.message),
    });
    context.waitingForEnv.get(namespace)?.delete(key);
    return resolved;
  } catch (error) {
    if (!(error instanceof EnvResolutionError)) throw error;
    let waiting = context.waitingForEnv.get(namespace);
    if (!waiting) context.waitingForEnv.set(namespace, waiting = new Set());
    waiting.add(key);
    await writePendingStatus(context, apiPod, {
      reason: "CreateContainerConfigError",
      message: error.message,
    }, signal);
    throw error;
  }
}

async function create(
  context: PodContext,
  apiPod: Pod,
  resolved: Pod,
  signal: AbortSignal,
): Promise<void> {
  await context.provider.createPod(resolved, signal);
  context.log.info("pod {pod} created in provider {provider}", {
    pod: podKey(apiPod),
    provider: context.provider.name,
  });
  context.events.record(
    apiPod,
    "Normal",
    "ProviderCreateSuccess",
    "Create pod in provider successfully",
  );
}

async function providerFailed(
  context: PodContext,
  pod: Pod,
  action: "Create" | "Update",
  error: unknown,
  signal: AbortSignal,
): Promise<void> {
  const message = errorMessage(error);
  context.events.record(pod, "Warning", `Provider${action}Failed`, message);
  context.log.warn("provider could not {action} pod {pod}: {error}", {
    action: action.toLowerCase(),
    pod: podKey(pod),
    error: message,
  });
  await writePendingStatus(context, pod, {
    reason: PROVIDER_FAILED,
    message,
    final: isInvalidInput(error),
  }, signal);
}
