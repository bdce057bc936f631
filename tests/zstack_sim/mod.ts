/**
 * A ZStack REST API simulator that a ZStack SDK cannot tell from a management node for the
 * calls vkedge uses: account login and sessions, AccessKey signing, 202-plus-poll async
 * jobs, the query language, the VM state machine with host capacity and IPAM, volumes,
 * snapshots and tags, with fault injection and call counting for tests.
 *
 * ```ts
 * const sim = await startSimulator({ jobDurationMs: 20, vmBootMs: 100 });
 * // sim.url is e.g. http://127.0.0.1:40123/zstack
 * await sim.close();
 * ```
 *
 * @module
 */

import { type AccessKey, Auth, type Session } from "./auth.ts";
import { Faults } from "./faults.ts";
import type { Host, Tag, VmInstanceView, Volume, VolumeSnapshot } from "./inventory.ts";
import { Jobs } from "./jobs.ts";
import { RelayListener } from "./listener.ts";
import { DEFAULT_SEED_PATH, loadSeed, parseSeed, type SeedData, type SeedInput } from "./seed.ts";
import { createHandler, type SimParts } from "./server.ts";
import { vmView } from "./state/lookup.ts";
import { ignoreGuestShutdown } from "./state/vm_actions.ts";
import { loadInventory } from "./state/seed_inventory.ts";
import { SimState } from "./state/store.ts";
import { Stats, type StatsSnapshot } from "./stats.ts";

export type { AccessKey, Session } from "./auth.ts";
export {
  accessKeySignature,
  ADMIN_ACCOUNT_UUID,
  ADMIN_PASSWORD_SHA512,
  sha512Hex,
} from "./auth.ts";
export type { ErrorCode } from "./errors.ts";
export type { DownMode, FaultRequest, Faults, RequestMatch } from "./faults.ts";
export type * from "./inventory.ts";
export { DEFAULT_SEED_PATH, loadSeed, parseSeed } from "./seed.ts";
export type { SeedData, SeedInput } from "./seed.ts";
export { ALLOWED_STATES } from "./state/vm_states.ts";
export type { SimState } from "./state/store.ts";
export type { StatsSnapshot } from "./stats.ts";

/** Options of {@linkcode startSimulator}. */
export interface SimulatorOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Address to listen on (default `127.0.0.1`). */
  hostname?: string;
  /** Seed data, or the path of a YAML/JSON seed file (default: `seed.yaml` next to this module). */
  seed?: SeedInput | string | URL;
  /** The least time an async job takes, in milliseconds (default 100). */
  jobDurationMs?: number;
  /** How long a VM stays Starting (also Rebooting) before Running, in milliseconds (default 1000). */
  vmBootMs?: number;
  /** How long Stopping, Destroying, Migrating, ... last, in milliseconds (default: jobDurationMs). */
  transitionMs?: number;
  /** `identity/session.timeout` in seconds (default 7200). */
  sessionTimeoutSeconds?: number;
  /** How long finished jobs can be polled, in seconds (default 10800). */
  jobExpirySeconds?: number;
  /** `vm/expungePeriod` for Destroyed VMs, in seconds (default 604800). */
  vmExpungeSeconds?: number;
  /**
   * How long a graceful stop waits for a guest that ignores it before the KVM agent cuts the
   * power, in milliseconds (default 60000).
   */
  guestShutdownTimeoutMs?: number;
  /**
   * `dataVolume.deleteOnVmDestroy`: DestroyVmInstance deletes the data volumes attached to
   * the VM instead of detaching them (default false, as on a real node).
   */
  dataVolumeDeleteOnVmDestroy?: boolean;
  /**
   * Base URL for job `location`s instead of the request's origin, e.g. an unreachable
   * internal `http://10.0.0.1:8080` (a trailing `/zstack` is accepted and not doubled).
   */
  locationBase?: string;
}

/** A running simulator. */
export interface Simulator extends AsyncDisposable {
  /** Base URL as clients configure it, with the context path: `http://127.0.0.1:PORT/zstack`. */
  readonly url: string;
  /** `http://127.0.0.1:PORT`, where `/__sim` lives. */
  readonly origin: string;
  /** The port it listens on. */
  readonly port: number;
  /** Fault injection. */
  readonly faults: Faults;
  /** The live inventory, for assertions (do not mutate it from tests). */
  readonly state: SimState;
  /** API call counts. */
  stats(): StatsSnapshot;
  /** Sets the API call counts to zero. */
  resetStats(): void;
  /** VMs as QueryVmInstance returns them, Destroyed ones included. */
  vms(): VmInstanceView[];
  /** Hosts with their live capacity. */
  hosts(): Host[];
  /** Volumes. */
  volumes(): Volume[];
  /** Volume snapshots. */
  snapshots(): VolumeSnapshot[];
  /** User and system tags. */
  tags(): Tag[];
  /** Makes the guest of VM `uuid` ignore (or, with `false`, obey) graceful stops. */
  ignoreGuestShutdown(uuid: string, ignores?: boolean): void;
  /** Sessions that exist (expired ones until they are next checked). */
  sessions(): Session[];
  /** Creates an access key of the admin account for AccessKey-signed requests. */
  createAccessKey(request?: { AccessKeyID?: string; AccessKeySecret?: string }): AccessKey;
  /** Stops listening, ends running jobs and frees every resource. */
  close(): Promise<void>;
}

async function resolveSeed(seed: SimulatorOptions["seed"]): Promise<SeedData> {
  if (seed === undefined) return await loadSeed(DEFAULT_SEED_PATH);
  if (typeof seed === "string" || seed instanceof URL) return await loadSeed(seed);
  return parseSeed(seed);
}

/** Starts a simulator and resolves once it accepts connections. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const hostname = options.hostname ?? "127.0.0.1";
  const jobDurationMs = options.jobDurationMs ?? 100;
  const seed = await resolveSeed(options.seed);
  const abort = new AbortController();
  const state = new SimState(
    {
      vmBootMs: options.vmBootMs ?? 1000,
      transitionMs: options.transitionMs ?? jobDurationMs,
      vmExpungeSeconds: options.vmExpungeSeconds ?? 604800,
      guestShutdownTimeoutMs: options.guestShutdownTimeoutMs,
    },
    abort.signal,
    { dataVolumeDeleteOnVmDestroy: options.dataVolumeDeleteOnVmDestroy ?? false },
  );
  loadInventory(state, seed);
  const auth = new Auth({ sessionTimeoutSeconds: options.sessionTimeoutSeconds ?? 7200 });
  for (const key of seed.accessKeys) {
    auth.createAccessKey({ AccessKeyID: key.accessKeyId, AccessKeySecret: key.accessKeySecret });
  }

  let backendPort = 0;
  const relay = new RelayListener(hostname, options.port ?? 0, () => backendPort);
  let closing = false;
  let listenerChange: Promise<void> = Promise.resolve();
  const faults = new Faults({
    expireSessions: () => auth.expireAllSessions(),
    downChanged: () => {
      listenerChange = listenerChange.then(async () => {
        if (closing) return;
        if (faults.downMode() === "refuse") await relay.stop();
        else relay.start();
      });
    },
  });
  const jobs = new Jobs(
    { jobDurationMs, jobExpirySeconds: options.jobExpirySeconds ?? 10800 },
    abort.signal,
    (api) => faults.interceptJob(api),
  );
  const stats = new Stats();
  const parts: SimParts = {
    state,
    auth,
    jobs,
    faults,
    stats,
    relay: () => relay,
    signal: abort.signal,
    locationBase: options.locationBase,
  };
  const backend = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
    onError(error) {
      return new Response(new TextEncoder().encode(String(error)), { status: 500 });
    },
  }, createHandler(parts));
  backendPort = backend.addr.port;
  try {
    relay.start();
  } catch (error) {
    await backend.shutdown();
    throw error;
  }
  const port = relay.port;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const origin = `http://${host}:${port}`;

  async function close(): Promise<void> {
    if (closing) return;
    closing = true;
    faults.reset();
    await listenerChange;
    await relay.stop();
    abort.abort();
    await jobs.settled();
    await backend.shutdown();
  }

  return {
    url: `${origin}/zstack`,
    origin,
    port,
    faults,
    state,
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    vms: () => [...state.vms.values()].map((vm) => vmView(state, vm)),
    hosts: () => [...state.hosts.values()],
    volumes: () => [...state.volumes.values()],
    snapshots: () => [...state.snapshots.values()],
    tags: () => [...state.tags.values()],
    ignoreGuestShutdown: (uuid, ignores = true) => ignoreGuestShutdown(state, uuid, ignores),
    sessions: () => auth.sessions(),
    createAccessKey: (request) => auth.createAccessKey(request),
    close,
    [Symbol.asyncDispose]: close,
  };
}
