/**
 * What the VM lifecycle controllers share: the client, provider, events and caches, the
 * answer to "is this VirtualMachine this node's?", the lookup of its VM-Pod, and the
 * wait for the CRDs (without them the controllers idle and say how to install them,
 * rather than fail the agent).
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { CustomResourceDefinition } from "kubernetes-types/apiextensions/v1.d.ts";
import type { Logger } from "@logtape/logtape";
import {
  CUSTOM_RESOURCE_DEFINITIONS,
  type Informer,
  type KubeClient,
  KubeNotFoundError,
  type Store,
} from "../kube/mod.ts";
import type { Provider } from "../provider.ts";
import type { EventRecorder } from "../events.ts";
import { abortableSleep } from "../sleep.ts";
import { errorMessage } from "../errors.ts";
import { formatTime } from "../kube/micro_time.ts";
import { VM_CRDS } from "./crds.ts";
import { isVmPodOf } from "./vm_pod.ts";
import type { VirtualMachine } from "./types.ts";

/** The shared parts of the VM lifecycle controllers. */
export interface VmRuntime {
  client: KubeClient;
  provider: Provider;
  events: EventRecorder;
  log: Logger;
  /** This node. */
  nodeName: string;
  /** The node's taint key, which VM-Pods tolerate. */
  taintKey?: string;
  /** The node's pods (shared with the pod controller). */
  pods: Informer<Pod>;
  /** Clock, for status times. */
  now(): Date;
}

/** The current time as a status timestamp. */
export function statusTime(runtime: VmRuntime): string {
  return formatTime(runtime.now());
}

/** The node a VirtualMachine is served by: `spec.nodeName`, else the claim in its status. */
export function servingNode(vm: VirtualMachine): string | undefined {
  const specNode = (vm.spec as { nodeName?: unknown } | undefined)?.nodeName;
  if (typeof specNode === "string" && specNode !== "") return specNode;
  return vm.status?.nodeName;
}

/** The VirtualMachine `namespace/name` if this node serves it. */
export function ownVirtualMachine(
  runtime: VmRuntime,
  vms: Store<VirtualMachine>,
  namespace: string,
  name: string,
): VirtualMachine | undefined {
  const vm = vms.get(`${namespace}/${name}`);
  return vm && servingNode(vm) === runtime.nodeName ? vm : undefined;
}

/** The VM-Pod of `vm` on this node, when it exists and is its own. */
export function vmPodOf(runtime: VmRuntime, vm: VirtualMachine): Pod | undefined {
  const pod = runtime.pods.store.get(`${vm.metadata!.namespace}/${vm.metadata!.name}`);
  return pod && isVmPodOf(pod, vm) ? pod : undefined;
}

/**
 * Resolves once every VM lifecycle CRD is served; until then it says once, and again every
 * 10 minutes, that they are missing and how to install them. False if `signal` aborts.
 */
export async function waitForCrds(
  client: KubeClient,
  log: Logger,
  signal: AbortSignal,
): Promise<boolean> {
  const crds = client.resource<CustomResourceDefinition>(CUSTOM_RESOURCE_DEFINITIONS);
  let lastWarning = 0;
  while (!signal.aborted) {
    try {
      for (const crd of VM_CRDS) await crds.get(crd.metadata!.name!, { signal });
      return true;
    } catch (error) {
      if (signal.aborted) return false;
      if (Date.now() - lastWarning > 10 * 60_000) {
        lastWarning = Date.now();
        const missing = error instanceof KubeNotFoundError;
        log.warn(
          missing
            ? "VirtualMachine CRDs are not installed: VirtualMachines are not served until they are; start the agent with --install-crds or run 'kubectl apply -f deploy/crds/'"
            : "cannot read the VirtualMachine CRDs: {error}; retrying",
          { error: errorMessage(error) },
        );
      }
    }
    await abortableSleep(15_000, signal);
  }
  return false;
}
