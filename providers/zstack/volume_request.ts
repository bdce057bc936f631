/**
 * From a PersistentVolumeClaim's `VolumeRequest` to a ZStack data volume and back, as
 * pure functions: what a request may ask for (`ReadWriteOnce` or `ReadWriteOncePod`, a
 * positive size, the StorageClass parameters `diskOffering` and `primaryStorage`), the
 * volume uuid derived from the cluster and the PV name (passed as `resourceUuid`, so a
 * repeated create finds the volume, also while its job runs), the ownership user tags
 * (cluster, node, claim, PV name) that `listVolumes` queries by, the
 * `CreateDataVolume` body, and a `VolumeInventory` as the contract's `ProvisionedVolume`.
 *
 * @module
 */

import {
  InvalidInputError,
  type ProvisionedVolume,
  type VolumeRequest,
} from "../../lib/provider.ts";
import type { DiskOffering, PrimaryStorage, Volume } from "./api_types.ts";
import type { ZStackConfig } from "./config.ts";
import { derivedUuid, nodeTag, tagPrefix, type VmOwner } from "./identity.ts";

/** The StorageClass parameters the provider reads. */
export const volumeParameters = ["diskOffering", "primaryStorage"] as const;
/** The access modes a data volume gives: it is attached to one VM at a time. */
export const volumeAccessModes: readonly string[] = ["ReadWriteOnce", "ReadWriteOncePod"];
/** Longest volume name (ZStack's limit on resource names). */
export const maxVolumeNameLength = 255;
/** Prefix of the tag naming the claim, `vkedge.io/claim:<namespace>/<name>`. */
export const claimTagPrefix = `${tagPrefix}claim:`;
/** Prefix of the tag naming the PersistentVolume, `vkedge.io/pv:<name>`. */
export const pvTagPrefix = `${tagPrefix}pv:`;
/** Volume attribute holding the disk offering's uuid, when the volume was made from one. */
export const diskOfferingAttribute = "zstack.vkedge.io/disk-offering";
/** Volume attribute holding the primary storage's uuid, once the volume lives on one. */
export const primaryStorageAttribute = "zstack.vkedge.io/primary-storage";

/** A name or uuid, and where it was written (for messages). */
export interface NamedRef {
  /** The name or uuid. */
  ref: string;
  /** `StorageClass parameter diskOffering`, `volumes.diskOffering of the configuration`, … */
  source: string;
}

/** A request as checked: what to create, and the names of offering and storage to use. */
export interface VolumePlan {
  /** The PV name, `pvc-<claim UID>`: the volume's name. */
  name: string;
  /** The claim, `namespace/name`. */
  claim: string;
  /** Least size in bytes. */
  sizeBytes: number;
  /** Disk offering, from the class or the configuration. */
  diskOffering?: NamedRef;
  /** Primary storage, from the class or the configuration. */
  primaryStorage?: NamedRef;
}

/** `volume <name> for claim <claim>`, for messages. */
export function describeVolumeRequest(request: { name: string; claim: string }): string {
  return `volume ${request.name} for claim ${request.claim}`;
}

/**
 * Checks `request` and fills in the configured defaults. Throws `InvalidInputError` for
 * a name ZStack cannot take, a size that is not a positive whole number of bytes, an
 * access mode a disk cannot give and a parameter the provider does not know.
 */
export function planVolume(
  request: VolumeRequest,
  defaults: ZStackConfig["volumes"],
): VolumePlan {
  const what = `zstack provider: ${describeVolumeRequest(request)}`;
  const { name, sizeBytes } = request;
  if (name.length === 0 || name.length > maxVolumeNameLength || name.trim() !== name) {
    throw new InvalidInputError(
      `${what}: expected a name of 1 to ${maxVolumeNameLength} characters without surrounding spaces, found "${name}"`,
    );
  }
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) {
    throw new InvalidInputError(
      `${what}: expected a size of a positive whole number of bytes, found ${sizeBytes}`,
    );
  }
  const refused = request.accessModes.filter((mode) => !volumeAccessModes.includes(mode));
  if (refused.length > 0) {
    throw new InvalidInputError(
      `${what}: expected access modes among ${volumeAccessModes.join(", ")}, found ${
        refused.join(", ")
      }: a ZStack data volume is attached to one VM at a time`,
    );
  }
  const known: readonly string[] = volumeParameters;
  const unknown = Object.keys(request.parameters).filter((key) => !known.includes(key)).sort();
  if (unknown.length > 0) {
    throw new InvalidInputError(
      `${what}: StorageClass parameter${unknown.length > 1 ? "s" : ""} ${
        unknown.map((key) => `"${key}"`).join(", ")
      } unknown: expected only ${known.join(" and ")}`,
    );
  }
  const diskOffering = chosen(request.parameters, defaults, "diskOffering");
  const primaryStorage = chosen(request.parameters, defaults, "primaryStorage");
  return {
    name,
    claim: request.claim,
    sizeBytes,
    ...(diskOffering ? { diskOffering } : {}),
    ...(primaryStorage ? { primaryStorage } : {}),
  };
}

/** The class parameter `key`, else the configured default, with where it came from. */
function chosen(
  parameters: Record<string, string>,
  defaults: ZStackConfig["volumes"],
  key: typeof volumeParameters[number],
): NamedRef | undefined {
  const given = parameters[key];
  if (given !== undefined && given !== "") {
    return { ref: given, source: `StorageClass parameter ${key}` };
  }
  const configured = defaults[key];
  return configured === undefined
    ? undefined
    : { ref: configured, source: `volumes.${key} of the provider configuration` };
}

/** The uuid of the volume named `name` in cluster `clusterName` (see {@linkcode derivedUuid}). */
export function volumeUuidFor(clusterName: string, name: string): Promise<string> {
  return derivedUuid(`${tagPrefix}volume:${clusterName}/${name}`);
}

/** The user tags of a volume: cluster, node, claim and PV name. */
export function volumeTags(plan: VolumePlan, owner: VmOwner): string[] {
  return [
    `${tagPrefix}cluster:${owner.clusterName}`,
    nodeTag(owner.clusterName, owner.nodeName),
    `${claimTagPrefix}${plan.claim}`,
    `${pvTagPrefix}${plan.name}`,
  ];
}

/** What the chosen names resolved to. */
export interface ResolvedVolume {
  /** The volume uuid, from {@linkcode volumeUuidFor}. */
  uuid: string;
  /** The disk offering, if the plan names one. */
  offering?: Pick<DiskOffering, "uuid">;
  /** The primary storage, if the plan names one. */
  primaryStorage?: Pick<PrimaryStorage, "uuid">;
}

/**
 * The body of `POST /v1/volumes/data`: the disk offering when there is one, else the size
 * (an offering smaller than the claim is grown afterwards), the primary storage when one
 * is named (else the volume is NotInstantiated until its first attach), the derived
 * `resourceUuid` and the ownership tags.
 */
export function volumeCreateBody(
  plan: VolumePlan,
  options: ResolvedVolume & { owner: VmOwner },
): { params: Record<string, unknown>; userTags: string[] } {
  const { uuid, offering, primaryStorage, owner } = options;
  return {
    params: {
      name: plan.name,
      description:
        `PersistentVolume ${plan.name} of claim ${plan.claim}, provisioned by vkedge node ${owner.nodeName} of cluster ${owner.clusterName}`,
      ...(offering ? { diskOfferingUuid: offering.uuid } : { diskSize: plan.sizeBytes }),
      ...(primaryStorage ? { primaryStorageUuid: primaryStorage.uuid } : {}),
      resourceUuid: uuid,
    },
    userTags: volumeTags(plan, owner),
  };
}

/** Whether a volume can be attached: Enabled, and Ready or NotInstantiated (not Creating). */
export function isVolumeReady(volume: Volume): boolean {
  return volume.state !== "Disabled" &&
    (volume.status === "Ready" || volume.status === "NotInstantiated");
}

/** The value of the tag starting with `prefix`, if any. */
export function tagValue(tags: readonly string[], prefix: string): string | undefined {
  return tags.find((tag) => tag.startsWith(prefix))?.slice(prefix.length);
}

/**
 * A data volume as the contract has it: named by its PV tag (the ZStack name may have
 * been edited), attached to `attachedTo` (the pods of its VM, as the caller found them).
 */
export function toProvisionedVolume(
  volume: Volume,
  options: { tags: readonly string[]; attachedTo: readonly string[] },
): ProvisionedVolume {
  const attributes: Record<string, string> = {};
  if (volume.diskOfferingUuid) attributes[diskOfferingAttribute] = volume.diskOfferingUuid;
  if (volume.primaryStorageUuid) attributes[primaryStorageAttribute] = volume.primaryStorageUuid;
  return {
    id: volume.uuid,
    name: tagValue(options.tags, pvTagPrefix) ?? volume.name,
    sizeBytes: volume.size ?? 0,
    attachedTo: [...options.attachedTo],
    ready: isVolumeReady(volume),
    ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
  };
}
