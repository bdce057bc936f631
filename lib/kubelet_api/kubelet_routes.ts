/**
 * The kubelet API's route table: `/healthz` (public), container logs, `/pods`,
 * `/runningpods/`, `/stats/summary`, `/metrics/resource`, and the streaming endpoints
 * (exec, attach, portForward, run) from `streaming.ts`.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { Provider } from "../provider.ts";
import { textResponse } from "./http_errors.ts";
import { serveContainerLogs } from "./logs.ts";
import type { Route } from "./routes.ts";
import { serveMetricsResource, serveStatsSummary } from "./stats.ts";
import { type StreamingOptions, streamingRoutes } from "./streaming.ts";

/** What the built-in routes serve from. */
export interface KubeletRoutesOptions {
  /** The provider whose pods, logs and stats are served. */
  provider: Provider;
  /** Source of `/pods`; defaults to the provider's pods. */
  listPods?: (signal: AbortSignal) => Promise<Pod[]>;
  /** Timeouts and protocols of the streaming endpoints (kubelet defaults when absent). */
  streaming?: StreamingOptions;
}

function podList(items: Pod[]): Record<string, unknown> {
  return { kind: "PodList", apiVersion: "v1", metadata: {}, items };
}

function isRunning(pod: Pod): boolean {
  return pod.status?.phase === "Running" ||
    (pod.status?.containerStatuses ?? []).some((status) => status.state?.running !== undefined);
}

/** The kubelet's routes over `options.provider`, in matching order. */
export function kubeletRoutes(options: KubeletRoutesOptions): Route[] {
  const { provider } = options;
  const listPods = options.listPods ?? ((signal: AbortSignal) => provider.getPods(signal));
  const get = ["GET", "HEAD"];
  return [
    {
      name: "healthz",
      paths: ["/healthz"],
      methods: get,
      public: true,
      handle: () => Promise.resolve(textResponse(200, "ok")),
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
      handle: async ({ signal }) =>
        Response.json(podList((await provider.getPods(signal)).filter(isRunning))),
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
