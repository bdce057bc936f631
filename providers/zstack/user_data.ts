/**
 * The cloud-init user data of a pod's VM: the provider kit's `cloudConfigOf` with the pod's
 * own `#cloud-config` (or `#!` script) from annotation `zstack.vkedge.io/user-data` (else a
 * VM-Pod's `vkedge.io/user-data`, read the same way), extended with the hostname, the
 * container's env as `/etc/vkedge/pod.env` and its command and args as
 * `/etc/vkedge/run.sh`, started at first boot.
 *
 * @module
 */

import type { Container, Pod } from "kubernetes-types/core/v1.d.ts";
import { cloudConfigOf, findPodUserData, type PodUserData } from "../../lib/provider_kit/mod.ts";

export {
  base64Utf8,
  expandVariables,
  podHostname,
  type PodUserData,
} from "../../lib/provider_kit/mod.ts";

/** Annotation with cloud-init user data (`#cloud-config` YAML or a `#!` script). */
export const userDataAnnotation = "zstack.vkedge.io/user-data";

/**
 * The user data `pod` brings: annotation `zstack.vkedge.io/user-data`, else a VM-Pod's
 * `vkedge.io/user-data`; blank ones count as absent.
 */
export function podUserDataOf(pod: Pod): PodUserData | undefined {
  return findPodUserData(pod, userDataAnnotation);
}

/** Options of {@linkcode buildUserData}. */
export interface UserDataOptions {
  /** The pod (for its name and the user-data annotation). */
  pod: Pod;
  /** Its container (env, command, args). */
  container: Container;
}

/**
 * The cloud-init user data of a pod's VM: the pod's `#cloud-config` annotation (or `#!`
 * script, see {@linkcode podUserDataOf}) extended with the hostname, `/etc/vkedge/pod.env`
 * (the container's env as shell exports) and, when the container has a command or args,
 * `/etc/vkedge/run.sh` started in the background at first boot with its output in
 * `/var/log/vkedge-pod.log`.
 */
export function buildUserData(options: UserDataOptions): string {
  return cloudConfigOf({ ...options, annotation: userDataAnnotation, provider: "zstack" });
}
