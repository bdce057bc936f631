/**
 * Whether a pod can become one vSphere VM, and what VM: image `vsphere/<template>` (or an
 * alias) names the template to clone; the size is `limits`, else `requests`, else the
 * configured defaults, of cpu (whole vCPUs, rounded up) and memory (MiB, rounded up); the
 * network is annotation `vsphere.vkedge.io/network`, else a VM-Pod's first
 * `vkedge.io/networks`.
 *
 * @module
 */

import type { Container, Pod } from "kubernetes-types/core/v1.d.ts";
import { InvalidInputError } from "../../lib/provider.ts";
import {
  quantityMilliValue,
  quantityValue,
  VM_POD_ANNOTATIONS,
  workloadUid,
} from "../../lib/provider_kit/mod.ts";
import type { PodIdentity } from "./identity.ts";

/** The image prefix naming a template: `vsphere/<template>`. */
export const imagePrefix = "vsphere/";

/** Annotation naming the network of the VM's first NIC. */
export const networkAnnotation = "vsphere.vkedge.io/network";

/** A pod the provider can run: who it is, its one container and the template. */
export interface ValidatedPod {
  identity: PodIdentity;
  container: Container;
  template: string;
}

/** The template an image names: `vsphere/<name>` or an alias; `undefined` otherwise. */
export function templateOf(image: string, aliases: Record<string, string>): string | undefined {
  if (Object.hasOwn(aliases, image)) return aliases[image];
  if (image.startsWith(imagePrefix) && image.length > imagePrefix.length) {
    return image.slice(imagePrefix.length);
  }
  return undefined;
}

/** Checks that `pod` can become one VM; throws `InvalidInputError` saying what is wrong. */
export function validatePod(pod: Pod, aliases: Record<string, string> = {}): ValidatedPod {
  const namespace = pod.metadata?.namespace ?? "";
  const name = pod.metadata?.name ?? "";
  const uid = workloadUid(pod) ?? "";
  const key = `${namespace}/${name}`;
  if (namespace === "" || name === "" || uid === "") {
    throw new InvalidInputError(
      `vsphere provider: expected a pod with namespace, name and uid, found "${key}" uid "${uid}"`,
    );
  }
  const containers = pod.spec?.containers ?? [];
  if (containers.length !== 1 || (pod.spec?.initContainers ?? []).length > 0) {
    throw new InvalidInputError(
      `vsphere provider: pod ${key}: expected exactly one container and no init containers (one VM per pod), found ${containers.length} and ${
        (pod.spec?.initContainers ?? []).length
      }`,
    );
  }
  const container = containers[0];
  const template = templateOf(container.image ?? "", aliases);
  if (template === undefined) {
    const known = Object.keys(aliases);
    throw new InvalidInputError(
      `vsphere provider: pod ${key}: expected image "${imagePrefix}<template>"${
        known.length > 0 ? ` or one of the aliases ${known.join(", ")}` : ""
      }, found "${container.image ?? ""}"`,
    );
  }
  return { identity: { namespace, name, uid }, container, template };
}

/** vCPUs and memory of a VM. */
export interface VmSize {
  numCpu: number;
  memoryMB: number;
}

/** The VM size of `container`: limits, else requests, else `defaults`. */
export function vmSizeOf(container: Container, defaults: { cpu: string; memory: string }): VmSize {
  const pick = (resource: "cpu" | "memory") =>
    container.resources?.limits?.[resource] ?? container.resources?.requests?.[resource] ??
      defaults[resource];
  const numCpu = Math.max(1, Math.ceil(quantityMilliValue(String(pick("cpu"))) / 1000));
  const memoryMB = Math.max(4, Math.ceil(quantityValue(String(pick("memory"))) / (1024 * 1024)));
  return { numCpu, memoryMB };
}

/** The network a pod names (annotation, else a VM-Pod's first `vkedge.io/networks`). */
export function networkOf(pod: Pod): string | undefined {
  const annotations = pod.metadata?.annotations ?? {};
  const own = annotations[networkAnnotation]?.trim();
  if (own) return own;
  const generic = annotations[VM_POD_ANNOTATIONS.networks]?.split(",")[0]?.trim();
  return generic ? generic : undefined;
}
