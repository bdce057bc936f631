/**
 * The kubelet API's route table: `/healthz` and `/readyz` (public), container logs, `/pods`,
 * `/runningpods/`, `/stats/summary`, `/metrics/resource`, and the streaming endpoints
 * (exec, attach, portForward, run) from `streaming.ts`. Pods are served as the API server
 * holds them (`valueFrom` references, not the values the agent resolved for the provider).
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { Provider } from "../provider.ts";
import { textResponse } from "./http_errors.ts";
import type { AgentHealth, HealthReport } from "../health.ts";
import { serveContainerLogs } from "./logs.ts";
import type { Route } from "./routes.ts";
import { serveMetricsResource, serveStatsSummary } from "./stats.ts";
import { type StreamingOptions, streamingRoutes } from "./streaming.ts";

/** What the built-in routes serve from. */
export interface KubeletRoutesOptions {
  /** The provider whose pods, logs and stats are served. */
  provider: Provider;
  /**
   * The node's pods as the API server holds them (the agent's informer cache): `/pods`
   * serves them, and `/runningpods/` the provider's running pods as these objects. Absent,
   * only the provider's pods are known and are served reduced to names and images.
   */
  apiPods?: () => Pod[];
  /** Timeouts and protocols of the streaming endpoints (kubelet defaults when absent). */
  streaming?: StreamingOptions;
  /** What `/healthz` and `/readyz` report; without it `/healthz` says ok. */
  health?: AgentHealth;
}

/** A health answer as the Kubernetes components write it: `ok`, or the failed checks (500). */
function healthResponse(report: HealthReport): Response {
  return new Response(report.text, {
    status: report.healthy ? 200 : 500,
    headers: { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" },
  });
}

function podList(items: Pod[]): Record<string, unknown> {
  return { kind: "PodList", apiVersion: "v1", metadata: {}, items };
}

function isRunning(pod: Pod): boolean {
  return pod.status?.phase === "Running" ||
    (pod.status?.containerStatuses ?? []).some((status) => status.state?.running !== undefined);
}

function keyOf(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
}

/**
 * A provider's pod reduced to what a runtime knows of it, as the kubelet's `/runningpods/`
 * shows one: names, UID, node, containers' names and images, and its status. The provider's pod
 * carries the environment the agent resolved (Secret and ConfigMap values), which the API
 * server never holds and which must not leave the agent.
 */
export function reducedPod(pod: Pod): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: pod.metadata?.name,
      namespace: pod.metadata?.namespace,
      uid: pod.metadata?.uid,
    },
    spec: {
      nodeName: pod.spec?.nodeName,
      containers: (pod.spec?.containers ?? []).map((c) => ({ name: c.name, image: c.image })),
    },
    status: pod.status,
  };
}

/** The kubelet's routes over `options.provider`, in matching order. */
export function kubeletRoutes(options: KubeletRoutesOptions): Route[] {
  const { provider, apiPods } = options;
  const listPods = async (signal: AbortSignal): Promise<Pod[]> =>
    apiPods?.() ?? (await provider.getPods(signal)).map(reducedPod);
  const runningPods = async (signal: AbortSignal): Promise<Pod[]> => {
    const held = new Map((apiPods?.() ?? []).map((pod) => [keyOf(pod), pod]));
    return (await provider.getPods(signal)).filter(isRunning).map((pod) =>
      held.get(keyOf(pod)) ?? reducedPod(pod)
    );
  };
  const get = ["GET", "HEAD"];
  return [
    {
      name: "healthz",
      paths: ["/healthz"],
      methods: get,
      public: true,
      handle: ({ url }) =>
        Promise.resolve(
          options.health === undefined
            ? textResponse(200, "ok")
            : healthResponse(options.health.healthz({ verbose: url.searchParams.has("verbose") })),
        ),
    },
    {
      name: "readyz",
      paths: ["/readyz"],
      methods: get,
      public: true,
      handle: ({ url }) =>
        Promise.resolve(
          options.health === undefined
            ? textResponse(200, "ok")
            : healthResponse(options.health.readyz({ verbose: url.searchParams.has("verbose") })),
        ),
    },
    {
      name: "containerLogs",
      paths: ["/containerLogs/:namespace/:pod/:container"],
      methods: get,
      handle: ({ params, url, signal }) =>
        serveContainerLogs(provider, {
          namespace: params.namespace,
          pod: params.pod,
          container: params.container,
        }, { params: url.searchParams, signal }),
    },
    {
      name: "pods",
      paths: ["/pods"],
      methods: get,
      handle: async ({ signal }) => Response.json(podList(await listPods(signal))),
    },
    {
      name: "runningpods",
      paths: ["/runningpods"],
      methods: get,
      handle: async ({ signal }) => Response.json(podList(await runningPods(signal))),
    },
    {
      name: "statsSummary",
      paths: ["/stats/summary"],
      methods: get,
      handle: ({ signal }) => serveStatsSummary(provider, signal),
    },
    {
      name: "metricsResource",
      paths: ["/metrics/resource"],
      methods: get,
      handle: ({ signal }) => serveMetricsResource(provider, signal),
    },
    ...streamingRoutes(provider, options.streaming),
  ];
}
