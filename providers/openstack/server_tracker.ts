/**
 * The servers of this node as the provider last saw them: tracked by server id and by
 * pod key, adopted from a listing after a restart (by the node tag and the ownership
 * metadata, never by name), kept as tombstones for a while when they vanish without
 * vkedge deleting them, and refreshed with one `GET /servers/detail?tags=<node tag>` at
 * a time (single flight; pages of 1000). Each server carries its log; state changes
 * become log lines and pod events, and every change is handed to the `report` callback.
 * A workload UID with two servers keeps one and the others are deleted
 * (`duplicate_servers.ts`): exactly one server per workload.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import { NotFoundError, type PodEventRecorder } from "../../lib/provider.ts";
import { type Server, serverListSchema } from "./api_types.ts";
import type { OpenStackClient } from "./client.ts";
import {
  deleteDuplicateServer,
  type DuplicateServer,
  duplicateText,
  oneServerPerWorkload,
  type OwnedServer,
} from "./duplicate_servers.ts";
import { toProviderError } from "./errors.ts";
import type { KnownHosts } from "./hosts.ts";
import {
  identityFromMetadata,
  identityKey,
  type PodIdentity,
  type ServerOwner,
} from "./identity.ts";
import { imagePrefix } from "./pod_to_server.ts";
import { podStatusFromServer, serverStateText } from "./server_to_pod.ts";
import { ServerLog } from "./server_log.ts";
import { decodePodSpec, podFromServer, type StoredPodSpec } from "./stored_spec.ts";

const logger = getLogger(["vkedge", "provider", "openstack"]);

/** How long a server that vanished without vkedge deleting it is still reported (as Failed). */
export const tombstoneMs = 10 * 60_000;
/** How old the server list may be when `getPod` or `getPods` answers from it. */
export const freshnessMs = 1_000;
/** Servers per page of a list. */
export const pageSize = 1000;

/** What the provider knows of one server and the pod it serves. */
export interface TrackedServer {
  /** The server as last seen. */
  server: Server;
  /** Who it serves. */
  identity: PodIdentity;
  /** The pod spec its metadata remembers. */
  stored?: StoredPodSpec;
  /** The pod without status: the desired one when known, else rebuilt from the server. */
  pod: Pod;
  /** When the server entered its current state (first observed). */
  stateSince: Date;
  /** When it was last seen entering ACTIVE. */
  runningSince?: Date;
  /** Set once the server is deleted or gone (or released). */
  deleted?: { at: Date; byUs: boolean; kept?: boolean };
  /** Set while `deletePod` deletes or releases it: refreshes leave it alone meanwhile. */
  deleting?: boolean;
  /** Statuses a VM action asked for, set while it runs: entering them is a Normal event. */
  requestedStates?: ReadonlySet<string>;
  /** When tracking began (milliseconds). */
  addedAt: number;
  /** Its lifecycle and console log. */
  log: ServerLog;
}

/** Options of {@linkcode ServerTracker}. */
export interface ServerTrackerOptions {
  client: OpenStackClient;
  /** Compute hosts, for host IPs. */
  hosts: KnownHosts;
  /** Cluster and node: ownership metadata must name both. */
  owner: ServerOwner;
  /** The tag all of this node's servers carry, the only one the list filters by. */
  nodeTag: string;
  /** Lines of log kept per server. */
  logLines: number;
  /** Clock in milliseconds. */
  now: () => number;
  /** Called with a server whose pod status may have changed. */
  report: (tracked: TrackedServer) => void;
  /** Called with a pod key no server stands for any more. */
  forgotten?: (key: string) => void;
  /** Records events about pods (server state changes). */
  recordEvent?: PodEventRecorder;
}

/** How {@linkcode ServerTracker.track} starts tracking a server. */
export interface TrackOptions {
  identity: PodIdentity;
  stored: StoredPodSpec | undefined;
  /** The desired pod, when the agent handed it over. */
  desired?: Pod;
  /** Found rather than created by this process: its history before now is unknown. */
  adopted?: boolean;
}

function camel(status: string): string {
  return status.toLowerCase().split("_").map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}

/** This node's servers by id and by pod key. */
export class ServerTracker {
  readonly #options: ServerTrackerOptions;
  readonly #byId = new Map<string, TrackedServer>();
  readonly #byKey = new Map<string, string>();
  /** Log lines of servers being created, by workload UID, before their id is known. */
  readonly #pendingLog = new Map<string, Array<{ time: Date; text: string }>>();
  /** Servers this process deleted or released: never adopted again from an older listing. */
  readonly #released = new Set<string>();
  /** Duplicates being deleted. */
  readonly #culling = new Set<string>();
  /** When a create of each workload UID lost its answer, until its server is seen. */
  readonly #lostCreates = new Map<string, number>();
  #refreshing: Promise<void> | undefined;
  #refreshedAt = Number.NEGATIVE_INFINITY;

  /** Creates an empty tracker. */
  constructor(options: ServerTrackerOptions) {
    this.#options = options;
  }

  /** The server serving pod `namespace/name`, if tracked. */
  get(namespace: string, name: string): TrackedServer | undefined {
    const id = this.#byKey.get(`${namespace}/${name}`);
    return id === undefined ? undefined : this.#byId.get(id);
  }

  /** The server `id`, if tracked. */
  byId(id: string): TrackedServer | undefined {
    return this.#byId.get(id);
  }

  /** Every tracked server, tombstones included. */
  all(): TrackedServer[] {
    return [...this.#byId.values()];
  }

  /** The server each pod key stands for now. */
  current(): TrackedServer[] {
    return this.all().filter((tracked) =>
      this.#byKey.get(identityKey(tracked.identity)) === tracked.server.id
    );
  }

  /** The tracked server of workload `uid` that is not deleted, if any. */
  ofWorkload(uid: string): TrackedServer | undefined {
    return this.all().find((tracked) =>
      tracked.identity.uid === uid && tracked.deleted === undefined
    );
  }

  /**
   * The server serving pod `namespace/name` (and workload UID `uid`, when given),
   * refreshing once if it is not tracked. Throws `NotFoundError` when none serves it.
   */
  async find(
    namespace: string,
    name: string,
    options: { uid?: string; signal: AbortSignal },
  ): Promise<TrackedServer> {
    const key = `${namespace}/${name}`;
    let tracked = this.get(namespace, name);
    if (tracked === undefined) {
      await this.refresh(options.signal);
      tracked = this.get(namespace, name);
    }
    if (tracked === undefined) {
      throw new NotFoundError(
        `pod "${key}" not found in the openstack provider: no server of this node serves it`,
      );
    }
    if (options.uid && tracked.identity.uid !== options.uid) {
      throw new NotFoundError(
        `pod "${key}" with uid "${options.uid}" not found in the openstack provider: server ${tracked.server.id} serves uid "${tracked.identity.uid}"`,
      );
    }
    return tracked;
  }

  /** The pod a tracked server serves, status included. */
  fullPod(tracked: TrackedServer): Pod {
    const host = this.#options.hosts.get(tracked.server["OS-EXT-SRV-ATTR:host"] ?? undefined);
    const status = podStatusFromServer(tracked.server, {
      pod: tracked.pod,
      ...(host?.ip ? { hostIp: host.ip } : {}),
      stateSince: tracked.stateSince,
      runningSince: tracked.runningSince,
      deleted: tracked.deleted,
    });
    return { ...structuredClone(tracked.pod), status };
  }

  /**
   * Sets the pod of `tracked`: `desired` without status when given (its UID may be a new
   * one: a VM-Pod re-created for the same VirtualMachine), else rebuilt from the server.
   */
  setPod(tracked: TrackedServer, desired?: Pod): void {
    if (desired === undefined) {
      const image = tracked.server.image;
      tracked.pod = podFromServer({
        identity: tracked.identity,
        stored: tracked.stored,
        nodeName: this.#options.owner.nodeName,
        image: `${imagePrefix}${
          typeof image === "object" && image !== null ? image.id : "unknown"
        }`,
      });
      return;
    }
    const { status: _status, ...rest } = structuredClone(desired);
    tracked.pod = {
      apiVersion: "v1",
      kind: "Pod",
      ...rest,
      metadata: {
        namespace: tracked.identity.namespace,
        name: tracked.identity.name,
        uid: rest.metadata?.uid ?? tracked.identity.uid,
        ...(rest.metadata?.labels ? { labels: rest.metadata.labels } : {}),
        ...(rest.metadata?.annotations ? { annotations: rest.metadata.annotations } : {}),
      },
    };
  }

  /** Remembers the first log lines of a server being created for workload `uid`. */
  setPendingLog(uid: string, lines: Array<{ time: Date; text: string }>): void {
    this.#pendingLog.set(uid, lines);
  }

  /** Drops the pending log lines of a create that failed. */
  dropPendingLog(uid: string): void {
    this.#pendingLog.delete(uid);
  }

  /** Notes that a create for workload `uid` lost its answer at `at` (milliseconds). */
  noteLostCreate(uid: string, at: number): void {
    this.#lostCreates.set(uid, at);
  }

  /** When the last create for workload `uid` lost its answer, while its server is not found. */
  lostCreateAt(uid: string): number | undefined {
    return this.#lostCreates.get(uid);
  }

  /** Forgets the lost create of workload `uid` (its server was found). */
  clearLostCreate(uid: string): void {
    this.#lostCreates.delete(uid);
  }

  /** Marks server `id` as deleted or released by this process. */
  setReleased(id: string): void {
    this.#released.add(id);
  }

  /** Starts tracking `server` (replacing an older record of it) and reports it. */
  track(server: Server, options: TrackOptions): TrackedServer {
    const now = new Date(this.#options.now());
    const previous = this.#byId.get(server.id);
    if (previous !== undefined) this.forget(previous);
    const since = options.adopted ? server.created : now;
    const tracked: TrackedServer = {
      server,
      identity: options.identity,
      stored: options.stored,
      pod: { metadata: {} },
      stateSince: since,
      ...(server.status === "ACTIVE" ? { runningSince: since } : {}),
      addedAt: this.#options.now(),
      log: new ServerLog({
        capacity: this.#options.logLines,
        ended: () => tracked.deleted !== undefined,
        now: this.#options.now,
      }),
    };
    this.setPod(tracked, options.desired);
    this.#byId.set(server.id, tracked);
    this.#byKey.set(identityKey(options.identity), server.id);
    const pending = this.#pendingLog.get(options.identity.uid);
    this.#pendingLog.delete(options.identity.uid);
    for (const entry of pending ?? []) tracked.log.append(entry.time, entry.text);
    tracked.log.append(
      pending === undefined ? since : now,
      options.adopted && pending === undefined
        ? `${serverStateText(server)} (found by vkedge; earlier history is not known)`
        : serverStateText(server),
    );
    this.#options.report(tracked);
    return tracked;
  }

  /** Takes a newer view of a tracked server: log line and event on a change, then reports. */
  observe(tracked: TrackedServer, server: Server, now: Date): void {
    const before = tracked.server;
    tracked.server = server;
    if (before.status !== server.status) {
      tracked.stateSince = now;
      if (server.status === "ACTIVE") tracked.runningSince = now;
    }
    const beforeText = serverStateText(before);
    const afterText = serverStateText(server);
    if (beforeText !== afterText) tracked.log.append(now, afterText);
    if (before.status !== server.status) {
      const expected = server.status === "BUILD" || server.status === "ACTIVE" ||
        tracked.deleted?.byUs === true || tracked.requestedStates?.has(server.status) === true;
      this.#options.recordEvent?.(
        tracked.pod,
        expected ? "Normal" : "Warning",
        `Server${camel(server.status)}`,
        afterText,
      );
    }
    if (tracked.deleted !== undefined && !tracked.deleted.byUs) tracked.deleted = undefined;
    this.#options.report(tracked);
  }

  /** Stops tracking `tracked`; its log followers stop once they read everything. */
  forget(tracked: TrackedServer): void {
    this.#byId.delete(tracked.server.id);
    const key = identityKey(tracked.identity);
    if (this.#byKey.get(key) === tracked.server.id) {
      this.#byKey.delete(key);
      this.#options.forgotten?.(key);
    }
    tracked.log.wake();
  }

  /** Wakes every log follower (the provider stops). */
  wakeAll(): void {
    for (const tracked of this.#byId.values()) tracked.log.wake();
  }

  /** Refreshes the list unless it is younger than {@linkcode freshnessMs}. */
  async ensureFresh(signal: AbortSignal): Promise<void> {
    if (this.#options.now() - this.#refreshedAt < freshnessMs) return;
    await this.refresh(signal);
  }

  /** One list of this node's servers (single flight), then adoption and tombstones. */
  refresh(signal: AbortSignal): Promise<void> {
    if (this.#refreshing === undefined) {
      const started = this.#options.now();
      this.#refreshing = this.#refresh(started, signal).finally(() => {
        this.#refreshing = undefined;
      });
    }
    return this.#refreshing;
  }

  /** Every server tagged for this node, page by page. */
  async list(signal: AbortSignal): Promise<Server[]> {
    const servers: Server[] = [];
    let marker: string | undefined;
    while (true) {
      const reply = await this.#options.client.request("compute", "GET", "/servers/detail", {
        query: { tags: this.#options.nodeTag, limit: String(pageSize), marker },
        schema: serverListSchema,
        signal,
      });
      servers.push(...reply.value.servers);
      const next = reply.value.servers_links?.some((link) => link.rel === "next");
      if (!next || reply.value.servers.length === 0) return servers;
      marker = reply.value.servers.at(-1)!.id;
    }
  }

  async #refresh(started: number, signal: AbortSignal): Promise<void> {
    const { owner, hosts } = this.#options;
    let listed: Server[];
    try {
      listed = await this.list(signal);
    } catch (error) {
      throw toProviderError(
        error,
        `openstack provider: listing the servers of node ${owner.nodeName}`,
      );
    }
    await hosts.refresh(signal).catch(() => undefined);
    const ours: OwnedServer[] = [];
    for (const server of listed) {
      if (this.#released.has(server.id) || this.#culling.has(server.id)) continue;
      if (server.status === "DELETED" || server.status === "SOFT_DELETED") continue;
      const identity = identityFromMetadata(server.metadata, owner);
      if (identity !== undefined) ours.push({ server, identity });
    }
    const { kept, duplicates } = oneServerPerWorkload(ours);
    for (const duplicate of duplicates) this.#cull(duplicate);
    const now = new Date(this.#options.now());
    const seen = new Set<string>();
    for (const { server, identity } of kept) {
      seen.add(server.id);
      const known = this.#byId.get(server.id);
      if (known !== undefined) {
        if (known.deleted?.byUs || known.deleting) continue;
        this.observe(known, server, now);
        continue;
      }
      this.track(server, { identity, stored: await decodePodSpec(server.metadata), adopted: true });
    }
    for (const tracked of this.all()) {
      if (seen.has(tracked.server.id) || tracked.addedAt >= started || tracked.deleting) continue;
      if (tracked.deleted === undefined) {
        tracked.deleted = { at: now, byUs: false };
        const gone = `server ${tracked.server.name} (${tracked.server.id}) no longer exists`;
        tracked.log.append(now, gone);
        this.#options.recordEvent?.(tracked.pod, "Warning", "ServerGone", gone);
        this.#options.report(tracked);
      } else if (now.getTime() - tracked.deleted.at.getTime() > tombstoneMs) {
        this.forget(tracked);
      }
    }
    this.#refreshedAt = this.#options.now();
  }

  /** Stops tracking a duplicate and deletes it in the background, with a Warning event. */
  #cull(duplicate: DuplicateServer): void {
    const id = duplicate.server.id;
    this.#culling.add(id);
    const tracked = this.#byId.get(id);
    if (tracked !== undefined) this.forget(tracked);
    const message = duplicateText(duplicate);
    logger.warn("{message}", { message });
    const keeperTracked = this.#byId.get(duplicate.keeper.id);
    if (keeperTracked !== undefined) {
      keeperTracked.log.append(new Date(this.#options.now()), message);
      this.#options.recordEvent?.(keeperTracked.pod, "Warning", "DuplicateServerDeleted", message);
    }
    void deleteDuplicateServer(this.#options.client, id).then((gone) => {
      if (gone) this.#released.add(id);
    }).finally(() => this.#culling.delete(id));
  }
}
