/**
 * Who owns an object of the lower cluster. Every pod, ConfigMap and Secret this provider
 * makes below carries labels naming the upper cluster and node, and a pod also the upper
 * pod's namespace and UID, with annotations for what does not fit a label value (the upper
 * pod's name, a long node name). One label, `vkedge.io/owner`, a hash of cluster and node,
 * selects an agent's own objects, so watches, adoption after a restart and clean-up go by
 * labels only, never by name: two upper clusters (or two nodes) sharing one lower cluster
 * never see, let alone touch, each other's objects.
 *
 * @module
 */

import type { ObjectMeta } from "kubernetes-types/meta/v1.d.ts";

/** Label selecting one agent's objects (a hash of cluster and node). */
export const OWNER_LABEL = "vkedge.io/owner";
/** Label and annotation naming the upper cluster. */
export const CLUSTER_LABEL = "vkedge.io/cluster";
/** Label (when the name fits) and annotation naming the upper node. */
export const NODE_LABEL = "vkedge.io/node";
/** Label and annotation of a lower pod: the upper pod's namespace. */
export const POD_NAMESPACE_LABEL = "vkedge.io/pod-namespace";
/** Annotation of a lower pod: the upper pod's name. */
export const POD_NAME_ANNOTATION = "vkedge.io/pod-name";
/** Label and annotation of a lower pod: the upper pod's UID. */
export const POD_UID_LABEL = "vkedge.io/pod-uid";

const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-_.A-Za-z0-9]{0,61}[A-Za-z0-9])?)?$/;

/** The upper pod a lower pod stands for. */
export interface UpperPodRef {
  /** Upper namespace. */
  namespace: string;
  /** Upper name. */
  name: string;
  /** Upper UID. */
  uid: string;
}

/** The owner of lower objects: one upper cluster's one node. */
export class Ownership {
  /** The upper cluster's name. */
  readonly cluster: string;
  /** The upper node's name. */
  readonly node: string;
  /** Value of the owner label. */
  readonly id: string;

  private constructor(cluster: string, node: string, id: string) {
    this.cluster = cluster;
    this.node = node;
    this.id = id;
  }

  /** The ownership of node `node` of cluster `cluster`. */
  static async create(cluster: string, node: string): Promise<Ownership> {
    const digest = await crypto.subtle.digest(
      "SHA-256",
      new TextEncoder().encode(JSON.stringify([cluster, node])),
    );
    const hex = [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0"))
      .join("");
    return new Ownership(cluster, node, hex.slice(0, 20));
  }

  /** Label selector of this owner's objects. */
  get selector(): string {
    return `${OWNER_LABEL}=${this.id}`;
  }

  /** Label selector of every object not this owner's (unlabelled ones included). */
  get othersSelector(): string {
    return `${OWNER_LABEL}!=${this.id}`;
  }

  /** Labels of an object this owner made. */
  labels(): Record<string, string> {
    return {
      [OWNER_LABEL]: this.id,
      [CLUSTER_LABEL]: this.cluster,
      ...(LABEL_VALUE.test(this.node) ? { [NODE_LABEL]: this.node } : {}),
    };
  }

  /** Annotations of an object this owner made. */
  annotations(): Record<string, string> {
    return { [CLUSTER_LABEL]: this.cluster, [NODE_LABEL]: this.node };
  }

  /** Labels of the lower pod of `pod`. */
  podLabels(pod: UpperPodRef): Record<string, string> {
    return { ...this.labels(), [POD_NAMESPACE_LABEL]: pod.namespace, [POD_UID_LABEL]: pod.uid };
  }

  /** Annotations of the lower pod of `pod`. */
  podAnnotations(pod: UpperPodRef): Record<string, string> {
    return {
      ...this.annotations(),
      [POD_NAMESPACE_LABEL]: pod.namespace,
      [POD_NAME_ANNOTATION]: pod.name,
      [POD_UID_LABEL]: pod.uid,
    };
  }

  /** Whether this owner made the object with `metadata`. */
  owns(metadata: ObjectMeta | undefined): boolean {
    return metadata?.labels?.[OWNER_LABEL] === this.id;
  }

  /** Who made the object with `metadata`, for messages: `cluster X node Y`, or `nobody known`. */
  static describe(metadata: ObjectMeta | undefined): string {
    const cluster = metadata?.annotations?.[CLUSTER_LABEL] ?? metadata?.labels?.[CLUSTER_LABEL];
    const node = metadata?.annotations?.[NODE_LABEL] ?? metadata?.labels?.[NODE_LABEL];
    if (cluster === undefined) return "not vkedge (no vkedge.io/cluster label)";
    return `cluster ${cluster} node ${node ?? "(unknown)"}`;
  }
}

/** The upper pod a lower pod of this provider stands for, from its annotations. */
export function upperPodOf(metadata: ObjectMeta | undefined): UpperPodRef | undefined {
  const annotations = metadata?.annotations ?? {};
  const namespace = annotations[POD_NAMESPACE_LABEL];
  const name = annotations[POD_NAME_ANNOTATION];
  const uid = annotations[POD_UID_LABEL];
  if (namespace === undefined || name === undefined || uid === undefined) return undefined;
  return { namespace, name, uid };
}
