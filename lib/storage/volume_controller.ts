/**
 * The volume controller: a dynamic provisioner for StorageClasses whose provisioner is
 * `vkedge.io/<provider>`, and the attach step for the pods of this node. A claim this node
 * provisions (see `provisionsHere`) gets a provider volume named `pvc-<claim UID>` and a
 * PersistentVolume of the same name with its claimRef; the cluster's PV controller binds
 * them. A released volume with reclaim `Delete` is deleted in the IaaS, then its PV;
 * `Retain` keeps both. A bound claim asking for more is grown where its class allows.
 * Volumes of claims a pod on this node uses are attached to the pod's VM.
 *
 * A crash at any point leaves nothing twice: the volume's name and the PV's name are the
 * claim UID's, the provider's create is idempotent by name, and a PV that exists ends the
 * provisioning.
 *
 * @module
 */

import type { PersistentVolume, PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1.d.ts";
import type { StorageClass } from "kubernetes-types/storage/v1.d.ts";
import {
  type Informer,
  KubeAlreadyExistsError,
  KubeConflictError,
  KubeNotFoundError,
  PERSISTENT_VOLUME_CLAIMS,
  PERSISTENT_VOLUMES,
  runWorkers,
  type SharedInformerFactory,
  STORAGE_CLASSES,
  WorkQueue,
} from "../kube/mod.ts";
import {
  hasVolumeProvisioner,
  isInvalidInput,
  isNotFound,
  type Provider,
  type VolumeProvisioner,
} from "../provider.ts";
import { quantityValue } from "../quantity.ts";
import { errorMessage } from "../errors.ts";
import { type Controller, readiness } from "../controller.ts";
import type { VmRuntime } from "../vm/vm_runtime.ts";
import { nodeLabelValue } from "../endpoints/slices.ts";
import {
  claimsOf,
  formatBytes,
  persistentVolumeFor,
  providerParameters,
  PROVISIONED_BY,
  provisionerName,
  provisionsHere,
  PV_NODE_LABEL,
  pvNameFor,
  unsupportedModes,
  VOLUME_ID,
} from "./volumes.ts";

type VolumeProvider = Provider & VolumeProvisioner;

/** Provisions, grows, deletes and attaches this node's volumes. */
export class VolumeController implements Controller {
  /** Controller name. */
  readonly name = "volumes";
  readonly #runtime: VmRuntime;
  readonly #provider: VolumeProvider;
  readonly #claims: Informer<PersistentVolumeClaim>;
  readonly #volumes: Informer<PersistentVolume>;
  readonly #classes: Informer<StorageClass>;
  readonly #queue = new WorkQueue({ name: "volumes", maxDelayMs: 5 * 60_000 });
  readonly #readiness = readiness();
  readonly #provisioner: string;
  /** Claims told once that they cannot be provisioned, by UID, generation and reason. */
  readonly #refused = new Set<string>();

  /** A controller over `runtime` (whose provider must have the volume capability). */
  constructor(runtime: VmRuntime, informers: SharedInformerFactory) {
    if (!hasVolumeProvisioner(runtime.provider)) {
      throw new Error(`provider ${runtime.provider.name} cannot provision volumes`);
    }
    this.#runtime = runtime;
    this.#provider = runtime.provider;
    this.#provisioner = provisionerName(runtime.provider.name);
    this.#claims = informers.informer<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS);
    this.#volumes = informers.informer<PersistentVolume>(PERSISTENT_VOLUMES, {
      labelSelector: `${PV_NODE_LABEL}=${nodeLabelValue(runtime.nodeName)}`,
    });
    this.#classes = informers.informer<StorageClass>(STORAGE_CLASSES);
  }

  /** Resolves once the caches synced. */
  get ready(): Promise<void> {
    return this.#readiness.ready;
  }

  /** Keeps the volumes until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    const runtime = this.#runtime;
    const synced = await Promise.all(
      [this.#claims, this.#volumes, this.#classes, runtime.pods].map((i) => i.waitForSync(signal)),
    );
    if (!synced.every(Boolean)) return;
    const queue = this.#queue;
    const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) =>
      `${o.metadata?.namespace}/${o.metadata?.name}`;
    const onClaim = (claim: PersistentVolumeClaim) => queue.add(`claim:${keyOf(claim)}`);
    this.#claims.addHandlers({ onAdd: onClaim, onUpdate: (_o, c) => onClaim(c) });
    const onVolume = (pv: PersistentVolume) => {
      queue.add(`pv:${pv.metadata?.name}`);
      const ref = pv.spec?.claimRef;
      if (ref) queue.add(`claim:${ref.namespace}/${ref.name}`);
    };
    this.#volumes.addHandlers({ onAdd: onVolume, onUpdate: (_o, pv) => onVolume(pv) });
    this.#classes.addHandlers({
      onAdd: () => this.#claims.store.list().forEach(onClaim),
      onUpdate: () => this.#claims.store.list().forEach(onClaim),
    });
    const onPod = (pod: Pod) => {
      const claims = claimsOf(pod);
      if (claims.length === 0) return;
      queue.add(`pod:${keyOf(pod)}`);
      for (const claim of claims) queue.add(`claim:${pod.metadata?.namespace}/${claim}`);
    };
    runtime.pods.addHandlers({ onAdd: onPod, onUpdate: (_o, pod) => onPod(pod) });
    signal.addEventListener("abort", () => queue.shutDown(), { once: true });
    this.#readiness.markReady();
    await runWorkers(queue, async (key, s) => {
      try {
        const colon = key.indexOf(":");
        const kind = key.slice(0, colon);
        const rest = key.slice(colon + 1);
        if (kind === "claim") await this.#reconcileClaim(rest, s);
        else if (kind === "pv") await this.#reconcileVolume(rest, s);
        else await this.#attach(rest, s);
      } catch (error) {
        if (!(error instanceof KubeConflictError)) throw error;
        queue.addAfter(key, 500);
      }
    }, { workers: 4, signal });
  }

  #refuseOnce(claim: PersistentVolumeClaim, message: string): void {
    const key = `${claim.metadata?.uid}/${claim.metadata?.generation}/${message}`;
    if (this.#refused.has(key)) return;
    this.#refused.add(key);
    this.#runtime.events.record(claim, "Warning", "ProvisioningFailed", message);
  }

  #usedHere(claim: PersistentVolumeClaim): boolean {
    return this.#runtime.pods.store.list().some((pod) =>
      pod.metadata?.namespace === claim.metadata?.namespace &&
      claimsOf(pod).includes(claim.metadata?.name ?? "")
    );
  }

  async #reconcileClaim(key: string, signal: AbortSignal): Promise<void> {
    const runtime = this.#runtime;
    const claim = this.#claims.store.get(key);
    if (!claim || claim.metadata?.deletionTimestamp) return;
    const className = claim.spec?.storageClassName;
    const storageClass = className ? this.#classes.store.get(className) : undefined;
    if (!storageClass || storageClass.provisioner !== this.#provisioner) return;
    if (claim.spec?.volumeName) return await this.#expand(claim, storageClass, signal);
    if (!provisionsHere(claim, storageClass, runtime.nodeName, this.#usedHere(claim))) return;
    const pvName = pvNameFor(claim);
    if (this.#volumes.store.get(pvName)) return;
    const unsupported = unsupportedModes(claim);
    if (unsupported.length > 0) {
      return this.#refuseOnce(
        claim,
        `access modes ${
          unsupported.join(", ")
        } cannot be given by a ${runtime.provider.name} disk, which attaches to one VM at a time: ask for ReadWriteOnce (or ReadWriteOncePod)`,
      );
    }
    const sizeText = claim.spec?.resources?.requests?.storage;
    const sizeBytes = sizeText === undefined ? NaN : quantityValue(String(sizeText));
    if (!(sizeBytes > 0)) {
      return this.#refuseOnce(claim, "expected spec.resources.requests.storage, such as 10Gi");
    }
    runtime.events.record(
      claim,
      "Normal",
      "Provisioning",
      `External provisioner is provisioning volume for claim "${key}"`,
    );
    let volume;
    try {
      volume = await this.#provider.createVolume({
        name: pvName,
        sizeBytes,
        parameters: providerParameters(storageClass),
        accessModes: claim.spec?.accessModes ?? ["ReadWriteOnce"],
        claim: key,
      }, signal);
    } catch (error) {
      if (signal.aborted) throw error;
      if (isInvalidInput(error)) return this.#refuseOnce(claim, errorMessage(error));
      runtime.events.record(claim, "Warning", "ProvisioningFailed", errorMessage(error));
      throw error; // retried with backoff
    }
    const pv = persistentVolumeFor(claim, storageClass, volume, {
      provisioner: this.#provisioner,
      driver: `${runtime.provider.name}.vkedge.io`,
      nodeName: runtime.nodeName,
      nodeLabel: nodeLabelValue(runtime.nodeName),
    });
    try {
      await runtime.client.resource<PersistentVolume>(PERSISTENT_VOLUMES).create(pv, { signal });
    } catch (error) {
      if (!(error instanceof KubeAlreadyExistsError)) throw error;
    }
    runtime.log.info("claim {claim}: provisioned volume {pv} ({id}, {bytes} bytes)", {
      claim: key,
      pv: pvName,
      id: volume.id,
      bytes: volume.sizeBytes,
    });
    runtime.events.record(
      claim,
      "Normal",
      "ProvisioningSucceeded",
      `Successfully provisioned volume ${pvName} (${runtime.provider.name} volume ${volume.id})`,
    );
  }

  /** Grows the volume of a bound claim that asks for more, where its class allows it. */
  async #expand(
    claim: PersistentVolumeClaim,
    storageClass: StorageClass,
    signal: AbortSignal,
  ): Promise<void> {
    const runtime = this.#runtime;
    const pv = claim.spec?.volumeName ? this.#volumes.store.get(claim.spec.volumeName) : undefined;
    if (!pv || pv.metadata?.annotations?.[PROVISIONED_BY] !== this.#provisioner) return;
    const id = pv.metadata?.annotations?.[VOLUME_ID];
    const requestedText = claim.spec?.resources?.requests?.storage;
    if (!id || requestedText === undefined) return;
    const requested = quantityValue(String(requestedText));
    const current = quantityValue(String(pv.spec?.capacity?.storage ?? "0"));
    let size = current;
    if (requested > current) {
      if (!storageClass.allowVolumeExpansion) return; // the API server refuses such a change
      size = await this.#provider.expandVolume(id, requested, signal);
      await runtime.client.resource<PersistentVolume>(PERSISTENT_VOLUMES).patch(
        pv.metadata!.name!,
        { spec: { capacity: { storage: formatBytes(size) } } },
        { type: "merge", signal },
      );
      runtime.events.record(
        claim,
        "Normal",
        "VolumeResizeSuccessful",
        `resize volume "${pv.metadata!.name}" to ${formatBytes(size)}`,
      );
    }
    const shown = claim.status?.capacity?.storage;
    if (
      claim.status?.phase === "Bound" &&
      (shown === undefined || quantityValue(String(shown)) < size)
    ) {
      await runtime.client.resource<PersistentVolumeClaim>(
        PERSISTENT_VOLUME_CLAIMS,
        claim.metadata!.namespace,
      ).patchStatus(claim.metadata!.name!, {
        status: { capacity: { storage: formatBytes(size) } },
      }, { type: "merge", signal });
    }
  }

  /** A released volume with reclaim `Delete` goes, in the IaaS first. */
  async #reconcileVolume(name: string, signal: AbortSignal): Promise<void> {
    const runtime = this.#runtime;
    const pv = this.#volumes.store.get(name);
    if (!pv || pv.metadata?.annotations?.[PROVISIONED_BY] !== this.#provisioner) return;
    if (pv.status?.phase !== "Released" || pv.spec?.persistentVolumeReclaimPolicy !== "Delete") {
      return;
    }
    const id = pv.metadata?.annotations?.[VOLUME_ID];
    if (id) {
      const volume = await this.#provider.getVolume(id, signal);
      if (volume && volume.attachedTo.length > 0) {
        runtime.log.info("volume {pv} is released but still attached to {pods}; waiting", {
          pv: name,
          pods: volume.attachedTo.join(", "),
        });
        this.#queue.addAfter(`pv:${name}`, 10_000);
        return;
      }
      if (volume) {
        await this.#provider.deleteVolume(id, signal).catch((error) => {
          if (!isNotFound(error)) throw error;
        });
      }
    }
    await runtime.client.resource<PersistentVolume>(PERSISTENT_VOLUMES).delete(name, { signal })
      .catch((error) => {
        if (!(error instanceof KubeNotFoundError)) throw error;
      });
    runtime.log.info("volume {pv} ({id}) deleted: its claim is gone and reclaim is Delete", {
      pv: name,
      id,
    });
  }

  /** Attaches the volumes of the claims `key`'s pod uses to its VM. */
  async #attach(key: string, signal: AbortSignal): Promise<void> {
    const runtime = this.#runtime;
    const pod = runtime.pods.store.get(key);
    if (!pod || pod.metadata?.deletionTimestamp) return;
    const namespace = pod.metadata!.namespace!;
    const providerPod = await runtime.provider.getPod(namespace, pod.metadata!.name!, signal)
      .catch((error) => {
        if (isNotFound(error)) return undefined;
        throw error;
      });
    let waiting = false;
    for (const claimName of claimsOf(pod)) {
      const claim = this.#claims.store.get(`${namespace}/${claimName}`);
      const pvName = claim?.spec?.volumeName;
      const pv = pvName ? this.#volumes.store.get(pvName) : undefined;
      if (!pv) {
        waiting = waiting || claim !== undefined;
        continue; // not provisioned (or not ours): the claim's own sync takes it
      }
      const id = pv.metadata?.annotations?.[VOLUME_ID];
      if (!id || pv.metadata?.annotations?.[PROVISIONED_BY] !== this.#provisioner) continue;
      if (!providerPod) {
        waiting = true; // the VM is being made
        continue;
      }
      const volume = await this.#provider.getVolume(id, signal);
      if (volume?.attachedTo.includes(key)) continue;
      await this.#provider.attachVolume(id, pod, signal);
      runtime.events.record(
        pod,
        "Normal",
        "SuccessfulAttachVolume",
        `AttachVolume.Attach succeeded for volume "${pvName}"`,
      );
    }
    if (waiting) this.#queue.addAfter(`pod:${key}`, 2000);
  }
}
