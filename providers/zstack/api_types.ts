/**
 * zod schemas of the ZStack REST replies the client reads. ZStack serializes with Gson:
 * absent means null, integers may arrive as doubles (`8.589934592E9`), dates come as
 * `"Jun 7, 2017 9:20:28 PM"` without a zone. The schemas are therefore lenient about
 * numbers, booleans and dates, keep unknown fields, and only insist on what the provider
 * needs (a uuid, a state).
 *
 * @module
 */

import { z } from "zod";

const monthIndex: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

// Gson's default `MMM d, yyyy h:mm:ss a`; newer JDKs put U+202F before AM/PM.
const gsonDate =
  /^([A-Z][a-z]{2}) (\d{1,2}), (\d{4}),? (\d{1,2}):(\d{2}):(\d{2})[\s\u202f]?([AP]M)$/;

/**
 * Parses a ZStack date: Gson's `"Jun 7, 2017 9:20:28 PM"` (read as UTC, since the server
 * sends no zone), an ISO 8601 string or epoch milliseconds. Returns `undefined` for
 * anything else rather than failing the whole reply.
 */
export function parseZStackDate(value: unknown): Date | undefined {
  if (typeof value === "number") {
    return Number.isFinite(value) ? new Date(value) : undefined;
  }
  if (typeof value !== "string") return undefined;
  const match = gsonDate.exec(value.trim());
  if (match !== null) {
    const [, month, day, year, hour, minute, second, half] = match;
    const monthNumber = monthIndex[month];
    if (monthNumber === undefined) return undefined;
    const hour12 = Number(hour) % 12;
    const hour24 = half === "PM" ? hour12 + 12 : hour12;
    return new Date(
      Date.UTC(Number(year), monthNumber, Number(day), hour24, Number(minute), Number(second)),
    );
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const parsed = new Date(value);
    return Number.isNaN(parsed.getTime()) ? undefined : parsed;
  }
  return undefined;
}

/** A number that may arrive as a JSON number or a numeric string (`"8.589934592E9"`). */
export const lenientNumber = z.union([z.number(), z.string()]).transform((value, context) => {
  const number = typeof value === "number" ? value : Number(value.trim());
  if (value === "" || !Number.isFinite(number)) {
    context.addIssue({ code: "custom", message: `expected a number, found "${String(value)}"` });
    return z.NEVER;
  }
  return number;
});

/** A boolean that may arrive as `true` or `"true"`. */
export const lenientBoolean = z.union([z.boolean(), z.string()]).transform((value) =>
  typeof value === "boolean" ? value : value.trim().toLowerCase() === "true"
);

/** A date in any form {@linkcode parseZStackDate} reads; unparsable dates become `undefined`. */
export const lenientDate = z.unknown().transform((value) => parseZStackDate(value));

function optional<T extends z.ZodType>(schema: T) {
  // Gson omits nulls, but other servers and proxies may send them.
  return schema.nullish().transform((value) => value ?? undefined);
}

/** `ErrorCode` of a failed API call (503 body or failed job), with its chain of causes. */
export interface ZStackErrorCode {
  /** `PREFIX.NNNN`, such as `SYS.1007`. */
  code: string;
  /** Fixed description of the code. */
  description?: string;
  /** The formatted message. */
  details?: string;
  /** Extra explanation, when the server has one. */
  elaboration?: string;
  /** The underlying error. */
  cause?: ZStackErrorCode;
  /** Several errors at once (ErrorCodeList). */
  causes?: ZStackErrorCode[];
}

/** zod schema of {@linkcode ZStackErrorCode}. */
export const errorCodeSchema: z.ZodType<ZStackErrorCode> = z.lazy(() =>
  z.looseObject({
    code: z.string(),
    description: optional(z.string()),
    details: optional(z.string()),
    elaboration: optional(z.string()),
    cause: optional(errorCodeSchema),
    causes: optional(z.array(errorCodeSchema)),
  })
);

/** A 503 body: `{"error": ErrorCode}`. */
export const errorReplySchema = z.looseObject({ error: errorCodeSchema });

/** The 202 answer of an async call. */
export const asyncReplySchema = z.looseObject({
  location: z.string().min(1),
  apiTimeout: optional(lenientNumber),
});

/** `SessionInventory`, the result of a login. */
export const sessionSchema = z.looseObject({
  uuid: z.string().min(1),
  accountUuid: optional(z.string()),
  userUuid: optional(z.string()),
  expiredDate: optional(lenientDate),
  createDate: optional(lenientDate),
});

/** Reply of `PUT /v1/accounts/login`. */
export const loginReplySchema = z.looseObject({ inventory: sessionSchema });

/** Reply of `GET /v1/accounts/sessions/{uuid}/valid`. */
export const sessionValidReplySchema = z.looseObject({ valid: lenientBoolean });

/** One IP of a NIC (`usedIps[]`). */
export const usedIpSchema = z.looseObject({
  ip: optional(z.string()),
  ipVersion: optional(lenientNumber),
  l3NetworkUuid: optional(z.string()),
  netmask: optional(z.string()),
  gateway: optional(z.string()),
});

/** `VmNicInventory`. */
export const vmNicSchema = z.looseObject({
  uuid: optional(z.string()),
  l3NetworkUuid: optional(z.string()),
  ip: optional(z.string()),
  mac: optional(z.string()),
  netmask: optional(z.string()),
  gateway: optional(z.string()),
  ipVersion: optional(lenientNumber),
  deviceId: optional(lenientNumber),
  usedIps: z.array(usedIpSchema).nullish().transform((value) => value ?? []),
});

/** `VmInstanceInventory`, reduced to what the provider reads. */
export const vmInstanceSchema = z.looseObject({
  uuid: z.string().min(1),
  name: z.string().default(""),
  description: optional(z.string()),
  zoneUuid: optional(z.string()),
  clusterUuid: optional(z.string()),
  hostUuid: optional(z.string()),
  lastHostUuid: optional(z.string()),
  imageUuid: optional(z.string()),
  instanceOfferingUuid: optional(z.string()),
  rootVolumeUuid: optional(z.string()),
  defaultL3NetworkUuid: optional(z.string()),
  type: optional(z.string()),
  state: z.string().min(1),
  cpuNum: optional(lenientNumber),
  memorySize: optional(lenientNumber),
  createDate: optional(lenientDate),
  lastOpDate: optional(lenientDate),
  vmNics: z.array(vmNicSchema).nullish().transform((value) => value ?? []),
});

/** A VM as the provider sees it. */
export type VmInstance = z.output<typeof vmInstanceSchema>;

/** `VolumeInventory`, reduced to what the provider reads. */
export const volumeSchema = z.looseObject({
  uuid: z.string().min(1),
  name: z.string().default(""),
  description: optional(z.string()),
  vmInstanceUuid: optional(z.string()),
  primaryStorageUuid: optional(z.string()),
  diskOfferingUuid: optional(z.string()),
  type: optional(z.string()),
  deviceId: optional(lenientNumber),
  size: optional(lenientNumber),
  state: optional(z.string()),
  status: optional(z.string()),
});

/** A volume (root or data disk). */
export type Volume = z.output<typeof volumeSchema>;

/** `VolumeSnapshotInventory`, reduced to what the provider reads. */
export const volumeSnapshotSchema = z.looseObject({
  uuid: z.string().min(1),
  name: z.string().default(""),
  description: optional(z.string()),
  volumeUuid: z.string().min(1),
  volumeType: optional(z.string()),
  size: optional(lenientNumber),
  state: optional(z.string()),
  status: z.string().min(1),
  createDate: optional(lenientDate),
});

/** A snapshot of one volume. */
export type VolumeSnapshot = z.output<typeof volumeSnapshotSchema>;

/** `HostInventory`. */
export const hostSchema = z.looseObject({
  uuid: z.string().min(1),
  name: z.string().default(""),
  zoneUuid: optional(z.string()),
  clusterUuid: optional(z.string()),
  managementIp: optional(z.string()),
  state: optional(z.string()),
  status: optional(z.string()),
  architecture: optional(z.string()),
  cpuNum: optional(lenientNumber),
  totalCpuCapacity: optional(lenientNumber),
  availableCpuCapacity: optional(lenientNumber),
  totalMemoryCapacity: optional(lenientNumber),
  availableMemoryCapacity: optional(lenientNumber),
});

/** A hypervisor host. */
export type Host = z.output<typeof hostSchema>;

/** `ImageInventory`. */
export const imageSchema = z.looseObject({
  uuid: z.string().min(1),
  name: z.string().default(""),
  state: optional(z.string()),
  status: optional(z.string()),
  mediaType: optional(z.string()),
  format: optional(z.string()),
  platform: optional(z.string()),
  architecture: optional(z.string()),
  system: optional(lenientBoolean),
});

/** An image. */
export type Image = z.output<typeof imageSchema>;

/** `InstanceOfferingInventory`. */
export const instanceOfferingSchema = z.looseObject({
  uuid: z.string().min(1),
  name: z.string().default(""),
  cpuNum: optional(lenientNumber),
  memorySize: optional(lenientNumber),
  state: optional(z.string()),
  type: optional(z.string()),
});

/** An instance offering. */
export type InstanceOffering = z.output<typeof instanceOfferingSchema>;

/** `DiskOfferingInventory`. */
export const diskOfferingSchema = z.looseObject({
  uuid: z.string().min(1),
  name: z.string().default(""),
  diskSize: optional(lenientNumber),
  state: optional(z.string()),
});

/** A disk offering: the size (and storage type) of data volumes. */
export type DiskOffering = z.output<typeof diskOfferingSchema>;

/** `PrimaryStorageInventory`, reduced to what the provider reads. */
export const primaryStorageSchema = z.looseObject({
  uuid: z.string().min(1),
  name: z.string().default(""),
  zoneUuid: optional(z.string()),
  type: optional(z.string()),
  state: optional(z.string()),
  status: optional(z.string()),
  availableCapacity: optional(lenientNumber),
});

/** A primary storage, where volumes live. */
export type PrimaryStorage = z.output<typeof primaryStorageSchema>;

/** `L3NetworkInventory`. */
export const l3NetworkSchema = z.looseObject({
  uuid: z.string().min(1),
  name: z.string().default(""),
  zoneUuid: optional(z.string()),
  state: optional(z.string()),
  system: optional(lenientBoolean),
  category: optional(z.string()),
});

/** An L3 network. */
export type L3Network = z.output<typeof l3NetworkSchema>;

/** `ZoneInventory` and `ClusterInventory` share what the provider reads. */
export const zoneOrClusterSchema = z.looseObject({
  uuid: z.string().min(1),
  name: z.string().default(""),
  zoneUuid: optional(z.string()),
  state: optional(z.string()),
  hypervisorType: optional(z.string()),
});

/** A zone or a cluster. */
export type ZoneOrCluster = z.output<typeof zoneOrClusterSchema>;

/** `UserTagInventory`. */
export const userTagSchema = z.looseObject({
  uuid: z.string().min(1),
  resourceUuid: z.string().min(1),
  resourceType: optional(z.string()),
  tag: z.string(),
  type: optional(z.string()),
});

/** A user tag. */
export type UserTag = z.output<typeof userTagSchema>;

/** Reply of `GET /v1/hosts/capacities/cpu-memory`. */
export const cpuMemoryCapacitySchema = z.looseObject({
  totalCpu: lenientNumber,
  availableCpu: lenientNumber,
  totalMemory: lenientNumber,
  availableMemory: lenientNumber,
  managedCpuNum: optional(lenientNumber),
  resourceType: optional(z.string()),
});

/** CPU (vCPUs) and memory (bytes) of the hosts of a zone, cluster or host list. */
export type CpuMemoryCapacity = z.output<typeof cpuMemoryCapacitySchema>;

const optionalTotal = optional(lenientNumber);

/** `{"inventory": X}`: the result of most async calls. */
export function inventoryReplySchema<T extends z.ZodType>(
  inventory: T,
): z.ZodObject<{ inventory: T }, z.core.$loose> {
  return z.looseObject({ inventory });
}

/** `{"inventories": [X], "total"?}`: the reply of every query. */
export function queryReplySchema<T extends z.ZodType>(
  inventory: T,
): z.ZodObject<{ inventories: z.ZodArray<T>; total: typeof optionalTotal }, z.core.$loose> {
  return z.looseObject({ inventories: z.array(inventory), total: optionalTotal });
}

/** Any JSON object: for calls whose result the provider ignores (`{}` of destroy, expunge). */
export const emptyReplySchema = z.looseObject({});
