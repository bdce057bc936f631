/**
 * The VM endpoints controller: for each Service without a selector that names
 * VirtualMachines (`lib/endpoints/slices.ts`), this node's agent writes one EndpointSlice
 * per address family with the VMs it serves, labelled `managed-by: endpoints.vkedge.io` so
 * that the built-in EndpointSlice and mirroring controllers leave them alone, and owned
 * by the Service so that the garbage collector removes them with it. Addresses appear
 * once a VM runs with an IP; a stopping or stopped VM is not ready; a deleted one leaves.
 *
 * @module
 */

import type { Pod, Service } from "kubernetes-types/core/v1.d.ts";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.d.ts";
import {
  ENDPOINT_SLICES,
  type Informer,
  KubeConflictError,
  KubeNotFoundError,
  runWorkers,
  SERVICES,
  type SharedInformerFactory,
  WorkQueue,
} from "../kube/mod.ts";
import { LabelSelectorError } from "../kube/label_selector.ts";
import { canonicalJson } from "../canonical_json.ts";
import { type Controller, readiness } from "../controller.ts";
import { VIRTUAL_MACHINES, type VirtualMachine } from "../vm/types.ts";
import { servingNode, vmPodOf, type VmRuntime, waitForCrds } from "../vm/vm_runtime.ts";
import {
  desiredSlices,
  MANAGED_BY,
  namesVirtualMachines,
  NODE_LABEL,
  nodeLabelValue,
  slicePorts,
  vmMatcher,
} from "./slices.ts";

/** Writes this node's EndpointSlices for Services that name VirtualMachines. */
export class VmEndpointsController implements Controller {
  /** Controller name. */
  readonly name = "vm-endpoints";
  readonly #runtime: VmRuntime;
  readonly #informers: SharedInformerFactory;
  readonly #queue = new WorkQueue({ name: "vm-endpoints", maxDelayMs: 60_000 });
  readonly #readiness = readiness();
  /** Services already told about a port or selector they got wrong, by UID and generation. */
  readonly #warned = new Set<string>();

  /** A controller over `runtime`, asking `informers` for Services, VMs and its slices. */
  constructor(runtime: VmRuntime, informers: SharedInformerFactory) {
    this.#runtime = runtime;
    this.#informers = informers;
  }

  /** Resolves at once: endpoints never hold up the node. */
  get ready(): Promise<void> {
    return this.#readiness.ready;
  }

  /** Waits for the CRDs and caches, then keeps the slices until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    this.#readiness.markReady();
    const runtime = this.#runtime;
    if (!(await waitForCrds(runtime.client, runtime.log, signal))) return;
    const services = this.#informers.informer<Service>(SERVICES);
    const vms = this.#informers.informer<VirtualMachine>(VIRTUAL_MACHINES);
    const slices = this.#informers.informer<EndpointSlice>(ENDPOINT_SLICES, {
      labelSelector: `endpointslice.kubernetes.io/managed-by=${MANAGED_BY},${NODE_LABEL}=${
        nodeLabelValue(runtime.nodeName)
      }`,
    });
    const synced = await Promise.all(
      [services, vms, slices, runtime.pods].map((informer) => informer.waitForSync(signal)),
    );
    if (!synced.every(Boolean)) return;
    const queue = this.#queue;
    const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) =>
      `${o.metadata?.namespace}/${o.metadata?.name}`;
    const servicesOf = (namespace: string | undefined) => {
      for (const service of services.store.list()) {
        if (service.metadata?.namespace === namespace && namesVirtualMachines(service)) {
          queue.add(keyOf(service));
        }
      }
    };
    services.addHandlers({
      onAdd: (s) => queue.add(keyOf(s)),
      onUpdate: (_o, s) => queue.add(keyOf(s)),
      onDelete: (s) => queue.add(keyOf(s)),
    });
    const onVm = (vm: VirtualMachine) => servicesOf(vm.metadata?.namespace);
    vms.addHandlers({ onAdd: onVm, onUpdate: (_o, vm) => onVm(vm), onDelete: onVm });
    const onPod = (pod: Pod) => {
      if (pod.metadata?.ownerReferences?.some((o) => o.kind === "VirtualMachine")) {
        servicesOf(pod.metadata?.namespace);
      }
    };
    runtime.pods.addHandlers({ onAdd: onPod, onUpdate: (_o, p) => onPod(p), onDelete: onPod });
    const onSlice = (slice: EndpointSlice) =>
      queue.add(
        `${slice.metadata?.namespace}/${slice.metadata?.labels?.["kubernetes.io/service-name"]}`,
      );
    slices.addHandlers({ onUpdate: (_o, s) => onSlice(s), onDelete: onSlice });
    signal.addEventListener("abort", () => queue.shutDown(), { once: true });
    await runWorkers(queue, async (key, s) => {
      try {
        await this.#reconcile(key, services, vms, slices, s);
      } catch (error) {
        if (!(error instanceof KubeConflictError)) throw error;
        queue.addAfter(key, 500);
      }
    }, { workers: 2, signal });
  }

  async #reconcile(
    key: string,
    services: Informer<Service>,
    vms: Informer<VirtualMachine>,
    slices: Informer<EndpointSlice>,
    signal: AbortSignal,
  ): Promise<void> {
    const runtime = this.#runtime;
    const [namespace, name] = [key.slice(0, key.indexOf("/")), key.slice(key.indexOf("/") + 1)];
    const service = services.store.get(key);
    const current = slices.store.list().filter((slice) =>
      slice.metadata?.namespace === namespace &&
      slice.metadata?.labels?.["kubernetes.io/service-name"] === name
    );
    let desired: EndpointSlice[] = [];
    if (service && namesVirtualMachines(service) && !service.metadata?.deletionTimestamp) {
      let matches: (vm: VirtualMachine) => boolean;
      try {
        matches = vmMatcher(service);
      } catch (error) {
        if (!(error instanceof LabelSelectorError)) throw error;
        this.#warnOnce(service, "InvalidVirtualMachineSelector", error.message);
        matches = () => false;
      }
      const { ports, unresolved } = slicePorts(service);
      for (const port of unresolved) {
        this.#warnOnce(service, "UnresolvablePort", `port ${port.name}: ${port.reason}`);
      }
      const served = vms.store.list()
        .filter((vm) => servingNode(vm) === runtime.nodeName && matches(vm))
        .map((vm) => ({ vm, pod: vmPodOf(runtime, vm) }));
      desired = desiredSlices(service, served, ports, runtime.nodeName);
    }
    const client = runtime.client.resource<EndpointSlice>(ENDPOINT_SLICES, namespace);
    for (const slice of desired) {
      const existing = current.find((c) => c.metadata?.name === slice.metadata?.name);
      if (!existing) {
        await client.create(slice, { signal });
        runtime.log.info("Service {service}: EndpointSlice {slice} with {count} endpoints", {
          service: key,
          slice: slice.metadata?.name,
          count: slice.endpoints.length,
        });
      } else if (
        canonicalJson([existing.endpoints ?? [], existing.ports ?? []]) !==
          canonicalJson([slice.endpoints, slice.ports])
      ) {
        await client.update({
          ...slice,
          metadata: { ...slice.metadata, resourceVersion: existing.metadata?.resourceVersion },
        }, { signal });
      }
    }
    for (const slice of current) {
      if (desired.some((d) => d.metadata?.name === slice.metadata?.name)) continue;
      await client.delete(slice.metadata!.name!, { signal }).catch((error) => {
        if (!(error instanceof KubeNotFoundError)) throw error;
      });
    }
  }

  #warnOnce(service: Service, reason: string, message: string): void {
    const key =
      `${service.metadata?.uid}/${service.metadata?.resourceVersion}/${reason}/${message}`;
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#runtime.events.record(service, "Warning", reason, message);
  }
}
