/**
 * The zod schema of the agent's configuration: one validator per kind of flag value
 * (durations, integers, node labels, taints, addresses), whose messages name the flag,
 * its environment fallback and the expected form.
 *
 * @module
 */

import { isIP } from "node:net";
import { z } from "zod";
import { parseDuration } from "./duration.ts";
import { LOG_LEVELS } from "./log.ts";
import { FLAG_ENV, type FlagName } from "./config_flags.ts";

/** The taint effects a node taint may have. */
export const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;

function flagError(flag: FlagName, expected: string, found: unknown): string {
  const env = FLAG_ENV[flag];
  return `--${flag}${env ? ` (or $${env})` : ""}: expected ${expected}, found ${
    JSON.stringify(found)
  }`;
}

function duration(flag: FlagName, minMs = 0) {
  return z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined || ms < minMs) {
      const expected = minMs > 0
        ? `a duration of at least ${minMs}ms like 30s or 1m`
        : "a duration like 30s or 1m";
      ctx.addIssue({ code: "custom", message: flagError(flag, expected, text) });
      return z.NEVER;
    }
    return ms;
  });
}

function integer(flag: FlagName, min: number, max: number) {
  return z.string().transform((text, ctx) => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) {
      ctx.addIssue({
        code: "custom",
        message: flagError(flag, `an integer from ${min} to ${max}`, text),
      });
      return z.NEVER;
    }
    return n;
  });
}

function positiveNumber(flag: FlagName) {
  return z.string().transform((text, ctx) => {
    const n = Number(text);
    if (text.trim() === "" || !Number.isFinite(n) || n <= 0) {
      ctx.addIssue({ code: "custom", message: flagError(flag, "a number above 0", text) });
      return z.NEVER;
    }
    return n;
  });
}

function oneOf<T extends readonly [string, ...string[]]>(flag: FlagName, values: T) {
  return z.string().transform((text, ctx) => {
    if (!(values as readonly string[]).includes(text)) {
      ctx.addIssue({
        code: "custom",
        message: flagError(flag, `one of ${values.join(", ")}`, text),
      });
      return z.NEVER;
    }
    return text as T[number];
  });
}

/** Label keys of the kubernetes.io and k8s.io namespaces a kubelet may set on its Node. */
const KUBELET_LABEL_KEYS = new Set([
  "kubernetes.io/hostname",
  "kubernetes.io/instance-type",
  "kubernetes.io/os",
  "kubernetes.io/arch",
  "beta.kubernetes.io/instance-type",
  "beta.kubernetes.io/os",
  "beta.kubernetes.io/arch",
  "failure-domain.beta.kubernetes.io/zone",
  "failure-domain.beta.kubernetes.io/region",
  "failure-domain.kubernetes.io/zone",
  "failure-domain.kubernetes.io/region",
  "topology.kubernetes.io/zone",
  "topology.kubernetes.io/region",
  "node.kubernetes.io/instance-type",
]);

/** Whether the kubelet lets itself set label `key` (its rule for `--node-labels`). */
function kubeletMaySet(key: string): boolean {
  const slash = key.indexOf("/");
  if (slash < 0) return true;
  const prefix = key.slice(0, slash);
  const restricted = prefix === "kubernetes.io" || prefix === "k8s.io" ||
    prefix.endsWith(".kubernetes.io") || prefix.endsWith(".k8s.io");
  if (!restricted) return true;
  return KUBELET_LABEL_KEYS.has(key) || prefix === "kubelet.kubernetes.io" ||
    prefix.endsWith(".kubelet.kubernetes.io") || prefix === "node.kubernetes.io" ||
    prefix.endsWith(".node.kubernetes.io");
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function nodeLabels(flag: FlagName) {
  return z.string().transform((text, ctx) => {
    const labels: Record<string, string> = {};
    for (const pair of text.split(",").map((part) => part.trim()).filter((part) => part !== "")) {
      const equals = pair.indexOf("=");
      const key = equals < 0 ? pair : pair.slice(0, equals);
      const value = equals < 0 ? undefined : pair.slice(equals + 1);
      let problem: string | undefined;
      if (value === undefined) problem = "key=value pairs";
      else if (!TAINT_KEY.test(key) || key.length > 317) {
        problem = "label keys like example.com/name";
      } else if (!LABEL_VALUE.test(value) || value.length > 63) {
        problem = "label values of at most 63 letters, digits, '-', '_' and '.'";
      } else if (!kubeletMaySet(key)) {
        problem = "no kubernetes.io or k8s.io key a kubelet may not set (allowed: " +
          "kubelet.kubernetes.io/*, node.kubernetes.io/*, topology.kubernetes.io/zone|region, …)";
      }
      if (problem !== undefined) {
        ctx.addIssue({ code: "custom", message: flagError(flag, problem, pair) });
        return z.NEVER;
      }
      labels[key] = value!;
    }
    return labels;
  });
}

function taintList(flag: FlagName) {
  return z.string().transform((text, ctx) => {
    const taints: { key: string; value?: string; effect: (typeof TAINT_EFFECTS)[number] }[] = [];
    for (const item of text.split(",").map((part) => part.trim()).filter((part) => part !== "")) {
      const match = /^([^=:]+)(?:=([^:]*))?:(.+)$/.exec(item);
      const key = match?.[1] ?? "";
      const value = match?.[2];
      const effect = match?.[3] ?? "";
      if (
        match === null || !TAINT_KEY.test(key) ||
        !(TAINT_EFFECTS as readonly string[]).includes(effect) ||
        (value !== undefined && !LABEL_VALUE.test(value))
      ) {
        ctx.addIssue({
          code: "custom",
          message: flagError(
            flag,
            `taints like key=value:Effect or key:Effect with Effect one of ${
              TAINT_EFFECTS.join(", ")
            }`,
            item,
          ),
        });
        return z.NEVER;
      }
      taints.push({
        key,
        ...(value === undefined || value === "" ? {} : { value }),
        effect: effect as (typeof TAINT_EFFECTS)[number],
      });
    }
    return taints;
  });
}

const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const TAINT_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function matching(flag: FlagName, pattern: RegExp, expected: string, maxLength: number) {
  return z.string().refine((text) => pattern.test(text) && text.length <= maxLength, {
    error: (issue) => flagError(flag, expected, issue.input),
  });
}

function hostPort(flag: FlagName) {
  return z.string().transform((text, ctx) => {
    const match = /^(?:\[([^\]]+)\]|([^:\[\]]*)):(\d{1,5})$/.exec(text);
    const hostname = match?.[1] ?? match?.[2];
    const port = Number(match?.[3]);
    if (!match || hostname === undefined || isIP(hostname) === 0 || port > 65535) {
      ctx.addIssue({
        code: "custom",
        message: flagError(
          flag,
          "an IP address and a port like 127.0.0.1:10255 or [::1]:10255",
          text,
        ),
      });
      return z.NEVER;
    }
    return { hostname, port };
  });
}

function ipAddress(flag: FlagName) {
  return z.string().refine((text) => isIP(text) !== 0, {
    error: (issue) => flagError(flag, "an IPv4 or IPv6 address", issue.input),
  });
}

/** The validated configuration of the agent. */
export const agentConfigSchema = z.object({
  provider: z.string({ error: "--provider is required: name the provider that runs the pods" }),
  providerConfigFile: z.string().optional(),
  nodeName: matching(
    "nodename",
    NODE_NAME,
    "a lowercase DNS subdomain name (a-z, 0-9, '-', '.')",
    253,
  ).default("vkedge"),
  kubeconfig: z.string().optional(),
  // Upstream spells it Linux (its default) or Windows; the Node says linux or windows.
  operatingSystem: z.string().transform((text) => text.toLowerCase()).pipe(
    z.enum(["linux", "windows"], {
      error: (issue) => flagError("os", "Linux or Windows (in any case)", issue.input),
    }),
  ).default("linux"),
  nodeLabels: nodeLabels("node-labels").default({}),
  registerWithTaints: taintList("register-with-taints").default([]),
  maxPods: integer("max-pods", 0, 1_000_000).optional(),
  nodeIp: ipAddress("node-ip").optional(),
  address: ipAddress("address").default("0.0.0.0"),
  kubeletPort: integer("kubelet-port", 1, 65535).default(10250),
  taint: z.object({
    enabled: z.boolean(),
    key: matching("taint-key", TAINT_KEY, "a label key like example.com/name", 317),
    value: z.string().optional(),
    effect: oneOf("taint-effect", TAINT_EFFECTS),
  }),
  podSyncWorkers: integer("pod-sync-workers", 1, 1000).default(10),
  fullResyncPeriodMs: duration("full-resync-period", 1000).default(60_000),
  nodeStatusUpdateMs: duration("node-status-update-frequency", 100).default(60_000),
  providerPingIntervalMs: duration("provider-ping-interval", 100).default(10_000),
  startupTimeoutMs: duration("startup-timeout").default(0),
  logLevel: oneOf("log-level", LOG_LEVELS).default("info"),
  logFormat: oneOf("log-format", ["text", "json"] as const).default("text"),
  tls: z.object({
    certFile: z.string().optional(),
    keyFile: z.string().optional(),
    clientCaFile: z.string().optional(),
  }).refine((tls) => (tls.certFile === undefined) === (tls.keyFile === undefined), {
    error: "--tls-cert and --tls-key: give both or neither",
  }),
  anonymousAuth: z.boolean().default(false),
  streamIdleTimeoutMs: duration("stream-idle-timeout").default(4 * 60 * 60 * 1000),
  streamCreationTimeoutMs: duration("stream-creation-timeout", 100).default(30_000),
  extendWebSocketsToKubelet: z.boolean().default(false),
  kubeApiQps: positiveNumber("kube-api-qps").default(500),
  kubeApiBurst: integer("kube-api-burst", 1, 100_000).default(1000),
  installCrds: z.boolean().default(false),
  lockDir: z.string().min(1, { error: "--lock-dir: expected a folder, found an empty value" }),
  leaderElection: z.object({
    enabled: oneOf("leader-elect", ["true", "false"] as const).default("true")
      .transform((text) => text === "true"),
    namespace: matching(
      "leader-elect-resource-namespace",
      /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
      "a namespace name (a-z, 0-9, '-')",
      63,
    ).default("kube-node-lease"),
    leaseDurationMs: duration("leader-elect-lease-duration", 1000).default(40_000),
    renewDeadlineMs: duration("leader-elect-renew-deadline", 1000).default(30_000),
    retryPeriodMs: duration("leader-elect-retry-period", 100).default(10_000),
  }).refine(
    (election) =>
      election.leaseDurationMs > election.renewDeadlineMs &&
      election.renewDeadlineMs > 1.2 * election.retryPeriodMs,
    {
      error: "--leader-elect-lease-duration, --leader-elect-renew-deadline and " +
        "--leader-elect-retry-period: expected lease duration > renew deadline > " +
        "1.2 × retry period",
    },
  ),
  metricsAddress: hostPort("metrics-addr").optional(),
});

/** The agent's typed configuration. */
export type AgentConfig = z.infer<typeof agentConfigSchema>;
