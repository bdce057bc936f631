/**
 * The pod spec a backend resource remembers of its pod, for providers that keep it on the
 * resource (server metadata, a VM description) and rebuild the pod from it after a
 * restart, so that a restarted agent sees the pods it runs as they were specified and
 * updates nothing.
 *
 * The fields the agent compares (containers, labels, annotations, tolerations,
 * activeDeadlineSeconds) plus namespace, name and workload UID (and the pod UID when it
 * differs, as for a VM-Pod) are packed as base64(gzip(JSON)). A pod too large for the
 * provider's storage first loses the `kubectl.kubernetes.io/last-applied-configuration`
 * annotation, then everything but each container's name and image and the workload
 * annotations; such a record is marked `partial`, and after a restart the agent sees a
 * difference and calls `updatePod` once. Where the text goes and how large it may be is
 * the provider's.
 *
 * @module
 */

import type { Container, Pod } from "kubernetes-types/core/v1.d.ts";
import { WORKLOAD_NAME_ANNOTATION, WORKLOAD_UID_ANNOTATION } from "./workload.ts";

const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

/** What a backend resource remembers of its pod. */
export interface StoredPodSpec {
  /** Format version. */
  v: 1;
  namespace: string;
  name: string;
  /** The workload UID (see `workloadUid`). */
  uid: string;
  /** The pod UID, when it is not the workload UID (a VM-Pod). */
  podUid?: string;
  containers: Container[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  tolerations?: NonNullable<Pod["spec"]>["tolerations"];
  activeDeadlineSeconds?: number;
  /** Set when fields were dropped to fit. */
  partial?: true;
}

/** Who a backend resource serves: the pod's namespace and name and the workload UID. */
export interface StoredPodIdentity {
  namespace: string;
  name: string;
  /** The workload UID (a VM-Pod's VirtualMachine UID, else the pod UID). */
  uid: string;
}

async function transform(bytes: Uint8Array, stream: CompressionStream | DecompressionStream) {
  const output = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(output).arrayBuffer());
}

/** `spec` as base64(gzip(JSON)). */
export async function packPodSpec(spec: StoredPodSpec): Promise<string> {
  const json = new TextEncoder().encode(JSON.stringify(spec));
  const packed = await transform(json, new CompressionStream("gzip"));
  let binary = "";
  for (const byte of packed) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Reads text written by {@linkcode packPodSpec}; `undefined` when it is damaged. */
export async function unpackPodSpec(packed: string): Promise<StoredPodSpec | undefined> {
  try {
    const binary = atob(packed);
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    const json = new TextDecoder().decode(
      await transform(bytes, new DecompressionStream("gzip")),
    );
    const value: unknown = JSON.parse(json);
    if (
      typeof value !== "object" || value === null || (value as { v?: unknown }).v !== 1 ||
      !Array.isArray((value as { containers?: unknown }).containers)
    ) {
      return undefined;
    }
    return value as StoredPodSpec;
  } catch {
    return undefined;
  }
}

function nonEmpty<T extends object>(value: T | undefined): T | undefined {
  if (value === undefined) return undefined;
  return Object.keys(value).length === 0 ? undefined : value;
}

/** What {@linkcode fitPodSpec} returns: the packed record, or the smallest that did not fit. */
export type FittedPodSpec =
  | { fits: true; packed: string; partial: boolean }
  | { fits: false; smallest: string };

/** Where {@linkcode fitPodSpec} must fit the record. */
export interface FitPodSpecOptions {
  /** Whether the provider's storage takes `packed` (text from {@linkcode packPodSpec}). */
  fits: (packed: string) => boolean;
}

/**
 * The packed record of `pod`: all of it when `options.fits` accepts it, else `partial`
 * (see the module documentation); `fits: false` with the smallest form when even that
 * is refused.
 */
export async function fitPodSpec(
  pod: Pod,
  identity: StoredPodIdentity,
  options: FitPodSpecOptions,
): Promise<FittedPodSpec> {
  const { fits } = options;
  const podUid = pod.metadata?.uid;
  const ids = { ...identity, ...(podUid && podUid !== identity.uid ? { podUid } : {}) };
  const full: StoredPodSpec = {
    v: 1,
    ...ids,
    containers: pod.spec?.containers ?? [],
    ...(nonEmpty(pod.metadata?.labels) ? { labels: pod.metadata?.labels } : {}),
    ...(nonEmpty(pod.metadata?.annotations) ? { annotations: pod.metadata?.annotations } : {}),
    ...((pod.spec?.tolerations ?? []).length > 0 ? { tolerations: pod.spec?.tolerations } : {}),
    ...(pod.spec?.activeDeadlineSeconds === undefined
      ? {}
      : { activeDeadlineSeconds: pod.spec.activeDeadlineSeconds }),
  };
  const first = await packPodSpec(full);
  if (fits(first)) return { fits: true, packed: first, partial: false };
  const { [lastAppliedAnnotation]: _dropped, ...annotations } = full.annotations ?? {};
  const reduced: StoredPodSpec = { ...full, partial: true };
  if (nonEmpty(annotations)) reduced.annotations = annotations;
  else delete reduced.annotations;
  const second = await packPodSpec(reduced);
  if (fits(second)) return { fits: true, packed: second, partial: true };
  const workload = Object.fromEntries(
    [WORKLOAD_UID_ANNOTATION, WORKLOAD_NAME_ANNOTATION].flatMap((key) => {
      const value = full.annotations?.[key];
      return value === undefined ? [] : [[key, value]];
    }),
  );
  const minimal: StoredPodSpec = {
    v: 1,
    ...ids,
    containers: full.containers.map((container) => ({
      name: container.name,
      image: container.image,
    })),
    ...(nonEmpty(workload) ? { annotations: workload } : {}),
    partial: true,
  };
  const third = await packPodSpec(minimal);
  if (fits(third)) return { fits: true, packed: third, partial: true };
  return { fits: false, smallest: third };
}

/** What {@linkcode podFromStoredSpec} rebuilds a pod from. */
export interface PodFromStoredSpecOptions {
  /** Who the backend resource serves (from its own ownership marks). */
  identity: StoredPodIdentity;
  /** The record it remembers, if any. */
  stored: StoredPodSpec | undefined;
  /** This agent's node, the pod's `spec.nodeName`. */
  nodeName: string;
  /** The image of the one container `vm` shown when no record says. */
  image: string;
}

/**
 * The pod (without status) a backend resource stands for: identity from `identity`, spec
 * from the remembered record when it belongs to the same workload UID, else one container
 * named `vm` with `image`. Its UID is the remembered pod UID when the record keeps the
 * workload annotation, else the workload UID, so `workloadUid` of the pod is always the
 * resource's.
 */
export function podFromStoredSpec(options: PodFromStoredSpecOptions): Pod {
  const { identity, stored, nodeName } = options;
  const spec = stored !== undefined && stored.uid === identity.uid ? stored : undefined;
  const annotated = spec?.annotations?.[WORKLOAD_UID_ANNOTATION] === identity.uid;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      namespace: identity.namespace,
      name: identity.name,
      uid: annotated && spec?.podUid !== undefined ? spec.podUid : identity.uid,
      ...(spec?.labels ? { labels: spec.labels } : {}),
      ...(spec?.annotations ? { annotations: spec.annotations } : {}),
    },
    spec: {
      nodeName,
      containers: spec?.containers ?? [{ name: "vm", image: options.image }],
      ...(spec?.tolerations ? { tolerations: spec.tolerations } : {}),
      ...(spec?.activeDeadlineSeconds === undefined
        ? {}
        : { activeDeadlineSeconds: spec.activeDeadlineSeconds }),
    },
  };
}
