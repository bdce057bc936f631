/**
 * The pod ↔ server mapping of the openstack provider: pure functions, tested without a
 * cloud, in files named after their direction.
 *
 * - `pod_to_server.ts`: whether a pod can become one server, its image, flavor, networks,
 *   key pair, security groups and availability zone, and the `POST /servers` body;
 * - `user_data.ts`: the server's cloud-init user data (the pod's own, hostname, env, command);
 * - `identity.ts`: the server name, ownership metadata and tags (who a server serves);
 * - `stored_spec.ts`: the pod spec remembered in the server's metadata, and the pod
 *   rebuilt from it after a restart;
 * - `server_to_pod.ts`: the pod status and power state read back from a server.
 *
 * This module gathers them for callers that want the whole mapping.
 *
 * @module
 */

export {
  identityFromMetadata,
  identityKey,
  METADATA,
  nodeTag,
  ownerMetadata,
  ownerTags,
  type PodIdentity,
  serverNameFor,
  type ServerOwner,
  uidTag,
  VKEDGE_TAG,
} from "./identity.ts";
export {
  annotationList,
  availabilityZoneAnnotation,
  availabilityZoneOf,
  chooseFlavor,
  createRequestedText,
  describeFlavor,
  flavorAnnotation,
  type FlavorChoice,
  imagePrefix,
  type ImageRef,
  isOpenStackId,
  keyNameAnnotation,
  networkRefsOf,
  networksAnnotation,
  NO_NETWORK,
  parseImageRef,
  securityGroupsAnnotation,
  serverCreateBody,
  type ServerRequest,
  type ServerSize,
  serverSizeOf,
  type ValidatedPod,
  validatePod,
} from "./pod_to_server.ts";
export {
  base64Utf8,
  buildUserData,
  podHostname,
  podUserDataOf,
  userDataAnnotation,
} from "./user_data.ts";
export {
  decodePodSpec,
  encodePodSpec,
  maxSpecItems,
  podFromServer,
  type StoredPodSpec,
} from "./stored_spec.ts";
export {
  faultReason,
  podIpsOf,
  podNetworkKey,
  podStatusFromServer,
  powerOf,
  serverStateText,
  type ServerStatusContext,
} from "./server_to_pod.ts";
