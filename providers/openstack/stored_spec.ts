/**
 * The pod spec remembered in a server's metadata, and the pod rebuilt from it after a
 * restart, so that a restarted agent sees the pods it runs as they were specified and
 * updates nothing.
 *
 * The fields the agent compares (containers, labels, annotations, tolerations,
 * activeDeadlineSeconds) plus namespace, name and workload UID (and the pod UID when it
 * differs, as for a VM-Pod) are packed as base64(gzip(JSON)) and cut into metadata items
 * `vkedge.io:spec-00`, `-01`, … of at most 255 characters (Nova's limit per value), at most
 * {@linkcode maxSpecItems} of them (the default quota is 128 items a server). A pod too
 * large for that first loses the `kubectl.kubernetes.io/last-applied-configuration`
 * annotation, then everything but each container's name and image and the workload
 * annotations; such a record is marked `partial`, and after a restart the agent sees a
 * difference and calls `updatePod` once. Ownership is never read from it: the ownership
 * metadata and tags decide (`identity.ts`).
 *
 * @module
 */

import type { Container, Pod } from "kubernetes-types/core/v1.d.ts";
import { InvalidInputError } from "../../lib/provider.ts";
import { WORKLOAD_NAME_ANNOTATION, WORKLOAD_UID_ANNOTATION } from "../../lib/provider_kit/mod.ts";
import { identityKey, type PodIdentity } from "./identity.ts";

/** Prefix of the metadata keys holding the remembered spec. */
export const specKeyPrefix = "vkedge.io:spec-";
/** Longest metadata value Nova stores. */
export const maxMetadataValue = 255;
/** Most metadata items the spec may take. */
export const maxSpecItems = 100;

const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

/** What the metadata remembers of its pod. */
export interface StoredPodSpec {
  /** Format version. */
  v: 1;
  namespace: string;
  name: string;
  /** The workload UID. */
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

async function transform(bytes: Uint8Array, stream: CompressionStream | DecompressionStream) {
  const output = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(output).arrayBuffer());
}

async function pack(spec: StoredPodSpec): Promise<string> {
  const json = new TextEncoder().encode(JSON.stringify(spec));
  const packed = await transform(json, new CompressionStream("gzip"));
  let binary = "";
  for (const byte of packed) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function nonEmpty<T extends object>(value: T | undefined): T | undefined {
  if (value === undefined) return undefined;
  return Object.keys(value).length === 0 ? undefined : value;
}

/** The metadata items of `packed` text. */
function chunked(packed: string): Record<string, string> {
  const items: Record<string, string> = {};
  for (let index = 0; index * maxMetadataValue < packed.length; index++) {
    const key = `${specKeyPrefix}${String(index).padStart(2, "0")}`;
    items[key] = packed.slice(index * maxMetadataValue, (index + 1) * maxMetadataValue);
  }
  return items;
}

/**
 * The metadata items remembering `pod`: all of it when it fits in
 * {@linkcode maxSpecItems} items, else `partial` (see the module documentation).
 */
export async function encodePodSpec(
  pod: Pod,
  identity: PodIdentity,
): Promise<{ items: Record<string, string>; partial: boolean }> {
  const limit = maxSpecItems * maxMetadataValue;
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
  const first = await pack(full);
  if (first.length <= limit) return { items: chunked(first), partial: false };
  const { [lastAppliedAnnotation]: _dropped, ...annotations } = full.annotations ?? {};
  const reduced: StoredPodSpec = { ...full, partial: true };
  if (nonEmpty(annotations)) reduced.annotations = annotations;
  else delete reduced.annotations;
  const second = await pack(reduced);
  if (second.length <= limit) return { items: chunked(second), partial: true };
  const workload = Object.fromEntries(
    [WORKLOAD_UID_ANNOTATION, WORKLOAD_NAME_ANNOTATION].flatMap((key) => {
      const value = full.annotations?.[key];
      return value === undefined ? [] : [[key, value]];
    }),
  );
  const minimal: StoredPodSpec = {
    v: 1,
    ...ids,
    containers: full.containers.map((c) => ({ name: c.name, image: c.image })),
    ...(nonEmpty(workload) ? { annotations: workload } : {}),
    partial: true,
  };
  const third = await pack(minimal);
  if (third.length <= limit) return { items: chunked(third), partial: true };
  throw new InvalidInputError(
    `openstack provider: pod ${
      identityKey(identity)
    }: expected name, namespace and image to fit ${maxSpecItems} metadata items, found ${
      Math.ceil(third.length / maxMetadataValue)
    }`,
  );
}

/** Whether `key` is one of the items {@linkcode encodePodSpec} writes. */
export function isSpecKey(key: string): boolean {
  return key.startsWith(specKeyPrefix);
}

/** Reads the spec from server metadata; `undefined` when there is none or it is damaged. */
export async function decodePodSpec(
  metadata: Record<string, string>,
): Promise<StoredPodSpec | undefined> {
  const keys = Object.keys(metadata).filter(isSpecKey).sort();
  if (keys.length === 0) return undefined;
  const packed = keys.map((key) => metadata[key]).join("");
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

/** What {@linkcode podFromServer} rebuilds a pod from. */
export interface PodFromServerOptions {
  /** Who the server serves (from its metadata). */
  identity: PodIdentity;
  /** The record in its metadata, if any. */
  stored: StoredPodSpec | undefined;
  /** This agent's node, the pod's `spec.nodeName`. */
  nodeName: string;
  /** The container image to show when no record says (`openstack/<image id>`). */
  image: string;
}

/**
 * The pod (without status) a server stands for: identity from its metadata, spec from
 * the remembered record when it belongs to the same workload UID, else one container
 * named `vm` with the server's image. Its UID is the remembered pod UID when the record
 * keeps the workload annotation, else the workload UID, so the provider kit's
 * `workloadUid` of the pod is always the server's.
 */
export function podFromServer(options: PodFromServerOptions): Pod {
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
