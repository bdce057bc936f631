/**
 * Who a Nova server serves and how that is written on it. Ownership is the server's
 * metadata (`vkedge.io:cluster`, `vkedge.io:node`, `vkedge.io:namespace`, `vkedge.io:pod`,
 * `vkedge.io:pod-uid`: readable, up to 255 characters each) and its tags, which Nova can
 * filter lists by: `vkedge-node-<hash of cluster and node>`, one list of this node's
 * servers per poll, and `vkedge-uid-<workload uid>`, the server of one workload. Tags are
 * at most 60 characters without `/` or `,`, hence the hash; the metadata is checked too,
 * so a server is only ever taken for ours when both say so — never by its name.
 *
 * The workload UID is the provider kit's `workloadUid`: the VirtualMachine's UID for a
 * VM-Pod, the pod UID for any other pod.
 *
 * @module
 */

/** Prefix of the ownership metadata keys (Nova allows no `/` in them). */
export const metadataPrefix = "vkedge.io:";

/** The ownership metadata keys. */
export const METADATA = {
  cluster: "vkedge.io:cluster",
  node: "vkedge.io:node",
  namespace: "vkedge.io:namespace",
  pod: "vkedge.io:pod",
  uid: "vkedge.io:pod-uid",
} as const;

/** The tag every vkedge server carries, for people browsing the project. */
export const VKEDGE_TAG = "vkedge";

/** Who a server serves. */
export interface PodIdentity {
  namespace: string;
  name: string;
  /** The workload UID (a VM-Pod's VirtualMachine UID, else the pod UID). */
  uid: string;
}

/** The cluster and node a server belongs to. */
export interface ServerOwner {
  /** `clusterName` of the configuration. */
  clusterName: string;
  /** Name of this agent's Node. */
  nodeName: string;
}

/** `namespace/name` of an identity. */
export function identityKey(identity: { namespace: string; name: string }): string {
  return `${identity.namespace}/${identity.name}`;
}

async function sha256Hex(text: string, length: number): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0"))
    .join("").slice(0, length);
}

/** The tag of every server of one node: `vkedge-node-` and 24 hex digits of SHA-256. */
export async function nodeTag(owner: ServerOwner): Promise<string> {
  return `vkedge-node-${await sha256Hex(`${owner.clusterName}/${owner.nodeName}`, 24)}`;
}

/**
 * The tag of a workload's server: `vkedge-uid-<uid>` when that fits Nova's 60 characters
 * (a UUID does), else `vkedge-uid-` and 40 hex digits of the UID's SHA-256.
 */
export async function uidTag(uid: string): Promise<string> {
  const plain = `vkedge-uid-${uid}`;
  if (plain.length <= 60 && /^[A-Za-z0-9._-]+$/.test(uid)) return plain;
  return `vkedge-uid-${await sha256Hex(uid, 40)}`;
}

/** The server name: `vkedge-<namespace>.<pod name>` (namespaces have no dots), at most 255. */
export function serverNameFor(identity: { namespace: string; name: string }): string {
  return `vkedge-${identity.namespace}.${identity.name}`.slice(0, 255);
}

/** The ownership metadata of a pod's server. */
export function ownerMetadata(identity: PodIdentity, owner: ServerOwner): Record<string, string> {
  return {
    [METADATA.cluster]: owner.clusterName,
    [METADATA.node]: owner.nodeName,
    [METADATA.namespace]: identity.namespace,
    [METADATA.pod]: identity.name,
    [METADATA.uid]: identity.uid,
  };
}

/** The tags of a pod's server. */
export async function ownerTags(identity: PodIdentity, owner: ServerOwner): Promise<string[]> {
  return [VKEDGE_TAG, await nodeTag(owner), await uidTag(identity.uid)];
}

/**
 * Who a server serves, from its metadata, when it belongs to `owner` (same cluster and
 * node); `undefined` for any other server.
 */
export function identityFromMetadata(
  metadata: Record<string, string>,
  owner: ServerOwner,
): PodIdentity | undefined {
  if (metadata[METADATA.cluster] !== owner.clusterName) return undefined;
  if (metadata[METADATA.node] !== owner.nodeName) return undefined;
  const namespace = metadata[METADATA.namespace];
  const name = metadata[METADATA.pod];
  const uid = metadata[METADATA.uid];
  if (!namespace || !name || !uid) return undefined;
  return { namespace, name, uid };
}
