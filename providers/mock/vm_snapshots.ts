/**
 * The snapshots of the mock's VMs: taken (ready after the configured delay, by a timer
 * started once, so a repeat and a VM the state file brings back wait for the same one),
 * listed, restored (the disks go back to the snapshot's generation) and deleted.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import {
  InvalidInputError,
  NotFoundError,
  UnavailableError,
  type VirtualMachineSnapshot,
} from "../../lib/provider.ts";
import { abortableSleep } from "../../lib/provider_kit/mod.ts";
import type { MockConfig } from "./config.ts";
import type { Faults } from "./faults.ts";
import type { PodRecord } from "./pod_records.ts";
import type { SnapshotRecord } from "./state_file.ts";
import { snapshotOf } from "./virtual_machine.ts";
import { unlessAborted, vmName, type VmTransitions } from "./vm_transitions.ts";

const logger = getLogger(["vkedge", "provider", "mock"]);

/** What {@linkcode VmSnapshots} needs of its provider. */
export interface VmSnapshotsOptions {
  /** The snapshot delay. */
  config: MockConfig["vm"];
  /** The provider's clock (milliseconds since the epoch). */
  now: () => number;
  /** Aborted when the provider stops; snapshots being taken stay so (in the state file). */
  stopped: AbortSignal;
  /** Fault `snapshot` fails every snapshot action while injected. */
  faults: Faults;
  /** Saves and reports `record` after its VM changed. */
  changed(record: PodRecord): Promise<void>;
  /** The VMs' power actions, which a restore waits for. */
  transitions: VmTransitions;
}

/** The snapshots of the mock's VMs. */
export class VmSnapshots {
  readonly #options: VmSnapshotsOptions;
  readonly #transitions: VmTransitions;
  readonly #snapshots = new Map<string, { done: Promise<void>; cancel: AbortController }>();

  /** No snapshot being taken yet. */
  constructor(options: VmSnapshotsOptions) {
    this.#options = options;
    this.#transitions = options.transitions;
  }

  /** Ends the snapshots of `record` still being taken after the rest of their delay. */
  resume(record: PodRecord): void {
    for (const snapshot of record.vm.snapshots) {
      if (!snapshot.ready) void this.#schedule(record, snapshot).catch(() => {});
    }
  }

  /**
   * Takes the snapshot `name` of the VM's disks and resolves once it is ready; a snapshot
   * of that name that exists, or is still being taken, is waited for and returned.
   */
  async create(
    record: PodRecord,
    name: string,
    signal: AbortSignal,
  ): Promise<VirtualMachineSnapshot> {
    signal.throwIfAborted();
    if (name === "") {
      throw new InvalidInputError(
        `mock provider: expected a snapshot name for ${vmName(record)}, found ""`,
      );
    }
    await this.#options.faults.failIfInjected(
      "snapshot",
      `taking snapshot "${name}" of ${vmName(record)}`,
    );
    let snapshot = record.vm.snapshots.find((known) => known.name === name);
    if (snapshot === undefined) {
      const now = this.#options.now();
      snapshot = {
        id: crypto.randomUUID(),
        name,
        createdAt: now,
        readyAt: now + this.#options.config.snapshotDelayMs,
        ready: false,
        diskGeneration: record.vm.diskGeneration,
      };
      record.vm.snapshots.push(snapshot);
      record.vm.operations.snapshot++;
      logger.debug("taking snapshot {name} of {vm}", { name, vm: vmName(record) });
      const done = this.#schedule(record, snapshot);
      await this.#options.changed(record);
      await unlessAborted(done, signal);
    } else if (!snapshot.ready) {
      await unlessAborted(this.#schedule(record, snapshot), signal);
    }
    return snapshotOf(snapshot);
  }

  /** The VM's snapshots, in the order they were taken. */
  list(record: PodRecord): VirtualMachineSnapshot[] {
    return record.vm.snapshots.map(snapshotOf);
  }

  /**
   * Reverts the VM's disks to the snapshot `snapshotId`, after whatever the VM is doing:
   * its disk generation becomes the snapshot's. `InvalidInputError` unless the VM is
   * stopped, `NotFoundError` for an unknown snapshot, `UnavailableError` while it is still
   * being taken; reverting again to the snapshot the disks are at does nothing.
   */
  async restore(record: PodRecord, snapshotId: string, signal: AbortSignal): Promise<void> {
    await this.#options.faults.failIfInjected(
      "snapshot",
      `restoring snapshot ${snapshotId} to ${vmName(record)}`,
    );
    await this.#transitions.whenResting(record, signal, async () => {
      const vm = record.vm;
      const snapshot = this.#snapshot(record, snapshotId);
      if (vm.power !== "Stopped") {
        throw new InvalidInputError(
          `mock provider: cannot restore snapshot "${snapshot.name}" (${snapshotId}) to ${
            vmName(record)
          }: expected the VM Stopped, found it ${vm.power}; stop it first`,
        );
      }
      if (!snapshot.ready) {
        throw new UnavailableError(
          `mock provider: cannot restore snapshot "${snapshot.name}" (${snapshotId}) to ${
            vmName(record)
          } yet: it is still being taken`,
        );
      }
      if (vm.restoredFrom === snapshotId && vm.diskGeneration === snapshot.diskGeneration) return;
      vm.diskGeneration = snapshot.diskGeneration;
      vm.restoredFrom = snapshotId;
      vm.operations.restore++;
      logger.debug("restored {vm} to snapshot {name}", { vm: vmName(record), name: snapshot.name });
      await this.#options.changed(record);
    });
  }

  /** Deletes the snapshot `snapshotId` (taken or still being taken); `NotFoundError` if gone. */
  async delete(record: PodRecord, snapshotId: string): Promise<void> {
    await this.#options.faults.failIfInjected(
      "snapshot",
      `deleting snapshot ${snapshotId} of ${vmName(record)}`,
    );
    const snapshot = this.#snapshot(record, snapshotId);
    record.vm.snapshots = record.vm.snapshots.filter((known) => known !== snapshot);
    this.#snapshots.get(snapshotId)?.cancel.abort();
    record.vm.operations.deleteSnapshot++;
    await this.#options.changed(record);
  }

  /** The moment the snapshot is ready: a timer started once, cancelled by its deletion. */
  #schedule(record: PodRecord, snapshot: SnapshotRecord): Promise<void> {
    const pending = this.#snapshots.get(snapshot.id);
    if (pending !== undefined) return pending.done;
    const { now, stopped } = this.#options;
    const cancel = new AbortController();
    const done = abortableSleep(
      Math.max(0, snapshot.readyAt - now()),
      AbortSignal.any([record.deleted.signal, stopped, cancel.signal]),
    ).then(async () => {
      this.#snapshots.delete(snapshot.id);
      if (cancel.signal.aborted) {
        throw new NotFoundError(
          `mock provider: snapshot "${snapshot.name}" of ${
            vmName(record)
          } was deleted while being taken`,
        );
      }
      this.#transitions.throwIfGone(record, `snapshot "${snapshot.name}" was taken`);
      snapshot.ready = true;
      await this.#transitions.saveAfter(record, `snapshot "${snapshot.name}" was taken`);
    });
    done.catch(() => {});
    this.#snapshots.set(snapshot.id, { done, cancel });
    return done;
  }

  #snapshot(record: PodRecord, snapshotId: string): SnapshotRecord {
    const snapshot = record.vm.snapshots.find((known) => known.id === snapshotId);
    if (snapshot === undefined) {
      const known = record.vm.snapshots.map((known) => `"${known.id}" (${known.name})`);
      throw new NotFoundError(
        `mock provider: snapshot "${snapshotId}" of ${vmName(record)} not found: expected ${
          known.length === 0 ? "none, it has no snapshots" : `one of ${known.join(", ")}`
        }`,
      );
    }
    return snapshot;
  }
}
