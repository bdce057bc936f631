/**
 * The status path of the pod controller: what the provider reported, with what the probes
 * and the restart policy add (`effective_status.ts`), becomes the pod's status (a
 * strategic-merge patch of `pods/<name>/status`, only when it differs); containers that
 * ended are restarted as the policy says (`container_restarts.ts`). Why a pod does not run
 * (a provider failure, a missing ConfigMap or Secret) is written to its status as Pending,
 * or Failed for a final refusal of a `restartPolicy: Never` pod.
 *
 * @module
 */

import type { Pod, PodStatus } from "kubernetes-types/core/v1.d.ts";
import { formatTime, KubeNotFoundError, PODS } from "../kube/mod.ts";
import { errorMessage } from "../errors.ts";
import { hasLifecycleBelow } from "../provider.ts";
import { isTerminal, podKey, statusEqual } from "./compare.ts";
import { sameWorkload, WORKLOAD_UID_ANNOTATION } from "../provider_kit/workload.ts";
import type { PodContext } from "./context.ts";
import { effectivePodStatus } from "./effective_status.ts";
import { VM_POD_LABEL } from "../vm/vm_pod.ts";

/** Why a pod is not running, written to its status after a provider failure. */
export const PROVIDER_FAILED = "ProviderFailed";

/** Reasons of statuses the controller itself wrote, replaced once the provider runs the pod. */
const OWN_REASONS = new Set([PROVIDER_FAILED, "CreateContainerConfigError"]);

/**
 * A list for a strategic-merge patch that replaces the object's list instead of merging
 * into it by key (`$patch: replace`), when `list` is set.
 */
function replacedList(field: string, list: unknown[] | undefined): Record<string, unknown[]> {
  return list === undefined ? {} : { [field]: [{ $patch: "replace" }, ...list] };
}

/**
 * Whether the pod is a VirtualMachine's VM-Pod, whose containers' ends and restarts its
 * VirtualMachine's run strategy decides (a stopped VM is a terminated container by design).
 */
export function isVmPod(pod: Pod): boolean {
  return pod.metadata?.annotations?.[WORKLOAD_UID_ANNOTATION] !== undefined ||
    pod.metadata?.labels?.[VM_POD_LABEL] !== undefined;
}

/** The status to write for `apiPod` from the provider's `reported` status. */
function statusToWrite(context: PodContext, apiPod: Pod, reported: PodStatus): PodStatus {
  const uid = apiPod.metadata?.uid ?? "";
  // A kubelet below (another cluster) probes and restarts; the agent reports what it says.
  const below = hasLifecycleBelow(context.provider);
  const ownsLifecycle = !isVmPod(apiPod) && !below;
  const statuses = reported.containerStatuses ?? [];
  if (!below) context.probes.sync(apiPod, statuses);
  if (ownsLifecycle && !apiPod.metadata?.deletionTimestamp) {
    context.restarts.apply(apiPod, statuses);
  }
  return effectivePodStatus(apiPod, reported, {
    probes: (container, status) => context.probes.view(uid, container, status),
    backOff: (status) => context.restarts.backOff(apiPod, status),
    ended: (container) => context.restarts.ended(apiPod, container),
    ownsLifecycle,
    now: new Date(),
  });
}

/** Writes the provider's latest report of `key` to the API object, if it differs. */
export async function syncPodStatus(
  context: PodContext,
  key: string,
  signal: AbortSignal,
): Promise<void> {
  const apiPod = context.pods.get(key);
  const reported = context.reported.get(key);
  if (apiPod && isTerminal(apiPod)) {
    context.probes.remove(apiPod.metadata?.uid ?? "");
    context.restarts.forget(apiPod.metadata?.uid ?? "");
    return;
  }
  if (!apiPod || !reported?.status) return;
  // A report for the previous object of the same workload (a re-created VM-Pod) counts.
  if (!sameWorkload(reported, apiPod)) return;
  const effective = statusToWrite(context, apiPod, reported.status);
  if (statusEqual(effective, apiPod.status)) return;
  const status: PodStatus = { ...effective };
  if (!status.reason) status.reason = undefined;
  try {
    await context.client.resource<Pod>(PODS, apiPod.metadata!.namespace).patchStatus(
      apiPod.metadata!.name!,
      {
        status: {
          ...status,
          // Clear a failure written earlier once the provider reports the pod.
          reason: status.reason ?? null,
          message: status.message ?? null,
          // Conditions merge by type: clear the failure's reason and message in them too.
          conditions: status.conditions?.map((condition) => ({
            ...condition,
            reason: condition.reason ?? null,
            message: condition.message ?? null,
          })),
          // IP lists merge by ip: replace them, or a changed IP would be added to the old one.
          ...replacedList("podIPs", status.podIPs),
          ...replacedList("hostIPs", status.hostIPs),
        },
      },
      { type: "strategic", signal },
    );
  } catch (error) {
    if (!(error instanceof KubeNotFoundError)) throw error;
    return;
  }
  if (status.phase === "Failed" && apiPod.status?.phase !== "Failed") {
    context.log.info("pod {pod} failed: {reason}", {
      pod: key,
      reason: [status.reason, status.message].filter(Boolean).join(": ") || "no reason given",
    });
  }
}

/**
 * Once the provider has the pod as specified again, replaces a failure the controller
 * wrote with the provider's last status: a provider that only reports changes would
 * otherwise leave the failure in place (e.g. after a refused image change was reverted).
 */
export function restoreStatusAfterFailure(context: PodContext, apiPod: Pod): void {
  if (OWN_REASONS.has(apiPod.status?.reason ?? "")) context.queues.status.add(podKey(apiPod));
}

/**
 * When someone else rewrote what the provider reported (the node-lifecycle controller marks
 * every pod of a node `Ready=False` once the node missed its heartbeats, as after an API
 * server outage), queues the provider's truth to be written back. Only the phase and the
 * status of each reported condition count, so fields the API server adds cause no write;
 * a failure the controller wrote itself stays until the provider runs the pod as specified.
 */
export function restoreDriftedStatus(context: PodContext, apiPod: Pod): void {
  const key = podKey(apiPod);
  const reported = context.reported.get(key)?.status;
  if (!reported || isTerminal(apiPod) || OWN_REASONS.has(apiPod.status?.reason ?? "")) return;
  const conditions = new Map(
    (apiPod.status?.conditions ?? []).map((condition) => [condition.type, condition.status]),
  );
  const drifted = reported.phase !== apiPod.status?.phase ||
    (reported.conditions ?? []).some((condition) =>
      conditions.get(condition.type) !== condition.status
    );
  if (drifted) context.queues.status.add(key);
}

/** Options of {@linkcode writePendingStatus}. */
export interface PendingStatus {
  /** CamelCase reason, such as `ProviderFailed`. */
  reason: string;
  /** What went wrong, for people. */
  message: string;
  /** The provider refused for good: a `restartPolicy: Never` pod then fails. */
  final?: boolean;
}

/**
 * Writes why a pod does not run to its status: Pending while a retry may help, Failed for
 * a `restartPolicy: Never` pod the provider refused for good. Failures to write are logged.
 */
export async function writePendingStatus(
  context: PodContext,
  pod: Pod,
  pending: PendingStatus,
  signal: AbortSignal,
): Promise<void> {
  const { reason, message } = pending;
  if (pod.status?.reason === reason && pod.status?.message === message) return;
  const phase = pod.spec?.restartPolicy === "Never" && pending.final ? "Failed" : "Pending";
  try {
    await context.client.resource<Pod>(PODS, pod.metadata!.namespace).patchStatus(
      pod.metadata!.name!,
      {
        status: {
          phase,
          reason,
          message,
          conditions: [{
            type: "Ready",
            status: "False",
            reason,
            message,
            lastTransitionTime: formatTime(new Date()),
          }],
        },
      },
      { type: "strategic", signal },
    );
  } catch (error) {
    if (!(error instanceof KubeNotFoundError)) {
      context.log.warn("cannot write status of {pod}: {error}", {
        pod: podKey(pod),
        error: errorMessage(error),
      });
    }
  }
}
