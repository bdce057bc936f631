/**
 * The pod spec remembered in a server's metadata, and the pod rebuilt from it after a
 * restart, so that a restarted agent sees the pods it runs as they were specified and
 * updates nothing.
 *
 * The record, its packing as base64(gzip(JSON)) and the trimming of a pod too large are
 * the provider kit's (`fitPodSpec`); here the packed text is cut into metadata items
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

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { InvalidInputError } from "../../lib/provider.ts";
import {
  fitPodSpec,
  podFromStoredSpec,
  type StoredPodSpec,
  unpackPodSpec,
} from "../../lib/provider_kit/mod.ts";
import { identityKey, type PodIdentity } from "./identity.ts";

export type { StoredPodSpec } from "../../lib/provider_kit/mod.ts";

/** Prefix of the metadata keys holding the remembered spec. */
export const specKeyPrefix = "vkedge.io:spec-";
/** Longest metadata value Nova stores. */
export const maxMetadataValue = 255;
/** Most metadata items the spec may take. */
export const maxSpecItems = 100;

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
  const fitted = await fitPodSpec(pod, identity, { fits: (packed) => packed.length <= limit });
  if (fitted.fits) return { items: chunked(fitted.packed), partial: fitted.partial };
  throw new InvalidInputError(
    `openstack provider: pod ${
      identityKey(identity)
    }: expected name, namespace and image to fit ${maxSpecItems} metadata items, found ${
      Math.ceil(fitted.smallest.length / maxMetadataValue)
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
  return await unpackPodSpec(keys.map((key) => metadata[key]).join(""));
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
  return podFromStoredSpec(options);
}
