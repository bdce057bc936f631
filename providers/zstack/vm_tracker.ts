/**
 * The VMs of this node as the provider last saw them: tracked by VM uuid and by pod key,
 * adopted from a listing after a restart (by the node tag, never by name), kept as
 * tombstones for a while when they vanish without vkedge deleting them, and refreshed
 * with one query of this node's VMs at a time (single flight). Each VM carries its
 * lifecycle log; state changes become log lines and pod events, and every change is
 * handed to the `report` callback, which tells the agent.
 *
 * @module
 */

import type { ContainerStateTerminated, Pod } from "kubernetes-types/core/v1.d.ts";
import { NotFoundError, type PodEventRecorder } from "../../lib/provider.ts";
import { cloneJson } from "../../lib/provider_kit/mod.ts";
import type { VmInstance } from "./api_types.ts";
import type { ZStackClient } from "./client.ts";
import { queryAll, vmInstances } from "./collections.ts";
import { toProviderError } from "./errors.ts";
import type { KnownHosts } from "./hosts.ts";
import { identityKey, type PodIdentity } from "./identity.ts";
import { IdentityReader } from "./identity_reader.ts";
import { LifecycleLog } from "./lifecycle_log.ts";
import { eq } from "./query.ts";
import { decodePodSpec, podFromVm, type StoredPodSpec } from "./stored_spec.ts";
import { podStatusFromVm, vmStateText } from "./vm_to_pod.ts";

/** How long a VM that vanished without vkedge deleting it is still reported (as Failed). */
export const tombstoneMs = 10 * 60_000;
/** How old the VM list may be when `getPod` or `getPods` answers from it. */
export const freshnessMs = 1_000;

/** What the provider knows of one VM and the pod it serves. */
export interface TrackedVm {
  /** The VM's inventory as last seen. */
  vm: VmInstance;
  /** Who it serves. */
  identity: PodIdentity;
  /** The pod spec its description remembers. */
  stored?: StoredPodSpec;
  /** The pod without status: the desired one when known, else rebuilt from the VM. */
  pod: Pod;
  /** When the VM entered its current state (first observed). */
  stateSince: Date;
  /** When the VM was last seen entering Running. */
  runningSince?: Date;
  /** Set once the VM is destroyed or gone (or released). */
  deleted?: { at: Date; byUs: boolean; kept?: boolean };
  /** Set while `deletePod` destroys or releases the VM: refreshes leave it alone meanwhile. */
  deleting?: boolean;
  /**
   * States a VM action asked for (Stopping and Stopped during a stop, …), set while it
   * runs: entering them is a Normal event, not a Warning.
   */
  requestedStates?: ReadonlySet<string>;
  /** When tracking began (milliseconds). */
  addedAt: number;
  /**
   * Restarts of its container this agent did (`restartContainer`: a reboot, or a start of
   * a stopped VM), and the run the last one ended; in memory only (the agent keeps the
   * count it wrote to the pod from going down after a restart).
   */
  restarts?: { count: number; last: ContainerStateTerminated };
  /** Its lifecycle log. */
  log: LifecycleLog;
}

/** Options of {@linkcode VmTracker}. */
export interface VmTrackerOptions {
  /** The ZStack client. */
  client: ZStackClient;
  /** Hosts, for host names and IPs. */
  hosts: KnownHosts;
  /** The tag all of this node's VMs carry. */
  nodeTag: string;
  /** This agent's node. */
  nodeName: string;
  /** Lines of lifecycle log kept per VM. */
  logLines: number;
  /** Clock in milliseconds. */
  now: () => number;
  /** Called with a VM whose pod status may have changed. */
  report: (tracked: TrackedVm) => void;
  /** Called with a pod key (`namespace/name`) no VM stands for any more. */
  forgotten?: (key: string) => void;
  /** Records events about pods (VM state changes). */
  recordEvent?: PodEventRecorder;
}

/** How {@linkcode VmTracker.track} starts tracking a VM. */
export interface TrackOptions {
  /** Who it serves. */
  identity: PodIdentity;
  /** The remembered spec. */
  stored: StoredPodSpec | undefined;
  /** The desired pod, when the agent handed it over. */
  desired?: Pod;
  /** Found rather than created by this process: its history before now is unknown. */
  adopted?: boolean;
}

/** This node's VMs by uuid and by pod key. */
export class VmTracker {
  readonly #options: VmTrackerOptions;
  readonly #identities: IdentityReader;
  readonly #byUuid = new Map<string, TrackedVm>();
  readonly #byKey = new Map<string, string>();
  /** Log lines of VMs being created, before their inventory is known. */
  readonly #pendingLog = new Map<string, Array<{ time: Date; text: string }>>();
  /** VMs this process deleted or released: never adopted again from an older listing. */
  readonly #released = new Set<string>();
  #refreshing: Promise<void> | undefined;
  #refreshedAt = Number.NEGATIVE_INFINITY;

  /** Creates an empty tracker. */
  constructor(options: VmTrackerOptions) {
    this.#options = options;
    this.#identities = new IdentityReader(options.client, options.nodeTag);
  }

  /** The VM serving pod `namespace/name`, if tracked. */
  get(namespace: string, name: string): TrackedVm | undefined {
    const uuid = this.#byKey.get(`${namespace}/${name}`);
    return uuid === undefined ? undefined : this.#byUuid.get(uuid);
  }

  /** The VM `uuid`, if tracked. */
  byUuid(uuid: string): TrackedVm | undefined {
    return this.#byUuid.get(uuid);
  }

  /** Every tracked VM, tombstones included. */
  all(): TrackedVm[] {
    return [...this.#byUuid.values()];
  }

  /** The VM each pod key stands for now (a tombstone replaced by a newer pod is left out). */
  current(): TrackedVm[] {
    return this.all().filter((tracked) =>
      this.#byKey.get(identityKey(tracked.identity)) === tracked.vm.uuid
    );
  }

  /**
   * The VM serving pod `namespace/name` (and workload UID `uid`, when given), refreshing
   * once if it is not tracked. Throws `NotFoundError` when no VM is tagged for it.
   */
  async find(
    namespace: string,
    name: string,
    options: { uid?: string; signal: AbortSignal },
  ): Promise<TrackedVm> {
    const key = `${namespace}/${name}`;
    let tracked = this.get(namespace, name);
    if (tracked === undefined) {
      await this.refresh(options.signal);
      tracked = this.get(namespace, name);
    }
    if (tracked === undefined) {
      throw new NotFoundError(
        `pod "${key}" not found in the zstack provider: no VM is tagged for it`,
      );
    }
    const { uid } = options;
    if (uid && tracked.identity.uid !== uid) {
      throw new NotFoundError(
        `pod "${key}" with uid "${uid}" not found in the zstack provider: VM ${tracked.vm.uuid} serves uid "${tracked.identity.uid}"`,
      );
    }
    return tracked;
  }

  /** The pod a tracked VM serves, status included. */
  fullPod(tracked: TrackedVm): Pod {
    const status = podStatusFromVm(tracked.vm, {
      pod: tracked.pod,
      hostIp: this.#options.hosts.ipOf(tracked.vm),
      stateSince: tracked.stateSince,
      runningSince: tracked.runningSince,
      deleted: tracked.deleted,
      restarts: tracked.restarts,
    });
    return { ...cloneJson(tracked.pod), status };
  }

  /**
   * Sets the pod of `tracked`: `desired` without status when given (its UID may be a new
   * one: a VM-Pod re-created for the same VirtualMachine), else rebuilt from the VM.
   */
  setPod(tracked: TrackedVm, desired?: Pod): void {
    if (desired === undefined) {
      tracked.pod = podFromVm(tracked.vm, {
        identity: tracked.identity,
        stored: tracked.stored,
        nodeName: this.#options.nodeName,
      });
      return;
    }
    const { status: _status, ...rest } = cloneJson(desired);
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

  /** Remembers the first log lines of a VM being created, for when it is tracked. */
  setPendingLog(uuid: string, lines: Array<{ time: Date; text: string }>): void {
    this.#pendingLog.set(uuid, lines);
  }

  /** Drops the pending log lines of a create that failed. */
  dropPendingLog(uuid: string): void {
    this.#pendingLog.delete(uuid);
  }

  /** Marks `uuid` as deleted or released by this process, or (`false`) as created again. */
  setReleased(uuid: string, released: boolean): void {
    if (released) this.#released.add(uuid);
    else this.#released.delete(uuid);
  }

  /** Starts tracking `vm` (replacing an older record of it) and reports it. */
  track(vm: VmInstance, options: TrackOptions): TrackedVm {
    const now = new Date(this.#options.now());
    const previous = this.#byUuid.get(vm.uuid);
    if (previous !== undefined) this.forget(previous);
    const since = options.adopted ? (vm.lastOpDate ?? now) : now;
    const tracked: TrackedVm = {
      vm,
      identity: options.identity,
      stored: options.stored,
      pod: { metadata: {} },
      stateSince: since,
      ...(vm.state === "Running" ? { runningSince: since } : {}),
      addedAt: this.#options.now(),
      log: new LifecycleLog({
        capacity: this.#options.logLines,
        ended: () => tracked.deleted !== undefined,
        now: this.#options.now,
      }),
    };
    this.setPod(tracked, options.desired);
    this.#byUuid.set(vm.uuid, tracked);
    this.#byKey.set(identityKey(options.identity), vm.uuid);
    const host = this.#options.hosts.nameOf(vm);
    const pending = this.#pendingLog.get(vm.uuid);
    this.#pendingLog.delete(vm.uuid);
    for (const entry of pending ?? []) tracked.log.append(entry.time, entry.text);
    tracked.log.append(
      pending === undefined ? since : now,
      options.adopted && pending === undefined
        ? `${vmStateText(vm, host)} (found by vkedge; earlier history is not known)`
        : vmStateText(vm, host),
    );
    this.#options.report(tracked);
    return tracked;
  }

  /** Takes a newer inventory of a tracked VM: log line and event on a change, then reports. */
  observe(tracked: TrackedVm, vm: VmInstance, now: Date): void {
    const { hosts, recordEvent } = this.#options;
    const before = tracked.vm;
    tracked.vm = vm;
    if (before.state !== vm.state) {
      tracked.stateSince = now;
      if (vm.state === "Running") tracked.runningSince = now;
    }
    const beforeText = vmStateText(before, hosts.nameOf(before));
    const afterText = vmStateText(vm, hosts.nameOf(vm));
    if (beforeText !== afterText) tracked.log.append(now, afterText);
    if (before.state !== vm.state) {
      const expected = vm.state === "Starting" || vm.state === "Running" ||
        (tracked.deleted?.byUs === true) || tracked.requestedStates?.has(vm.state) === true;
      recordEvent?.(tracked.pod, expected ? "Normal" : "Warning", `VM${vm.state}`, afterText);
    }
    if (tracked.deleted !== undefined && !tracked.deleted.byUs) {
      // It came back (recovered): report it live again.
      tracked.deleted = undefined;
    }
    this.#options.report(tracked);
  }

  /** Stops tracking `tracked`; its log followers stop once they have read everything. */
  forget(tracked: TrackedVm): void {
    this.#byUuid.delete(tracked.vm.uuid);
    const key = identityKey(tracked.identity);
    if (this.#byKey.get(key) === tracked.vm.uuid) {
      this.#byKey.delete(key);
      this.#options.forgotten?.(key);
    }
    tracked.log.wake();
  }

  /** Wakes every log follower (the provider stops). */
  wakeAll(): void {
    for (const tracked of this.#byUuid.values()) tracked.log.wake();
  }

  /** Refreshes the VM list unless it is younger than `freshnessMs`. */
  async ensureFresh(signal: AbortSignal): Promise<void> {
    if (this.#options.now() - this.#refreshedAt < freshnessMs) return;
    await this.refresh(signal);
  }

  /** One query of this node's VMs (single flight), then tags of new VMs and hosts. */
  refresh(signal: AbortSignal): Promise<void> {
    if (this.#refreshing === undefined) {
      const started = this.#options.now();
      this.#refreshing = this.#refresh(started, signal).finally(() => {
        this.#refreshing = undefined;
      });
    }
    return this.#refreshing;
  }

  async #refresh(started: number, signal: AbortSignal): Promise<void> {
    const { client, nodeTag, nodeName, hosts } = this.#options;
    let vms: VmInstance[];
    try {
      vms = await queryAll(client, vmInstances, {
        conditions: [eq("__userTag__", nodeTag), eq("type", "UserVm")],
        signal,
      });
    } catch (error) {
      throw toProviderError(error, `zstack provider: listing VMs of node ${nodeName}`);
    }
    vms = vms.filter((vm) => !this.#released.has(vm.uuid));
    const identities = await this.#identities.read(
      vms.filter((vm) => !this.#byUuid.has(vm.uuid)),
      signal,
    );
    await hosts.learn(vms, signal);
    const now = new Date(this.#options.now());
    const seen = new Set<string>();
    for (const vm of vms) {
      seen.add(vm.uuid);
      const known = this.#byUuid.get(vm.uuid);
      if (known !== undefined) {
        if (known.deleted?.byUs || known.deleting) continue;
        if (known.vm.description !== vm.description) {
          known.stored = await decodePodSpec(vm.description);
          this.setPod(known);
        }
        this.observe(known, vm, now);
        continue;
      }
      const identity = identities.get(vm.uuid);
      if (identity === undefined) continue;
      this.track(vm, { identity, stored: await decodePodSpec(vm.description), adopted: true });
    }
    for (const tracked of this.all()) {
      if (seen.has(tracked.vm.uuid) || tracked.addedAt >= started || tracked.deleting) continue;
      if (tracked.deleted === undefined) {
        tracked.deleted = { at: now, byUs: false };
        const gone = `VM ${tracked.vm.name} (${tracked.vm.uuid}) no longer exists`;
        tracked.log.append(now, gone);
        this.#options.recordEvent?.(tracked.pod, "Warning", "VMGone", gone);
        this.#options.report(tracked);
      } else if (now.getTime() - tracked.deleted.at.getTime() > tombstoneMs) {
        this.forget(tracked);
      }
    }
    this.#refreshedAt = this.#options.now();
  }
}
