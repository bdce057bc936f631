/**
 * The agent's configuration: command-line flags with their environment
 * fallbacks, validated by one zod schema at start-up. Everything after this
 * module receives typed values.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { isIP } from "node:net";
import { z } from "zod";
import { formatDuration, parseDuration } from "./duration.ts";
import { LOG_LEVELS } from "./log.ts";
import { errorMessage } from "./errors.ts";

/** Thrown for bad flags, environment or files; the CLI exits 2 with its message. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The taint effects a node taint may have. */
export const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;

const FLAGS = {
  provider: { type: "string", help: "provider that runs the pods: {providers} (required)" },
  "provider-config": { type: "string", help: "provider configuration file (YAML or JSON)" },
  nodename: {
    type: "string",
    help: "name of the virtual Node [$DEFAULT_NODE_NAME] (default vkedge)",
  },
  kubeconfig: {
    type: "string",
    help: "kubeconfig file [$KUBECONFIG] (default ~/.kube/config, then in-cluster)",
  },
  os: {
    type: "string",
    help: "operating system the node reports: Linux or Windows, in any case (default Linux)",
  },
  "node-labels": {
    type: "string",
    help: "labels of the Node, key=value,key2=value2 (kubernetes.io and k8s.io keys only " +
      "as the kubelet allows them)",
  },
  "register-with-taints": {
    type: "string",
    help: "taints of the Node besides the provider taint, key=value:Effect,key2:Effect",
  },
  "max-pods": {
    type: "string",
    help: "pods the Node takes: its pods capacity and allocatable (default: the provider's)",
  },
  "node-ip": { type: "string", help: "InternalIP address of the node [$VKUBELET_POD_IP]" },
  address: { type: "string", help: "address the kubelet API listens on (default 0.0.0.0)" },
  "kubelet-port": {
    type: "string",
    help: "port of the kubelet API [$KUBELET_PORT] (default 10250)",
  },
  "disable-taint": { type: "boolean", help: "register the node without the provider taint" },
  "taint-key": {
    type: "string",
    help: "key of the node taint [$VKUBELET_TAINT_KEY] (default virtual-kubelet.io/provider)",
  },
  "taint-value": {
    type: "string",
    help: "value of the node taint [$VKUBELET_TAINT_VALUE] (default: the provider name)",
  },
  "taint-effect": {
    type: "string",
    help: "effect of the node taint [$VKUBELET_TAINT_EFFECT] (default NoSchedule)",
  },
  "pod-sync-workers": { type: "string", help: "pods synchronised in parallel (default 10)" },
  "full-resync-period": { type: "string", help: "how often every pod is re-checked (default 1m)" },
  "node-status-update-frequency": {
    type: "string",
    help: "how often the node status is written even without changes (default 1m)",
  },
  "provider-ping-interval": {
    type: "string",
    help: "how often the provider's health is checked (default 10s)",
  },
  "startup-timeout": {
    type: "string",
    help: "give up if not ready after this long; 0 waits forever (default 0)",
  },
  "log-level": { type: "string", help: `one of ${LOG_LEVELS.join(", ")} (default info)` },
  "log-format": { type: "string", help: "text or json (default text)" },
  "tls-cert": { type: "string", help: "kubelet API serving certificate (default: self-signed)" },
  "tls-key": { type: "string", help: "private key of --tls-cert" },
  "client-ca": {
    type: "string",
    help: "CA for client certificates (default: the cluster's published client CA)",
  },
  "anonymous-auth": { type: "boolean", help: "let unauthenticated callers use the kubelet API" },
  "stream-idle-timeout": {
    type: "string",
    help: "close exec, attach and port-forward sessions idle this long; 0: never (default 4h)",
  },
  "stream-creation-timeout": {
    type: "string",
    help: "how long a client has to open a session's streams (default 30s)",
  },
  "extend-websockets-to-kubelet": {
    type: "boolean",
    help: "declare ExtendWebSocketsToKubelet on the Node, so that the API server passes " +
      "kubectl's WebSocket exec, attach and port-forward through (default off: SPDY)",
  },
  "kube-api-qps": {
    type: "string",
    help: "requests per second to the API server, halved for a while after a 429 (default 500)",
  },
  "kube-api-burst": { type: "string", help: "burst of requests to the API server (default 1000)" },
  "install-crds": {
    type: "boolean",
    help: "apply the VirtualMachine CRDs (deploy/crds/) at start; needs RBAC on CRDs",
  },
  "lock-dir": {
    type: "string",
    help: "folder of the per-node lock that keeps one agent per node on this host " +
      "(default $RUNTIME_DIRECTORY, else $XDG_RUNTIME_DIR/vkedge, else /run/vkedge as root, " +
      "else /tmp/vkedge-UID)",
  },
  "leader-elect": {
    type: "string",
    help: "take the Lease vkedge-NODE before driving the node, so that two hosts never " +
      "drive one node: true or false (default true)",
  },
  "leader-elect-resource-namespace": {
    type: "string",
    help: "namespace of the leader election Lease (default kube-node-lease)",
  },
  "leader-elect-lease-duration": {
    type: "string",
    help: "how long a standby waits on an unrenewed Lease before taking over (default 40s)",
  },
  "leader-elect-renew-deadline": {
    type: "string",
    help:
      "how long one lease renewal may take (default 30s); the leader steps down only when another holds the lease",
  },
  "leader-elect-retry-period": {
    type: "string",
    help: "how often the Lease is renewed, or tried by a standby (default 10s)",
  },
  "metrics-addr": {
    type: "string",
    help: "serve /metrics, /healthz and /readyz over HTTP on HOST:PORT, e.g. " +
      "127.0.0.1:10255 (default: off)",
  },
  help: { type: "boolean", short: "h", help: "show this help" },
  version: { type: "boolean", help: "print the version" },
} as const;

type FlagName = keyof typeof FLAGS;

const FLAG_ENV: Partial<Record<FlagName, string>> = {
  nodename: "DEFAULT_NODE_NAME",
  "node-ip": "VKUBELET_POD_IP",
  "kubelet-port": "KUBELET_PORT",
  "taint-key": "VKUBELET_TAINT_KEY",
  "taint-value": "VKUBELET_TAINT_VALUE",
  "taint-effect": "VKUBELET_TAINT_EFFECT",
};

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

/** What the command line asked for: run the agent, or print help or the version. */
export type Command =
  | { kind: "run"; config: AgentConfig }
  | { kind: "help" }
  | { kind: "version" };

const BOOLEAN_FLAGS = new Set(
  Object.entries(FLAGS).filter(([, flag]) => flag.type === "boolean").map(([name]) => name),
);

/**
 * Takes `--flag=true` and `--flag=false` of boolean flags out of `args`, as Go's flag
 * package accepts them (also `1`, `0`, `t`, `f` in any case); other values are an error.
 */
function booleanValues(
  args: string[],
): { args: string[]; explicit: Partial<Record<FlagName, boolean>> } {
  const explicit: Partial<Record<FlagName, boolean>> = {};
  const rest: string[] = [];
  for (const arg of args) {
    const match = /^--([a-z-]+)=(.*)$/.exec(arg);
    if (match === null || !BOOLEAN_FLAGS.has(match[1])) {
      rest.push(arg);
      continue;
    }
    const value = match[2].toLowerCase();
    if (["true", "t", "1"].includes(value)) explicit[match[1] as FlagName] = true;
    else if (["false", "f", "0"].includes(value)) explicit[match[1] as FlagName] = false;
    else {
      throw new ConfigError(
        `--${match[1]}: expected true or false, found ${JSON.stringify(match[2])}`,
      );
    }
  }
  return { args: rest, explicit };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/**
 * The default of `--lock-dir`: the service's runtime folder under systemd
 * (`$RUNTIME_DIRECTORY`), the user's (`$XDG_RUNTIME_DIR/vkedge`), `/run/vkedge` for root
 * (cron), else `/tmp/vkedge-<uid>`.
 */
export function defaultLockDir(
  env: Record<string, string | undefined>,
  uid: number | null,
): string {
  const systemd = nonEmpty(env.RUNTIME_DIRECTORY)?.split(":")[0];
  if (systemd !== undefined) return systemd;
  const user = nonEmpty(env.XDG_RUNTIME_DIR);
  if (user !== undefined) return `${user}/vkedge`;
  return uid === 0 ? "/run/vkedge" : `${nonEmpty(env.TMPDIR) ?? "/tmp"}/vkedge-${uid ?? "user"}`;
}

/** Options of {@linkcode parseCommandLine}. */
export interface ParseOptions {
  /** The user id the default `--lock-dir` depends on (default `Deno.uid()`). */
  uid?: number | null;
}

/**
 * Parses flags with their environment fallbacks (`DEFAULT_NODE_NAME`,
 * `KUBECONFIG`, `VKUBELET_POD_IP`, `VKUBELET_TAINT_KEY/VALUE/EFFECT`,
 * `KUBELET_PORT`) into a validated configuration; throws ConfigError naming
 * the flag and the expected form.
 */
export function parseCommandLine(
  args: string[],
  env: Record<string, string | undefined>,
  options: ParseOptions = {},
): Command {
  if (args[0] === "version") return { kind: "version" };
  let values: Partial<Record<FlagName, string | boolean>>;
  const { args: plain, explicit } = booleanValues(args);
  args = plain;
  try {
    const options = Object.fromEntries(
      Object.entries(FLAGS).map(([name, flag]) => [
        name,
        { type: flag.type, ...("short" in flag ? { short: flag.short } : {}) },
      ]),
    ) as Record<FlagName, { type: "string" | "boolean"; short?: string }>;
    values = parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new ConfigError(errorMessage(error).split("\n")[0]);
  }
  values = { ...values, ...explicit };
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  const str = (flag: FlagName): string | undefined => {
    const v = values[flag];
    return typeof v === "string" ? v : undefined;
  };
  const raw = {
    provider: nonEmpty(str("provider")),
    providerConfigFile: nonEmpty(str("provider-config")),
    nodeName: str("nodename") ?? nonEmpty(env.DEFAULT_NODE_NAME),
    kubeconfig: str("kubeconfig"),
    operatingSystem: str("os"),
    nodeLabels: str("node-labels"),
    registerWithTaints: str("register-with-taints"),
    maxPods: str("max-pods"),
    nodeIp: str("node-ip") ?? nonEmpty(env.VKUBELET_POD_IP),
    address: str("address"),
    kubeletPort: str("kubelet-port") ?? nonEmpty(env.KUBELET_PORT),
    taint: {
      enabled: values["disable-taint"] !== true,
      key: str("taint-key") ?? nonEmpty(env.VKUBELET_TAINT_KEY) ?? "virtual-kubelet.io/provider",
      value: str("taint-value") ?? nonEmpty(env.VKUBELET_TAINT_VALUE),
      effect: str("taint-effect") ?? nonEmpty(env.VKUBELET_TAINT_EFFECT) ?? "NoSchedule",
    },
    podSyncWorkers: str("pod-sync-workers"),
    fullResyncPeriodMs: str("full-resync-period"),
    nodeStatusUpdateMs: str("node-status-update-frequency"),
    providerPingIntervalMs: str("provider-ping-interval"),
    startupTimeoutMs: str("startup-timeout"),
    logLevel: str("log-level"),
    logFormat: str("log-format"),
    tls: { certFile: str("tls-cert"), keyFile: str("tls-key"), clientCaFile: str("client-ca") },
    anonymousAuth: values["anonymous-auth"] === true,
    streamIdleTimeoutMs: str("stream-idle-timeout"),
    streamCreationTimeoutMs: str("stream-creation-timeout"),
    extendWebSocketsToKubelet: values["extend-websockets-to-kubelet"] === true,
    kubeApiQps: str("kube-api-qps"),
    kubeApiBurst: str("kube-api-burst"),
    installCrds: values["install-crds"] === true,
    lockDir: str("lock-dir") ?? defaultLockDir(env, options.uid ?? Deno.uid()),
    leaderElection: {
      enabled: str("leader-elect"),
      namespace: str("leader-elect-resource-namespace"),
      leaseDurationMs: str("leader-elect-lease-duration"),
      renewDeadlineMs: str("leader-elect-renew-deadline"),
      retryPeriodMs: str("leader-elect-retry-period"),
    },
    metricsAddress: str("metrics-addr"),
  };
  const parsed = agentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => issue.message).join("; "));
  }
  return { kind: "run", config: parsed.data };
}

/** The `--help` text, listing the known providers. */
export function usage(providers: readonly string[]): string {
  const lines = [
    "vkedge — a virtual kubelet: runs the pods bound to its Node through a provider",
    "",
    "Usage: vkedge --provider=NAME [flags]",
    "       vkedge version                                                      (as --version)",
    "       vkedge vm start|stop|restart|snapshot|restore|migrate NAME [flags]   ('vkedge vm --help')",
    "",
    "Flags ([$VAR] is the environment fallback):",
  ];
  const entries = Object.entries(FLAGS).map(([name, flag]) => ({
    left: `  ${"short" in flag ? `-${flag.short}, ` : "    "}--${name}${
      flag.type === "string" ? "=VALUE" : ""
    }`,
    help: flag.help.replace("{providers}", providers.join(", ")),
  }));
  const width = Math.max(...entries.map((entry) => entry.left.length));
  for (const { left, help } of entries) lines.push(`${left.padEnd(width)}  ${help}`);
  lines.push(
    "",
    "Boolean flags take --flag, --flag=true and --flag=false.",
    "Exit status: 0 after SIGTERM/SIGINT or when this node's agent already runs on this host,",
    "1 on a runtime failure or a lost leader election, 2 on bad input.",
  );
  return lines.join("\n");
}

function address(hostname: string, port: number): string {
  return `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
}

/**
 * The effective settings as one line of `flag=value` words, for the start-up log. It
 * holds no secrets: the configuration names files, never their contents.
 */
export function describeSettings(config: AgentConfig): string {
  const election = config.leaderElection;
  const words: [string, string | number | boolean][] = [
    ["kubelet-api", address(config.address, config.kubeletPort)],
    [
      "metrics-addr",
      config.metricsAddress === undefined
        ? "off"
        : address(config.metricsAddress.hostname, config.metricsAddress.port),
    ],
    ["provider-config", config.providerConfigFile ?? "none"],
    ["kubeconfig", config.kubeconfig ?? "default"],
    ["os", config.operatingSystem],
    ["node-ip", config.nodeIp ?? "auto"],
    [
      "taint",
      config.taint.enabled
        ? `${config.taint.key}=${config.taint.value ?? config.provider}:${config.taint.effect}`
        : "none",
    ],
    ["pod-sync-workers", config.podSyncWorkers],
    ["full-resync-period", formatDuration(config.fullResyncPeriodMs)],
    ["node-status-update-frequency", formatDuration(config.nodeStatusUpdateMs)],
    ["provider-ping-interval", formatDuration(config.providerPingIntervalMs)],
    ["startup-timeout", formatDuration(config.startupTimeoutMs)],
    ["kube-api-qps", config.kubeApiQps],
    ["kube-api-burst", config.kubeApiBurst],
    ["lock-dir", config.lockDir],
    ["leader-elect", election.enabled],
  ];
  if (election.enabled) {
    words.push(
      ["leader-elect-resource-namespace", election.namespace],
      ["leader-elect-lease-duration", formatDuration(election.leaseDurationMs)],
      ["leader-elect-renew-deadline", formatDuration(election.renewDeadlineMs)],
      ["leader-elect-retry-period", formatDuration(election.retryPeriodMs)],
    );
  }
  words.push(
    ["tls-cert", config.tls.certFile ?? "self-signed"],
    ["client-ca", config.tls.clientCaFile ?? "published"],
    ["anonymous-auth", config.anonymousAuth],
    ["stream-idle-timeout", formatDuration(config.streamIdleTimeoutMs)],
    ["stream-creation-timeout", formatDuration(config.streamCreationTimeoutMs)],
    ["extend-websockets-to-kubelet", config.extendWebSocketsToKubelet],
    ["install-crds", config.installCrds],
    ["log-level", config.logLevel],
    ["log-format", config.logFormat],
  );
  return words.map(([name, value]) => `${name}=${value}`).join(" ");
}
