/**
 * Configuration of the vsphere provider, validated once with zod. The password is never
 * in the file itself: the file names another file or an environment variable holding it.
 *
 * ```yaml
 * endpoint: https://vcenter.example/sdk
 * auth:
 *   username: vkedge@vsphere.local
 *   passwordFile: /etc/vkedge/vsphere-password   # or passwordEnv: VSPHERE_PASSWORD
 * tls:
 *   caFile: /etc/vkedge/vcenter-ca.pem           # or insecure: true (logged)
 * clusterName: edge-prod
 * placement:
 *   datacenter: DC0
 *   cluster: DC0_C0          # or host: esx-1.example (a standalone host, or one of the cluster)
 * networks:
 *   default: VM Network
 * ```
 *
 * @module
 */

import { z } from "zod";
import { parseProviderConfig, readSecret, type SecretSources } from "../../lib/provider_kit/mod.ts";

const quantityPattern = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[KMGTPE]i|[kMGTPE]|m)?$/;

const quantity = z.union([z.string(), z.number()]).transform((value, context) => {
  const text = String(value);
  if (!quantityPattern.test(text)) {
    context.addIssue({
      code: "custom",
      message: `expected a Kubernetes quantity such as "2" or "4Gi", found "${text}"`,
    });
    return z.NEVER;
  }
  return text;
});

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
  error: (issue) => `expected an environment variable name, found "${String(issue.input)}"`,
});

const endpoint = z.string().transform((text, context) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    context.addIssue({
      code: "custom",
      message: `expected a URL such as "https://vcenter.example/sdk", found "${text}"`,
    });
    return z.NEVER;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    context.addIssue({
      code: "custom",
      message: `expected an https (or http) URL, found protocol "${url.protocol}"`,
    });
    return z.NEVER;
  }
  if (url.pathname === "/" || url.pathname === "") url.pathname = "/sdk";
  return url.toString();
});

const name = z.string().min(1).max(255);

const auth = z.strictObject({
  username: name,
  passwordFile: z.string().min(1).optional(),
  passwordEnv: envName.optional(),
}).refine((value) => (value.passwordFile === undefined) !== (value.passwordEnv === undefined), {
  message: "expected exactly one of passwordFile and passwordEnv",
});

/** The provider configuration schema (`deploy/vsphere-provider.yaml` shows every field). */
export const vsphereConfigSchema = z.strictObject({
  /** The SDK endpoint of vCenter or of an ESXi host, such as `https://vc/sdk`. */
  endpoint,
  auth,
  tls: z.strictObject({
    /** PEM file of the CA that signed the endpoint's certificate (default: the system's). */
    caFile: z.string().min(1).optional(),
    /** Skip certificate verification (a warning is logged at start-up). */
    insecure: z.boolean().default(false),
  }).refine((value) => !(value.caFile !== undefined && value.insecure), {
    message: "expected caFile or insecure, not both",
  }).default({ insecure: false }),
  /** Names this Kubernetes cluster in every VM's ownership (`guestinfo.vkedge.cluster`). */
  clusterName: z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/, {
    error: "expected a DNS-style name of lowercase letters, digits, '-' and '.'",
  }),
  placement: z.strictObject({
    /** Datacenter name (default: the only one). */
    datacenter: name.optional(),
    /** Cluster whose resource pool and hosts the VMs use. */
    cluster: name.optional(),
    /** Host to put every VM on (in the cluster, or a standalone host). */
    host: name.optional(),
    /** Resource pool by name under the cluster or host (default: its root pool). */
    resourcePool: name.optional(),
    /** Datastore by name (default: the template's). */
    datastore: name.optional(),
    /** VM folder path under the datacenter's VM folder, such as `edge/vkedge` (default: it). */
    folder: z.string().min(1).optional(),
  }).default({}),
  networks: z.strictObject({
    /** Network (port group) of each VM's first NIC unless a pod names one (default: the template's). */
    default: name.optional(),
  }).default({}),
  images: z.strictObject({
    /** Image → template name, such as `ubuntu: ubuntu-22.04-template`. */
    aliases: z.record(z.string(), name).default({}),
  }).default({ aliases: {} }),
  /** CPU and memory of a VM whose pod has neither limits nor requests. */
  defaults: z.strictObject({
    cpu: quantity.default("1"),
    memory: quantity.default("1Gi"),
  }).default({ cpu: "1", memory: "1Gi" }),
  /** A pod is Ready once its VM runs and VMware Tools report an IP (false: once it runs). */
  waitForGuestIp: z.boolean().default(true),
  /** How long a graceful stop may take before the power is cut. */
  shutdownGraceSeconds: z.number().positive().default(60),
  /** Longest wait for one SOAP answer. */
  requestTimeoutSeconds: z.number().positive().default(60),
  /** Longest wait for one task (clone, power, snapshot, relocate). */
  taskTimeoutSeconds: z.number().positive().default(1800),
  /** Lifecycle lines kept per VM for `kubectl logs`. */
  logLines: z.number().int().positive().default(500),
  /** The node's pods capacity. */
  maxPods: z.number().int().positive().default(110),
  /** How often the node's capacity is read again. */
  capacityRefreshSeconds: z.number().positive().default(60),
  /** Extra node labels. */
  labels: z.record(z.string(), z.string()).default({}),
});

/** The validated configuration. */
export type VsphereConfig = z.output<typeof vsphereConfigSchema>;

/** Validates a raw configuration; throws `InvalidInputError` naming each offending field. */
export function parseVsphereConfig(raw: unknown): VsphereConfig {
  return parseProviderConfig(vsphereConfigSchema, raw, {
    provider: "vsphere",
    required: "endpoint, auth, clusterName",
  });
}

/** The password and CA certificates the configuration points at. */
export interface VsphereSecrets {
  password: string;
  caCerts?: string[];
}

/** Reads the password (and the CA file) named by `config`. */
export async function resolveVsphereSecrets(
  config: VsphereConfig,
  sources?: SecretSources,
): Promise<VsphereSecrets> {
  const password = await readSecret(
    { file: config.auth.passwordFile, env: config.auth.passwordEnv },
    { provider: "vsphere", field: "auth.password", sources },
  );
  if (config.tls.caFile === undefined) return { password };
  const ca = await readSecret(
    { file: config.tls.caFile },
    { provider: "vsphere", field: "tls.ca", sources },
  );
  return { password, caCerts: [ca] };
}
