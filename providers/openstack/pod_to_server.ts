/**
 * From a pod to the Nova server request, as pure functions: whether the pod can become
 * one server, which Glance image its container names, which flavor fits its CPU and
 * memory (the smallest that does, or the one an annotation names), which annotations
 * choose networks, key pair, security groups and availability zone (the openstack ones
 * and a VM-Pod's generic `vkedge.io/…` ones, the openstack ones winning), and the
 * `POST /servers` body itself.
 *
 * @module
 */

import type { Container, Pod } from "kubernetes-types/core/v1.d.ts";
import { InvalidInputError } from "../../lib/provider.ts";
import {
  errorMessage,
  parseQuantity,
  quantityValue,
  VM_POD_ANNOTATIONS,
  workloadUid,
} from "../../lib/provider_kit/mod.ts";
import type { Flavor } from "./api_types.ts";
import { type PodIdentity, serverNameFor } from "./identity.ts";
import { base64Utf8, maxUserDataBase64, userDataAnnotation } from "./user_data.ts";

/** Prefix of container images that name Glance images: `openstack/<image name or id>`. */
export const imagePrefix = "openstack/";
/** Annotation naming the flavor (name or id) of the server, instead of the smallest that fits. */
export const flavorAnnotation = "openstack.vkedge.io/flavor";
/** Annotation listing networks (names or ids, comma-separated; `none` for none). */
export const networksAnnotation = "openstack.vkedge.io/networks";
/** Annotation naming the key pair. */
export const keyNameAnnotation = "openstack.vkedge.io/key-name";
/** Annotation listing security groups (names, comma-separated). */
export const securityGroupsAnnotation = "openstack.vkedge.io/security-groups";
/** Annotation naming the availability zone (`zone`, or `zone:host` for an admin). */
export const availabilityZoneAnnotation = "openstack.vkedge.io/availability-zone";
/** The network list that asks for a server without any network. */
export const NO_NETWORK = "none";

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const mebibyte = 2 ** 20;

/** Whether `text` has the form of an OpenStack id (a UUID). */
export function isOpenStackId(text: string): boolean {
  return uuidPattern.test(text);
}

/** A container image as a Glance image reference. */
export type ImageRef = { kind: "id"; id: string } | { kind: "name"; name: string };

/**
 * Reads `openstack/<name or id>` (after applying `aliases`, keyed by what follows
 * `openstack/`). Throws `InvalidInputError` saying what to write instead.
 */
export function parseImageRef(image: string, aliases: Record<string, string> = {}): ImageRef {
  if (!image.startsWith(imagePrefix) || image.length === imagePrefix.length) {
    throw new InvalidInputError(
      `container image: expected "openstack/<Glance image name or id>" such as "openstack/ubuntu-22.04", found "${image}"`,
    );
  }
  const reference = image.slice(imagePrefix.length);
  const target = Object.hasOwn(aliases, reference) ? aliases[reference] : reference;
  return isOpenStackId(target)
    ? { kind: "id", id: target.toLowerCase() }
    : { kind: "name", name: target };
}

/** A pod the provider can run. */
export interface ValidatedPod {
  /** Namespace, name and workload UID. */
  identity: PodIdentity;
  /** The single container. */
  container: Container;
  /** The image it names. */
  image: ImageRef;
}

/**
 * Checks that the pod can become one server: namespace, name and UID, exactly one
 * container, no init or ephemeral containers, an `openstack/…` image. The identity it
 * returns carries the workload UID. Throws `InvalidInputError` saying what to change.
 */
export function validatePod(pod: Pod, aliases: Record<string, string> = {}): ValidatedPod {
  const namespace = pod.metadata?.namespace ?? "";
  const name = pod.metadata?.name ?? "";
  const uid = pod.metadata?.uid ?? "";
  if (namespace === "" || name === "" || uid === "") {
    throw new InvalidInputError(
      `openstack provider: expected a pod with metadata.namespace, metadata.name and metadata.uid, found namespace "${namespace}", name "${name}" and uid "${uid}"`,
    );
  }
  const key = `${namespace}/${name}`;
  const containers = pod.spec?.containers ?? [];
  if (containers.length !== 1) {
    throw new InvalidInputError(
      `openstack provider: pod ${key}: expected exactly one container (one server per pod), found ${containers.length}${
        containers.length > 1
          ? ` (${
            containers.map((c) => `"${c.name}"`).join(", ")
          }): run them in one image or split them into separate pods`
          : ""
      }`,
    );
  }
  const init = pod.spec?.initContainers ?? [];
  if (init.length > 0) {
    throw new InvalidInputError(
      `openstack provider: pod ${key}: expected no init containers, found ${init.length} (${
        init.map((c) => `"${c.name}"`).join(", ")
      }): move their work into the server's cloud-init user data (annotation ${userDataAnnotation})`,
    );
  }
  if ((pod.spec?.ephemeralContainers ?? []).length > 0) {
    throw new InvalidInputError(
      `openstack provider: pod ${key}: expected no ephemeral containers, found ${pod.spec?.ephemeralContainers?.length}: a server cannot run debug containers`,
    );
  }
  const container = containers[0];
  let image: ImageRef;
  try {
    image = parseImageRef(container.image ?? "", aliases);
  } catch (error) {
    throw new InvalidInputError(
      `openstack provider: pod ${key}, container "${container.name}": ${errorMessage(error)}`,
      { cause: error },
    );
  }
  return { identity: { namespace, name, uid: workloadUid(pod) ?? uid }, container, image };
}

/** The comma-separated list in annotation `key`, or `undefined` when absent or empty. */
export function annotationList(pod: Pod, key: string): string[] | undefined {
  const text = pod.metadata?.annotations?.[key];
  if (text === undefined) return undefined;
  const items = text.split(",").map((item) => item.trim()).filter((item) => item !== "");
  return items.length === 0 ? undefined : items;
}

/** An annotation's value, trimmed; `undefined` when absent or blank. */
export function annotationValue(pod: Pod, key: string): string | undefined {
  const text = pod.metadata?.annotations?.[key]?.trim();
  return text ? text : undefined;
}

/**
 * The networks `pod` names: annotation `openstack.vkedge.io/networks`, else a VM-Pod's
 * `vkedge.io/networks`, else `undefined` (the configured default networks apply).
 */
export function networkRefsOf(pod: Pod): string[] | undefined {
  return annotationList(pod, networksAnnotation) ??
    annotationList(pod, VM_POD_ANNOTATIONS.networks);
}

/**
 * The availability zone of `pod`'s server: annotation `openstack.vkedge.io/availability-zone`,
 * else the VM-Pod placement hints (`vkedge.io/placement-zone`, and `-host` as `zone:host`,
 * which Nova lets only admins ask for), else `configured`.
 */
export function availabilityZoneOf(pod: Pod, configured: string | undefined): string | undefined {
  const own = annotationValue(pod, availabilityZoneAnnotation);
  if (own !== undefined) return own;
  const zone = annotationValue(pod, VM_POD_ANNOTATIONS.zone);
  const host = annotationValue(pod, VM_POD_ANNOTATIONS.host);
  if (host !== undefined) return `${zone ?? configured ?? ""}:${host}`;
  return zone ?? configured;
}

/** What a pod's container needs of a flavor. */
export interface ServerSize {
  /** vCPUs (whole). */
  vcpus: number;
  /** Memory in MiB. */
  ramMiB: number;
  /** Whether the pod set cpu or memory itself (otherwise the defaults were used). */
  explicit: boolean;
}

function quantityOf(text: string, what: string): number {
  try {
    return parseQuantity(text);
  } catch (error) {
    throw new InvalidInputError(`${what}: expected a Kubernetes quantity, found "${text}"`, {
      cause: error,
    });
  }
}

/**
 * What the container needs: limits, else requests, else `defaults`; CPU rounded up to
 * whole vCPUs, memory up to whole MiB.
 */
export function serverSizeOf(
  container: Container,
  defaults: { cpu: string; memory: string },
): ServerSize {
  const limits = container.resources?.limits ?? {};
  const requests = container.resources?.requests ?? {};
  const cpu = limits.cpu ?? requests.cpu;
  const memory = limits.memory ?? requests.memory;
  const cpuText = String(cpu ?? defaults.cpu);
  quantityOf(cpuText, `container "${container.name}" cpu`);
  const vcpus = Math.max(1, quantityValue(cpuText));
  const bytes = quantityOf(
    String(memory ?? defaults.memory),
    `container "${container.name}" memory`,
  );
  return {
    vcpus,
    ramMiB: Math.max(1, Math.ceil(bytes / mebibyte)),
    explicit: cpu !== undefined || memory !== undefined,
  };
}

/** `m1.small (1 vCPU, 2048 MiB)`. */
export function describeFlavor(flavor: Flavor): string {
  return `${flavor.name} (${flavor.vcpus} vCPU, ${flavor.ram} MiB)`;
}

function namedFlavor(flavors: Flavor[], ref: string): Flavor | undefined {
  return flavors.find((flavor) => flavor.id === ref) ??
    flavors.find((flavor) => flavor.name === ref);
}

/** How {@linkcode chooseFlavor} picks. */
export interface FlavorChoice {
  /** The flavor an annotation names, and which annotation. */
  named?: { ref: string; annotation: string };
  /** The configured flavor of pods that set no size. */
  defaultFlavor?: string;
  /** Only these (names or ids) are candidates; all when absent. */
  allowed?: string[];
}

/**
 * The flavor of a server of `size`: the one named (by annotation, or the configured default
 * for pods that set no size), else the smallest enabled one with at least the vCPUs and
 * memory asked for (fewest vCPUs, then least memory, then least disk). Throws
 * `InvalidInputError` naming the flavors there are when none fits or the named one does
 * not exist.
 */
export function chooseFlavor(flavors: Flavor[], size: ServerSize, choice: FlavorChoice): Flavor {
  const bySize = (a: Flavor, b: Flavor) =>
    a.vcpus - b.vcpus || a.ram - b.ram || a.disk - b.disk || a.name.localeCompare(b.name);
  const usable = flavors.filter((flavor) => flavor["OS-FLV-DISABLED:disabled"] !== true)
    .sort(bySize);
  const names = usable.map(describeFlavor).join(", ") || "none";
  if (choice.named !== undefined) {
    const found = namedFlavor(usable, choice.named.ref);
    if (found === undefined) {
      throw new InvalidInputError(
        `annotation ${choice.named.annotation}: flavor "${choice.named.ref}" not found: expected one of ${names}`,
      );
    }
    return found;
  }
  if (!size.explicit && choice.defaultFlavor !== undefined) {
    const found = namedFlavor(usable, choice.defaultFlavor);
    if (found === undefined) {
      throw new InvalidInputError(
        `openstack provider config: flavors.default: flavor "${choice.defaultFlavor}" not found: expected one of ${names}`,
      );
    }
    return found;
  }
  const candidates = choice.allowed === undefined
    ? usable
    : usable.filter((flavor) =>
      choice.allowed!.includes(flavor.name) || choice.allowed!.includes(flavor.id)
    );
  const fitting = candidates.filter((flavor) =>
    flavor.vcpus >= size.vcpus && flavor.ram >= size.ramMiB
  );
  if (fitting.length === 0) {
    throw new InvalidInputError(
      `no flavor has at least ${size.vcpus} vCPU and ${size.ramMiB} MiB: the flavors${
        choice.allowed ? " allowed (flavors.allowed)" : ""
      } are ${
        candidates.map(describeFlavor).join(", ") || "none"
      }; lower the pod's cpu/memory, or name a flavor with annotation ${flavorAnnotation}`,
    );
  }
  return fitting[0];
}

/** Everything a `POST /servers` needs, resolved. */
export interface ServerRequest {
  /** Who the server serves. */
  identity: PodIdentity;
  /** Image id (and name, for the log). */
  image: { id: string; name: string };
  flavor: Flavor;
  /** Network ids (the first is the pod network), or none. */
  networks: { id: string; name: string }[] | typeof NO_NETWORK;
  /** Metadata: ownership, remembered spec, pod network. */
  metadata: Record<string, string>;
  tags: string[];
  /** cloud-init text. */
  userData: string;
  keyName?: string;
  securityGroups?: string[];
  availabilityZone?: string;
}

/** The body of `POST /servers` for `request` (microversion 2.52 or later). */
export function serverCreateBody(request: ServerRequest): Record<string, unknown> {
  const userData = base64Utf8(request.userData);
  if (userData.length > maxUserDataBase64) {
    throw new InvalidInputError(
      `openstack provider: pod ${request.identity.namespace}/${request.identity.name}: expected user data of at most ${maxUserDataBase64} bytes of base64, found ${userData.length}`,
    );
  }
  const networks = request.networks === NO_NETWORK
    ? NO_NETWORK
    : request.networks.map((network) => ({ uuid: network.id }));
  return {
    server: {
      name: serverNameFor(request.identity),
      imageRef: request.image.id,
      flavorRef: request.flavor.id,
      networks,
      metadata: request.metadata,
      tags: request.tags,
      user_data: userData,
      ...(request.keyName ? { key_name: request.keyName } : {}),
      ...(request.securityGroups && request.networks !== NO_NETWORK
        ? { security_groups: request.securityGroups.map((name) => ({ name })) }
        : {}),
      ...(request.availabilityZone ? { availability_zone: request.availabilityZone } : {}),
    },
  };
}

/** The first lifecycle line: `create requested: image tiny (id), flavor m1.nano (1 vCPU, 256 MiB), network private`. */
export function createRequestedText(request: ServerRequest): string {
  const networks = request.networks === NO_NETWORK
    ? "no network"
    : `network ${request.networks.map((network) => network.name || network.id).join(", ")}`;
  return `create requested: image ${request.image.name} (${request.image.id}), flavor ${
    describeFlavor(request.flavor)
  }, ${networks}${request.availabilityZone ? `, zone ${request.availabilityZone}` : ""}`;
}
