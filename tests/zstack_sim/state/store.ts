/**
 * The simulated management node's inventory: one map per resource type, the uuid claims of
 * ZStack's shared ResourceVO table, the per-resource sync queue that runs the messages for
 * one resource one at a time, and the timing of the simulated hypervisor. What the APIs do
 * to it lives in the domain modules beside this one (VMs, hosts, IPAM, volumes, tags, ...).
 *
 * @module
 */

import { abortableSleep } from "../../../lib/sleep.ts";
import { ApiError, errorCode, invalidArgument } from "../errors.ts";
import {
  type BackupStorage,
  type Cluster,
  type DiskOffering,
  type Host,
  type Image,
  type InstanceOffering,
  isZStackUuid,
  type L3Network,
  newUuid,
  type PrimaryStorage,
  type Tag,
  type VmInstance,
  type VmNic,
  type Volume,
  type VolumeSnapshot,
  type Zone,
} from "../inventory.ts";

/** Timing of the simulated hypervisor. */
export interface StateTiming {
  /** How long a VM stays Starting (also Rebooting, Resuming) before it is Running. */
  vmBootMs: number;
  /** How long the other transient states (Stopping, Destroying, Migrating, ...) last. */
  transitionMs: number;
  /** `vm/expungePeriod`: Destroyed VMs are expunged this long after destruction. */
  vmExpungeSeconds: number;
  /**
   * How long the KVM agent waits for a guest that ignores a graceful stop before it cuts
   * the power itself (default 60 s).
   */
  guestShutdownTimeoutMs?: number;
}

/** Global configuration values of the management node that change what the APIs do. */
export interface GlobalConfig {
  /**
   * `dataVolume.deleteOnVmDestroy`: whether DestroyVmInstance deletes the data volumes
   * attached to the VM instead of detaching them (false on a real node unless changed).
   */
  dataVolumeDeleteOnVmDestroy: boolean;
}

/** The name of one of the inventory's maps. */
export type StoreName =
  | "zones"
  | "clusters"
  | "hosts"
  | "images"
  | "instanceOfferings"
  | "diskOfferings"
  | "l3Networks"
  | "primaryStorages"
  | "backupStorages"
  | "vms"
  | "nics"
  | "volumes"
  | "snapshots"
  | "tags";

/** Every map of the inventory, in the order ZStack's ResourceVO would list them. */
export const STORE_NAMES: readonly StoreName[] = [
  "zones",
  "clusters",
  "hosts",
  "images",
  "instanceOfferings",
  "diskOfferings",
  "l3Networks",
  "primaryStorages",
  "backupStorages",
  "vms",
  "nics",
  "volumes",
  "snapshots",
  "tags",
];

/** The inventory of the simulated management node. */
export class SimState {
  /** Zones by uuid. */
  readonly zones: Map<string, Zone> = new Map();
  /** Clusters by uuid. */
  readonly clusters: Map<string, Cluster> = new Map();
  /** Hosts by uuid, with their live capacity. */
  readonly hosts: Map<string, Host> = new Map();
  /** Images by uuid. */
  readonly images: Map<string, Image> = new Map();
  /** Instance offerings by uuid. */
  readonly instanceOfferings: Map<string, InstanceOffering> = new Map();
  /** Disk offerings by uuid. */
  readonly diskOfferings: Map<string, DiskOffering> = new Map();
  /** L3 networks by uuid. */
  readonly l3Networks: Map<string, L3Network> = new Map();
  /** Primary storage by uuid. */
  readonly primaryStorages: Map<string, PrimaryStorage> = new Map();
  /** Backup storage by uuid. */
  readonly backupStorages: Map<string, BackupStorage> = new Map();
  /** VMs by uuid (Destroyed ones included until expunged). */
  readonly vms: Map<string, VmInstance> = new Map();
  /** VM NICs by uuid. */
  readonly nics: Map<string, VmNic> = new Map();
  /** Volumes by uuid. */
  readonly volumes: Map<string, Volume> = new Map();
  /** Volume snapshots by uuid. */
  readonly snapshots: Map<string, VolumeSnapshot> = new Map();
  /** User and system tags by uuid. */
  readonly tags: Map<string, Tag> = new Map();
  /** When each Destroyed VM was destroyed (ms since the epoch), for `vm/expungePeriod`. */
  readonly destroyedAt: Map<string, number> = new Map();
  /** VMs whose guest ignores the ACPI shutdown of a graceful stop (a hung or stubborn OS). */
  readonly guestsIgnoringShutdown: Set<string> = new Set();
  /** Timing of the simulated hypervisor. */
  readonly timing: StateTiming;
  /** Global configuration of the management node. */
  readonly globalConfig: GlobalConfig;

  readonly #signal: AbortSignal;
  readonly #queues = new Map<string, Promise<unknown>>();

  /**
   * Creates an empty inventory; sleeps end early once `signal` aborts. The global
   * configuration takes ZStack's defaults unless `globalConfig` says otherwise.
   */
  constructor(
    timing: StateTiming,
    signal: AbortSignal,
    globalConfig: Partial<GlobalConfig> = {},
  ) {
    this.timing = timing;
    this.#signal = signal;
    this.globalConfig = { dataVolumeDeleteOnVmDestroy: false, ...globalConfig };
  }

  /** The map `name` of the inventory, for code that handles every resource type alike. */
  store(name: StoreName): ReadonlyMap<string, object> {
    return this[name];
  }

  /** Whether any resource already has `uuid` (ZStack's ResourceVO table is shared). */
  uuidInUse(uuid: string): boolean {
    return STORE_NAMES.some((name) => this.store(name).has(uuid));
  }

  /** A new uuid, or `resourceUuid`, failing like a duplicate primary key in ResourceVO when taken. */
  claimUuid(resourceUuid: string | undefined): string {
    if (resourceUuid === undefined) return newUuid();
    if (!isZStackUuid(resourceUuid)) {
      throw invalidArgument(
        `resourceUuid[${resourceUuid}] is not a valid uuid. A valid uuid is a UUID(v4 recommended) with '-' stripped. ` +
          "see http://en.wikipedia.org/wiki/Universally_unique_identifier for format of UUID, " +
          "the regular expression ZStack uses to validate a UUID is '[0-9a-f]{8}[0-9a-f]{4}[1-5][0-9a-f]{3}[89ab][0-9a-f]{3}[0-9a-f]{12}'",
      );
    }
    // ZStack has no explicit check: the insert into ResourceVO violates the primary key
    // and the API fails with an internal error. No second resource is created.
    if (this.uuidInUse(resourceUuid)) {
      throw new ApiError(
        errorCode(
          "SYS.1000",
          `org.hibernate.exception.ConstraintViolationException: Duplicate entry '${resourceUuid}' for key 'PRIMARY'`,
        ),
      );
    }
    return resourceUuid;
  }

  /** Runs `fn` after every earlier message for `resourceUuid` finished, like ZStack's sync queue. */
  serial<T>(resourceUuid: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(resourceUuid) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.then(() => {}, () => {});
    this.#queues.set(resourceUuid, settled);
    settled.then(() => {
      if (this.#queues.get(resourceUuid) === settled) this.#queues.delete(resourceUuid);
    });
    return run;
  }

  /**
   * Waits as long as a VM boot, any other transition or the KVM agent's wait for a guest
   * that ignores a graceful stop takes; ends early on close.
   */
  pause(duration: "boot" | "transition" | "guestShutdownTimeout"): Promise<void> {
    const ms = duration === "boot"
      ? this.timing.vmBootMs
      : duration === "transition"
      ? this.timing.transitionMs
      : this.timing.guestShutdownTimeoutMs ?? 60_000;
    return abortableSleep(ms, this.#signal);
  }
}
