/**
 * The agent's configuration: parses the command line's flags with their
 * environment fallbacks and validates them with one zod schema at start-up.
 * Everything after this module receives typed values. The flags and `--help` are in
 * config_flags.ts, the schema in config_schema.ts, the start-up summary in
 * config_settings.ts; this module re-exports them.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { errorMessage } from "./errors.ts";
import { type FlagName, FLAGS } from "./config_flags.ts";
import { type AgentConfig, agentConfigSchema } from "./config_schema.ts";

export { usage } from "./config_flags.ts";
export { type AgentConfig, agentConfigSchema, TAINT_EFFECTS } from "./config_schema.ts";
export { describeSettings } from "./config_settings.ts";

/** Thrown for bad flags, environment or files; the CLI exits 2 with its message. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

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
