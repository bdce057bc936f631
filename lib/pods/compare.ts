/**
 * What counts as a change of a pod for the provider: the parts of the spec a
 * provider acts on, and labels and annotations; never status or
 * resourceVersion. Environment lists compare regardless of order, since
 * resolution may order them differently from the provider's copy.
 *
 * @module
 */

import type { Container, EnvVar, Pod } from "kubernetes-types/core/v1.d.ts";
import { canonicalJson } from "../canonical_json.ts";

function sortedEnv(env: EnvVar[] | undefined): EnvVar[] {
  return [...(env ?? [])].sort((a, b) => a.name.localeCompare(b.name));
}

function normalizedContainers(containers: Container[] | undefined): unknown {
  return (containers ?? []).map((c) => ({ ...c, env: sortedEnv(c.env), envFrom: c.envFrom ?? [] }));
}

/** Absent, null and empty lists all mean "not set" to the API server. */
function canonical(value: unknown): string {
  return canonicalJson(value, { omitUnset: true });
}

/** The fields of a pod whose change the provider must be told about, in a comparable form. */
export function providerRelevant(pod: Pod): string {
  return canonical({
    containers: normalizedContainers(pod.spec?.containers),
    initContainers: normalizedContainers(pod.spec?.initContainers),
    ephemeralContainers: pod.spec?.ephemeralContainers ?? [],
    activeDeadlineSeconds: pod.spec?.activeDeadlineSeconds,
    tolerations: pod.spec?.tolerations ?? [],
    labels: pod.metadata?.labels ?? {},
    annotations: pod.metadata?.annotations ?? {},
  });
}

/** Whether two pods are the same for the provider. */
export function podsEqual(a: Pod, b: Pod): boolean {
  return providerRelevant(a) === providerRelevant(b);
}

/** Whether an update event from the API server needs a spec sync. */
export function podNeedsSync(oldPod: Pod, newPod: Pod): boolean {
  return !podsEqual(oldPod, newPod) ||
    oldPod.metadata?.deletionTimestamp !== newPod.metadata?.deletionTimestamp ||
    oldPod.metadata?.deletionGracePeriodSeconds !== newPod.metadata?.deletionGracePeriodSeconds;
}

/** Whether the pod has finished (Succeeded or Failed) and is never touched again. */
export function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

/** The `namespace/name` key of a pod. */
export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
}

/** Whether two statuses say the same, ignoring key order. */
export function statusEqual(a: Pod["status"], b: Pod["status"]): boolean {
  return canonical(a ?? {}) === canonical(b ?? {});
}
