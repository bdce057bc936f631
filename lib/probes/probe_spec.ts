/**
 * A container's probes as the agent runs them: the Kubernetes `Probe` of one kind
 * (startup, readiness, liveness) with the kubelet's defaults filled in and its port
 * resolved (a named port becomes the number the container declares under that name), or
 * the reason it cannot run, which the prober reports as the kubelet reports a probe error.
 *
 * @module
 */

import type { Container, Probe } from "kubernetes-types/core/v1.d.ts";

/** The three kinds of probe, in the order the kubelet gates them. */
export const PROBE_KINDS = ["startup", "readiness", "liveness"] as const;

/** One kind of probe. */
export type ProbeKind = (typeof PROBE_KINDS)[number];

/** What a probe checks. */
export type ProbeHandler =
  | {
    type: "httpGet";
    scheme: "HTTP" | "HTTPS";
    /** Host to dial instead of the pod IP. */
    host?: string;
    port: number;
    path: string;
    headers: { name: string; value: string }[];
  }
  | { type: "tcpSocket"; host?: string; port: number }
  | { type: "grpc"; port: number; service: string }
  | { type: "exec"; command: string[] };

/** A probe with every field the kubelet defaults filled in. */
export interface ProbeSpec {
  kind: ProbeKind;
  /** What it checks, or why it cannot run (a named port the container does not declare). */
  handler: ProbeHandler | { type: "invalid"; reason: string };
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
  /** The probe's own grace period for the restart it causes, when it sets one. */
  terminationGracePeriodSeconds?: number;
}

/** The name of a probe kind as the kubelet's messages spell it: `Readiness`, … */
export function probeTitle(kind: ProbeKind): string {
  return kind.charAt(0).toUpperCase() + kind.slice(1);
}

function resolvePort(
  container: Container,
  port: number | string | undefined,
): number | { reason: string } {
  if (typeof port === "number") return port;
  if (port === undefined || port === "") return { reason: "no port given" };
  if (/^\d+$/.test(port)) return Number(port);
  const declared = container.ports?.find((candidate) => candidate.name === port);
  if (declared === undefined) {
    return {
      reason: `strconv.Atoi: parsing "${port}": invalid syntax (container ${container.name} ` +
        `declares no port named "${port}")`,
    };
  }
  return declared.containerPort;
}

function handlerOf(container: Container, probe: Probe): ProbeSpec["handler"] {
  if (probe.exec) return { type: "exec", command: probe.exec.command ?? [] };
  if (probe.httpGet) {
    const port = resolvePort(container, probe.httpGet.port);
    if (typeof port !== "number") return { type: "invalid", reason: port.reason };
    const path = probe.httpGet.path ?? "/";
    return {
      type: "httpGet",
      scheme: probe.httpGet.scheme?.toUpperCase() === "HTTPS" ? "HTTPS" : "HTTP",
      ...(probe.httpGet.host ? { host: probe.httpGet.host } : {}),
      port,
      path: path.startsWith("/") ? path : `/${path}`,
      headers: (probe.httpGet.httpHeaders ?? []).map(({ name, value }) => ({ name, value })),
    };
  }
  if (probe.tcpSocket) {
    const port = resolvePort(container, probe.tcpSocket.port);
    if (typeof port !== "number") return { type: "invalid", reason: port.reason };
    return {
      type: "tcpSocket",
      ...(probe.tcpSocket.host ? { host: probe.tcpSocket.host } : {}),
      port,
    };
  }
  if (probe.grpc) return { type: "grpc", port: probe.grpc.port, service: probe.grpc.service ?? "" };
  return {
    type: "invalid",
    reason: "unknown probe handler: expected exec, httpGet, tcpSocket or grpc",
  };
}

/** The probe of `kind` of `container` with the kubelet's defaults, or `undefined` without one. */
export function probeSpecOf(container: Container, kind: ProbeKind): ProbeSpec | undefined {
  const probe = kind === "startup"
    ? container.startupProbe
    : kind === "readiness"
    ? container.readinessProbe
    : container.livenessProbe;
  if (probe === undefined || probe === null) return undefined;
  const positive = (value: number | undefined, fallback: number) =>
    value !== undefined && value > 0 ? value : fallback;
  return {
    kind,
    handler: handlerOf(container, probe),
    initialDelayMs: Math.max(0, probe.initialDelaySeconds ?? 0) * 1000,
    periodMs: positive(probe.periodSeconds, 10) * 1000,
    timeoutMs: positive(probe.timeoutSeconds, 1) * 1000,
    // Liveness and startup probes must succeed once (the API server enforces it).
    successThreshold: kind === "readiness" ? positive(probe.successThreshold, 1) : 1,
    failureThreshold: positive(probe.failureThreshold, 3),
    ...(probe.terminationGracePeriodSeconds === undefined
      ? {}
      : { terminationGracePeriodSeconds: probe.terminationGracePeriodSeconds }),
  };
}

/** Every probe of `container`, startup first. */
export function probeSpecsOf(container: Container): ProbeSpec[] {
  return PROBE_KINDS.map((kind) => probeSpecOf(container, kind))
    .filter((spec): spec is ProbeSpec => spec !== undefined);
}
