/**
 * The pod ↔ Swarm mapping of the swarm provider: pure functions, tested without an
 * Engine, in files named after their direction.
 *
 * - `identity.ts`: ownership labels and service names (who a service serves);
 * - `pod_to_service.ts`: whether a pod can run, and the service spec of each container;
 * - `stored_spec.ts`: what services remember of their pod, and the pod rebuilt from them;
 * - `task_to_pod.ts`: the pod status read back from the tasks.
 *
 * This module gathers them for callers that want the whole mapping.
 *
 * @module
 */

export {
  type ContainerIdentity,
  identityOf,
  nodeFilter,
  nodeLabelValue,
  type Owner,
  ownerLabels,
  ownershipLabels,
  podKeyOf,
  serviceName,
  shortHash,
} from "./identity.ts";
export {
  containerAlias,
  envList,
  expandReferences,
  podHostname,
  resourcesOf,
  type ServiceContext,
  serviceSpecFor,
  templateHashLabel,
  type ValidatedPod,
  validatePod,
} from "./pod_to_service.ts";
export {
  envOf,
  podFromServices,
  storedLabels,
  storedOf,
  type StoredPodFields,
  storedSpecLabels,
} from "./stored_spec.ts";
export {
  containerStatusOf,
  type ContainerTasks,
  kubeTime,
  newestFirst,
  podStatusOf,
  type StatusContext,
  taskRan,
  taskSettled,
} from "./task_to_pod.ts";
