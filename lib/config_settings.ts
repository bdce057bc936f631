/**
 * The start-up log's summary of the effective configuration, one line of
 * `flag=value` words.
 *
 * @module
 */

import { formatDuration } from "./duration.ts";
import type { AgentConfig } from "./config_schema.ts";

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
