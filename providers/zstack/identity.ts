/**
 * Who a ZStack VM serves and how that is written on it: the VM uuid derived from the
 * workload UID (so a repeated create finds the VM instead of making a second one, and a
 * VM-Pod re-created for the same VirtualMachine finds the same VM), the VM name, and the
 * ownership user tags naming cluster, node, namespace, pod and workload UID. Ownership is
 * only ever read from these tags, never from names or descriptions.
 *
 * The workload UID is the provider kit's `workloadUid`: the VirtualMachine's UID for a
 * VM-Pod, the pod UID for any other pod.
 *
 * @module
 */

/** Prefix of every ownership tag. */
export const tagPrefix = "vkedge.io/";

const uuidPattern = /^[0-9a-f]{32}$/;

/** Who a VM serves. */
export interface PodIdentity {
  /** Pod namespace. */
  namespace: string;
  /** Pod name. */
  name: string;
  /**
   * The workload UID: the VirtualMachine's UID for a VM-Pod, else the pod UID. The VM uuid
   * and the `pod-uid` tag derive from it, so it outlives the pod object.
   */
  uid: string;
}

/** `namespace/name` of an identity. */
export function identityKey(identity: { namespace: string; name: string }): string {
  return `${identity.namespace}/${identity.name}`;
}

/** Whether `text` has the form of a ZStack uuid (32 lowercase hex digits). */
export function isZStackUuid(text: string): boolean {
  return uuidPattern.test(text);
}

/**
 * The VM uuid of a pod from its workload UID: the UID without dashes when it is a UUID,
 * else the first 32 hex digits of its SHA-256. Passed as `resourceUuid`, it makes a
 * repeated create find the VM instead of making a second one.
 */
export async function vmUuidForPod(uid: string): Promise<string> {
  const compact = uid.replaceAll("-", "").toLowerCase();
  if (isZStackUuid(compact)) return compact;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(uid));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0"))
    .join("").slice(0, 32);
}

/**
 * A uuid derived from `text`: its SHA-256 shaped as a version-5 uuid without dashes, as
 * ZStack's `resourceUuid` check wants. Resources vkedge creates under a caller-chosen name
 * (a volume, a snapshot part) get theirs this way, so a repeated create finds them.
 */
export async function derivedUuid(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  const hex = Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0"))
    .join("");
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 12)}5${hex.slice(13, 16)}${variant}${hex.slice(17, 32)}`;
}

/** The VM name: `vkedge-<namespace>.<pod name>` (namespaces have no dots), at most 255 characters. */
export function vmNameForPod(identity: { namespace: string; name: string }): string {
  return `vkedge-${identity.namespace}.${identity.name}`.slice(0, 255);
}

/** The tag every VM of one node carries, the only one `getPods` queries by. */
export function nodeTag(clusterName: string, nodeName: string): string {
  return `${tagPrefix}node:${clusterName}/${nodeName}`;
}

/** The cluster and node a VM belongs to. */
export interface VmOwner {
  /** `clusterName` of the configuration. */
  clusterName: string;
  /** Name of this agent's Node. */
  nodeName: string;
}

/** The user tags of a pod's VM: cluster, node, namespace, pod name and workload UID. */
export function ownerTags(identity: PodIdentity, owner: VmOwner): string[] {
  return [
    `${tagPrefix}cluster:${owner.clusterName}`,
    nodeTag(owner.clusterName, owner.nodeName),
    `${tagPrefix}namespace:${identity.namespace}`,
    `${tagPrefix}pod:${identity.name}`,
    `${tagPrefix}pod-uid:${identity.uid}`,
  ];
}

/** Reads the pod identity from a VM's user tags, or `undefined` when one is missing. */
export function identityFromTags(tags: readonly string[]): PodIdentity | undefined {
  const value = (key: string): string | undefined => {
    const prefix = `${tagPrefix}${key}:`;
    return tags.find((tag) => tag.startsWith(prefix))?.slice(prefix.length);
  };
  const namespace = value("namespace");
  const name = value("pod");
  const uid = value("pod-uid");
  if (!namespace || !name || !uid) return undefined;
  return { namespace, name, uid };
}
