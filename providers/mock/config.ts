/**
 * Configuration of the mock provider: node capacity, pod address range, fault file, state
 * file, the simulated VMs' latencies and hosts, the simulated volumes, and a few cosmetic
 * node facts, validated once with zod.
 *
 * @module
 */

import { z } from "zod";
import { errorMessage, parseProviderConfig, parseQuantity } from "../../lib/provider_kit/mod.ts";
import { parseIpv4 } from "./ip_pool.ts";

const resourceNamePattern =
  /^(?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-._A-Za-z0-9]*[A-Za-z0-9])?$/;

/** A Kubernetes quantity, written as text or as a number, kept as text. */
const quantity = z.union([z.string(), z.number()]).transform((value, context) => {
  const text = String(value);
  try {
    parseQuantity(text);
  } catch (error) {
    context.addIssue({ code: "custom", message: errorMessage(error) });
    return z.NEVER;
  }
  return text;
});

const resourceName = z.string().refine((name) => resourceNamePattern.test(name), {
  error: (issue) =>
    `expected a resource name such as "cpu" or "example.com/gpu", found "${String(issue.input)}"`,
});

/** Parsed IPv4 CIDR block. */
export interface Ipv4Cidr {
  /** The block as written, such as `10.233.0.0/16`. */
  text: string;
  /** Network address as an unsigned 32-bit integer. */
  base: number;
  /** Prefix length. */
  prefix: number;
}

const podCidr = z.string().transform((text, context): Ipv4Cidr => {
  const [address, prefixText, ...rest] = text.split("/");
  const base = parseIpv4(address);
  const prefix = Number(prefixText);
  if (
    base === undefined || rest.length > 0 || !/^\d{1,2}$/.test(prefixText ?? "") ||
    prefix < 8 || prefix > 30
  ) {
    context.addIssue({
      code: "custom",
      message:
        `expected an IPv4 CIDR with a prefix from /8 to /30 such as "10.233.0.0/16", found "${text}"`,
    });
    return z.NEVER;
  }
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) {
    context.addIssue({
      code: "custom",
      message: `expected "${text}" to be a network address (host bits zero)`,
    });
    return z.NEVER;
  }
  return { text, base, prefix };
});

/** Default capacity, as upstream virtual-kubelet's mock plus ephemeral storage. */
export const defaultCapacity: Readonly<Record<string, string>> = {
  cpu: "20",
  memory: "100Gi",
  pods: "20",
  "ephemeral-storage": "100Gi",
};

const delayMs = z.number().int().min(0).max(600_000);

const hostName = z.string().regex(/^[A-Za-z0-9]([-._A-Za-z0-9]*[A-Za-z0-9])?$/, {
  error: (issue) =>
    `expected a host name of letters, digits, "-", "." and "_", such as "mock-host-1", found "${
      String(issue.input)
    }"`,
});

/** The hosts of the simulated VMs unless the configuration names others. */
export const defaultVmHosts: readonly string[] = ["mock-host-1", "mock-host-2"];

/** How the simulated VM behind every pod behaves: how long its actions take, where it runs. */
const vmSchema = z.strictObject({
  /** Milliseconds a start, a graceful stop or a reboot takes (a forced stop is at once). */
  powerDelayMs: delayMs.default(200),
  /** Milliseconds a snapshot takes to become ready. */
  snapshotDelayMs: delayMs.default(200),
  /** Milliseconds a live migration takes. */
  migrationDelayMs: delayMs.default(200),
  /** Hosts VMs run on and migrate between; a new VM gets one by its pod's UID. */
  hosts: z.array(hostName).min(1).default(() => [...defaultVmHosts]).refine(
    (hosts) => new Set(hosts).size === hosts.length,
    { error: (issue) => `expected distinct host names, found ${JSON.stringify(issue.input)}` },
  ),
});

const offeringName = z.string().regex(/^[A-Za-z0-9]([-._A-Za-z0-9]*[A-Za-z0-9])?$/, {
  error: (issue) =>
    `expected a disk offering name of letters, digits, "-", "." and "_", such as "standard", found "${
      String(issue.input)
    }"`,
});

/** The disk offering of volumes whose StorageClass names none. */
export const defaultDiskOffering = "standard";

/** How the simulated volumes (PersistentVolumes) behave. */
const volumesSchema = z.strictObject({
  /** Milliseconds a volume takes to be created (ready). */
  createDelayMs: delayMs.default(200),
  /** Bytes all volumes together may take; a create or expand beyond is a capacity refusal. */
  capacity: quantity.default("1Ti"),
  /**
   * The disk offerings the StorageClass parameter `diskOffering` may name; the first is
   * used when it names none.
   */
  diskOfferings: z.array(offeringName).min(1).default(() => [defaultDiskOffering]),
});

/** zod schema of the mock provider's configuration file (YAML or JSON). */
export const mockConfigSchema = z.strictObject({
  /** Node capacity (= allocatable); unspecified cpu/memory/pods/ephemeral-storage take defaults. */
  capacity: z.record(resourceName, quantity).default({}).transform((given) => ({
    ...defaultCapacity,
    ...given,
  })),
  /** Block pod IPs are taken from. */
  podCidr: podCidr.prefault("10.233.0.0/16"),
  /**
   * File whose content injects faults: `ping`, `create`, `update`, `delete`, and for the
   * VMs `power`, `snapshot`, `migrate`, and `volume` for the volumes (any order).
   */
  faultFile: z.string().min(1).optional(),
  /**
   * File the pods and volumes are kept in, so that they outlive the agent process as a
   * real IaaS's machines and disks do: read at start-up, rewritten atomically before every
   * change resolves. Without it they live in memory only.
   */
  stateFile: z.string().min(1).optional(),
  /** The simulated VMs: latencies of power, snapshot and migration, and the hosts. */
  vm: vmSchema.prefault({}),
  /** The simulated volumes: creation latency, total capacity and disk offerings. */
  volumes: volumesSchema.prefault({}),
  /** Seconds between heartbeat lines in container logs. */
  logHeartbeatSeconds: z.number().int().min(1).max(86_400).default(30),
  /** `spec.providerID` of the node. */
  providerID: z.string().min(1).optional(),
  /** Extra node labels. */
  labels: z.record(z.string(), z.string()).default({}),
  /** Cosmetic `nodeInfo` fields. */
  nodeInfo: z.strictObject({
    architecture: z.string().min(1).optional(),
    kernelVersion: z.string().min(1).optional(),
    osImage: z.string().min(1).optional(),
  }).default({}),
});

/** Validated mock provider configuration. */
export type MockConfig = z.output<typeof mockConfigSchema>;

/**
 * Validates the mock provider configuration: an object, YAML/JSON text, or `undefined` for
 * all defaults. Throws `InvalidInputError` naming every offending field.
 */
export function parseMockConfig(raw: unknown): MockConfig {
  return parseProviderConfig(mockConfigSchema, raw, { provider: "mock" });
}
