/**
 * Who a vSphere VM serves: the extraConfig keys vkedge writes (ownership
 * `guestinfo.vkedge.cluster`, `.node` as `<cluster>/<node>`, `.namespace`, `.pod`, `.uid`
 * (the workload UID, see the kit's `workloadUid`), `.pod-uid`, `.pod-record`, `.power`, and
 * cloud-init's `guestinfo.metadata` and `guestinfo.userdata`), the pod's identity read back
 * from them, and the VM name `vkedge-<namespace>.<name>`, at most 80 characters (vSphere's
 * limit: a longer one keeps 71 and adds a hash).
 *
 * @module
 */

/** The extraConfig keys vkedge writes. */
export const keys = {
  cluster: "guestinfo.vkedge.cluster",
  node: "guestinfo.vkedge.node",
  namespace: "guestinfo.vkedge.namespace",
  pod: "guestinfo.vkedge.pod",
  uid: "guestinfo.vkedge.uid",
  podUid: "guestinfo.vkedge.pod-uid",
  record: "guestinfo.vkedge.pod-record",
  power: "guestinfo.vkedge.power",
  metadata: "guestinfo.metadata",
  metadataEncoding: "guestinfo.metadata.encoding",
  userData: "guestinfo.userdata",
  userDataEncoding: "guestinfo.userdata.encoding",
} as const;

/** Who a VM serves. */
export interface PodIdentity {
  namespace: string;
  name: string;
  /** The workload UID. */
  uid: string;
}

/** `namespace/name`. */
export function identityKey(identity: { namespace: string; name: string }): string {
  return `${identity.namespace}/${identity.name}`;
}

/** The value of `guestinfo.vkedge.node` for this agent. */
export function nodeOwner(clusterName: string, nodeName: string): string {
  return `${clusterName}/${nodeName}`;
}

function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

/** The VM name of a pod: `vkedge-<namespace>.<name>`, at most 80 characters. */
export function vmNameOf(namespace: string, name: string): string {
  const full = `vkedge-${namespace}.${name}`.replace(/[%/\\]/g, "-");
  return full.length <= 80 ? full : `${full.slice(0, 71)}-${fnv1a(full)}`;
}

/** Who a VM serves, from its extraConfig; `undefined` for a VM vkedge did not make. */
export function identityOf(extraConfig: ReadonlyMap<string, string>): PodIdentity | undefined {
  const namespace = extraConfig.get(keys.namespace);
  const name = extraConfig.get(keys.pod);
  const uid = extraConfig.get(keys.uid);
  if (!namespace || !name || !uid) return undefined;
  return { namespace, name, uid };
}
