/**
 * Configuration of the mock provider: node capacity, pod address range, fault file, state
 * file and a few cosmetic node facts, validated once with zod.
 *
 * @module
 */

import { z } from "zod";
import { parse as parseYaml } from "yaml";
import { InvalidInputError } from "../../lib/provider.ts";
import { errorMessage } from "../../lib/errors.ts";

const quantityPattern = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/;
const resourceNamePattern =
  /^(?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-._A-Za-z0-9]*[A-Za-z0-9])?$/;

const suffixMultipliers: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** Tells whether `value` is a Kubernetes resource quantity such as `100Gi`, `500m` or `2`. */
export function isQuantity(value: string): boolean {
  return quantityPattern.test(value);
}

/**
 * Converts a Kubernetes quantity to a plain number (`"100Mi"` → 104857600, `"250m"` → 0.25).
 * Throws for anything that is not a quantity.
 */
export function quantityToNumber(value: string): number {
  const match = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/.exec(
    value,
  );
  if (match === null) {
    throw new InvalidInputError(
      `expected a Kubernetes quantity such as "100Gi" or "500m", found "${value}"`,
    );
  }
  const [, digits, suffix = ""] = match;
  if (suffix.startsWith("e") || suffix.startsWith("E")) return Number(digits + suffix);
  return Number(digits) * suffixMultipliers[suffix];
}

const quantity = z.union([z.string(), z.number()]).transform((value, context) => {
  const text = String(value);
  if (!isQuantity(text)) {
    context.addIssue({
      code: "custom",
      message: `expected a Kubernetes quantity such as "100Gi" or "500m", found "${text}"`,
    });
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

function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
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

/** zod schema of the mock provider's configuration file (YAML or JSON). */
export const mockConfigSchema = z.strictObject({
  /** Node capacity (= allocatable); unspecified cpu/memory/pods/ephemeral-storage take defaults. */
  capacity: z.record(resourceName, quantity).default({}).transform((given) => ({
    ...defaultCapacity,
    ...given,
  })),
  /** Block pod IPs are taken from. */
  podCidr: podCidr.prefault("10.233.0.0/16"),
  /** File whose content injects faults: `ping`, `create`, `update`, `delete` (any order). */
  faultFile: z.string().min(1).optional(),
  /**
   * File the pods are kept in, so that they outlive the agent process as a real IaaS's
   * machines do: read at start-up, rewritten atomically before every create, update and
   * delete resolves. Without it pods live in memory only.
   */
  stateFile: z.string().min(1).optional(),
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

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length === 0 ? "(top level)" : issue.path.map(String).join(".");
  return `field "${field}": ${issue.message}`;
}

/**
 * Validates the mock provider configuration: an object, YAML/JSON text, or `undefined` for
 * all defaults. Throws `InvalidInputError` naming every offending field.
 */
export function parseMockConfig(raw: unknown): MockConfig {
  let value = raw ?? {};
  if (typeof value === "string") {
    try {
      value = parseYaml(value) ?? {};
    } catch (error) {
      throw new InvalidInputError(
        `mock provider config: expected YAML or JSON text, found a syntax error: ${
          errorMessage(error)
        }`,
        { cause: error },
      );
    }
  }
  const result = mockConfigSchema.safeParse(value);
  if (!result.success) {
    throw new InvalidInputError(
      `mock provider config: ${result.error.issues.map(describeIssue).join("; ")}`,
      { cause: result.error },
    );
  }
  return result.data;
}
