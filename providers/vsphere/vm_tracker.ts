/**
 * This node's VMs, kept current by vSphere itself. The placement's VM folder is listed once
 * (a container view read) and again every minute, for VMs another agent instance made;
 * VMs whose `guestinfo.vkedge.node` names this agent are its own, and each becomes a
 * {@linkcode TrackedPod} (found by namespace/name) with the pod it serves, its status
 * inputs and its lifecycle log. A property filter on exactly those VMs, read with
 * `WaitForUpdatesEx`, has vSphere push every power, host, guest IP, snapshot and
 * extraConfig change instead of the provider polling each VM; when the set of VMs changes
 * (a clone, a destroy) the pending long poll is cancelled and the filter made anew.
 *
 * The filter names the VMs rather than a container view on purpose: govmomi's simulator
 * deadlocks when a VM is created while a filter on a container view is collected (the view
 * lock and the filter lock are taken in opposite orders), and a filter on the node's own
 * VMs is what the provider wants anyway. When the long poll fails (vSphere down, the
 * session gone), the loop lists again and makes a new collector, pausing up to 10 s
 * between attempts; meanwhile reads list directly.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import type { PodEventRecorder } from "../../lib/provider.ts";
import { abortableSleep, errorMessage } from "../../lib/provider_kit/mod.ts";
import type { VsphereClient } from "./client.ts";
import type { Inventory } from "./inventory.ts";
import { LifecycleLog } from "./lifecycle_log.ts";
import { identityKey, identityOf, keys, type PodIdentity } from "./identity.ts";
import { decodePodRecord, podFromVm } from "./pod_record.ts";
import { vmStateText } from "./vm_to_pod.ts";
import { voidReply } from "./client.ts";
import { isFault } from "./faults.ts";
import {
  createFilter,
  createPropertyCollector,
  destroyPropertyCollector,
  destroyPropertyFilter,
  objectsFilterSpec,
  type ObjectUpdate,
  retrieveObjects,
  retrieveUnder,
  waitForUpdates,
} from "./property_collector.ts";
import { applyChanges, vmPaths, type VmRecord, vmRecordOf } from "./vm_record.ts";
import type { MoRef, Plain } from "./xml.ts";

const logger = getLogger(["vkedge", "provider", "vsphere", "watch"]);

/** Longest long poll of `WaitForUpdatesEx`. */
const watchWaitSeconds = 10;
/** How often the folder is listed again, for VMs made elsewhere (an earlier agent). */
const relistSeconds = 60;

/** One pod this node runs as a VM, and what its status is made of. */
export interface TrackedPod {
  identity: PodIdentity;
  /** The pod as last given by the agent (or rebuilt from the VM). */
  pod: Pod;
  /** Set once the VM exists. */
  vm?: VmRecord;
  log: LifecycleLog;
  createdAt: Date;
  stateSince: Date;
  runningSince?: Date;
  /** Set while the clone runs. */
  creating?: boolean;
  /** A power action vkedge is carrying out (`Stopping`, `Rebooting`, …). */
  transition?: string;
  /** Set once the VM is destroyed (by vkedge) or gone. */
  deleted?: { at: Date; byUs: boolean };
  /** The last state line logged, so each change is logged once. */
  lastText?: string;
}

/** Options of {@linkcode VmTracker}. */
export interface VmTrackerOptions {
  client: VsphereClient;
  inventory: Inventory;
  /** The value of `guestinfo.vkedge.node` of this agent's VMs. */
  owner: string;
  nodeName: string;
  logLines: number;
  now: () => number;
  /** Called whenever a pod's status inputs may have changed. */
  report: (tracked: TrackedPod) => void;
  recordEvent?: PodEventRecorder;
}

/** Keeps this node's VMs and the pods they serve. */
export class VmTracker {
  readonly #options: VmTrackerOptions;
  readonly #pods = new Map<string, TrackedPod>();
  /** Every VM in the folder, by reference value, with its properties. */
  readonly #props = new Map<string, Map<string, Plain>>();
  readonly #hostNames = new Map<string, string>();
  #watching = false;
  #collector: MoRef | undefined;
  #waiting = false;
  #ownedChanged: (() => void) | undefined;
  #synced = false;
  #lastError = "";

  /** Creates the tracker; nothing is read until asked. */
  constructor(options: VmTrackerOptions) {
    this.#options = options;
  }

  /** The pod `namespace/name`, if this node runs it. */
  get(namespace: string, name: string): TrackedPod | undefined {
    return this.#pods.get(`${namespace}/${name}`);
  }

  /** Every pod this node runs (those being deleted and just deleted included). */
  all(): TrackedPod[] {
    return [...this.#pods.values()];
  }

  /** The pod of `identity`, made (without a VM yet) if this node has none. */
  ensure(identity: PodIdentity, pod: Pod): TrackedPod {
    const key = identityKey(identity);
    let tracked = this.#pods.get(key);
    if (tracked === undefined || tracked.deleted !== undefined) {
      const now = new Date(this.#options.now());
      const created: TrackedPod = {
        identity,
        pod,
        createdAt: now,
        stateSince: now,
        log: new LifecycleLog({
          capacity: this.#options.logLines,
          ended: () => created.deleted !== undefined,
          now: this.#options.now,
        }),
      };
      tracked = created;
      this.#pods.set(key, tracked);
    }
    return tracked;
  }

  /** Forgets a pod (after its deletion was reported). */
  forget(tracked: TrackedPod): void {
    const key = identityKey(tracked.identity);
    if (this.#pods.get(key) === tracked) this.#pods.delete(key);
    tracked.log.wake();
  }

  /** A VM of the folder named `name`, owned or not (as last read). */
  vmNamed(name: string): VmRecord | undefined {
    for (const [value, props] of this.#props) {
      const vm = vmRecordOf({ type: "VirtualMachine", value }, props);
      if (vm.name === name && !vm.template) return vm;
    }
    return undefined;
  }

  /** The name of host `ref`, when known. */
  hostName(ref: MoRef | undefined): string | undefined {
    return ref === undefined ? undefined : this.#hostNames.get(ref.value);
  }

  /** Whether the watch has listed everything once and is healthy. */
  get synced(): boolean {
    return this.#synced;
  }

  /** Reads every VM of the folder now, unless the watch keeps them current. */
  async ensureFresh(signal: AbortSignal): Promise<void> {
    if (this.#synced) return;
    await this.refresh(signal);
  }

  /** Reads every VM of the folder now (one container-view read). */
  async refresh(signal: AbortSignal): Promise<void> {
    await this.#learnHosts(signal);
    const placement = await this.#options.inventory.placement(signal);
    const objects = await retrieveUnder(this.#options.client, placement.vmFolder, [{
      type: "VirtualMachine",
      paths: [...vmPaths],
    }], signal);
    const seen = new Set<string>();
    for (const object of objects) {
      seen.add(object.obj.value);
      this.#props.set(object.obj.value, new Map(object.props));
      await this.#observe(object.obj);
    }
    for (const ref of [...this.#props.keys()]) {
      if (!seen.has(ref)) this.#gone(ref);
    }
  }

  /** Reads one VM now and returns its record (`undefined` when it is gone). */
  async refreshVm(ref: MoRef, signal: AbortSignal): Promise<VmRecord | undefined> {
    const [object] = await retrieveObjects(this.#options.client, [ref], [...vmPaths], signal);
    if (object === undefined) {
      this.#gone(ref.value);
      return undefined;
    }
    this.#props.set(ref.value, new Map(object.props));
    await this.#observe(ref);
    return vmRecordOf(ref, object.props);
  }

  /** Starts the watch loop once; it ends with `signal`. */
  watch(signal: AbortSignal): void {
    if (this.#watching) return;
    this.#watching = true;
    void this.#watchLoop(signal).finally(() => {
      this.#watching = false;
      this.#synced = false;
    });
  }

  async #learnHosts(signal: AbortSignal): Promise<void> {
    if (this.#hostNames.size > 0) return;
    const placement = await this.#options.inventory.placement(signal);
    for (const host of placement.hosts) this.#hostNames.set(host.ref.value, host.name);
  }

  async #watchLoop(signal: AbortSignal): Promise<void> {
    const { client } = this.#options;
    let pauseMs = 500;
    while (!signal.aborted) {
      let collector: MoRef | undefined;
      try {
        await this.refresh(signal);
        this.#markSynced();
        let listedAt = Date.now();
        collector = await createPropertyCollector(client, signal);
        this.#collector = collector;
        let filter: MoRef | undefined;
        let filtered = "";
        let version = "";
        while (!signal.aborted) {
          const owned = this.#ownedRefs();
          const key = owned.map((ref) => ref.value).sort().join(",");
          if (key !== filtered) {
            if (filter !== undefined) await destroyPropertyFilter(client, filter, signal);
            filter = owned.length === 0 ? undefined : await createFilter(
              client,
              collector,
              objectsFilterSpec(owned, [...vmPaths]),
              signal,
            );
            filtered = key;
          }
          if (filter === undefined) {
            await Promise.race([
              abortableSleep(watchWaitSeconds * 1000, signal),
              new Promise<void>((resolve) => this.#ownedChanged = resolve),
            ]);
          } else {
            this.#waiting = true;
            const set = await waitForUpdates(
              client,
              collector,
              { version, maxWaitSeconds: watchWaitSeconds },
              signal,
            ).catch((error) => {
              if (isFault(error, "RequestCanceled")) return undefined; // the owned VMs changed
              throw error;
            }).finally(() => this.#waiting = false);
            if (set !== undefined) {
              version = set.version;
              await this.#apply(set.updates, signal);
            }
          }
          if (Date.now() - listedAt > relistSeconds * 1000) {
            await this.refresh(signal);
            listedAt = Date.now();
          }
          pauseMs = 500;
        }
      } catch (error) {
        this.#synced = false;
        if (signal.aborted) break;
        const message = errorMessage(error);
        if (message !== this.#lastError) {
          logger.warn("watching the VMs at {url} failed: {error}; listing again", {
            url: client.url,
            error: message,
          });
          this.#lastError = message;
        }
        await abortableSleep(pauseMs, signal);
        pauseMs = Math.min(pauseMs * 2, 10_000);
      } finally {
        this.#collector = undefined;
        if (collector !== undefined && !signal.aborted && client.loggedIn) {
          await destroyPropertyCollector(client, collector, AbortSignal.timeout(5_000));
        }
      }
    }
  }

  /** The VMs of the pods this node runs. */
  #ownedRefs(): MoRef[] {
    return this.all().flatMap((tracked) =>
      tracked.vm !== undefined && tracked.deleted === undefined ? [tracked.vm.ref] : []
    );
  }

  /** Lets the watch loop take a new set of owned VMs into its filter at once. */
  #ownedSetChanged(): void {
    this.#ownedChanged?.();
    this.#ownedChanged = undefined;
    const collector = this.#collector;
    if (collector !== undefined && this.#waiting) {
      void this.#options.client.call(
        "CancelWaitForUpdates",
        collector,
        "",
        voidReply,
        AbortSignal.timeout(5_000),
      ).catch(() => undefined);
    }
  }

  async #apply(updates: ObjectUpdate[], signal: AbortSignal): Promise<void> {
    const reread: MoRef[] = [];
    for (const update of updates) {
      if (update.kind === "leave") {
        this.#gone(update.obj.value);
        continue;
      }
      const props = update.kind === "enter"
        ? new Map<string, Plain>()
        : this.#props.get(update.obj.value) ?? new Map();
      const complete = applyChanges(props, update.changes);
      this.#props.set(update.obj.value, props);
      if (complete) await this.#observe(update.obj);
      else reread.push(update.obj);
    }
    for (const ref of reread) await this.refreshVm(ref, signal);
  }

  #markSynced(): void {
    if (!this.#synced && this.#lastError !== "") {
      logger.info("watching the VMs at {url} works again", { url: this.#options.client.url });
      this.#lastError = "";
    }
    this.#synced = true;
  }

  #gone(ref: string): void {
    this.#props.delete(ref);
    for (const tracked of this.#pods.values()) {
      if (tracked.vm?.ref.value !== ref || tracked.deleted !== undefined || tracked.creating) {
        continue;
      }
      tracked.deleted = { at: new Date(this.#options.now()), byUs: false };
      this.#ownedSetChanged();
      tracked.log.append(`VM ${tracked.vm.name} (${ref}) is gone: it was not vkedge`);
      this.#options.report(tracked);
    }
  }

  async #observe(ref: MoRef): Promise<void> {
    const props = this.#props.get(ref.value);
    if (props === undefined) return;
    let vm: VmRecord;
    try {
      vm = vmRecordOf(ref, props);
    } catch (error) {
      logger.warn("{error}", { error: errorMessage(error) });
      return;
    }
    if (vm.template || vm.extraConfig.get(keys.node) !== this.#options.owner) return;
    const identity = identityOf(vm.extraConfig);
    if (identity === undefined) return;
    const key = identityKey(identity);
    let tracked = this.#pods.get(key);
    if (tracked !== undefined && tracked.identity.uid !== identity.uid) {
      if (tracked.vm === undefined || tracked.vm.ref.value !== ref.value) {
        if (tracked.deleted === undefined) return; // another VM serves this pod now
      }
    }
    if (tracked === undefined || tracked.deleted !== undefined) {
      if (tracked?.deleted?.byUs && tracked.vm?.ref.value === ref.value) return;
      const record = await decodePodRecord(vm.extraConfig.get(keys.record));
      const pod = podFromVm(vm, { identity, record, nodeName: this.#options.nodeName });
      tracked = this.ensure(identity, pod);
    }
    const before = tracked.vm;
    tracked.vm = vm;
    if (before?.ref.value !== vm.ref.value) this.#ownedSetChanged();
    const hostName = this.hostName(vm.host);
    const text = vmStateText(vm, hostName);
    if (text !== tracked.lastText) {
      tracked.log.append(text);
      tracked.lastText = text;
    }
    if (before === undefined || before.power !== vm.power) {
      tracked.stateSince = new Date(this.#options.now());
      if (vm.power === "poweredOn") tracked.runningSince = tracked.stateSince;
    }
    this.#options.report(tracked);
  }
}
