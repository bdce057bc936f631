/**
 * The cloud-init user data of a pod's server: the provider kit's `cloudConfigOf` with the
 * pod's own `#cloud-config` (or `#!` script) from annotation `openstack.vkedge.io/user-data`
 * (else a VM-Pod's `vkedge.io/user-data`), extended with the hostname, the container's env
 * as `/etc/vkedge/pod.env` and its command and args as `/etc/vkedge/run.sh`, started at
 * first boot with its output in `/var/log/vkedge-pod.log` (which the console shows when
 * the image sends it there).
 *
 * @module
 */

import type { Container, Pod } from "kubernetes-types/core/v1.d.ts";
import { cloudConfigOf, findPodUserData, type PodUserData } from "../../lib/provider_kit/mod.ts";

export { base64Utf8, expandVariables, podHostname } from "../../lib/provider_kit/mod.ts";

/** Annotation with cloud-init user data (`#cloud-config` YAML or a `#!` script). */
export const userDataAnnotation = "openstack.vkedge.io/user-data";

/** Nova's limit on user data: 65535 bytes of base64. */
export const maxUserDataBase64 = 65_535;

/** The user data a pod brings and the annotation it came from (blank counts as absent). */
export function podUserDataOf(pod: Pod): PodUserData | undefined {
  return findPodUserData(pod, userDataAnnotation);
}

/**
 * The `#cloud-config` of the server of `pod` and its `container`, as described in the
 * module documentation.
 */
export function buildUserData(pod: Pod, container: Container): string {
  return cloudConfigOf({ pod, container, annotation: userDataAnnotation, provider: "openstack" });
}
