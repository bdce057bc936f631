/**
 * The one place that says which controllers the agent runs: each entry names a
 * controller, says which providers it serves (by their capabilities) and builds it from
 * the agent's runtime. A new capability of the agent (VirtualMachines, volumes,
 * EndpointSlices, …) is one entry here and one folder under `lib/`; it reads the cluster
 * through `runtime.informers`, so it adds no watch for what others read already.
 *
 * @module
 */

import type { AgentConfig } from "./config.ts";
import type { KubeClient, SharedInformerFactory } from "./kube/mod.ts";
import type { Provider } from "./provider.ts";
import type { EventRecorder } from "./events.ts";
import type { Controller } from "./controller.ts";
import { KubeletApiController } from "./kubelet_api/api_controller.ts";
import { NodeController } from "./node/node_controller.ts";
import { PodController } from "./pods/pod_controller.ts";
import { KUBELET_VERSION } from "./version.ts";

/** What every controller may use: the agent's configuration, clients and shared caches. */
export interface AgentRuntime {
  config: AgentConfig;
  client: KubeClient;
  provider: Provider;
  /** The agent's shared informers: ask here for anything read from the cluster. */
  informers: SharedInformerFactory;
  /** Records events (one recorder shared with the provider). */
  events: EventRecorder;
  /** InternalIP address of the node. */
  nodeIp: string;
}

/** One controller the agent can run. */
export interface ControllerEntry {
  /** The controller's name. */
  name: string;
  /** Whether the provider can back it (by its capabilities); absent: always. */
  enabled?(provider: Provider): boolean;
  /** Builds the controller. */
  create(runtime: AgentRuntime): Controller;
}

/** Every controller of the agent, in start order. */
export const CONTROLLERS: readonly ControllerEntry[] = [
  {
    name: "kubelet-api",
    create: (runtime) => new KubeletApiController(runtime),
  },
  {
    name: "node",
    create: ({ config, client, provider, informers, events, nodeIp }) =>
      new NodeController({ client, provider, informers }, {
        nodeName: config.nodeName,
        providerName: config.provider,
        operatingSystem: config.operatingSystem,
        internalIp: nodeIp,
        kubeletPort: config.kubeletPort,
        kubeletVersion: KUBELET_VERSION,
        taint: config.taint.enabled
          ? {
            key: config.taint.key,
            value: config.taint.value ?? config.provider,
            effect: config.taint.effect,
          }
          : undefined,
        pingIntervalMs: config.providerPingIntervalMs,
        statusIntervalMs: config.nodeStatusUpdateMs,
        events,
      }),
  },
  {
    name: "pods",
    create: ({ config, client, provider, informers, events }) =>
      new PodController({ client, provider, informers }, {
        nodeName: config.nodeName,
        workers: config.podSyncWorkers,
        resyncMs: config.fullResyncPeriodMs,
        events,
      }),
  },
];

/** The controllers of `entries` (default: all) that `runtime.provider` can back. */
export function controllersFor(
  runtime: AgentRuntime,
  entries: readonly ControllerEntry[] = CONTROLLERS,
): Controller[] {
  return entries
    .filter((entry) => entry.enabled?.(runtime.provider) ?? true)
    .map((entry) => entry.create(runtime));
}
