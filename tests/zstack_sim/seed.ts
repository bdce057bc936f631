/**
 * The simulator's seed: the zones, clusters, hosts, storage, images, offerings and L3
 * networks a fresh simulator starts with, from a YAML or JSON file or an object.
 * Entries refer to each other by name; sizes are bytes or quantities such as `64Gi`.
 *
 * @module
 */

import { parse as parseYaml } from "yaml";
import { z } from "zod";

const UNITS: Record<string, number> = {
  "": 1,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** Bytes, from a number or a quantity such as `64Gi`. */
const bytes = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\d+(K|M|G|T|Ki|Mi|Gi|Ti)?$/).transform((text) => {
    const [, digits, unit = ""] = /^(\d+)(\D*)$/.exec(text) ?? [];
    return Number(digits) * UNITS[unit];
  }),
]);

const uuid = z.string().regex(/^[0-9a-f]{32}$/, "a ZStack uuid is 32 lowercase hex digits")
  .optional();
const ipv4 = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}$/);

/** A primary or backup storage of a zone, with the type and URL it has when none is given. */
function storageSchema(defaults: { type: string; url: string }) {
  return z.array(z.strictObject({
    uuid,
    name: z.string(),
    zone: z.string(),
    type: z.string().default(defaults.type),
    url: z.string().default(defaults.url),
    totalCapacity: bytes,
  })).default([]);
}

const seedSchema = z.strictObject({
  zones: z.array(z.strictObject({ uuid, name: z.string(), description: z.string().optional() }))
    .min(1),
  clusters: z.array(z.strictObject({ uuid, name: z.string(), zone: z.string() })).default([]),
  hosts: z.array(z.strictObject({
    uuid,
    name: z.string(),
    cluster: z.string(),
    managementIp: ipv4,
    cpuNum: z.number().int().positive(),
    cpuSockets: z.number().int().positive().default(1),
    /** vCPUs offered; defaults to cpuNum (no over-provisioning). */
    totalCpuCapacity: z.number().int().positive().optional(),
    memorySize: bytes,
    state: z.enum(["Enabled", "Disabled", "PreMaintenance", "Maintenance"]).default("Enabled"),
    status: z.enum(["Connecting", "Connected", "Disconnected"]).default("Connected"),
  })).default([]),
  primaryStorages: storageSchema({ type: "LocalStorage", url: "/zstack_ps" }),
  backupStorages: storageSchema({ type: "ImageStoreBackupStorage", url: "/zstack_bs" }),
  images: z.array(z.strictObject({
    uuid,
    name: z.string(),
    url: z.string(),
    size: bytes,
    mediaType: z.enum(["RootVolumeTemplate", "DataVolumeTemplate", "ISO"]).default(
      "RootVolumeTemplate",
    ),
    format: z.enum(["qcow2", "raw", "iso"]).default("qcow2"),
    platform: z.string().default("Linux"),
    guestOsType: z.string().optional(),
    architecture: z.string().default("x86_64"),
    state: z.enum(["Enabled", "Disabled"]).default("Enabled"),
    status: z.string().default("Ready"),
    system: z.boolean().default(false),
  })).default([]),
  instanceOfferings: z.array(z.strictObject({
    uuid,
    name: z.string(),
    cpuNum: z.number().int().positive(),
    memorySize: bytes,
  })).default([]),
  diskOfferings: z.array(z.strictObject({ uuid, name: z.string(), diskSize: bytes })).default([]),
  l3Networks: z.array(z.strictObject({
    uuid,
    name: z.string(),
    zone: z.string(),
    category: z.enum(["Public", "Private", "System"]).default("Private"),
    system: z.boolean().default(false),
    dnsDomain: z.string().optional(),
    dns: z.array(ipv4).default([]),
    networkServices: z.array(z.string()).default(["DHCP", "Userdata"]),
    ipRanges: z.array(z.strictObject({
      uuid,
      startIp: ipv4,
      endIp: ipv4,
      netmask: ipv4,
      gateway: ipv4,
    })).min(1),
  })).default([]),
  /** Access keys of the admin account, for AccessKey-signed requests. */
  accessKeys: z.array(z.strictObject({
    accessKeyId: z.string().min(1),
    accessKeySecret: z.string().min(1),
  })).default([]),
});

/** A seed as written in a file (sizes may be quantities, most fields optional). */
export type SeedInput = z.input<typeof seedSchema>;

/** A validated seed with defaults filled in and sizes in bytes. */
export type SeedData = z.output<typeof seedSchema>;

/** The default seed file next to this module. */
export const DEFAULT_SEED_PATH = new URL("./seed.yaml", import.meta.url);

/** Validates a seed object, throwing with the offending path when it does not fit. */
export function parseSeed(input: unknown): SeedData {
  const result = seedSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(
      `invalid simulator seed at ${issue.path.join(".") || "(root)"}: ${issue.message}`,
    );
  }
  return result.data;
}

/** Reads and validates a YAML or JSON seed file. */
export async function loadSeed(path: string | URL = DEFAULT_SEED_PATH): Promise<SeedData> {
  const text = await Deno.readTextFile(path);
  return parseSeed(parseYaml(text));
}
