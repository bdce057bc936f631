/**
 * What a pod's services remember of it, so that after a restart the agent finds the pod
 * it gave, compares it with the API pod and changes nothing. Each service carries, as
 * labels, its container (without env: the env is read back from the service's own
 * `ContainerSpec.Env`, so secret values are stored only where the process needs them)
 * and its index, and the pod-level fields the agent compares or the mapping uses.
 *
 * A pod is rebuilt from the services that exist; a container whose service is missing
 * (an interrupted create) is missing from the rebuilt pod, so the agent sees a difference
 * and calls `updatePod`, which creates it.
 *
 * @module
 */

import type { Container, EnvVar, Pod, PodSpec, Toleration } from "kubernetes-types/core/v1.d.ts";
import type { Service } from "./api_types.ts";
import { identityOf } from "./identity.ts";

/** Labels of the remembered spec. */
export const storedSpecLabels = {
  /** The container, as JSON, without `env`. */
  container: "vkedge.io/container-spec",
  /** Its index among the pod's containers. */
  index: "vkedge.io/container-index",
  /** The pod-level fields, as JSON (see {@linkcode StoredPodFields}). */
  pod: "vkedge.io/pod-spec",
} as const;

/** The pod-level fields a service remembers. */
export interface StoredPodFields {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  tolerations?: Toleration[];
  activeDeadlineSeconds?: number;
  restartPolicy?: string;
  hostNetwork?: boolean;
  hostname?: string;
  terminationGracePeriodSeconds?: number;
  nodeName?: string;
  /** How many containers the pod has. */
  containers: number;
}

function present<T extends object>(value: T | undefined): T | undefined {
  return value === undefined || Object.keys(value).length === 0 ? undefined : value;
}

/** The remembered-spec labels of container `index` of `pod`. */
export function storedLabels(pod: Pod, index: number): Record<string, string> {
  const spec = pod.spec!;
  const { env: _env, ...container } = spec.containers[index];
  const fields: StoredPodFields = {
    labels: present(pod.metadata?.labels),
    annotations: present(pod.metadata?.annotations),
    tolerations: spec.tolerations?.length ? spec.tolerations : undefined,
    activeDeadlineSeconds: spec.activeDeadlineSeconds,
    restartPolicy: spec.restartPolicy,
    hostNetwork: spec.hostNetwork,
    hostname: spec.hostname,
    terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
    nodeName: spec.nodeName,
    containers: spec.containers.length,
  };
  return {
    [storedSpecLabels.container]: JSON.stringify(container),
    [storedSpecLabels.index]: String(index),
    [storedSpecLabels.pod]: JSON.stringify(fields),
  };
}

/** The env of a service's container, from its `NAME=value` list. */
export function envOf(service: Service): EnvVar[] {
  return (service.Spec.TaskTemplate.ContainerSpec?.Env ?? []).map((entry) => {
    const equals = entry.indexOf("=");
    return equals < 0
      ? { name: entry, value: "" }
      : { name: entry.slice(0, equals), value: entry.slice(equals + 1) };
  });
}

/** One service's remembered container and pod fields, or undefined when unreadable. */
export function storedOf(
  service: Service,
): { index: number; container: Container; pod: StoredPodFields } | undefined {
  const labels = service.Spec.Labels;
  try {
    const container = JSON.parse(labels[storedSpecLabels.container] ?? "") as Container;
    const pod = JSON.parse(labels[storedSpecLabels.pod] ?? "") as StoredPodFields;
    const index = Number(labels[storedSpecLabels.index]);
    if (!Number.isInteger(index) || typeof container?.name !== "string") return undefined;
    const env = envOf(service);
    return { index, container: env.length > 0 ? { ...container, env } : container, pod };
  } catch {
    return undefined;
  }
}

/**
 * The pod (metadata and spec, no status) that `services` (all of one pod, any order)
 * were made for; containers in their original order, those without a service left out.
 */
export function podFromServices(services: Service[]): Pod | undefined {
  const first = services.map((service) => ({ service, stored: storedOf(service) }))
    .filter((entry) => entry.stored !== undefined)
    .sort((a, b) => a.stored!.index - b.stored!.index);
  if (first.length === 0) return undefined;
  const identity = identityOf(first[0].service.Spec.Labels);
  if (identity === undefined) return undefined;
  const fields = first[0].stored!.pod;
  const spec: PodSpec = {
    containers: first.map((entry) => entry.stored!.container),
    ...(fields.nodeName !== undefined ? { nodeName: fields.nodeName } : {}),
    ...(fields.tolerations ? { tolerations: fields.tolerations } : {}),
    ...(fields.activeDeadlineSeconds !== undefined
      ? { activeDeadlineSeconds: fields.activeDeadlineSeconds }
      : {}),
    ...(fields.restartPolicy ? { restartPolicy: fields.restartPolicy } : {}),
    ...(fields.hostNetwork !== undefined ? { hostNetwork: fields.hostNetwork } : {}),
    ...(fields.hostname !== undefined ? { hostname: fields.hostname } : {}),
    ...(fields.terminationGracePeriodSeconds !== undefined
      ? { terminationGracePeriodSeconds: fields.terminationGracePeriodSeconds }
      : {}),
  };
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      namespace: identity.namespace,
      name: identity.pod,
      uid: identity.uid,
      ...(fields.labels ? { labels: fields.labels } : {}),
      ...(fields.annotations ? { annotations: fields.annotations } : {}),
    },
    spec,
  };
}
