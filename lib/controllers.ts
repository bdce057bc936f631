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
import { getLogger } from "@logtape/logtape";
import type { Informer } from "./kube/mod.ts";
import { PODS } from "./kube/mod.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { VirtualMachineRetention } from "./vm/retention.ts";
import { VirtualMachineController } from "./vm/vm_controller.ts";
import { OperationController } from "./vm/operation_controller.ts";
import { SNAPSHOTS } from "./vm/snapshots.ts";
import { RESTORES } from "./vm/restores.ts";
import { MIGRATIONS } from "./vm/migrations.ts";
import type { VmRuntime } from "./vm/vm_runtime.ts";
import { VmEndpointsController } from "./endpoints/endpoints_controller.ts";
import { VolumeController } from "./storage/volume_controller.ts";
import { hasVolumeProvisioner } from "./provider.ts";
import type { AgentHealth } from "./health.ts";
import { errorMessage } from "./errors.ts";

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
  /**
   * Which deleted pods' VMs are kept: filled by the VirtualMachine controller, asked by
   * the pod controller.
   */
  retention: VirtualMachineRetention;
  /** What `/healthz` and `/readyz` report; controllers register their checks here. */
  health: AgentHealth;
}

/** How long the API server may go without taking a write of the node's before it is unhealthy. */
const API_SERVER_SILENCE_MS = 40_000;

/** The VM lifecycle controllers' view of the runtime. */
function vmRuntime(runtime: AgentRuntime): VmRuntime {
  const { config } = runtime;
  const pods: Informer<Pod> = runtime.informers.informer<Pod>(PODS, {
    fieldSelector: `spec.nodeName=${config.nodeName}`,
  });
  return {
    client: runtime.client,
    provider: runtime.provider,
    events: runtime.events,
    log: getLogger(["vkedge", "vm"]),
    nodeName: config.nodeName,
    taintKey: config.taint.enabled ? config.taint.key : undefined,
    pods,
    now: () => new Date(),
  };
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
    create: ({ config, client, provider, informers, events, nodeIp, health }) => {
      const node = new NodeController({ client, provider, informers }, {
        nodeName: config.nodeName,
        providerName: config.provider,
        operatingSystem: config.operatingSystem,
        internalIp: nodeIp,
        kubeletPort: config.kubeletPort,
        kubeletVersion: KUBELET_VERSION,
        declaredFeatures: config.extendWebSocketsToKubelet ? ["ExtendWebSocketsToKubelet"] : [],
        taint: config.taint.enabled
          ? {
            key: config.taint.key,
            value: config.taint.value ?? config.provider,
            effect: config.taint.effect,
          }
          : undefined,
        extraTaints: config.registerWithTaints,
        labels: config.nodeLabels,
        maxPods: config.maxPods,
        pingIntervalMs: config.providerPingIntervalMs,
        statusIntervalMs: config.nodeStatusUpdateMs,
        events,
      });
      health.register(
        "apiserver",
        () =>
          node.apiServerReachable(API_SERVER_SILENCE_MS)
            ? undefined
            : `the API server took no status or Lease write of node ${config.nodeName} within ${
              API_SERVER_SILENCE_MS / 1000
            }s`,
      );
      health.register("provider", () => {
        const error = node.providerError;
        return error === undefined
          ? undefined
          : `provider ${config.provider} did not answer its health check: ${errorMessage(error)}`;
      });
      return node;
    },
  },
  {
    name: "pods",
    create: ({ config, client, provider, informers, events, retention }) =>
      new PodController({ client, provider, informers }, {
        nodeName: config.nodeName,
        workers: config.podSyncWorkers,
        resyncMs: config.fullResyncPeriodMs,
        events,
        retention,
      }),
  },
  {
    name: "virtual-machines",
    create: (runtime) =>
      new VirtualMachineController(vmRuntime(runtime), runtime.informers, {
        retention: runtime.retention,
      }),
  },
  {
    name: "vm-snapshots",
    create: (runtime) => new OperationController(vmRuntime(runtime), runtime.informers, SNAPSHOTS),
  },
  {
    name: "vm-restores",
    create: (runtime) => new OperationController(vmRuntime(runtime), runtime.informers, RESTORES),
  },
  {
    name: "vm-migrations",
    create: (runtime) => new OperationController(vmRuntime(runtime), runtime.informers, MIGRATIONS),
  },
  {
    name: "volumes",
    enabled: (provider) => hasVolumeProvisioner(provider),
    create: (runtime) => new VolumeController(vmRuntime(runtime), runtime.informers),
  },
  {
    name: "vm-endpoints",
    create: (runtime) => new VmEndpointsController(vmRuntime(runtime), runtime.informers),
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
