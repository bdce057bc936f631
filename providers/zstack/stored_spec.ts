/**
 * The pod spec remembered in a VM's description, and the pod rebuilt from it after a
 * restart.
 *
 * The fields the agent compares (containers, labels, annotations, tolerations,
 * activeDeadlineSeconds) plus namespace, name and workload UID (and the pod UID when it
 * differs, as for a VM-Pod) are stored in the VM `description` as `vkedge:v1:` +
 * base64(gzip(JSON)), within ZStack's 2048 characters. A pod too large for that first
 * loses the `kubectl.kubernetes.io/last-applied-configuration` annotation, then everything
 * but each container's name and image and the workload annotations; such a record is
 * marked `partial`,
 * and after a restart the agent sees a difference and calls `updatePod` once, which
 * changes nothing on the VM. Ownership is never read from the description: user tags
 * decide which VMs belong to a node and which pod a VM serves.
 *
 * @module
 */

import type { Container, Pod } from "kubernetes-types/core/v1.d.ts";
import { InvalidInputError } from "../../lib/provider.ts";
import { WORKLOAD_NAME_ANNOTATION, WORKLOAD_UID_ANNOTATION } from "../../lib/provider_kit/mod.ts";
import type { VmInstance } from "./api_types.ts";
import { identityKey, type PodIdentity } from "./identity.ts";
import { imagePrefix } from "./pod_to_vm.ts";

/** Prefix of the description holding the remembered pod spec. */
export const descriptionPrefix = "vkedge:v1:";
/** Longest VM description ZStack stores. */
export const maxDescriptionLength = 2048;

const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

/** What the VM description remembers of its pod. */
export interface StoredPodSpec {
  /** Format version. */
  v: 1;
  namespace: string;
  name: string;
  /** The workload UID (see `identity.ts`). */
  uid: string;
  /** The pod UID, when it is not the workload UID (a VM-Pod). */
  podUid?: string;
  containers: Container[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  tolerations?: NonNullable<Pod["spec"]>["tolerations"];
  activeDeadlineSeconds?: number;
  /** Set when fields were dropped to fit the description. */
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
  return `${descriptionPrefix}${btoa(binary)}`;
}

function nonEmpty<T extends object>(value: T | undefined): T | undefined {
  if (value === undefined) return undefined;
  return Object.keys(value).length === 0 ? undefined : value;
}

/**
 * The description remembering `pod`: full when it fits in 2048 characters, else
 * `partial` (see the module documentation).
 */
export async function encodePodSpec(
  pod: Pod,
  identity: PodIdentity,
): Promise<{ description: string; partial: boolean }> {
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
  if (first.length <= maxDescriptionLength) return { description: first, partial: false };
  const { [lastAppliedAnnotation]: _dropped, ...annotations } = full.annotations ?? {};
  const reduced: StoredPodSpec = { ...full, partial: true };
  if (nonEmpty(annotations)) reduced.annotations = annotations;
  else delete reduced.annotations;
  const second = await pack(reduced);
  if (second.length <= maxDescriptionLength) return { description: second, partial: true };
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
  const third = await pack(minimal);
  if (third.length <= maxDescriptionLength) return { description: third, partial: true };
  throw new InvalidInputError(
    `zstack provider: pod ${
      identityKey(identity)
    }: expected name, namespace and image to fit a VM description of ${maxDescriptionLength} characters, found ${third.length}`,
  );
}

/** Reads a description written by {@linkcode encodePodSpec}; `undefined` for anything else. */
export async function decodePodSpec(
  description: string | undefined,
): Promise<StoredPodSpec | undefined> {
  if (description === undefined || !description.startsWith(descriptionPrefix)) return undefined;
  try {
    const binary = atob(description.slice(descriptionPrefix.length));
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

/** What {@linkcode podFromVm} rebuilds a pod from, besides the VM. */
export interface PodFromVmOptions {
  /** Who the VM serves (from its tags). */
  identity: PodIdentity;
  /** The record in its description, if any. */
  stored: StoredPodSpec | undefined;
  /** This agent's node, the pod's `spec.nodeName`. */
  nodeName: string;
}

/**
 * The pod (without status) a VM stands for: identity from its tags, spec from the
 * remembered record when it belongs to the same workload UID, else one container named
 * after the record or `vm` with the VM's image. Its UID is the remembered pod UID when
 * the record keeps the workload annotation, else the workload UID, so the provider kit's
 * `workloadUid` of the pod is always the VM's.
 */
export function podFromVm(vm: VmInstance, options: PodFromVmOptions): Pod {
  const { identity, stored, nodeName } = options;
  const spec = stored !== undefined && stored.uid === identity.uid ? stored : undefined;
  const annotated = spec?.annotations?.[WORKLOAD_UID_ANNOTATION] === identity.uid;
  const containers = spec?.containers ?? [{
    name: "vm",
    image: `${imagePrefix}${vm.imageUuid ?? "unknown"}`,
  }];
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
      containers,
      ...(spec?.tolerations ? { tolerations: spec.tolerations } : {}),
      ...(spec?.activeDeadlineSeconds === undefined
        ? {}
        : { activeDeadlineSeconds: spec.activeDeadlineSeconds }),
    },
  };
}
