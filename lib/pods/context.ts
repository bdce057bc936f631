/**
 * What the parts of the pod controller share: the client, the provider, the caches of
 * the shared informers, the work queues, and the controller's memory of what the provider
 * accepted and reported. The spec sync, status sync, deletion and start-up reconcile each
 * take this context; only the controller builds it.
 *
 * @module
 */

import type { ConfigMap, Pod, Secret, Service } from "kubernetes-types/core/v1.d.ts";
import type { Logger } from "@logtape/logtape";
import type { KubeClient, Store, WorkQueue } from "../kube/mod.ts";
import { isNotFound, type Provider } from "../provider.ts";
import type { EventRecorder } from "../events.ts";
import type { EnvSources } from "./env.ts";
import type { ProbeManager } from "../probes/mod.ts";
import type { ContainerRestarts } from "./container_restarts.ts";
import type { ProviderOperations } from "./provider_operations.ts";

/** The three queues of the pod controller. */
export interface PodQueues {
  /** Keys (`namespace/name`) whose spec may need the provider. */
  sync: WorkQueue;
  /** Keys whose status the provider reported. */
  status: WorkQueue;
  /** `namespace/name/uid` of pods whose API object can go. */
  delete: WorkQueue;
}

/** Whether to keep a deleted pod's backend, and why. */
export interface RetentionVerdict {
  /** Keep the backend (a VM) although the pod object goes. */
  keep: boolean;
  /** Why, for the log and the event. */
  reason: string;
}

/**
 * The question the pod controller asks before it deletes a provider pod: must its backend
 * outlive the pod object (a VirtualMachine's VM whose VM-Pod was evicted or deleted)?
 */
export interface WorkloadRetention {
  /** The verdict for `pod`, an API pod or a provider pod. */
  verdict(pod: Pod): RetentionVerdict;
}

/** Retention that keeps nothing: every deleted pod's backend goes. */
export const NO_RETENTION: WorkloadRetention = {
  verdict: () => ({ keep: false, reason: "no workload outlives its pod" }),
};

/** The state the parts of the pod controller share. */
export interface PodContext {
  client: KubeClient;
  provider: Provider;
  events: EventRecorder;
  log: Logger;
  nodeName: string;
  /** The node's pods as the API server has them. */
  pods: Store<Pod>;
  /** ConfigMaps, Secrets and Services, for env resolution. */
  envSources: EnvSources;
  queues: PodQueues;
  /** Provider calls that go on without a worker (one at most per pod). */
  operations: ProviderOperations;
  /** Provider-relevant form of the last spec the provider accepted, per key and UID. */
  applied: Map<string, { uid: string; spec: string }>;
  /** The latest pod the provider reported, per key, in its {@linkcode reportedForm}. */
  reported: Map<string, Pod>;
  /** Asked before a provider pod is deleted: must its backend outlive the pod object? */
  retention: WorkloadRetention;
  /** Keys whose last sync failed for want of a ConfigMap or Secret, by namespace. */
  waitingForEnv: Map<string, Set<string>>;
  /** The probes of the node's pods. */
  probes: ProbeManager;
  /** Restarts of ended and unhealthy containers. */
  restarts: ContainerRestarts;
}

/** Env sources over the stores of the shared informers. */
export function storeEnvSources(stores: {
  configMaps: Store<ConfigMap>;
  secrets: Store<Secret>;
  services: Store<Service>;
}): EnvSources {
  return {
    getConfigMap: (namespace, name) => stores.configMaps.get(`${namespace}/${name}`),
    getSecret: (namespace, name) => stores.secrets.get(`${namespace}/${name}`),
    listServices: (namespace) =>
      stores.services.list().filter((service) => service.metadata?.namespace === namespace),
  };
}

/**
 * What `context.reported` keeps of a provider's pod: its metadata and status, the parts
 * the status path reads, without the spec (which the informer's copy already holds).
 */
export function reportedForm(pod: Pod): Pod {
  return { metadata: pod.metadata, status: pod.status };
}

/** `namespace` and `name` of a `namespace/name` key. */
export function splitPodKey(key: string): [namespace: string, name: string] {
  const slash = key.indexOf("/");
  return [key.slice(0, slash), key.slice(slash + 1)];
}

/** The provider's pod `namespace/name`, or `undefined` when it does not know it. */
export async function providerPodOf(
  context: PodContext,
  key: string,
  signal: AbortSignal,
): Promise<Pod | undefined> {
  const [namespace, name] = splitPodKey(key);
  try {
    return await context.provider.getPod(namespace, name, signal);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
