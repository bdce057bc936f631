/**
 * The pod writes of the kubernetes provider: a create makes the lower namespace, the
 * copies of what the pod references and the lower pod (adopting the one made before for
 * the same upper UID); an update patches what a running pod can change; a delete passes
 * the upper pod's grace period down and waits until the lower pod is gone.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import {
  AlreadyExistsError,
  type ClusterReader,
  InvalidInputError,
  NotFoundError,
  UnavailableError,
} from "../../lib/provider.ts";
import {
  abortableSleep,
  KubeAlreadyExistsError,
  type KubeClient,
  KubeNotFoundError,
  PODS,
} from "../../lib/provider_kit/mod.ts";
import type { KubernetesConfig } from "./config.ts";
import { toProviderError } from "./errors.ts";
import type { LowerPods } from "./lower_pods.ts";
import { toLowerPod } from "./mapping.ts";
import { lowerNamespace, type LowerNamespaces } from "./namespaces.ts";
import type { ObjectMirror } from "./object_mirror.ts";
import { Ownership, upperPodOf } from "./ownership.ts";
import type { LowerPriorityClasses } from "./priority_classes.ts";
import { referencedObjects } from "./references.ts";
import { updatePatch } from "./update_patch.ts";

const log = getLogger(["vkedge", "provider", "kubernetes"]);

/** How long a missing ServiceAccount in a new lower namespace is waited for at a create. */
const SERVICE_ACCOUNT_WAIT_MS = 15_000;
/** The grace period of a pod that names none, as the API server defaults it. */
const DEFAULT_GRACE_SECONDS = 30;
/** How much longer than the grace period a delete waits for the lower pod to go. */
const DELETE_SLACK_SECONDS = 15;

/** What {@linkcode LowerPodLifecycle} works with. */
export interface LowerPodLifecycleOptions {
  config: KubernetesConfig;
  /** The lower cluster's client. */
  client: KubeClient;
  ownership: Ownership;
  pods: LowerPods;
  mirror: ObjectMirror;
  namespaces: LowerNamespaces;
  priorityClasses: LowerPriorityClasses;
  /** The upper cluster, for the pods as they are there and what they reference. */
  cluster: ClusterReader;
}

/** Upper pods made, updated and deleted as lower pods. */
export class LowerPodLifecycle {
  readonly #config: KubernetesConfig;
  readonly #client: KubeClient;
  readonly #ownership: Ownership;
  readonly #pods: LowerPods;
  readonly #mirror: ObjectMirror;
  readonly #namespaces: LowerNamespaces;
  readonly #priorityClasses: LowerPriorityClasses;
  readonly #cluster: ClusterReader;

  /** Keeps the options; nothing is sent to the lower cluster until the first call. */
  constructor(options: LowerPodLifecycleOptions) {
    this.#config = options.config;
    this.#client = options.client;
    this.#ownership = options.ownership;
    this.#pods = options.pods;
    this.#mirror = options.mirror;
    this.#namespaces = options.namespaces;
    this.#priorityClasses = options.priorityClasses;
    this.#cluster = options.cluster;
  }

  /** Makes the lower pod (and the copies of what it references); adopts it if it exists. */
  async createPod(pod: Pod, signal: AbortSignal): Promise<void> {
    const { namespace, name, uid } = this.#identity(pod);
    const key = `${namespace}/${name}`;
    await this.#pods.synced(signal);
    const lowerNs = lowerNamespace(this.#config.namespaces, namespace);
    const existing = this.#pods.get(lowerNs, name);
    if (existing !== undefined) {
      const ref = upperPodOf(existing.metadata);
      if (ref?.uid === uid) return; // made before (a repeat, or an earlier agent): adopted
      throw new AlreadyExistsError(
        `pod ${key} already has a lower pod ${lowerNs}/${name}, made for the earlier pod of that name (UID ${ref?.uid}); it goes first`,
      );
    }
    this.#pods.forget(key);
    await this.#namespaces.ensure(lowerNs, signal);
    const lower = await this.#desiredLower(pod, lowerNs, signal);
    await this.#mirror.ensure(namespace, referencedObjects(lower.spec), signal);
    await this.#createLower(lower, key, uid, signal);
    log.debug("pod {pod} made in the lower cluster as {lower}", {
      pod: key,
      lower: `${lowerNs}/${name}`,
    });
  }

  /** Applies what a running pod can change: labels, annotations, images, deadline, new tolerations. */
  async updatePod(pod: Pod, signal: AbortSignal): Promise<void> {
    const { namespace, name } = this.#identity(pod);
    const lower = await this.#ownLower(pod, signal);
    const desired = await this.#desiredLower(pod, lower.metadata!.namespace!, signal);
    const patch = updatePatch(lower, desired);
    if (patch === undefined) return;
    await this.#mirror.ensure(namespace, referencedObjects(desired.spec), signal);
    try {
      await this.#client.resource<Pod>(PODS, lower.metadata!.namespace).patch(name, patch, {
        type: "strategic",
        signal,
      });
    } catch (error) {
      throw toProviderError(error, `update lower pod ${lower.metadata!.namespace}/${name}`);
    }
  }

  /**
   * Deletes the lower pod with the upper pod's grace period and waits (that long, and a
   * little more) until it is gone below, so that a stopped pod is no longer reported
   * running.
   */
  async deletePod(pod: Pod, signal: AbortSignal): Promise<void> {
    const { namespace, name } = this.#identity(pod);
    const key = `${namespace}/${name}`;
    let lower: Pod;
    try {
      lower = await this.#ownLower(pod, signal);
    } catch (error) {
      if (this.#pods.gone(key)?.metadata?.uid === pod.metadata?.uid) this.#pods.forget(key);
      throw error;
    }
    const uid = lower.metadata!.uid!;
    const grace = pod.metadata?.deletionGracePeriodSeconds ??
      pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
    if (lower.metadata?.deletionTimestamp === undefined) {
      this.#pods.deleting(uid);
      try {
        await this.#client.resource<Pod>(PODS, lower.metadata!.namespace).delete(name, {
          preconditions: { uid },
          gracePeriodSeconds: grace,
          signal,
        });
      } catch (error) {
        if (!(error instanceof KubeNotFoundError)) {
          throw toProviderError(error, `delete lower pod ${lower.metadata!.namespace}/${name}`);
        }
      }
    }
    const gone = await this.#pods.waitGone(uid, (grace + DELETE_SLACK_SECONDS) * 1000, signal);
    if (!gone && !signal.aborted) {
      log.warn("lower pod {lower} of {pod} is still terminating after {seconds}s; letting it go", {
        lower: `${lower.metadata!.namespace}/${name}`,
        pod: key,
        seconds: grace + DELETE_SLACK_SECONDS,
      });
    }
  }

  #identity(pod: Pod): { namespace: string; name: string; uid: string } {
    const namespace = pod.metadata?.namespace ?? "default";
    const name = pod.metadata?.name;
    const uid = pod.metadata?.uid;
    if (!name || !uid) {
      throw new InvalidInputError(
        `pod ${namespace}/${name ?? "(no name)"}: expected a name and a UID, found ${
          name ? "no UID" : "no name"
        }`,
      );
    }
    return { namespace, name, uid };
  }

  /** The lower pod serving the upper pod `namespace/name`, if the cache has one. */
  lowerOf(namespace: string, name: string): Pod | undefined {
    let lowerNs: string;
    try {
      lowerNs = lowerNamespace(this.#config.namespaces, namespace);
    } catch {
      return undefined;
    }
    return this.#pods.get(lowerNs, name);
  }

  /** The lower pod of `pod` (same upper UID); `NotFoundError` otherwise. */
  async #ownLower(pod: Pod, signal: AbortSignal): Promise<Pod> {
    const { namespace, name, uid } = this.#identity(pod);
    await this.#pods.synced(signal);
    const lower = this.lowerOf(namespace, name);
    if (lower === undefined || upperPodOf(lower.metadata)?.uid !== uid) {
      throw new NotFoundError(`pod ${namespace}/${name} (UID ${uid}) has no lower pod`);
    }
    return lower;
  }

  async #desiredLower(pod: Pod, lowerNs: string, signal: AbortSignal): Promise<Pod> {
    const { namespace, name } = this.#identity(pod);
    const className = pod.spec?.priorityClassName;
    return toLowerPod(pod, {
      ownership: this.#ownership,
      namespace: lowerNs,
      nodeSelector: this.#config.nodeSelector,
      tolerations: this.#config.tolerations,
      upperTaintKeys: this.#config.upperTaintKeys,
      original: this.#cluster.getPod(namespace, name),
      objects: this.#cluster,
      priorityClassExists: className
        ? await this.#priorityClasses.exists(className, signal)
        : false,
    });
  }

  async #createLower(lower: Pod, key: string, uid: string, signal: AbortSignal): Promise<void> {
    const namespace = lower.metadata!.namespace!;
    const name = lower.metadata!.name!;
    const pods = this.#client.resource<Pod>(PODS, namespace);
    const deadline = Date.now() + SERVICE_ACCOUNT_WAIT_MS;
    while (true) {
      try {
        await pods.create(lower, { signal });
        return;
      } catch (error) {
        if (error instanceof KubeAlreadyExistsError) {
          return await this.#adoptExisting(key, namespace, name, uid, signal);
        }
        if (error instanceof KubeNotFoundError) {
          // The namespace was deleted below since it was made: make it again next time.
          this.#namespaces.forget(namespace);
          throw new UnavailableError(
            `create lower pod ${namespace}/${name}: the lower namespace ${namespace} is gone; making it again`,
            { cause: error },
          );
        }
        const failure = toProviderError(error, `create lower pod ${namespace}/${name}`);
        if (!(failure instanceof UnavailableError) || Date.now() > deadline || signal.aborted) {
          throw failure;
        }
        // A namespace made a moment ago gets its ServiceAccount from the lower controllers.
        await abortableSleep(500, signal);
      }
    }
  }

  /** A lower pod of that name appeared meanwhile: ours with the same UID is adopted. */
  async #adoptExisting(
    key: string,
    namespace: string,
    name: string,
    uid: string,
    signal: AbortSignal,
  ): Promise<void> {
    let found: Pod;
    try {
      found = await this.#client.resource<Pod>(PODS, namespace).get(name, { signal });
    } catch (error) {
      throw toProviderError(error, `read lower pod ${namespace}/${name}`);
    }
    if (this.#ownership.owns(found.metadata) && upperPodOf(found.metadata)?.uid === uid) return;
    const owner = this.#ownership.owns(found.metadata)
      ? `the earlier pod of that name (UID ${upperPodOf(found.metadata)?.uid})`
      : Ownership.describe(found.metadata);
    throw new AlreadyExistsError(
      `pod ${key}: the lower cluster already has a pod ${namespace}/${name}, which belongs to ${owner}; ` +
        "it is left alone (map the namespaces apart, see namespaces.prefix)",
    );
  }
}
