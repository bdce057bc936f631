/**
 * Resource descriptors: how the client addresses a kind (group, version,
 * plural, scope), with ready-made ones for what a kubelet touches.
 *
 * @module
 */

/** Addresses a resource: `/api/v1/...` for the core group, `/apis/<group>/<version>/...` otherwise. */
export interface ResourceDescriptor {
  /** The API group; `""` for the core group. */
  readonly group: string;
  /** The API version, e.g. `v1`. */
  readonly version: string;
  /** The plural resource name used in URLs, e.g. `pods`. */
  readonly plural: string;
  /** Whether objects live in a namespace. */
  readonly namespaced: boolean;
  /** The kind, e.g. `Pod`, set on created objects that lack it. */
  readonly kind?: string;
}

/** Builds a descriptor for a custom (or any) resource by group, version and plural. */
export function customResource(
  group: string,
  version: string,
  options: { plural: string; namespaced: boolean; kind?: string },
): ResourceDescriptor {
  return { group, version, ...options };
}

/** The `plural[.group]` name of a resource, as `kubectl api-resources` spells it: `pods`, `leases.coordination.k8s.io`. */
export function resourceName(descriptor: Pick<ResourceDescriptor, "plural" | "group">): string {
  return descriptor.group === "" ? descriptor.plural : `${descriptor.plural}.${descriptor.group}`;
}

/** The `apiVersion` value of a descriptor, e.g. `v1` or `coordination.k8s.io/v1`. */
export function apiVersionOf(descriptor: ResourceDescriptor): string {
  return descriptor.group === "" ? descriptor.version : `${descriptor.group}/${descriptor.version}`;
}

/** core/v1 Pods. */
export const PODS: ResourceDescriptor = {
  group: "",
  version: "v1",
  plural: "pods",
  namespaced: true,
  kind: "Pod",
};
/** core/v1 Nodes. */
export const NODES: ResourceDescriptor = {
  group: "",
  version: "v1",
  plural: "nodes",
  namespaced: false,
  kind: "Node",
};
/** coordination.k8s.io/v1 Leases. */
export const LEASES: ResourceDescriptor = {
  group: "coordination.k8s.io",
  version: "v1",
  plural: "leases",
  namespaced: true,
  kind: "Lease",
};
/** core/v1 Events. */
export const EVENTS: ResourceDescriptor = {
  group: "",
  version: "v1",
  plural: "events",
  namespaced: true,
  kind: "Event",
};
/** events.k8s.io/v1 Events. */
export const EVENTS_V1: ResourceDescriptor = {
  group: "events.k8s.io",
  version: "v1",
  plural: "events",
  namespaced: true,
  kind: "Event",
};
/** core/v1 ConfigMaps. */
export const CONFIG_MAPS: ResourceDescriptor = {
  group: "",
  version: "v1",
  plural: "configmaps",
  namespaced: true,
  kind: "ConfigMap",
};
/** core/v1 Secrets. */
export const SECRETS: ResourceDescriptor = {
  group: "",
  version: "v1",
  plural: "secrets",
  namespaced: true,
  kind: "Secret",
};
/** core/v1 Services. */
export const SERVICES: ResourceDescriptor = {
  group: "",
  version: "v1",
  plural: "services",
  namespaced: true,
  kind: "Service",
};
/** core/v1 Namespaces. */
export const NAMESPACES: ResourceDescriptor = {
  group: "",
  version: "v1",
  plural: "namespaces",
  namespaced: false,
  kind: "Namespace",
};
/** core/v1 ServiceAccounts. */
export const SERVICE_ACCOUNTS: ResourceDescriptor = {
  group: "",
  version: "v1",
  plural: "serviceaccounts",
  namespaced: true,
  kind: "ServiceAccount",
};
/** core/v1 PersistentVolumes. */
export const PERSISTENT_VOLUMES: ResourceDescriptor = {
  group: "",
  version: "v1",
  plural: "persistentvolumes",
  namespaced: false,
  kind: "PersistentVolume",
};
/** core/v1 PersistentVolumeClaims. */
export const PERSISTENT_VOLUME_CLAIMS: ResourceDescriptor = {
  group: "",
  version: "v1",
  plural: "persistentvolumeclaims",
  namespaced: true,
  kind: "PersistentVolumeClaim",
};
/** discovery.k8s.io/v1 EndpointSlices. */
export const ENDPOINT_SLICES: ResourceDescriptor = {
  group: "discovery.k8s.io",
  version: "v1",
  plural: "endpointslices",
  namespaced: true,
  kind: "EndpointSlice",
};
/** apiextensions.k8s.io/v1 CustomResourceDefinitions. */
export const CUSTOM_RESOURCE_DEFINITIONS: ResourceDescriptor = {
  group: "apiextensions.k8s.io",
  version: "v1",
  plural: "customresourcedefinitions",
  namespaced: false,
  kind: "CustomResourceDefinition",
};
/** authentication.k8s.io/v1 TokenReviews (create only). */
export const TOKEN_REVIEWS: ResourceDescriptor = {
  group: "authentication.k8s.io",
  version: "v1",
  plural: "tokenreviews",
  namespaced: false,
  kind: "TokenReview",
};
/** authorization.k8s.io/v1 SubjectAccessReviews (create only). */
export const SUBJECT_ACCESS_REVIEWS: ResourceDescriptor = {
  group: "authorization.k8s.io",
  version: "v1",
  plural: "subjectaccessreviews",
  namespaced: false,
  kind: "SubjectAccessReview",
};
/** storage.k8s.io/v1 StorageClasses. */
export const STORAGE_CLASSES: ResourceDescriptor = {
  group: "storage.k8s.io",
  version: "v1",
  plural: "storageclasses",
  namespaced: false,
  kind: "StorageClass",
};
