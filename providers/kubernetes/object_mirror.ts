/**
 * Copies of the upper ConfigMaps and Secrets that lower pods reference, in their lower
 * namespaces: made before a pod that needs them, kept equal to the upper object while any
 * lower pod of this agent refers to them (an upper change, or an edit below, is written
 * over), and deleted once none does. What exists below is watched by the owner label and
 * what is needed is read from the lower pods themselves, so a restarted agent finds both
 * and never deletes an object it did not make.
 *
 * Not copied: `kube-root-ca.crt` (every lower namespace has the lower cluster's own) and
 * ServiceAccount token Secrets (upper credentials stay above). An upper object that is
 * deleted while pods use it keeps its last copy below, as a kubelet keeps the files it
 * mounted.
 *
 * @module
 */

import type { ConfigMap, Secret } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import {
  abortableSleep,
  canonicalJson,
  CONFIG_MAPS,
  errorMessage,
  Informer,
  KubeAlreadyExistsError,
  type KubeClient,
  KubeConflictError,
  KubeInvalidError,
  KubeNotFoundError,
  SECRETS,
} from "../../lib/provider_kit/mod.ts";
import { type ClusterReader, UnavailableError } from "../../lib/provider.ts";
import { toProviderError } from "./errors.ts";
import type { LowerPods } from "./lower_pods.ts";
import { Ownership, upperPodOf } from "./ownership.ts";
import { type ObjectRef, referencedObjects } from "./references.ts";

const log = getLogger(["vkedge", "provider", "kubernetes", "mirror"]);

/** Objects never copied below. */
const NOT_COPIED_CONFIG_MAPS = new Set(["kube-root-ca.crt"]);
const NOT_COPIED_SECRET_TYPES = new Set(["kubernetes.io/service-account-token"]);

/**
 * How long an object made for a pod being created is kept without a pod using it (until the
 * pod shows up below, or a failed create is retried).
 */
const PIN_MS = 120_000;

type Kind = ObjectRef["kind"];
type Mirrored = ConfigMap | Secret;

/** One object below: kind, lower namespace, name, and the upper namespace it copies. */
interface Target {
  kind: Kind;
  namespace: string;
  name: string;
  upperNamespace: string;
}

function keyOf(target: Pick<Target, "kind" | "namespace" | "name">): string {
  return `${target.kind}/${target.namespace}/${target.name}`;
}

/** Options of {@linkcode ObjectMirror}. */
export interface ObjectMirrorOptions {
  /** Who owns the copies. */
  ownership: Ownership;
  /** The upper cluster. */
  cluster: ClusterReader;
  /** The lower namespace of an upper namespace. */
  lowerNamespace(upperNamespace: string): string;
  /** This agent's lower pods, whose references decide what is kept. */
  pods: LowerPods;
  /** Clock in milliseconds. */
  now?: () => number;
}

/** The content a copy must have, for comparing and writing. */
function contentOf(kind: Kind, object: Mirrored): Record<string, unknown> {
  if (kind === "ConfigMap") {
    const configMap = object as ConfigMap;
    return {
      data: configMap.data ?? {},
      binaryData: configMap.binaryData ?? {},
      immutable: configMap.immutable ?? false,
    };
  }
  const secret = object as Secret;
  return {
    type: secret.type ?? "Opaque",
    data: secret.data ?? {},
    immutable: secret.immutable ?? false,
  };
}

/** Keeps the copies of the upper objects lower pods reference. */
export class ObjectMirror {
  readonly #client: KubeClient;
  readonly #options: ObjectMirrorOptions;
  readonly #informers: Record<Kind, Informer<Mirrored>>;
  readonly #pending = new Set<string>();
  readonly #targets = new Map<string, Target>();
  /** Keys of copies made for a pod being created, until when they are kept regardless. */
  readonly #pinned = new Map<string, number>();
  #wake: (() => void) | undefined;
  #fullPass = false;

  /** A mirror writing through `client`; `run` starts it. */
  constructor(client: KubeClient, options: ObjectMirrorOptions) {
    this.#client = client;
    this.#options = options;
    const informer = (kind: Kind) => {
      const descriptor = kind === "ConfigMap" ? CONFIG_MAPS : SECRETS;
      const made = new Informer<Mirrored>(client.resource<Mirrored>(descriptor), {
        labelSelector: options.ownership.selector,
        name: kind === "ConfigMap" ? "lower-configmaps" : "lower-secrets",
      });
      const changed = (object: Mirrored) => this.#queueCopy(kind, object);
      made.addHandlers({ onAdd: changed, onUpdate: (_old, object) => changed(object) });
      made.addHandlers({ onDelete: changed });
      return made;
    };
    this.#informers = { ConfigMap: informer("ConfigMap"), Secret: informer("Secret") };
  }

  /** Watches, follows upper changes and lower pods, and converges until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    this.#options.cluster.onChange(signal, (change) => this.#upperChanged(change));
    this.#options.pods.listen(() => this.#queueFullPass());
    const informers = Object.values(this.#informers).map((informer) => informer.run(signal));
    await Promise.all([...informers, this.#loop(signal)]);
  }

  /** Whether the copies below are listed. */
  hasSynced(): boolean {
    return Object.values(this.#informers).every((informer) => informer.hasSynced());
  }

  /**
   * Makes (or brings up to date) the copies of `refs` of the upper namespace
   * `upperNamespace` before a pod that needs them is made. A mandatory reference whose
   * upper object does not exist is `UnavailableError`: the pod waits for it, as a kubelet
   * waits for a volume's ConfigMap.
   */
  async ensure(upperNamespace: string, refs: ObjectRef[], signal: AbortSignal): Promise<void> {
    for (const informer of Object.values(this.#informers)) {
      if (!(await informer.waitForSync(AbortSignal.any([signal, AbortSignal.timeout(10_000)])))) {
        signal.throwIfAborted();
        throw new UnavailableError(
          "the copies of ConfigMaps and Secrets in the lower cluster are not listed yet; retrying",
        );
      }
    }
    const now = this.#options.now?.() ?? Date.now();
    for (const ref of refs) {
      const target = this.#target(ref.kind, upperNamespace, ref.name);
      if (target === undefined) continue;
      this.#pinned.set(keyOf(target), now + PIN_MS);
      const upper = this.#upperObject(target);
      if (upper === undefined) {
        if (ref.optional) continue;
        throw new UnavailableError(
          `${ref.kind} ${upperNamespace}/${ref.name}, which the pod references, does not exist; ` +
            "the pod is made below once it does",
        );
      }
      await this.#write(target, upper, signal);
    }
  }

  #target(kind: Kind, upperNamespace: string, name: string): Target | undefined {
    if (kind === "ConfigMap" && NOT_COPIED_CONFIG_MAPS.has(name)) return undefined;
    const namespace = this.#options.lowerNamespace(upperNamespace);
    return { kind, namespace, name, upperNamespace };
  }

  #upperObject(target: Target): Mirrored | undefined {
    const { cluster } = this.#options;
    const object = target.kind === "ConfigMap"
      ? cluster.getConfigMap(target.upperNamespace, target.name)
      : cluster.getSecret(target.upperNamespace, target.name);
    if (target.kind === "Secret" && NOT_COPIED_SECRET_TYPES.has((object as Secret)?.type ?? "")) {
      return undefined;
    }
    return object;
  }

  /** The copies every lower pod needs now, by key. */
  #wanted(): Map<string, Target> {
    const wanted = new Map<string, Target>();
    for (const pod of this.#options.pods.list()) {
      const upper = upperPodOf(pod.metadata);
      if (upper === undefined) continue;
      for (const ref of referencedObjects(pod.spec)) {
        const target = this.#target(ref.kind, upper.namespace, ref.name);
        if (target !== undefined) wanted.set(keyOf(target), target);
      }
    }
    return wanted;
  }

  #upperChanged(change: { kind: Kind; namespace: string; name: string }): void {
    const target = this.#target(change.kind, change.namespace, change.name);
    if (target === undefined) return;
    const key = keyOf(target);
    const copied = this.#informers[change.kind].store.get(`${target.namespace}/${target.name}`);
    if (copied === undefined && !this.#targets.has(key)) return;
    this.#targets.set(key, target);
    this.#pending.add(key);
    this.#wake?.();
  }

  #queueCopy(kind: Kind, object: Mirrored): void {
    const namespace = object.metadata?.namespace ?? "";
    const name = object.metadata?.name ?? "";
    this.#pending.add(keyOf({ kind, namespace, name }));
    this.#wake?.();
  }

  #queueFullPass(): void {
    this.#fullPass = true;
    this.#wake?.();
  }

  async #loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (this.#pending.size === 0 && !this.#fullPass) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          signal.addEventListener("abort", () => resolve(), { once: true });
        });
        this.#wake = undefined;
        continue;
      }
      if (!this.#options.pods.informer.hasSynced() || !this.hasSynced()) {
        await abortableSleep(200, signal);
        continue;
      }
      // Let a burst of pod events settle into one pass.
      await abortableSleep(100, signal);
      const wanted = this.#wanted();
      for (const [key, target] of wanted) {
        this.#targets.set(key, target);
        this.#pinned.delete(key); // a pod uses it now: no longer pinned for its creation
      }
      const keys = new Set(this.#pending);
      this.#pending.clear();
      if (this.#fullPass) {
        this.#fullPass = false;
        for (const key of wanted.keys()) keys.add(key);
        for (const kind of ["ConfigMap", "Secret"] as const) {
          for (const object of this.#informers[kind].store.list()) {
            keys.add(keyOf({
              kind,
              namespace: object.metadata?.namespace ?? "",
              name: object.metadata?.name ?? "",
            }));
          }
        }
      }
      for (const key of keys) {
        if (signal.aborted) return;
        try {
          await this.#converge(key, wanted, signal);
        } catch (error) {
          if (signal.aborted) return;
          log.warn("cannot bring the copy {key} in line: {error}; retrying", {
            key,
            error: errorMessage(error),
          });
          setTimeout(() => {
            this.#pending.add(key);
            this.#wake?.();
          }, 2_000);
        }
      }
    }
  }

  async #converge(key: string, wanted: Map<string, Target>, signal: AbortSignal): Promise<void> {
    const [kind, namespace, ...rest] = key.split("/");
    const name = rest.join("/");
    const copy = this.#informers[kind as Kind].store.get(`${namespace}/${name}`);
    const target = wanted.get(key);
    if (target === undefined) {
      const pinnedUntil = this.#pinned.get(key) ?? 0;
      if (pinnedUntil > (this.#options.now?.() ?? Date.now())) return;
      this.#pinned.delete(key);
      this.#targets.delete(key);
      if (copy !== undefined) await this.#delete(kind as Kind, copy, signal);
      return;
    }
    const upper = this.#upperObject(target);
    if (upper === undefined) return; // keep the last copy while pods use it
    await this.#write(target, upper, signal);
  }

  #desired(target: Target, upper: Mirrored): Mirrored {
    const { ownership } = this.#options;
    return {
      apiVersion: "v1",
      kind: target.kind,
      metadata: {
        name: target.name,
        namespace: target.namespace,
        labels: ownership.labels(),
        annotations: {
          ...ownership.annotations(),
          "vkedge.io/source": `${target.upperNamespace}/${target.name}`,
        },
      },
      ...contentOf(target.kind, upper),
    } as Mirrored;
  }

  /** Creates or updates the copy `target` of `upper`, when it differs. */
  async #write(target: Target, upper: Mirrored, signal: AbortSignal): Promise<void> {
    const descriptor = target.kind === "ConfigMap" ? CONFIG_MAPS : SECRETS;
    const resource = this.#client.resource<Mirrored>(descriptor, target.namespace);
    const desired = this.#desired(target, upper);
    const what =
      `copy ${target.kind} ${target.upperNamespace}/${target.name} to ${target.namespace}`;
    let current = this.#informers[target.kind].store.get(`${target.namespace}/${target.name}`);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        if (current === undefined) {
          await resource.create(desired, { signal });
          log.debug("copied {kind} {source} to {namespace}", {
            kind: target.kind,
            source: `${target.upperNamespace}/${target.name}`,
            namespace: target.namespace,
          });
          return;
        }
        if (!this.#options.ownership.owns(current.metadata)) {
          throw new UnavailableError(
            `${what}: a ${target.kind} of that name exists there and belongs to ${
              Ownership.describe(current.metadata)
            }; it is left alone (rename one of them, or map the namespaces apart)`,
          );
        }
        if (
          canonicalJson(contentOf(target.kind, current)) ===
            canonicalJson(contentOf(target.kind, upper))
        ) return;
        await resource.update({
          ...desired,
          metadata: { ...desired.metadata, resourceVersion: current.metadata?.resourceVersion },
        }, { signal });
        return;
      } catch (error) {
        if (error instanceof UnavailableError) throw error;
        if (error instanceof KubeAlreadyExistsError || error instanceof KubeConflictError) {
          current = await resource.get(target.name, { signal }).catch((cause) => {
            if (cause instanceof KubeNotFoundError) return undefined;
            throw toProviderError(cause, what);
          });
          continue;
        }
        if (error instanceof KubeInvalidError && current !== undefined) {
          // An immutable object or a changed Secret type: replace the copy.
          await this.#delete(target.kind, current, signal);
          current = undefined;
          continue;
        }
        throw toProviderError(error, what);
      }
    }
    throw new UnavailableError(`${what}: it kept changing while being written; retrying`);
  }

  async #delete(kind: Kind, copy: Mirrored, signal: AbortSignal): Promise<void> {
    if (!this.#options.ownership.owns(copy.metadata)) return;
    const descriptor = kind === "ConfigMap" ? CONFIG_MAPS : SECRETS;
    try {
      await this.#client.resource<Mirrored>(descriptor, copy.metadata?.namespace).delete(
        copy.metadata!.name!,
        { preconditions: { uid: copy.metadata!.uid }, signal },
      );
      log.debug("deleted the copy {kind} {namespace}/{name}: no pod uses it", {
        kind,
        namespace: copy.metadata?.namespace,
        name: copy.metadata?.name,
      });
    } catch (error) {
      if (error instanceof KubeNotFoundError || error instanceof KubeConflictError) return;
      throw error;
    }
  }
}
