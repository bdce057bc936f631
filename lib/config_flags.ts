/**
 * The agent's command-line flags: each flag's type and help line, the environment
 * variable a flag falls back to, and the `--help` text built from them.
 *
 * @module
 */

import { LOG_LEVELS } from "./log.ts";

/** The flags of the agent, each with its type, help line and optional short form. */
export const FLAGS = {
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

/** The name of a flag, without its leading `--`. */
export type FlagName = keyof typeof FLAGS;

/** The environment variable each flag falls back to, where it has one. */
export const FLAG_ENV: Partial<Record<FlagName, string>> = {
  nodename: "DEFAULT_NODE_NAME",
  "node-ip": "VKUBELET_POD_IP",
  "kubelet-port": "KUBELET_PORT",
  "taint-key": "VKUBELET_TAINT_KEY",
  "taint-value": "VKUBELET_TAINT_VALUE",
  "taint-effect": "VKUBELET_TAINT_EFFECT",
};

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
