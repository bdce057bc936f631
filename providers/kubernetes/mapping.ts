/**
 * Pure functions between an upper pod and its lower pod, tested without a server.
 *
 * Upper → lower (`toLowerPod`): same name, the mapped namespace, the upper labels and
 * annotations plus the ownership ones, and the spec with what only makes sense above taken
 * out or translated:
 *
 * - `nodeName`, the node selector and node affinity (they name upper nodes) give way to the
 *   configured lower node selector; the lower scheduler places the pod;
 * - tolerations of the upper node's taints are dropped, the configured ones added;
 * - ServiceAccount token volumes (`kube-api-access-*`) and their mounts are dropped and the
 *   pod runs as the lower namespace's `default` ServiceAccount without a token: the upper
 *   API server is not for pods below, and a lower token would give them the lower one;
 * - host aliases, scheduler name, priority and preemption policy, overhead, readiness gates
 *   and ephemeral containers are dropped; the priority class is kept only when the lower
 *   cluster has one of that name;
 * - service links are off below (the agent resolved the upper ones into the environment);
 *   variables from ConfigMap and Secret keys become references to the copies below.
 *
 * What the agent compares (containers, tolerations, labels, annotations, …) is recorded in
 * the lower pod's `vkedge.io/upper-pod` annotation, so that `toUpperPod` gives back the pod
 * as the agent handed it over, with the lower pod's status translated by `toUpperStatus`.
 *
 * @module
 */

import type {
  Container,
  ContainerStatus,
  EphemeralContainer,
  Pod,
  PodCondition,
  PodSpec,
  PodStatus,
  Toleration,
  Volume,
} from "kubernetes-types/core/v1.d.ts";
import { canonicalJson, formatTime, qosClassOf } from "../../lib/provider_kit/mod.ts";
import { lowerEnv, upperEnv, type UpperObjects } from "./env_refs.ts";
import { type Ownership, upperPodOf } from "./ownership.ts";

/** Annotation of a lower pod recording the upper pod as the agent handed it over. */
export const UPPER_POD_ANNOTATION = "vkedge.io/upper-pod";

/** What `toLowerPod` needs besides the pod. */
export interface LowerPodOptions {
  /** Who owns the lower pod. */
  ownership: Ownership;
  /** The lower namespace. */
  namespace: string;
  /** Node selector of every lower pod. */
  nodeSelector: Record<string, string>;
  /** Tolerations added to every lower pod. */
  tolerations: Toleration[];
  /** Taint keys of the upper node whose tolerations are dropped. */
  upperTaintKeys: string[];
  /** The upper pod as the API server has it (env unresolved), when known. */
  original?: Pod;
  /** The upper ConfigMaps and Secrets. */
  objects: UpperObjects;
  /** Whether the lower cluster has the pod's priority class. */
  priorityClassExists: boolean;
}

/** The part of the upper pod recorded below. */
interface UpperRecord {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  spec: Pick<
    PodSpec,
    | "containers"
    | "initContainers"
    | "ephemeralContainers"
    | "activeDeadlineSeconds"
    | "tolerations"
    | "restartPolicy"
    | "nodeName"
  >;
}

/** Whether `volume` carries a ServiceAccount token (the `kube-api-access-*` volume). */
function isTokenVolume(volume: Volume): boolean {
  return (volume.projected?.sources ?? []).some((source) => source.serviceAccountToken);
}

/** `containers` with each variable from a ConfigMap or Secret key as a reference. */
function referencedEnv<C extends Container | EphemeralContainer>(
  containers: C[] | undefined,
  originals: (Container | EphemeralContainer)[] | undefined,
  namespace: string,
  objects: UpperObjects,
): C[] | undefined {
  return containers?.map((container) => {
    const original = originals?.find((candidate) => candidate.name === container.name);
    return {
      ...container,
      env: lowerEnv(container.env, original as Container | undefined, namespace, objects),
    };
  });
}

/** `containers` as they run below: no `envFrom` (resolved already), no token mounts. */
function lowerContainers<C extends Container>(
  containers: C[] | undefined,
  dropMounts: Set<string>,
): C[] | undefined {
  return containers?.map((container) => {
    const { envFrom: _envFrom, volumeMounts, ...rest } = container;
    const mounts = volumeMounts?.filter((mount) => !dropMounts.has(mount.name));
    return { ...rest, ...(mounts === undefined ? {} : { volumeMounts: mounts }) } as C;
  });
}

function withoutUpperTolerations(tolerations: Toleration[] | undefined, keys: string[]) {
  return (tolerations ?? []).filter((toleration) =>
    toleration.key === undefined || !keys.includes(toleration.key)
  );
}

/** Upper labels or annotations without the keys this provider sets itself. */
function withoutOwnKeys(
  values: Record<string, string> | undefined,
  own: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(Object.entries(values ?? {}).filter(([key]) => !(key in own)));
}

/** The lower pod of the resolved upper pod `pod`. */
export function toLowerPod(pod: Pod, options: LowerPodOptions): Pod {
  const metadata = pod.metadata ?? {};
  const spec = pod.spec!;
  const upper = {
    namespace: metadata.namespace ?? "default",
    name: metadata.name ?? "",
    uid: metadata.uid ?? "",
  };
  const ownLabels = options.ownership.podLabels(upper);
  const ownAnnotations = {
    ...options.ownership.podAnnotations(upper),
    [UPPER_POD_ANNOTATION]: "",
  };
  const tokenVolumes = new Set((spec.volumes ?? []).filter(isTokenVolume).map((v) => v.name));
  const objects = options.objects;
  const originalSpec = options.original?.spec;
  const referenced = {
    containers: referencedEnv(spec.containers, originalSpec?.containers, upper.namespace, objects)!,
    initContainers: referencedEnv(
      spec.initContainers,
      originalSpec?.initContainers,
      upper.namespace,
      objects,
    ),
  };
  const containers = lowerContainers(referenced.containers, tokenVolumes)!;
  const initContainers = lowerContainers(referenced.initContainers, tokenVolumes);
  const record: UpperRecord = {
    labels: metadata.labels,
    annotations: metadata.annotations,
    spec: {
      containers: referenced.containers,
      initContainers: referenced.initContainers,
      ephemeralContainers: referencedEnv(
        spec.ephemeralContainers,
        originalSpec?.ephemeralContainers,
        upper.namespace,
        objects,
      ),
      activeDeadlineSeconds: spec.activeDeadlineSeconds,
      tolerations: spec.tolerations,
      restartPolicy: spec.restartPolicy,
      nodeName: spec.nodeName,
    },
  };
  const {
    nodeName: _nodeName,
    nodeSelector: _nodeSelector,
    affinity,
    tolerations,
    serviceAccountName: _serviceAccountName,
    serviceAccount: _serviceAccount,
    automountServiceAccountToken: _automount,
    hostAliases: _hostAliases,
    schedulerName: _schedulerName,
    priority: _priority,
    priorityClassName,
    preemptionPolicy: _preemptionPolicy,
    overhead: _overhead,
    readinessGates: _readinessGates,
    ephemeralContainers: _ephemeralContainers,
    enableServiceLinks: _enableServiceLinks,
    volumes,
    containers: _containers,
    initContainers: _initContainers,
    ...kept
  } = spec;
  const podAffinity = affinity?.podAffinity || affinity?.podAntiAffinity
    ? { podAffinity: affinity.podAffinity, podAntiAffinity: affinity.podAntiAffinity }
    : undefined;
  const lowerVolumes = volumes?.filter((volume) => !tokenVolumes.has(volume.name));
  const lowerSpec: PodSpec = {
    ...kept,
    containers,
    ...(initContainers === undefined ? {} : { initContainers }),
    ...(lowerVolumes === undefined ? {} : { volumes: lowerVolumes }),
    ...(podAffinity === undefined ? {} : { affinity: podAffinity }),
    ...(Object.keys(options.nodeSelector).length === 0
      ? {}
      : { nodeSelector: { ...options.nodeSelector } }),
    tolerations: [
      ...withoutUpperTolerations(tolerations, options.upperTaintKeys),
      ...options.tolerations,
    ],
    ...(priorityClassName !== undefined && options.priorityClassExists
      ? { priorityClassName }
      : {}),
    serviceAccountName: "default",
    automountServiceAccountToken: false,
    enableServiceLinks: false,
  };
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: upper.name,
      namespace: options.namespace,
      labels: { ...withoutOwnKeys(metadata.labels, ownLabels), ...ownLabels },
      annotations: {
        ...withoutOwnKeys(metadata.annotations, ownAnnotations),
        ...ownAnnotations,
        [UPPER_POD_ANNOTATION]: canonicalJson(record),
      },
    },
    spec: lowerSpec,
  };
}

/** The record of the upper pod in `lower`'s annotation, or undefined when it is unreadable. */
function upperRecordOf(lower: Pod): UpperRecord | undefined {
  const text = lower.metadata?.annotations?.[UPPER_POD_ANNOTATION];
  if (text === undefined) return undefined;
  try {
    const record = JSON.parse(text) as UpperRecord;
    return typeof record === "object" && record !== null && Array.isArray(record.spec?.containers)
      ? record
      : undefined;
  } catch {
    return undefined;
  }
}

function upperContainers<C extends Container | EphemeralContainer>(
  containers: C[] | undefined,
  namespace: string,
  objects: UpperObjects,
): C[] | undefined {
  return containers?.map((container) => ({
    ...container,
    env: upperEnv(container.env, namespace, objects),
  }));
}

const DROPPED_CONDITIONS = new Set(["PodScheduled"]);

function schedulingMessage(conditions: PodCondition[] | undefined): string | undefined {
  const scheduled = conditions?.find((condition) => condition.type === "PodScheduled");
  if (scheduled?.status !== "False") return undefined;
  return `waiting for the lower cluster's scheduler: ${
    scheduled.message ?? scheduled.reason ?? "not scheduled yet"
  }`;
}

/** The upper status of the lower pod `lower`, for an upper pod of spec `upperSpec`. */
export function toUpperStatus(lower: Pod, upper: Pod): PodStatus {
  const status = lower.status ?? {};
  const pending = schedulingMessage(status.conditions);
  return {
    phase: status.phase ?? "Pending",
    conditions: (status.conditions ?? []).filter((c) => !DROPPED_CONDITIONS.has(c.type)),
    ...(status.reason === undefined ? {} : { reason: status.reason }),
    ...(status.message !== undefined
      ? { message: status.message }
      : pending !== undefined
      ? { message: pending }
      : {}),
    ...(status.hostIP === undefined ? {} : { hostIP: status.hostIP }),
    ...(status.hostIPs === undefined ? {} : { hostIPs: status.hostIPs }),
    ...(status.podIP === undefined ? {} : { podIP: status.podIP }),
    ...(status.podIPs === undefined ? {} : { podIPs: status.podIPs }),
    ...(status.startTime === undefined ? {} : { startTime: status.startTime }),
    ...(status.initContainerStatuses === undefined
      ? {}
      : { initContainerStatuses: status.initContainerStatuses }),
    containerStatuses: status.containerStatuses ??
      (upper.spec?.containers ?? []).map((container) =>
        waitingStatus(container, "ContainerCreating")
      ),
    qosClass: qosClassOf(upper),
  };
}

function waitingStatus(container: Container, reason: string): ContainerStatus {
  return {
    name: container.name,
    image: container.image ?? "",
    imageID: "",
    ready: false,
    restartCount: 0,
    started: false,
    state: { waiting: { reason } },
  };
}

/**
 * The upper pod the lower pod `lower` stands for, as the agent handed it over, with the
 * lower status translated; undefined when `lower` is no pod of this provider.
 */
export function toUpperPod(lower: Pod, objects: UpperObjects): Pod | undefined {
  const ref = upperPodOf(lower.metadata);
  const record = upperRecordOf(lower);
  if (ref === undefined || record === undefined) return undefined;
  const spec: PodSpec = {
    ...record.spec,
    containers: upperContainers(record.spec.containers, ref.namespace, objects)!,
    ...(record.spec.initContainers === undefined ? {} : {
      initContainers: upperContainers(record.spec.initContainers, ref.namespace, objects),
    }),
    ...(record.spec.ephemeralContainers === undefined ? {} : {
      ephemeralContainers: upperContainers(
        record.spec.ephemeralContainers,
        ref.namespace,
        objects,
      ),
    }),
  };
  const upper: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: ref.name,
      namespace: ref.namespace,
      uid: ref.uid,
      ...(record.labels === undefined ? {} : { labels: record.labels }),
      ...(record.annotations === undefined ? {} : { annotations: record.annotations }),
      ...(lower.metadata?.creationTimestamp === undefined
        ? {}
        : { creationTimestamp: lower.metadata.creationTimestamp }),
    },
    spec,
  };
  return { ...upper, status: toUpperStatus(lower, upper) };
}

/** Why an upper pod's lower pod is gone. */
export type GoneReason = "deleted" | "lost";

/**
 * The terminal status of an upper pod whose lower pod `lower` is gone: deleted by this
 * provider (Succeeded, as a pod whose containers were stopped) or lost, deleted below by
 * someone else (Failed, so that its controller replaces it).
 */
export function goneStatus(lower: Pod, upper: Pod, reason: GoneReason, now: Date): PodStatus {
  const last = toUpperStatus(lower, upper);
  const at = formatTime(now);
  const lost = reason === "lost";
  const terminate = (status: ContainerStatus): ContainerStatus => {
    if (status.state?.terminated) return { ...status, ready: false, started: false };
    const startedAt = status.state?.running?.startedAt;
    return {
      ...status,
      ready: false,
      started: false,
      state: {
        terminated: {
          exitCode: lost ? 137 : 0,
          reason: lost ? "LowerPodDeleted" : "Completed",
          ...(startedAt === undefined ? {} : { startedAt }),
          finishedAt: at,
        },
      },
    };
  };
  const terminal = last.phase === "Succeeded" || last.phase === "Failed";
  const namespace = lower.metadata?.namespace;
  return {
    ...last,
    phase: terminal ? last.phase : lost ? "Failed" : "Succeeded",
    ...(lost && !terminal
      ? {
        reason: "LowerPodDeleted",
        message: `pod ${namespace}/${lower.metadata?.name} of the lower cluster was deleted there`,
      }
      : {}),
    conditions: (last.conditions ?? []).map((condition) =>
      condition.type === "Ready" || condition.type === "ContainersReady"
        ? {
          ...condition,
          status: "False",
          reason: "PodCompleted",
          lastTransitionTime: at,
        }
        : condition
    ),
    containerStatuses: last.containerStatuses?.map(terminate),
  };
}
