/**
 * Keeps the node's Lease in `kube-node-lease` renewed, the heartbeat the
 * node-lifecycle controller reads. The Lease is owned by the Node, so it goes
 * away with it; a Lease is never created before the Node's UID is known.
 *
 * @module
 */

import type { Lease } from "kubernetes-types/coordination/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import {
  formatMicroTime,
  type KubeClient,
  KubeConflictError,
  KubeNotFoundError,
  LEASES,
  type ResourceClient,
} from "../kube/mod.ts";
import { abortableSleep } from "../sleep.ts";
import { errorMessage } from "../errors.ts";
import { nodeLeaseRenewals } from "./node_metrics.ts";

/** Namespace of node leases. */
export const NODE_LEASE_NAMESPACE = "kube-node-lease";

/** Options of {@linkcode LeaseController}. */
export interface LeaseControllerOptions {
  /** `spec.leaseDurationSeconds` (default 40, as the kubelet). */
  durationSeconds?: number;
  /** Renew interval in milliseconds (default a quarter of the duration). */
  renewIntervalMs?: number;
  /** Returns the UID of the Node as last seen, or undefined while it is not registered. */
  nodeUid: () => string | undefined;
  /** Called when the Lease cannot be written because the Node is gone. */
  onNodeMissing?: () => void;
}

/** Renews `kube-node-lease/<node>` every renew interval until aborted. */
export class LeaseController {
  readonly #leases: ResourceClient<Lease>;
  readonly #nodeName: string;
  readonly #options: LeaseControllerOptions;
  readonly #log = getLogger(["vkedge", "node", "lease"]);
  #lease: Lease | undefined;
  #lastRenew: Date | undefined;

  /** A controller for the lease named after `nodeName`. */
  constructor(client: KubeClient, nodeName: string, options: LeaseControllerOptions) {
    this.#leases = client.resource<Lease>(LEASES, NODE_LEASE_NAMESPACE);
    this.#nodeName = nodeName;
    this.#options = options;
  }

  /** When the lease was last renewed successfully. */
  get lastRenew(): Date | undefined {
    return this.#lastRenew;
  }

  get #durationSeconds(): number {
    return this.#options.durationSeconds ?? 40;
  }

  /** Renews at once, then every renew interval, until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const interval = this.#options.renewIntervalMs ?? this.#durationSeconds * 250;
    while (!signal.aborted) {
      try {
        await this.renew(signal);
      } catch (error) {
        if (signal.aborted) break;
        this.#log.warn("cannot renew lease {lease}: {error}; retrying in {seconds}s", {
          lease: `${NODE_LEASE_NAMESPACE}/${this.#nodeName}`,
          error: errorMessage(error),
          seconds: interval / 1000,
        });
      }
      await abortableSleep(interval, signal);
    }
  }

  /** Renews once: a direct update of the cached lease, else get-or-create and update. */
  async renew(signal?: AbortSignal): Promise<void> {
    try {
      await this.#renewOnce(signal);
    } catch (error) {
      nodeLeaseRenewals.inc({ outcome: "failure" });
      throw error;
    }
  }

  async #renewOnce(signal?: AbortSignal): Promise<void> {
    const uid = this.#options.nodeUid();
    if (uid === undefined) return; // never a lease without its owner reference
    if (this.#lease && this.#ownedBy(this.#lease, uid)) {
      try {
        this.#lease = await this.#leases.update(this.#renewed(this.#lease, uid), { signal });
        this.#lastRenew = new Date();
        nodeLeaseRenewals.inc({ outcome: "success" });
        return;
      } catch (error) {
        if (!(error instanceof KubeConflictError) && !(error instanceof KubeNotFoundError)) {
          throw error;
        }
      }
    }
    this.#lease = await this.#ensure(uid, signal);
    this.#lastRenew = new Date();
    nodeLeaseRenewals.inc({ outcome: "success" });
  }

  async #ensure(uid: string, signal?: AbortSignal): Promise<Lease> {
    let current: Lease;
    try {
      current = await this.#leases.get(this.#nodeName, { signal });
    } catch (error) {
      if (!(error instanceof KubeNotFoundError)) throw error;
      try {
        return await this.#leases.create(
          this.#renewed({
            apiVersion: "coordination.k8s.io/v1",
            kind: "Lease",
            metadata: { name: this.#nodeName, namespace: NODE_LEASE_NAMESPACE },
          }, uid),
          { signal },
        );
      } catch (createError) {
        // The owner reference names a Node that no longer exists.
        if (createError instanceof KubeNotFoundError) this.#options.onNodeMissing?.();
        throw createError;
      }
    }
    return await this.#leases.update(this.#renewed(current, uid), { signal });
  }

  #ownedBy(lease: Lease, uid: string): boolean {
    return (lease.metadata?.ownerReferences ?? []).some((ref) => ref.uid === uid);
  }

  #renewed(lease: Lease, uid: string): Lease {
    const owners = (lease.metadata?.ownerReferences ?? []).filter((ref) => ref.kind !== "Node");
    return {
      ...lease,
      metadata: {
        ...lease.metadata,
        ownerReferences: [...owners, { apiVersion: "v1", kind: "Node", name: this.#nodeName, uid }],
      },
      spec: {
        ...lease.spec,
        holderIdentity: this.#nodeName,
        leaseDurationSeconds: this.#durationSeconds,
        renewTime: formatMicroTime(new Date()),
      },
    };
  }
}
