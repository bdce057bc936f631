/**
 * The pod controller: makes the pods bound to this node real in the provider and writes
 * their status back, level-based and safe across restarts. This file wires the parts:
 *
 * - spec path (`spec_sync.ts`): pod informer on `spec.nodeName=<node>` → sync queue →
 *   resolve env → provider create/update only when the provider-relevant spec changed;
 * - status path (`status_sync.ts`): provider notifications (or, for a provider without
 *   them, one `getPods` per poll interval) → status queue → patch of `pods/<name>/status`;
 * - probes (`lib/probes/`) and restarts (`container_restarts.ts`): probe results and the
 *   restart policy are laid over the provider's status (`effective_status.ts`); a probe
 *   result that changes queues a status sync, a liveness failure restarts the container;
 * - deletion (`deletion.ts`): provider first, then the API object with a UID precondition;
 * - start-up and periodic reconcile (`startup_reconcile.ts`).
 *
 * Its informers (pods of the node, ConfigMaps, Secrets, Services) come from the agent's
 * shared informers, so other controllers reading them add no watch.
 *
 * @module
 */

import type { ConfigMap, Pod, Secret, Service } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import {
  CONFIG_MAPS,
  type Informer,
  type KubeClient,
  PODS,
  runWorkers,
  SECRETS,
  SERVICES,
  type SharedInformerFactory,
  WorkQueue,
} from "../kube/mod.ts";
import { hasPodNotifier, type Provider } from "../provider.ts";
import type { EventRecorder } from "../events.ts";
import { errorMessage } from "../errors.ts";
import { abortableSleep } from "../sleep.ts";
import { type Controller, readiness } from "../controller.ts";
import { PodStatusReporter, pollPodStatus } from "../provider_kit/mod.ts";
import { isTerminal, podKey, podNeedsSync } from "./compare.ts";
import {
  NO_RETENTION,
  type PodContext,
  reportedForm,
  storeEnvSources,
  type WorkloadRetention,
} from "./context.ts";
import { removeApiPod } from "./deletion.ts";
import { syncPodSpec } from "./spec_sync.ts";
import { isVmPod, restoreDriftedStatus, syncPodStatus } from "./status_sync.ts";
import { timedPodSync } from "./sync_metrics.ts";
import { checkProviderPods, reconcileAtStart } from "./startup_reconcile.ts";
import { ProbeManager } from "../probes/mod.ts";
import { ContainerRestarts } from "./container_restarts.ts";
import { ProviderOperations } from "./provider_operations.ts";

/** Options of {@linkcode PodController}. */
export interface PodControllerOptions {
  nodeName: string;
  /** Pods synchronised in parallel (default 10). */
  workers?: number;
  /**
   * Status writes in parallel (default 50): they only wait on the API server, whose
   * throughput on 2 cores needs tens of requests in flight, not one per worker.
   */
  statusWorkers?: number;
  /** How often every pod is checked against the provider (default 1 min). */
  resyncMs?: number;
  /** How often a provider without notifications is polled for status (default 5 s). */
  statusPollMs?: number;
  /** Longest retry delay for a failing pod (default 5 min). */
  maxRetryDelayMs?: number;
  events: EventRecorder;
  /** Asked before a provider pod is deleted (default: nothing outlives its pod). */
  retention?: WorkloadRetention;
}

/** What the pod controller needs of the agent. */
export interface PodControllerDeps {
  client: KubeClient;
  provider: Provider;
  informers: SharedInformerFactory;
}

/** Reconciles the pods bound to one node with a provider. */
export class PodController implements Controller {
  /** Controller name. */
  readonly name = "pods";
  readonly #options: PodControllerOptions;
  readonly #provider: Provider;
  readonly #pods: Informer<Pod>;
  readonly #configMaps: Informer<ConfigMap>;
  readonly #secrets: Informer<Secret>;
  readonly #services: Informer<Service>;
  readonly #context: PodContext;
  /** Status changes of a provider without `PodNotifier`, from polling. */
  readonly #polled = new PodStatusReporter();
  readonly #readiness = readiness();
  /** Aborted when the controller stops: ends the probes and restart timers. */
  readonly #stopped = new AbortController();

  /** A controller for the pods of `options.nodeName`; it asks `deps.informers` for its informers. */
  constructor(deps: PodControllerDeps, options: PodControllerOptions) {
    this.#options = options;
    this.#provider = deps.provider;
    this.#pods = deps.informers.informer<Pod>(PODS, {
      fieldSelector: `spec.nodeName=${options.nodeName}`,
    });
    const configMaps = this.#configMaps = deps.informers.informer<ConfigMap>(CONFIG_MAPS);
    const secrets = this.#secrets = deps.informers.informer<Secret>(SECRETS);
    const services = this.#services = deps.informers.informer<Service>(SERVICES);
    const maxDelayMs = options.maxRetryDelayMs ?? 5 * 60_000;
    const log = getLogger(["vkedge", "pods"]);
    const status = new WorkQueue({ name: "pod-status", maxDelayMs });
    const restarts = new ContainerRestarts({
      provider: deps.provider,
      events: options.events,
      log,
      resync: (key) => status.add(key),
      signal: this.#stopped.signal,
    });
    const probes = new ProbeManager({
      provider: deps.provider,
      recordEvent: (pod, type, reason, message) =>
        options.events.record(pod, type, reason, message),
      onChange: (key) => status.add(key),
      onUnhealthy: (unhealthy) => {
        if (isVmPod(unhealthy.pod)) {
          // A VM-Pod's VM restarts as its VirtualMachine says, never behind its back.
          options.events.record(
            unhealthy.pod,
            "Warning",
            "Unhealthy",
            `Container ${unhealthy.container} failed ${unhealthy.kind} probe; a VirtualMachine's VM is restarted only by its VirtualMachine (vkedge vm restart)`,
          );
          return;
        }
        const reported = this.#context.reported.get(podKey(unhealthy.pod));
        const current = reported?.status?.containerStatuses?.find((each) =>
          each.name === unhealthy.container
        );
        restarts.unhealthy(unhealthy, current);
      },
      signal: this.#stopped.signal,
    });
    const sync = new WorkQueue({ name: "pod-sync", maxDelayMs });
    this.#context = {
      client: deps.client,
      provider: deps.provider,
      events: options.events,
      log,
      nodeName: options.nodeName,
      pods: this.#pods.store,
      envSources: storeEnvSources({
        configMaps: configMaps.store,
        secrets: secrets.store,
        services: services.store,
      }),
      queues: {
        sync,
        status,
        delete: new WorkQueue({ name: "pod-delete", maxDelayMs }),
      },
      operations: new ProviderOperations({ queue: sync, log, retryMaxMs: maxDelayMs }),
      applied: new Map(),
      reported: new Map(),
      retention: options.retention ?? NO_RETENTION,
      waitingForEnv: new Map(),
      probes,
      restarts,
    };
  }

  /** Resolves once the caches synced and the start-up reconciliation ran. */
  get ready(): Promise<void> {
    return this.#readiness.ready;
  }

  /** Waits for the informers, reconciles, then runs workers until the signal aborts. */
  async start(signal: AbortSignal): Promise<void> {
    if (signal.aborted) this.#stopped.abort();
    else signal.addEventListener("abort", () => this.#stopped.abort(), { once: true });
    const informers = [this.#pods, this.#configMaps, this.#secrets, this.#services];
    for (const informer of informers) {
      if (!(await informer.waitForSync(signal))) return;
    }
    const context = this.#context;
    await reconcileAtStart(context, signal);
    this.#registerHandlers();
    const onProviderPod = (pod: Pod) => {
      const key = podKey(pod);
      context.reported.set(key, reportedForm(pod));
      context.queues.status.add(key);
    };
    if (hasPodNotifier(this.#provider)) this.#provider.notifyPods(signal, onProviderPod);
    else this.#polled.subscribe(signal, onProviderPod);
    const { queues } = context;
    signal.addEventListener("abort", () => {
      queues.sync.shutDown();
      queues.status.shutDown();
      queues.delete.shutDown();
    }, { once: true });
    const workers = this.#options.workers ?? 10;
    this.#readiness.markReady();
    context.log.info("pod controller ready with {count} pods", { count: context.pods.size });
    await Promise.all([
      runWorkers(queues.sync, (key, s) => timedPodSync(() => syncPodSpec(context, key, s)), {
        workers,
        signal,
      }),
      runWorkers(queues.status, (key, s) => syncPodStatus(context, key, s), {
        workers: this.#options.statusWorkers ?? 50,
        signal,
      }),
      runWorkers(queues.delete, (key, s) => removeApiPod(context, key, s), { workers, signal }),
      this.#pollStatus(signal),
      this.#resyncLoop(signal),
    ]);
    await context.operations.idle(); // provider calls left to end on their own
  }

  #registerHandlers(): void {
    const { queues, waitingForEnv, probes, restarts } = this.#context;
    this.#pods.addHandlers({
      onAdd: (pod) => queues.sync.add(podKey(pod)),
      onUpdate: (oldPod, newPod) => {
        if (oldPod === newPod || podNeedsSync(oldPod, newPod)) queues.sync.add(podKey(newPod));
        if (oldPod !== newPod) restoreDriftedStatus(this.#context, newPod);
        // The probes read the pod (its IP, its deletion); a pod gone terminal stops them.
        if (isTerminal(newPod)) {
          probes.remove(newPod.metadata?.uid ?? "");
          restarts.forget(newPod.metadata?.uid ?? "");
        } else probes.refresh(newPod);
      },
      onDelete: (pod) => {
        queues.sync.add(podKey(pod));
        probes.remove(pod.metadata?.uid ?? "");
        restarts.forget(pod.metadata?.uid ?? "");
      },
    }, { resyncMs: this.#options.resyncMs ?? 60_000 });
    const retryWaiting = (object: { metadata?: { namespace?: string } }) => {
      const namespace = object.metadata?.namespace ?? "";
      for (const key of waitingForEnv.get(namespace) ?? []) queues.sync.add(key);
    };
    this.#configMaps.addHandlers({ onAdd: retryWaiting, onUpdate: (_o, n) => retryWaiting(n) });
    this.#secrets.addHandlers({ onAdd: retryWaiting, onUpdate: (_o, n) => retryWaiting(n) });
  }

  /** For a provider without notifications: one `getPods` per interval, changes reported. */
  async #pollStatus(signal: AbortSignal): Promise<void> {
    if (hasPodNotifier(this.#provider)) return;
    await pollPodStatus({
      intervalMs: this.#options.statusPollMs ?? 5000,
      list: (s) => this.#provider.getPods(s),
      reporter: this.#polled,
      what: `provider ${this.#provider.name} pods`,
      signal,
    });
  }

  /** Level-based check every resync period: pods the provider lost are made real again. */
  async #resyncLoop(signal: AbortSignal): Promise<void> {
    const interval = this.#options.resyncMs ?? 60_000;
    while (!signal.aborted) {
      await abortableSleep(interval, signal);
      if (signal.aborted) return;
      try {
        await checkProviderPods(this.#context, signal);
      } catch (error) {
        this.#context.log.warn("periodic provider check failed: {error}", {
          error: errorMessage(error),
        });
      }
    }
  }
}
