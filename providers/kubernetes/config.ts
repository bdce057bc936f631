/**
 * Configuration of the kubernetes provider, validated once with zod. The lower cluster is
 * reached with a kubeconfig file (typically a Secret mounted into the agent's pod) or, for
 * an agent running as a pod of the lower cluster, its in-cluster ServiceAccount.
 *
 * ```yaml
 * clusterName: central          # names the upper cluster on every lower object
 * kubeconfig: /etc/vkedge/lower.kubeconfig
 * namespaces: { prefix: "central-" }   # default "<clusterName>-"; "" and "" keep names
 * nodeSelector: { site: edge-1 }       # where the lower scheduler may place pods
 * tolerations: [{ key: dedicated, operator: Exists }]
 * reserve: { cpu: 500m, memory: 1Gi }  # held back from the node's allocatable
 * qps: 20
 * burst: 40
 * ```
 *
 * @module
 */

import { z } from "zod";
import type { Toleration } from "kubernetes-types/core/v1.d.ts";
import { parseProviderConfig } from "../../lib/provider_kit/mod.ts";

const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-_.A-Za-z0-9]{0,61}[A-Za-z0-9])?)$/;
const LABEL_NAME = /^[A-Za-z0-9](?:[-_.A-Za-z0-9]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$/;
const NAMESPACE_PART = /^[a-z0-9-]{0,40}$/;
const QUANTITY = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[KMGTPE]i|[kMGTPE]|m)?$/;

/** A label key: an optional DNS subdomain prefix and a name. */
function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf("/");
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  return LABEL_NAME.test(name) && (prefix === undefined || DNS_SUBDOMAIN.test(prefix));
}

const labelKey = z.string().refine(isLabelKey, {
  error: (issue) =>
    `expected a label key such as "site" or "example.com/site", found ${
      JSON.stringify(issue.input)
    }`,
});

const labelValue = z.string().regex(LABEL_VALUE, {
  error: (issue) =>
    `expected a label value (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit), found ${
      JSON.stringify(issue.input)
    }`,
});

const namespacePart = z.string().regex(NAMESPACE_PART, {
  error: (issue) =>
    `expected at most 40 lower-case letters, digits or '-', found ${JSON.stringify(issue.input)}`,
});

const quantity = z.union([z.string(), z.number()]).transform((value, context) => {
  const text = String(value);
  if (!QUANTITY.test(text)) {
    context.addIssue({
      code: "custom",
      message: `expected a Kubernetes quantity such as "500m" or "1Gi", found "${text}"`,
    });
    return z.NEVER;
  }
  return text;
});

const toleration = z.strictObject({
  key: z.string().optional(),
  operator: z.enum(["Exists", "Equal"]).optional(),
  value: z.string().optional(),
  effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
  tolerationSeconds: z.number().int().optional(),
});

/** The schema of the provider configuration (before the namespace prefix default). */
export const kubernetesConfigSchema = z.strictObject({
  /** Names the upper cluster in the labels of every object made below; required. */
  clusterName: labelValue,
  /** Kubeconfig file of the lower cluster. */
  kubeconfig: z.string().min(1).optional(),
  /** Context of that kubeconfig (default: its current context). */
  context: z.string().min(1).optional(),
  /** Use the ServiceAccount of the pod the agent runs in (an agent inside the lower cluster). */
  inCluster: z.boolean().default(false),
  /** Lower namespace of an upper namespace: `prefix + namespace + suffix`. */
  namespaces: z.strictObject({
    /** Default `<clusterName>-`. */
    prefix: namespacePart.optional(),
    suffix: namespacePart.default(""),
  }).default({ suffix: "" }),
  /** Node selector of every lower pod (where the lower scheduler may place it). */
  nodeSelector: z.record(labelKey, labelValue).default({}),
  /** Tolerations added to every lower pod (of the lower nodes' taints). */
  tolerations: z.array(toleration).default([]),
  /** Taint keys of the upper node whose tolerations are dropped below. */
  upperTaintKeys: z.array(z.string().min(1)).default(["virtual-kubelet.io/provider"]),
  /** Resources held back from the node's allocatable, such as `{ cpu: 500m }`. */
  reserve: z.record(z.string().min(1), quantity).default({}),
  /** Sustained requests per second to the lower API server. */
  qps: z.number().positive().default(20),
  /** Burst of requests to the lower API server. */
  burst: z.number().int().positive().default(40),
  /** Timeout of one request to the lower API server. */
  requestTimeoutSeconds: z.number().positive().default(30),
}).check((context) => {
  const config = context.value;
  if ((config.kubeconfig === undefined) === !config.inCluster) {
    context.issues.push({
      code: "custom",
      input: config,
      path: ["kubeconfig"],
      message: config.inCluster
        ? "expected either kubeconfig or inCluster: true, found both"
        : "expected the lower cluster's kubeconfig file (or inCluster: true), found neither",
    });
  }
});

/** The validated configuration of the kubernetes provider. */
export interface KubernetesConfig
  extends Omit<z.output<typeof kubernetesConfigSchema>, "namespaces" | "tolerations"> {
  /** The namespace mapping, the prefix default applied. */
  namespaces: { prefix: string; suffix: string };
  /** Tolerations added to every lower pod. */
  tolerations: Toleration[];
}

/**
 * Validates `raw` (YAML or JSON text, or a parsed value); throws `InvalidInputError` naming
 * every offending field.
 */
export function parseKubernetesConfig(raw: unknown): KubernetesConfig {
  const parsed = parseProviderConfig(kubernetesConfigSchema, raw, {
    provider: "kubernetes",
    required: "clusterName and kubeconfig",
  });
  return {
    ...parsed,
    namespaces: {
      prefix: parsed.namespaces.prefix ??
        `${parsed.clusterName.toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 39)}-`,
      suffix: parsed.namespaces.suffix,
    },
  };
}
