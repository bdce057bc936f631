/**
 * The pod controller: makes the pods bound to this node real in the provider
 * and writes their status back, level-based and safe across restarts.
 *
 * - Spec path: informer on `spec.nodeName=<node>` → work queue → resolve env →
 *   provider create/update only when the provider-relevant spec changed.
 * - Status path: provider notifications (or polling) → status queue →
 *   strategic-merge patch of `pods/<name>/status`.
 * - Deletion: provider delete first (the provider gets the grace period),
 *   then the API object is removed with a UID precondition.
 * - Start-up: nothing is created, updated or deleted for a pod the provider
 *   already runs as specified; provider pods unknown to Kubernetes are deleted
 *   only after the informer has synced.
 *
 * @module
 */

import type { ConfigMap, Pod, PodStatus, Secret, Service } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import {
  CONFIG_MAPS,
  Informer,
  type KubeClient,
  KubeConflictError,
  KubeNotFoundError,
  PODS,
  runWorkers,
  SECRETS,
  SERVICES,
  WorkQueue,
} from "../kube/mod.ts";
import { hasPodNotifier, isInvalidInput, isNotFound, type Provider } from "../provider.ts";
import type { EventRecorder } from "../events.ts";
import { abortableSleep } from "../sleep.ts";
import { PodStatusReporter, pollPodStatus } from "../provider_kit/mod.ts";
import { EnvResolutionError, resolvePodEnv } from "./env.ts";
import {
  isTerminal,
  podKey,
  podNeedsSync,
  podsEqual,
  providerRelevant,
  statusEqual,
} from "./compare.ts";
import { errorMessage } from "../errors.ts";

/** Options of {@linkcode PodController}. */
export interface PodControllerOptions {
  nodeName: string;
  /** Pods synchronised in parallel (default 10). */
  workers?: number;
  /** How often every pod is checked against the provider (default 1 min). */
  resyncMs?: number;
  /** How often a provider without notifications is polled for status (default 5 s). */
  statusPollMs?: number;
  /** Longest retry delay for a failing pod (default 5 min). */
  maxRetryDelayMs?: number;
  events: EventRecorder;
}

/** Why a pod is not running, written to its status after a provider failure. */
const PROVIDER_FAILED = "ProviderFailed";

/** Reconciles the pods bound to one node with a provider. */
export class PodController {
  readonly #client: KubeClient;
  readonly #provider: Provider;
  readonly #options: PodControllerOptions;
  readonly #log = getLogger(["vkedge", "pods"]);
  readonly #pods: Informer<Pod>;
  readonly #configMaps: Informer<ConfigMap>;
  readonly #secrets: Informer<Secret>;
  readonly #services: Informer<Service>;
  readonly #syncQueue: WorkQueue;
  readonly #statusQueue: WorkQueue;
  readonly #deleteQueue: WorkQueue;
  /** Provider-relevant form of the last spec the provider accepted, per key and UID. */
  readonly #applied = new Map<string, { uid: string; spec: string }>();
  /** The latest pod the provider reported, per key. */
  readonly #reported = new Map<string, Pod>();
  /** Keys whose last sync failed for want of a ConfigMap or Secret, by namespace. */
  readonly #waitingForEnv = new Map<string, Set<string>>();
  /** Status changes of a provider without `PodNotifier`, from polling. */
  readonly #polled = new PodStatusReporter();
  #ready: Promise<void>;
  #markReady!: () => void;

  /** A controller for the pods of `options.nodeName`. */
  constructor(client: KubeClient, provider: Provider, options: PodControllerOptions) {
    this.#client = client;
    this.#provider = provider;
    this.#options = options;
    this.#pods = new Informer<Pod>(client.resource<Pod>(PODS), {
      fieldSelector: `spec.nodeName=${options.nodeName}`,
      resyncMs: options.resyncMs ?? 60_000,
      name: "pods",
    });
    this.#configMaps = new Informer<ConfigMap>(client.resource<ConfigMap>(CONFIG_MAPS), {
      name: "configmaps",
    });
    this.#secrets = new Informer<Secret>(client.resource<Secret>(SECRETS), { name: "secrets" });
    this.#services = new Informer<Service>(client.resource<Service>(SERVICES), {
      name: "services",
    });
    const maxDelayMs = options.maxRetryDelayMs ?? 5 * 60_000;
    this.#syncQueue = new WorkQueue({ name: "pod-sync", maxDelayMs });
    this.#statusQueue = new WorkQueue({ name: "pod-status", maxDelayMs });
    this.#deleteQueue = new WorkQueue({ name: "pod-delete", maxDelayMs });
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
  }

  /** Resolves once the caches synced and the start-up reconciliation ran. */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /** Runs informers, start-up reconciliation and workers until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const informers = [this.#pods, this.#configMaps, this.#secrets, this.#services];
    const running = informers.map((informer) => informer.run(signal));
    for (const informer of informers) {
      if (!(await informer.waitForSync(signal))) return;
    }
    await this.#reconcileAtStart(signal);
    this.#registerHandlers();
    if (hasPodNotifier(this.#provider)) {
      this.#provider.notifyPods(signal, (pod) => this.#onProviderPod(pod));
    } else {
      this.#polled.subscribe(signal, (pod) => this.#onProviderPod(pod));
    }
    signal.addEventListener("abort", () => {
      this.#syncQueue.shutDown();
      this.#statusQueue.shutDown();
      this.#deleteQueue.shutDown();
    }, { once: true });
    const workers = this.#options.workers ?? 10;
    this.#markReady();
    this.#log.info("pod controller ready with {count} pods", {
      count: this.#pods.store.list().length,
    });
    await Promise.all([
      ...running,
      runWorkers(this.#syncQueue, (key, s) => this.#syncPod(key, s), { workers, signal }),
      runWorkers(this.#statusQueue, (key, s) => this.#syncStatus(key, s), { workers, signal }),
      runWorkers(this.#deleteQueue, (key, s) => this.#removeApiPod(key, s), { workers, signal }),
      this.#pollStatus(signal),
      this.#resyncLoop(signal),
    ]);
  }

  /**
   * Start-up after a restart: adopt what the provider runs as specified
   * (no create, update or delete), delete provider pods Kubernetes no longer
   * has, and queue every pod for a level-based check.
   */
  async #reconcileAtStart(signal: AbortSignal): Promise<void> {
    let providerPods: Pod[];
    try {
      providerPods = await this.#provider.getPods(signal);
    } catch (error) {
      this.#log.warn(
        "cannot list provider pods at start-up: {error}; every pod is checked one by one",
        {
          error: errorMessage(error),
        },
      );
      return;
    }
    const dangling: Pod[] = [];
    for (const providerPod of providerPods) {
      const nodeName = providerPod.spec?.nodeName;
      if (nodeName && nodeName !== this.#options.nodeName) continue; // another node's pod
      const key = podKey(providerPod);
      const apiPod = this.#pods.store.get(key);
      const providerUid = providerPod.metadata?.uid;
      if (!apiPod || (providerUid && apiPod.metadata?.uid !== providerUid)) {
        dangling.push(providerPod);
        continue;
      }
      this.#reported.set(key, providerPod);
      const resolved = this.#resolveQuietly(apiPod);
      if (resolved && podsEqual(resolved, providerPod)) {
        this.#applied.set(key, { uid: apiPod.metadata!.uid!, spec: providerRelevant(resolved) });
      }
      this.#statusQueue.add(key);
    }
    for (const pod of dangling) {
      this.#log.info("deleting provider pod {pod}: Kubernetes no longer has it", {
        pod: podKey(pod),
      });
      try {
        await this.#provider.deletePod(pod, signal);
      } catch (error) {
        if (!isNotFound(error)) {
          this.#log.warn("cannot delete dangling provider pod {pod}: {error}", {
            pod: podKey(pod),
            error: errorMessage(error),
          });
        }
      }
    }
  }

  #resolveQuietly(pod: Pod): Pod | undefined {
    try {
      return resolvePodEnv(pod, this.#envSources());
    } catch {
      return undefined;
    }
  }

  #envSources() {
    const configMaps = this.#configMaps.store;
    const secrets = this.#secrets.store;
    const services = this.#services.store;
    return {
      getConfigMap: (namespace: string, name: string) => configMaps.get(`${namespace}/${name}`),
      getSecret: (namespace: string, name: string) => secrets.get(`${namespace}/${name}`),
      listServices: (namespace: string) =>
        services.list().filter((service) => service.metadata?.namespace === namespace),
    };
  }

  #registerHandlers(): void {
    this.#pods.addHandlers({
      onAdd: (pod) => this.#syncQueue.add(podKey(pod)),
      onUpdate: (oldPod, newPod) => {
        if (oldPod === newPod || podNeedsSync(oldPod, newPod)) this.#syncQueue.add(podKey(newPod));
      },
      onDelete: (pod) => {
        this.#syncQueue.add(podKey(pod));
      },
    });
    const retryWaiting = (object: { metadata?: { namespace?: string } }) => {
      const namespace = object.metadata?.namespace ?? "";
      for (const key of this.#waitingForEnv.get(namespace) ?? []) this.#syncQueue.add(key);
    };
    this.#configMaps.addHandlers({ onAdd: retryWaiting, onUpdate: (_o, n) => retryWaiting(n) });
    this.#secrets.addHandlers({ onAdd: retryWaiting, onUpdate: (_o, n) => retryWaiting(n) });
  }

  #onProviderPod(pod: Pod): void {
    const key = podKey(pod);
    this.#reported.set(key, pod);
    this.#statusQueue.add(key);
  }

  /** The spec path for one pod. */
  async #syncPod(key: string, signal: AbortSignal): Promise<void> {
    const apiPod = this.#pods.store.get(key);
    const [namespace, name] = key.split("/");
    if (!apiPod) {
      // Deleted from Kubernetes: make sure the provider lets it go too.
      this.#applied.delete(key);
      this.#waitingForEnv.get(namespace)?.delete(key);
      const providerPod = await this.#provider.getPod(namespace, name, signal).catch((error) => {
        if (isNotFound(error)) return undefined;
        throw error;
      });
      if (providerPod) {
        await this.#provider.deletePod(providerPod, signal).catch((error) => {
          if (!isNotFound(error)) throw error;
        });
      }
      this.#reported.delete(key);
      return;
    }
    if (apiPod.metadata?.deletionTimestamp) return await this.#deletePod(apiPod, signal);
    if (isTerminal(apiPod)) return;

    let resolved: Pod;
    try {
      resolved = resolvePodEnv(apiPod, this.#envSources(), {
        recordEvent: (event) =>
          this.#options.events.record(apiPod, event.type, event.reason, event.message),
      });
      this.#waitingForEnv.get(namespace)?.delete(key);
    } catch (error) {
      if (!(error instanceof EnvResolutionError)) throw error;
      let waiting = this.#waitingForEnv.get(namespace);
      if (!waiting) this.#waitingForEnv.set(namespace, waiting = new Set());
      waiting.add(key);
      await this.#reportPending(apiPod, "CreateContainerConfigError", error.message, signal);
      throw error; // retried with backoff, and at once when the reference appears
    }
    const spec = providerRelevant(resolved);
    const applied = this.#applied.get(key);
    const uid = apiPod.metadata!.uid!;
    if (applied && applied.uid === uid && applied.spec === spec) {
      this.#restoreStatusAfterFailure(apiPod);
      return;
    }

    const providerPod = await this.#provider.getPod(namespace, name, signal).catch((error) => {
      if (isNotFound(error)) return undefined;
      throw error;
    });
    try {
      if (providerPod && providerPod.metadata?.uid && providerPod.metadata.uid !== uid) {
        // Same name, new pod: the old one goes first.
        await this.#provider.deletePod(providerPod, signal);
        await this.#create(apiPod, resolved, signal);
      } else if (!providerPod) {
        await this.#create(apiPod, resolved, signal);
      } else if (!podsEqual(providerPod, resolved)) {
        await this.#provider.updatePod(resolved, signal);
        this.#options.events.record(
          apiPod,
          "Normal",
          "ProviderUpdateSuccess",
          "Update pod in provider successfully",
        );
      }
    } catch (error) {
      await this.#providerFailed(apiPod, providerPod ? "Update" : "Create", error, signal);
      if (isInvalidInput(error)) return; // the spec is wrong: wait for it to change
      throw error;
    }
    this.#applied.set(key, { uid, spec });
    this.#restoreStatusAfterFailure(apiPod);
  }

  /**
   * Once the provider has the pod as specified again, replaces a failure that
   * `#reportPending` wrote with the provider's last status: a provider that only reports
   * changes would otherwise leave the failure in place (e.g. after a refused image change
   * was reverted).
   */
  #restoreStatusAfterFailure(apiPod: Pod): void {
    const reason = apiPod.status?.reason;
    if (reason === PROVIDER_FAILED || reason === "CreateContainerConfigError") {
      this.#statusQueue.add(podKey(apiPod));
    }
  }

  async #create(apiPod: Pod, resolved: Pod, signal: AbortSignal): Promise<void> {
    await this.#provider.createPod(resolved, signal);
    this.#options.events.record(
      apiPod,
      "Normal",
      "ProviderCreateSuccess",
      "Create pod in provider successfully",
    );
  }

  async #providerFailed(
    pod: Pod,
    action: "Create" | "Update",
    error: unknown,
    signal: AbortSignal,
  ) {
    const message = errorMessage(error);
    this.#options.events.record(pod, "Warning", `Provider${action}Failed`, message);
    this.#log.warn("provider could not {action} pod {pod}: {error}", {
      action: action.toLowerCase(),
      pod: podKey(pod),
      error: message,
    });
    await this.#reportPending(pod, PROVIDER_FAILED, message, signal, {
      final: isInvalidInput(error),
    });
  }

  /**
   * Writes why a pod does not run to its status: Pending while a retry may
   * help, Failed for a restartPolicy Never pod the provider refused for good.
   */
  async #reportPending(
    pod: Pod,
    reason: string,
    message: string,
    signal: AbortSignal,
    options: { final?: boolean } = {},
  ) {
    if (pod.status?.reason === reason && pod.status?.message === message) return;
    const phase = pod.spec?.restartPolicy === "Never" && options.final ? "Failed" : "Pending";
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    try {
      await this.#client.resource<Pod>(PODS, pod.metadata!.namespace).patchStatus(
        pod.metadata!.name!,
        {
          status: {
            phase,
            reason,
            message,
            conditions: [{
              type: "Ready",
              status: "False",
              reason,
              message,
              lastTransitionTime: now,
            }],
          },
        },
        { type: "strategic", signal },
      );
    } catch (error) {
      if (!(error instanceof KubeNotFoundError)) {
        this.#log.warn("cannot write status of {pod}: {error}", {
          pod: podKey(pod),
          error: errorMessage(error),
        });
      }
    }
  }

  /** Graceful deletion: provider first (it gets the grace period), then the API object. */
  async #deletePod(apiPod: Pod, signal: AbortSignal): Promise<void> {
    const key = podKey(apiPod);
    const [namespace, name] = key.split("/");
    const providerPod = await this.#provider.getPod(namespace, name, signal).catch((error) => {
      if (isNotFound(error)) return undefined;
      throw error;
    });
    if (
      providerPod &&
      (!providerPod.metadata?.uid || providerPod.metadata.uid === apiPod.metadata?.uid)
    ) {
      try {
        await this.#provider.deletePod(apiPod, signal);
        this.#options.events.record(
          apiPod,
          "Normal",
          "ProviderDeleteSuccess",
          "Delete pod in provider successfully",
        );
      } catch (error) {
        if (!isNotFound(error)) {
          this.#options.events.record(
            apiPod,
            "Warning",
            "ProviderDeleteFailed",
            errorMessage(error),
          );
          throw error; // retried with backoff; the API object stays until the provider let it go
        }
      }
    }
    this.#applied.delete(key);
    this.#deleteQueue.add(`${key}/${apiPod.metadata!.uid}`);
  }

  /** Removes the API object of a pod the provider no longer runs. */
  async #removeApiPod(keyWithUid: string, signal: AbortSignal): Promise<void> {
    const [namespace, name, uid] = keyWithUid.split("/");
    const key = `${namespace}/${name}`;
    const apiPod = this.#pods.store.get(key);
    if (!apiPod || apiPod.metadata?.uid !== uid) return;
    // Let the last status from the provider land before the object goes.
    const reported = this.#reported.get(key);
    if (reported?.status && !statusEqual(reported.status, apiPod.status)) {
      await this.#syncStatus(key, signal).catch(() => undefined);
    }
    try {
      await this.#client.resource<Pod>(PODS, namespace).delete(name, {
        gracePeriodSeconds: 0,
        preconditions: { uid },
        signal,
      });
    } catch (error) {
      if (!(error instanceof KubeNotFoundError) && !(error instanceof KubeConflictError)) {
        throw error;
      }
    }
    this.#reported.delete(key);
  }

  /** The status path for one pod. */
  async #syncStatus(key: string, signal: AbortSignal): Promise<void> {
    const apiPod = this.#pods.store.get(key);
    const reported = this.#reported.get(key);
    if (!apiPod || !reported?.status || isTerminal(apiPod)) return;
    if (reported.metadata?.uid && reported.metadata.uid !== apiPod.metadata?.uid) return;
    if (statusEqual(reported.status, apiPod.status)) return;
    const status: PodStatus = { ...reported.status };
    if (!status.reason) status.reason = undefined;
    try {
      await this.#client.resource<Pod>(PODS, apiPod.metadata!.namespace).patchStatus(
        apiPod.metadata!.name!,
        {
          status: {
            ...status,
            // Clear a failure written earlier once the provider reports the pod.
            reason: status.reason ?? null,
            message: status.message ?? null,
            // Conditions merge by type: clear the failure's reason and message in them too.
            conditions: status.conditions?.map((condition) => ({
              ...condition,
              reason: condition.reason ?? null,
              message: condition.message ?? null,
            })),
          },
        },
        { type: "strategic", signal },
      );
    } catch (error) {
      if (!(error instanceof KubeNotFoundError)) throw error;
    }
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

  /** Level-based check: pods the provider lost are queued to be made real again. */
  async #resyncLoop(signal: AbortSignal): Promise<void> {
    const interval = this.#options.resyncMs ?? 60_000;
    while (!signal.aborted) {
      await abortableSleep(interval, signal);
      if (signal.aborted) return;
      try {
        const running = new Set((await this.#provider.getPods(signal)).map(podKey));
        for (const pod of this.#pods.store.list()) {
          const key = podKey(pod);
          if (isTerminal(pod) || running.has(key)) continue;
          if (this.#applied.has(key)) {
            this.#log.warn("provider no longer has pod {pod}; creating it again", { pod: key });
            this.#options.events.record(
              pod,
              "Warning",
              "ProviderPodMissing",
              "The provider no longer has this pod; creating it again",
            );
            this.#applied.delete(key);
          }
          this.#syncQueue.add(key);
        }
      } catch (error) {
        this.#log.warn("periodic provider check failed: {error}", { error: errorMessage(error) });
      }
    }
  }
}
