/**
 * The agent's own HTTP endpoint (`--metrics-addr`, off by default, plain HTTP on an
 * address of its own so that it can stay on the loopback or a management network):
 * `/metrics` in the Prometheus text format from the agent's registry, `/healthz` (the
 * agent's health checks, as on the kubelet port; `/livez`: the process answers) and `/readyz` (the agent drives its node: leader, caches synced, node
 * registered).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { prometheusTextContentType, renderMetrics } from "./registry.ts";
import { errorMessage } from "../errors.ts";
import type { HealthReport } from "../health.ts";

/** Whether the agent is ready, and why not. */
export interface AgentReadiness {
  /** True once the agent drives its node. */
  ready: boolean;
  /** One line: what it is doing (`standby: …`, `starting`, `ready`). */
  detail: string;
}

/** Options of {@linkcode serveMetrics}. */
export interface MetricsServerOptions {
  /** Address to listen on. */
  hostname: string;
  /** Port (0: any free one). */
  port: number;
  /** Asked on every `/readyz`. */
  readiness: () => AgentReadiness;
  /**
   * Asked on every `/healthz`: the agent's health checks (`lib/health.ts`), the same the
   * kubelet port's `/healthz` reports; without it `/healthz` says the process answers.
   */
  health?: () => HealthReport;
}

/** The address a started metrics server listens on. */
export interface MetricsServer {
  /** The bound address. */
  hostname: string;
  /** The bound port. */
  port: number;
  /** Resolves once the server has closed after the signal aborted. */
  finished: Promise<void>;
}

function text(status: number, body: string, contentType = "text/plain; charset=utf-8"): Response {
  return new Response(body, { status, headers: { "Content-Type": contentType } });
}

/** Answers one request to the metrics endpoint. */
export async function handleMetricsRequest(
  request: Request,
  readiness: () => AgentReadiness,
  health?: () => HealthReport,
): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("method not allowed\n", { status: 405, headers: { Allow: "GET, HEAD" } });
  }
  const path = new URL(request.url).pathname;
  if (path === "/metrics") return text(200, await renderMetrics(), prometheusTextContentType);
  if (path === "/healthz" && health !== undefined) {
    const report = health();
    return text(report.healthy ? 200 : 500, `${report.text}\n`);
  }
  if (path === "/healthz" || path === "/livez") return text(200, "ok\n");
  if (path === "/readyz") {
    const state = readiness();
    return text(state.ready ? 200 : 503, `${state.detail}\n`);
  }
  return text(404, `not found: ${path} (this endpoint serves /metrics, /healthz, /readyz)\n`);
}

/**
 * Listens on `options.hostname`:`options.port` until `signal` aborts. Rejects when the
 * address cannot be bound, naming it.
 */
export function serveMetrics(options: MetricsServerOptions, signal: AbortSignal): MetricsServer {
  const log = getLogger(["vkedge", "metrics"]);
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: options.hostname,
      port: options.port,
      signal,
      onListen: () => {},
      onError: (error) => {
        log.warn("metrics request failed: {error}", { error: errorMessage(error) });
        return text(500, "internal error\n");
      },
    }, (request) => handleMetricsRequest(request, options.readiness, options.health));
  } catch (error) {
    throw new Error(
      `--metrics-addr: cannot listen on ${options.hostname}:${options.port}: ${
        errorMessage(error)
      }`,
    );
  }
  const { hostname, port } = server.addr;
  log.info("metrics, /healthz and /readyz on http://{address}:{port}", {
    address: hostname.includes(":") ? `[${hostname}]` : hostname,
    port,
  });
  return { hostname, port, finished: server.finished };
}
