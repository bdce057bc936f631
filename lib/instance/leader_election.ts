/**
 * One agent per node across hosts: leader election on a Lease (`kube-node-lease/vkedge-<node>`
 * by default, apart from the node's heartbeat Lease), with client-go's semantics. The holder
 * renews it every retry period; a candidate takes it over only once it has watched the
 * record stay unchanged for the holder's lease duration, measured on its own clock (no
 * clock comparison between hosts), or at once when the holder released it or is known to
 * be dead. The leader stops when it has not renewed for the renew deadline, which is
 * shorter than the lease duration, so it has stopped before anyone may take over. Writes
 * are get, create and update with resourceVersion preconditions: the API server is the
 * compare-and-swap.
 *
 * @module
 */

import type { Lease } from "kubernetes-types/coordination/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import { z } from "zod";
import {
  formatMicroTime,
  KubeAlreadyExistsError,
  KubeConflictError,
  KubeNotFoundError,
} from "../kube/mod.ts";
import { counter, gauge } from "../metrics/mod.ts";
import { abortableSleep } from "../sleep.ts";
import { errorMessage } from "../errors.ts";

/** The Lease operations the election uses (a `ResourceClient<Lease>` has them). */
export interface LeaseAccess {
  /** Reads the Lease; throws `KubeNotFoundError` when there is none. */
  get(name: string, options: { signal?: AbortSignal }): Promise<Lease>;
  /** Creates the Lease; throws `KubeAlreadyExistsError` when someone was first. */
  create(lease: Lease, options: { signal?: AbortSignal }): Promise<Lease>;
  /** Replaces the Lease; throws `KubeConflictError` when it changed since it was read. */
  update(lease: Lease, options: { signal?: AbortSignal }): Promise<Lease>;
}

/** Options of {@linkcode LeaderElector}. */
export interface LeaderElectorOptions {
  /** Namespace of the Lease (for messages; `leases` is already bound to it). */
  namespace: string;
  /** Name of the Lease. */
  name: string;
  /** This process's identity, unique per process (host name, pid and a random part). */
  identity: string;
  /** How long an unrenewed Lease is honoured by the others. */
  leaseDurationMs: number;
  /** How long the leader keeps leading without a successful renewal. */
  renewDeadlineMs: number;
  /** How often the leader renews and a candidate tries. */
  retryPeriodMs: number;
  /**
   * Identities of holders known to be dead (the previous agent of this host's lock): their
   * Lease is taken at once instead of after its duration.
   */
  deadHolders?: readonly string[];
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
}

/** Thrown when the leader could not keep its Lease: the agent must stop driving the node. */
export class LeadershipLostError extends Error {
  override name = "LeadershipLostError";
}

const specSchema = z.object({
  holderIdentity: z.string().nullish(),
  leaseDurationSeconds: z.number().int().nullish(),
  acquireTime: z.string().nullish(),
  renewTime: z.string().nullish(),
  leaseTransitions: z.number().int().nullish(),
}).passthrough();

type LeaseSpec = z.infer<typeof specSchema>;

const isLeader = gauge({
  name: "vkedge_leader_election_is_leader",
  help: "1 while this agent holds its node's leader election Lease, 0 while it is a standby.",
});

const renewals = counter<"outcome">({
  name: "vkedge_leader_election_renewals_total",
  help: "Attempts to take or renew the leader election Lease, by outcome " +
    "(success, held_by_other, error).",
  labelNames: ["outcome"],
});

function specOf(lease: Lease): LeaseSpec {
  const parsed = specSchema.safeParse(lease.spec ?? {});
  if (!parsed.success) {
    throw new Error(
      `lease ${lease.metadata?.namespace}/${lease.metadata?.name}: expected a Lease spec, found ${
        JSON.stringify(lease.spec)
      }`,
    );
  }
  return parsed.data;
}

/** Takes, keeps and releases one leader election Lease for this process. */
export class LeaderElector {
  readonly #leases: LeaseAccess;
  readonly #options: LeaderElectorOptions;
  readonly #now: () => number;
  readonly #log = getLogger(["vkedge", "leader"]);
  #lease: Lease | undefined;
  #observedSpec = "";
  #observedAt = 0;
  #leading = false;
  #lastRenewAt = 0;
  #lastHolder: string | undefined;
  #lastError: string | undefined;

  /** An elector over `leases`, which is bound to the Lease's namespace. */
  constructor(leases: LeaseAccess, options: LeaderElectorOptions) {
    this.#leases = leases;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    isLeader.set(0);
  }

  /** `namespace/name` of the Lease. */
  get leaseKey(): string {
    return `${this.#options.namespace}/${this.#options.name}`;
  }

  /** This process's identity. */
  get identity(): string {
    return this.#options.identity;
  }

  /** Whether this process holds the Lease as far as it knows. */
  get isLeader(): boolean {
    return this.#leading;
  }

  /** The holder last seen on the Lease (this process's identity while leading). */
  get holder(): string | undefined {
    return this.#lastHolder;
  }

  /** Why the last attempt could not ask the API server, if it could not. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /**
   * One attempt: renews a Lease this process holds, creates a missing one, or takes one
   * whose holder left it (released, expired on this process's clock, or dead). Resolves
   * true when this process holds the Lease afterwards, false when another holder keeps it
   * or someone wrote it first; throws when the API server cannot be asked.
   */
  async tryAcquireOrRenew(signal?: AbortSignal): Promise<boolean> {
    try {
      const held = await this.#attempt(signal);
      this.#lastError = undefined;
      renewals.inc({ outcome: held ? "success" : "held_by_other" });
      return held;
    } catch (error) {
      this.#lastError = errorMessage(error);
      renewals.inc({ outcome: "error" });
      throw error;
    }
  }

  async #attempt(signal: AbortSignal | undefined): Promise<boolean> {
    const started = this.#now();
    if (this.#leading && this.#lease !== undefined) {
      try {
        return this.#held(
          await this.#leases.update(this.#claimed(this.#lease, started), { signal }),
          started,
        );
      } catch (error) {
        if (!(error instanceof KubeConflictError) && !(error instanceof KubeNotFoundError)) {
          throw error;
        }
      }
    }
    let current: Lease;
    try {
      current = await this.#leases.get(this.#options.name, { signal });
    } catch (error) {
      if (!(error instanceof KubeNotFoundError)) throw error;
      try {
        const fresh: Lease = {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: this.#options.name, namespace: this.#options.namespace },
        };
        return this.#held(
          await this.#leases.create(this.#claimed(fresh, started), { signal }),
          started,
        );
      } catch (createError) {
        if (createError instanceof KubeAlreadyExistsError) return this.#notHeld(undefined);
        throw createError;
      }
    }
    const spec = specOf(current);
    const text = JSON.stringify([
      spec.holderIdentity,
      spec.leaseDurationSeconds,
      spec.acquireTime,
      spec.renewTime,
      spec.leaseTransitions,
    ]);
    const now = this.#now();
    if (text !== this.#observedSpec) {
      this.#observedSpec = text;
      this.#observedAt = now;
    }
    const holder = spec.holderIdentity ?? "";
    const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000;
    const heldByOther = holder !== "" && holder !== this.#options.identity &&
      !(this.#options.deadHolders ?? []).includes(holder) &&
      this.#observedAt + durationMs > now;
    if (heldByOther) return this.#notHeld(holder);
    try {
      return this.#held(
        await this.#leases.update(this.#claimed(current, started), { signal }),
        started,
      );
    } catch (error) {
      if (error instanceof KubeConflictError) return this.#notHeld(holder);
      throw error;
    }
  }

  #held(lease: Lease, started: number): boolean {
    if (!this.#leading) {
      this.#log.info("leading: took the lease {lease} as {identity}", {
        lease: this.leaseKey,
        identity: this.#options.identity,
      });
    }
    this.#lease = lease;
    this.#leading = true;
    this.#lastRenewAt = started;
    this.#lastHolder = this.#options.identity;
    this.#observedSpec = "";
    isLeader.set(1);
    return true;
  }

  #notHeld(holder: string | undefined): boolean {
    this.#lease = undefined;
    this.#leading = false;
    if (holder !== undefined) this.#lastHolder = holder;
    isLeader.set(0);
    return false;
  }

  /** `lease` with this process as holder, renewed at `at`. */
  #claimed(lease: Lease, at: number): Lease {
    const spec = specOf(lease);
    const ours = spec.holderIdentity === this.#options.identity;
    const time = formatMicroTime(new Date(at));
    return {
      ...lease,
      spec: {
        ...lease.spec,
        holderIdentity: this.#options.identity,
        leaseDurationSeconds: Math.ceil(this.#options.leaseDurationMs / 1000),
        acquireTime: ours && spec.acquireTime ? spec.acquireTime : time,
        renewTime: time,
        leaseTransitions: (spec.leaseTransitions ?? 0) +
          (ours || spec.holderIdentity === undefined || spec.holderIdentity === null ? 0 : 1),
      },
    };
  }

  /**
   * Tries every retry period (with jitter) until this process holds the Lease, logging
   * once per holder that it waits as a standby. Resolves true once leading, false when
   * `signal` aborts first.
   */
  async acquire(signal: AbortSignal): Promise<boolean> {
    let standbyFor: string | undefined;
    let lastError = "";
    while (!signal.aborted) {
      try {
        if (await this.tryAcquireOrRenew(signal)) return true;
        lastError = "";
        const holder = this.#lastHolder ?? "someone else";
        if (holder !== standbyFor) {
          standbyFor = holder;
          this.#log.info(
            "standby: the lease {lease} is held by {holder}; taking over if it is not renewed for {seconds}s",
            {
              lease: this.leaseKey,
              holder,
              seconds: this.#options.leaseDurationMs / 1000,
            },
          );
        }
      } catch (error) {
        if (signal.aborted) break;
        const message = errorMessage(error);
        if (message !== lastError) {
          lastError = message;
          this.#log.warn("cannot read the lease {lease}: {error}; retrying every {seconds}s", {
            lease: this.leaseKey,
            error: message,
            seconds: this.#options.retryPeriodMs / 1000,
          });
        }
      }
      await abortableSleep(this.#options.retryPeriodMs * (1 + 0.2 * Math.random()), signal);
    }
    return false;
  }

  /**
   * Renews every retry period while leading. Resolves when `signal` aborts; rejects with
   * {@linkcode LeadershipLostError} as soon as the API server says another holder has the
   * Lease. A renewal that fails because the API server cannot be reached is retried for as
   * long as it takes, without stepping down: an agent must ride out API server outages of
   * any length (it exits only when it learns it lost), and while the API server is away
   * nobody else can take the Lease either.
   */
  async renewWhileLeading(signal: AbortSignal): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs } = this.#options;
    let warnedLate = false;
    while (!signal.aborted) {
      await abortableSleep(retryPeriodMs, signal);
      if (signal.aborted) return;
      let held: boolean;
      try {
        held = await this.tryAcquireOrRenew(
          AbortSignal.any([signal, AbortSignal.timeout(renewDeadlineMs)]),
        );
      } catch (error) {
        if (signal.aborted) return;
        const late = this.#now() - this.#lastRenewAt > renewDeadlineMs;
        if (late && !warnedLate) {
          warnedLate = true;
          this.#log.warn(
            "the lease {lease} was not renewed for {seconds}s ({error}); going on as the holder and retrying every {retry}s: it is stepped down from only when the API server says someone else holds it",
            {
              lease: this.leaseKey,
              seconds: Math.round((this.#now() - this.#lastRenewAt) / 1000),
              error: errorMessage(error),
              retry: retryPeriodMs / 1000,
            },
          );
        } else if (!late) {
          this.#log.warn("cannot renew the lease {lease}: {error}; retrying", {
            lease: this.leaseKey,
            error: errorMessage(error),
          });
        }
        continue;
      }
      if (!held) this.#lost(`now held by ${this.#lastHolder ?? "someone else"}`);
      if (warnedLate) {
        warnedLate = false;
        this.#log.info("the lease {lease} is renewed again", { lease: this.leaseKey });
      }
    }
  }

  #lost(why: string): never {
    this.#leading = false;
    this.#lease = undefined;
    isLeader.set(0);
    throw new LeadershipLostError(`lost the lease ${this.leaseKey}: ${why}`);
  }

  /**
   * Gives the Lease up (holder cleared, duration 1 s), so that a standby or the next start
   * takes it at once. Does nothing when not leading; a failure is logged, not thrown: the
   * Lease then simply expires.
   */
  async release(signal: AbortSignal = AbortSignal.timeout(5000)): Promise<void> {
    const lease = this.#lease;
    if (!this.#leading || lease === undefined) return;
    this.#leading = false;
    this.#lease = undefined;
    isLeader.set(0);
    try {
      const time = formatMicroTime(new Date(this.#now()));
      await this.#leases.update({
        ...lease,
        spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: time },
      }, { signal });
      this.#log.info("released the lease {lease}", { lease: this.leaseKey });
    } catch (error) {
      this.#log.warn("cannot release the lease {lease}: {error}; it expires in {seconds}s", {
        lease: this.leaseKey,
        error: errorMessage(error),
        seconds: this.#options.leaseDurationMs / 1000,
      });
    }
  }
}

/**
 * Runs `work` while `elector` leads: waits as a standby until the Lease is taken, runs
 * `work` with a signal that aborts when `signal` does or leadership is lost, and releases
 * the Lease once `work` has stopped. Resolves when `signal` aborted (as a standby too);
 * rejects with `LeadershipLostError` after `work` stopped because the Lease was lost, or
 * with `work`'s own failure.
 */
export async function runAsLeader(
  elector: LeaderElector,
  work: (signal: AbortSignal) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  if (!(await elector.acquire(signal))) return;
  const leading = new AbortController();
  const onAbort = () => leading.abort(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  let lost: { error: unknown } | undefined;
  const renewing = elector.renewWhileLeading(leading.signal).catch((error: unknown) => {
    lost = { error };
    leading.abort(error);
  });
  try {
    await work(leading.signal);
  } finally {
    signal.removeEventListener("abort", onAbort);
    leading.abort();
    await renewing;
    if (lost === undefined) await elector.release();
  }
  if (lost !== undefined) throw lost.error;
}
