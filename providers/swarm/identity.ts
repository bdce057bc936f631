/**
 * Who a Swarm service serves: the ownership labels every service of a pod container
 * carries (also on its task containers, so events and task filters find them), and the
 * service name. Labels, never names, decide what belongs to a node: a service is this
 * node's when `vkedge.io/node` is `<clusterName>/<nodeName>`.
 *
 * @module
 */

/** Label keys of the ownership labels. */
export const ownerLabels = {
  cluster: "vkedge.io/cluster",
  node: "vkedge.io/node",
  namespace: "vkedge.io/namespace",
  pod: "vkedge.io/pod",
  podUid: "vkedge.io/pod-uid",
  container: "vkedge.io/container",
} as const;

/** Which agent owns a service. */
export interface Owner {
  /** `clusterName` of the configuration. */
  clusterName: string;
  /** The agent's node. */
  nodeName: string;
}

/** One container of one pod. */
export interface ContainerIdentity {
  namespace: string;
  pod: string;
  uid: string;
  container: string;
}

/** The value of `vkedge.io/node` for `owner`. */
export function nodeLabelValue(owner: Owner): string {
  return `${owner.clusterName}/${owner.nodeName}`;
}

/** The label filter that lists this node's services and tasks. */
export function nodeFilter(owner: Owner): { label: string[] } {
  return { label: [`${ownerLabels.node}=${nodeLabelValue(owner)}`] };
}

/** The ownership labels of the service (and task containers) of `identity`. */
export function ownershipLabels(owner: Owner, identity: ContainerIdentity): Record<string, string> {
  return {
    [ownerLabels.cluster]: owner.clusterName,
    [ownerLabels.node]: nodeLabelValue(owner),
    [ownerLabels.namespace]: identity.namespace,
    [ownerLabels.pod]: identity.pod,
    [ownerLabels.podUid]: identity.uid,
    [ownerLabels.container]: identity.container,
  };
}

/** The identity the labels name, or undefined when one is missing. */
export function identityOf(labels: Record<string, string>): ContainerIdentity | undefined {
  const namespace = labels[ownerLabels.namespace];
  const pod = labels[ownerLabels.pod];
  const uid = labels[ownerLabels.podUid];
  const container = labels[ownerLabels.container];
  if (!namespace || !pod || !uid || !container) return undefined;
  return { namespace, pod, uid, container };
}

/** FNV-1a, 32 bits, as 8 hex digits: short, stable, not a secret. */
export function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

/**
 * The service name of one container: `vk-<hash>-<namespace>-<pod>-<container>`, cut to the
 * 63 characters Swarm allows; the hash of cluster, node, namespace, pod and container keeps
 * names of different agents and cut names apart.
 */
export function serviceName(owner: Owner, identity: ContainerIdentity): string {
  const hash = shortHash(
    [owner.clusterName, owner.nodeName, identity.namespace, identity.pod, identity.container]
      .join("/"),
  );
  const readable = `${identity.namespace}-${identity.pod}-${identity.container}`
    .replace(/[^A-Za-z0-9-]/g, "-");
  return `vk-${hash}-${readable}`.slice(0, 63).replace(/-+$/, "");
}

/** The `namespace/name` key of a container identity's pod. */
export function podKeyOf(identity: { namespace: string; pod: string }): string {
  return `${identity.namespace}/${identity.pod}`;
}
