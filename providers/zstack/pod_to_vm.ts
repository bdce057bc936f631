/**
 * From a pod to the ZStack VM request, as pure functions: whether the pod can become one
 * VM at all, which ZStack image its container names, how large the VM is, which
 * annotations choose networks, offering and placement (the zstack ones and a VM-Pod's
 * generic `vkedge.io/…` ones, the zstack ones winning), and the `CreateVmInstance` body
 * itself.
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
import type { Host, Image, InstanceOffering, L3Network, ZoneOrCluster } from "./api_types.ts";
import {
  isZStackUuid,
  ownerTags,
  type PodIdentity,
  vmNameForPod,
  type VmOwner,
} from "./identity.ts";
import { base64Utf8, userDataAnnotation } from "./user_data.ts";

/** Annotation naming the instance offering (name or uuid) that sizes the VM. */
export const instanceOfferingAnnotation = "zstack.vkedge.io/instance-offering";
/** Annotation listing L3 networks (names or uuids, comma-separated); the first is the pod network. */
export const l3NetworksAnnotation = "zstack.vkedge.io/l3-networks";
/** Prefix of container images that name ZStack images: `zstack/<image name or uuid>`. */
export const imagePrefix = "zstack/";

const mebibyte = 2 ** 20;

/** A container image as a ZStack image reference. */
export type ImageRef = { kind: "uuid"; uuid: string } | { kind: "name"; name: string };

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
 * Reads `zstack/<name or uuid>` (after applying `aliases`, keyed by what follows
 * `zstack/`). Throws `InvalidInputError` saying what to write instead.
 */
export function parseImageRef(image: string, aliases: Record<string, string> = {}): ImageRef {
  if (!image.startsWith(imagePrefix) || image.length === imagePrefix.length) {
    throw new InvalidInputError(
      `container image: expected "zstack/<ZStack image name or uuid>" such as "zstack/ubuntu-22.04", found "${image}"`,
    );
  }
  const reference = image.slice(imagePrefix.length);
  const target = Object.hasOwn(aliases, reference) ? aliases[reference] : reference;
  return isZStackUuid(target) ? { kind: "uuid", uuid: target } : { kind: "name", name: target };
}

/**
 * Checks that the pod can become one VM: namespace, name and UID, exactly one container,
 * no init or ephemeral containers, a `zstack/…` image. The identity it returns carries the
 * workload UID (a VM-Pod's VirtualMachine UID, else the pod UID). Throws
 * `InvalidInputError` saying what to change.
 */
export function validatePod(pod: Pod, aliases: Record<string, string> = {}): ValidatedPod {
  const namespace = pod.metadata?.namespace ?? "";
  const name = pod.metadata?.name ?? "";
  const uid = pod.metadata?.uid ?? "";
  if (namespace === "" || name === "" || uid === "") {
    throw new InvalidInputError(
      `zstack provider: expected a pod with metadata.namespace, metadata.name and metadata.uid, found namespace "${namespace}", name "${name}" and uid "${uid}"`,
    );
  }
  const key = `${namespace}/${name}`;
  const containers = pod.spec?.containers ?? [];
  if (containers.length !== 1) {
    throw new InvalidInputError(
      `zstack provider: pod ${key}: expected exactly one container (one VM per pod), found ${containers.length}${
        containers.length > 1
          ? ` (${
            containers.map((c) => `"${c.name}"`).join(", ")
          }): run them in one VM image or split them into separate pods`
          : ""
      }`,
    );
  }
  const init = pod.spec?.initContainers ?? [];
  if (init.length > 0) {
    throw new InvalidInputError(
      `zstack provider: pod ${key}: expected no init containers, found ${init.length} (${
        init.map((c) => `"${c.name}"`).join(", ")
      }): move their work into the VM's cloud-init user data (annotation ${userDataAnnotation})`,
    );
  }
  if ((pod.spec?.ephemeralContainers ?? []).length > 0) {
    throw new InvalidInputError(
      `zstack provider: pod ${key}: expected no ephemeral containers, found ${pod.spec?.ephemeralContainers?.length}: a VM cannot run debug containers`,
    );
  }
  const container = containers[0];
  let image: ImageRef;
  try {
    image = parseImageRef(container.image ?? "", aliases);
  } catch (error) {
    throw new InvalidInputError(
      `zstack provider: pod ${key}, container "${container.name}": ${errorMessage(error)}`,
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

/**
 * The L3 networks `pod` names: annotation `zstack.vkedge.io/l3-networks`, else a VM-Pod's
 * `vkedge.io/networks`, else `undefined` (the configured default networks apply).
 */
export function networkRefsOf(pod: Pod): string[] | undefined {
  return annotationList(pod, l3NetworksAnnotation) ??
    annotationList(pod, VM_POD_ANNOTATIONS.networks);
}

/** Where a VM-Pod asks for its VM: zone, cluster and host by name or uuid, each optional. */
export interface PlacementHints {
  /** From `vkedge.io/placement-zone`. */
  zone?: string;
  /** From `vkedge.io/placement-cluster`. */
  cluster?: string;
  /** From `vkedge.io/placement-host`. */
  host?: string;
}

/** The placement hints of `pod`; blank annotations count as absent. */
export function placementHintsOf(pod: Pod): PlacementHints {
  const annotations = pod.metadata?.annotations ?? {};
  const hints: PlacementHints = {};
  for (const level of ["zone", "cluster", "host"] as const) {
    const text = annotations[VM_POD_ANNOTATIONS[level]]?.trim();
    if (text) hints[level] = text;
  }
  return hints;
}

/** One level of a placement to resolve. */
export interface PlacementRef {
  /** Name or uuid. */
  ref: string;
  /** The pod annotation that gave it; absent when it is the configured one. */
  annotation?: string;
}

/** The names of a placement to resolve: the zone, and the cluster and host narrowing it. */
export interface PlacementRefs {
  /** The zone. */
  zone: PlacementRef;
  /** The cluster, looked up in the zone. */
  cluster?: PlacementRef;
  /** The host, looked up in the cluster, else in the zone. */
  host?: PlacementRef;
}

/**
 * The placement of a pod's VM: the configured one with the pod's hints over it. A hint
 * replaces the configured level it names and drops the configured levels below it; the
 * configured levels above it stay and scope its lookup (a host hint alone is looked up in
 * the configured cluster, else the configured zone).
 */
export function placementRefsFor(
  configured: { zone: string; cluster?: string; host?: string },
  hints: PlacementHints,
): PlacementRefs {
  const hinted = (level: keyof PlacementHints, ref: string): PlacementRef => ({
    ref,
    annotation: VM_POD_ANNOTATIONS[level],
  });
  const zone = hints.zone !== undefined ? hinted("zone", hints.zone) : { ref: configured.zone };
  const cluster = hints.cluster !== undefined
    ? hinted("cluster", hints.cluster)
    : hints.zone === undefined && configured.cluster !== undefined
    ? { ref: configured.cluster }
    : undefined;
  const host = hints.host !== undefined
    ? hinted("host", hints.host)
    : hints.zone === undefined && hints.cluster === undefined && configured.host !== undefined
    ? { ref: configured.host }
    : undefined;
  return { zone, ...(cluster ? { cluster } : {}), ...(host ? { host } : {}) };
}

/** CPU and memory of a VM. */
export interface VmSize {
  /** vCPUs. */
  cpuNum: number;
  /** Bytes, a whole number of MiB. */
  memorySize: number;
  /** Whether the pod set cpu or memory itself (otherwise the defaults were used). */
  explicit: boolean;
}

function quantityOf(text: string, what: string): number {
  try {
    return parseQuantity(text);
  } catch (error) {
    throw new InvalidInputError(
      `${what}: expected a Kubernetes quantity, found "${text}"`,
      { cause: error },
    );
  }
}

/**
 * The VM size of a container: limits, else requests, else `defaults`; CPU rounded up to
 * whole vCPUs, memory up to whole MiB.
 */
export function vmSizeOf(container: Container, defaults: { cpu: string; memory: string }): VmSize {
  const limits = container.resources?.limits ?? {};
  const requests = container.resources?.requests ?? {};
  const cpu = limits.cpu ?? requests.cpu;
  const memory = limits.memory ?? requests.memory;
  const cpuText = String(cpu ?? defaults.cpu);
  quantityOf(cpuText, `container "${container.name}" cpu`);
  const cpuNum = Math.max(1, quantityValue(cpuText));
  const bytes = quantityOf(
    String(memory ?? defaults.memory),
    `container "${container.name}" memory`,
  );
  const memorySize = Math.max(1, Math.ceil(bytes / mebibyte)) * mebibyte;
  return { cpuNum, memorySize, explicit: cpu !== undefined || memory !== undefined };
}

/** Where VMs are created: the zone, narrowed down to a cluster or a host. */
export interface Placement {
  /** The zone. */
  zone: ZoneOrCluster;
  /** The cluster, when configured. */
  cluster?: ZoneOrCluster;
  /** The host, when configured. */
  host?: Host;
}

/** Everything a `CreateVmInstance` needs, resolved. */
export interface VmRequest {
  /** Who the VM serves. */
  identity: PodIdentity;
  /** Its cluster and node, for the ownership tags. */
  owner: VmOwner;
  /** The VM uuid (`resourceUuid`). */
  uuid: string;
  /** The remembered pod spec. */
  description: string;
  /** The root-volume template. */
  image: Image;
  /** L3 networks; the first is the default one. */
  networks: L3Network[];
  /** Zone, cluster or host. */
  placement: Placement;
  /** The instance offering, or else `size`. */
  offering?: InstanceOffering;
  /** CPU and memory when no offering sizes the VM. */
  size: VmSize;
  /** The cloud-init user data (text). */
  userData: string;
}

/** The body of `POST /v1/vm-instances` for `request`: params, user data and owner tags. */
export function vmCreateBody(request: VmRequest): Record<string, unknown> {
  const { placement, offering, size, networks } = request;
  return {
    params: {
      name: vmNameForPod(request.identity),
      description: request.description,
      imageUuid: request.image.uuid,
      l3NetworkUuids: networks.map((network) => network.uuid),
      defaultL3NetworkUuid: networks[0].uuid,
      resourceUuid: request.uuid,
      strategy: "InstantStart",
      ...(placement.host
        ? { hostUuid: placement.host.uuid }
        : placement.cluster
        ? { clusterUuid: placement.cluster.uuid }
        : { zoneUuid: placement.zone.uuid }),
      ...(offering
        ? { instanceOfferingUuid: offering.uuid }
        : { cpuNum: size.cpuNum, memorySize: size.memorySize }),
    },
    systemTags: [`userdata::${base64Utf8(request.userData)}`],
    userTags: ownerTags(request.identity, request.owner),
  };
}

function gibibytes(bytes: number): string {
  return `${Math.round((bytes / 2 ** 30) * 10) / 10} GiB`;
}

/** The first lifecycle line of a VM: `create requested: image cirros (uuid), 1 vCPU, 0.5 GiB, L3 l3-default`. */
export function createRequestedText(request: VmRequest): string {
  const { offering, size, image, networks } = request;
  const sizeText = offering
    ? `instance offering ${offering.name} (${offering.cpuNum ?? "?"} vCPU, ${
      offering.memorySize === undefined ? "?" : gibibytes(offering.memorySize)
    })`
    : `${size.cpuNum} vCPU, ${gibibytes(size.memorySize)}`;
  return `create requested: image ${image.name} (${image.uuid}), ${sizeText}, L3 ${
    networks.map((network) => network.name || network.uuid).join(", ")
  }`;
}
