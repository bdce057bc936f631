/**
 * Single instance for a node: a host lock (one agent per node on this host, `host_lock.ts`)
 * and a leader election Lease (one agent per node across hosts, `leader_election.ts`), and
 * the wiring of the agent's configuration into both.
 *
 * @module
 */

import type { AgentConfig } from "../config.ts";
import { type ClientConfig, KubeClient, LEASES } from "../kube/mod.ts";
import type { Lease } from "kubernetes-types/coordination/v1.d.ts";
import { VERSION } from "../version.ts";
import { LeaderElector } from "./leader_election.ts";

export {
  acquireHostLock,
  alreadyRunningMessage,
  HostLock,
  type HostLockRecord,
  type HostLockResult,
} from "./host_lock.ts";
export {
  LeaderElector,
  type LeaderElectorOptions,
  LeadershipLostError,
  type LeaseAccess,
  runAsLeader,
} from "./leader_election.ts";

/** Name of the leader election Lease of a node: `vkedge-<node>`. */
export function electionLeaseName(nodeName: string): string {
  return `vkedge-${nodeName}`;
}

/** A leader election identity unique to this process: host name, pid and a random part. */
export function processIdentity(): string {
  return `${Deno.hostname()}_${Deno.pid}_${crypto.randomUUID().slice(0, 8)}`;
}

/** What {@linkcode leaderElectorFor} returns: the elector and the client it owns. */
export interface ElectionSetup {
  elector: LeaderElector;
  /** Its own client (own rate limit, no retries), so pod work never delays a renewal. */
  client: KubeClient;
}

/**
 * The leader elector of `config`'s node, on a client of its own. `deadHolder` is the
 * identity the previous agent of this host's lock wrote: that process is gone, so its
 * Lease is taken at once.
 */
export function leaderElectorFor(
  config: AgentConfig,
  clientConfig: ClientConfig,
  options: { identity: string; deadHolder?: string },
): ElectionSetup {
  const election = config.leaderElection;
  const client = new KubeClient(clientConfig, {
    qps: 5,
    burst: 5,
    maxRetries: 0,
    requestTimeoutMs: election.renewDeadlineMs,
    userAgent: `vkedge/${VERSION} (leader-election)`,
  });
  const elector = new LeaderElector(client.resource<Lease>(LEASES, election.namespace), {
    namespace: election.namespace,
    name: electionLeaseName(config.nodeName),
    identity: options.identity,
    leaseDurationMs: election.leaseDurationMs,
    renewDeadlineMs: election.renewDeadlineMs,
    retryPeriodMs: election.retryPeriodMs,
    deadHolders: options.deadHolder === undefined ? [] : [options.deadHolder],
  });
  return { elector, client };
}
