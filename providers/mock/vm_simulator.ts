/**
 * The VM actions of the mock provider: power (start, stop, restart), snapshots (create,
 * list, restore, delete) and migration. An action that takes time is a transition of the
 * VM (Starting, Stopping, Rebooting, Migrating) that a timer ends after the configured
 * delay; a snapshot is ready after its own delay. Every action is idempotent as the
 * contract asks: a repeat waits for the action in progress or finds it done, and a VM the
 * state file brings back in the middle of an action finishes it after the rest of the
 * delay, so nothing is done twice across an agent restart.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import {
  InvalidInputError,
  NotFoundError,
  ResourceExhaustedError,
  type StopOptions,
  UnavailableError,
  type VirtualMachineSnapshot,
} from "../../lib/provider.ts";
import { abortableSleep, errorMessage, podKey } from "../../lib/provider_kit/mod.ts";
import type { MockConfig } from "./config.ts";
import type { Faults, MockFault } from "./faults.ts";
import {
  bootContainers,
  type ContainerChangeOptions,
  type PodRecord,
  powerOffContainers,
} from "./pod_records.ts";
import type { SnapshotRecord, VmOperation, VmOperationCounts, VmTransition } from "./state_file.ts";
import {
  beginTransition,
  endTransition,
  migrationTargets,
  type MockVirtualMachineState,
  snapshotOf,
  stateOf,
} from "./virtual_machine.ts";

const logger = getLogger(["vkedge", "provider", "mock"]);

/** What the simulator needs of its provider. */
export interface VmSimulatorOptions {
  /** Delays of the actions and the hosts. */
  config: MockConfig["vm"];
  /** The provider's clock (milliseconds since the epoch). */
  now: () => number;
  /** Aborted when the provider stops; actions in progress stay so (in the state file). */
  stopped: AbortSignal;
  /** Faults `power`, `snapshot` and `migrate` fail the actions while injected. */
  faults: Faults;
  /** The container change options of `record` now (the clock and its usage). */
  changeOptions(record: PodRecord): ContainerChangeOptions;
  /** Saves and reports `record` after its VM changed. */
  changed(record: PodRecord): Promise<void>;
}

/** Resolves with `promise`, or rejects with the reason of `signal` once it aborts. */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** The text naming the VM of `record` in messages. */
function vmName(record: PodRecord): string {
  return `the VM ${record.vm.id} of pod ${podKey(record.pod)}`;
}

/** The VMs behind the mock's pods: their actions, with delays, waits and counts. */
export class VmSimulator {
  readonly #options: VmSimulatorOptions;
  readonly #transitions = new Map<PodRecord, { transition: VmTransition; done: Promise<void> }>();
  readonly #snapshots = new Map<string, { done: Promise<void>; cancel: AbortController }>();

  /** A simulator for the VMs of one provider. */
  constructor(options: VmSimulatorOptions) {
    this.#options = options;
  }

  /**
   * Carries on what the VM of `record`, read from the state file, was doing: its action
   * and its snapshots end after the rest of their delays.
   */
  resume(record: PodRecord): void {
    const transition = record.vm.transition;
    if (transition !== undefined) void this.#schedule(record, transition).catch(() => {});
    for (const snapshot of record.vm.snapshots) {
      if (!snapshot.ready) void this.#scheduleSnapshot(record, snapshot).catch(() => {});
    }
  }

  /** The power state, host, id and disk generation of the VM of `record`. */
  state(record: PodRecord): MockVirtualMachineState {
    return stateOf(record.vm);
  }

  /** How many times each action was carried out on the VM of `record`. */
  operations(record: PodRecord): VmOperationCounts {
    return { ...record.vm.operations };
  }

  /** Powers the VM on, after whatever it is doing; a running VM is left alone. */
  async start(record: PodRecord, signal: AbortSignal): Promise<void> {
    await this.#failIfInjected("power", `starting ${vmName(record)}`);
    await this.#whenResting(record, signal, async () => {
      if (record.vm.power === "Running") return;
      await this.#act(record, "start", {
        action: { during: "Starting", power: "Running", host: record.vm.host },
        delayMs: this.#options.config.powerDelayMs,
      }, signal);
    });
  }

  /**
   * Powers the VM off, after whatever it is doing: at once when `options.force`, else
   * after the power delay or the grace period, whichever is shorter. A stopped VM is left
   * alone.
   */
  async stop(record: PodRecord, options: StopOptions, signal: AbortSignal): Promise<void> {
    await this.#failIfInjected("power", `stopping ${vmName(record)}`);
    const graceMs = (options.gracePeriodSeconds ?? Infinity) * 1000;
    await this.#whenResting(record, signal, async () => {
      if (record.vm.power === "Stopped") return;
      await this.#act(record, "stop", {
        action: { during: "Stopping", power: "Stopped", host: record.vm.host },
        delayMs: options.force ? 0 : Math.min(this.#options.config.powerDelayMs, graceMs),
      }, signal);
    });
  }

  /**
   * Reboots the running VM (at once when `options.force`); a repeat while it reboots
   * waits for that reboot. `InvalidInputError` when the VM is stopped.
   */
  async restart(record: PodRecord, options: StopOptions, signal: AbortSignal): Promise<void> {
    await this.#failIfInjected("power", `restarting ${vmName(record)}`);
    await this.#whenResting(record, signal, async () => {
      if (record.vm.power === "Stopped") {
        throw new InvalidInputError(
          `mock provider: cannot restart ${vmName(record)}: it is Stopped; start it instead`,
        );
      }
      await this.#act(record, "restart", {
        action: { during: "Rebooting", power: "Running", host: record.vm.host },
        delayMs: options.force ? 0 : this.#options.config.powerDelayMs,
      }, signal);
    }, (transition) => transition.during === "Rebooting");
  }

  /**
   * Takes the snapshot `name` of the VM's disks and resolves once it is ready; a snapshot
   * of that name that exists, or is still being taken, is waited for and returned.
   */
  async createSnapshot(
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
    await this.#failIfInjected("snapshot", `taking snapshot "${name}" of ${vmName(record)}`);
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
      const done = this.#scheduleSnapshot(record, snapshot);
      await this.#options.changed(record);
      await unlessAborted(done, signal);
    } else if (!snapshot.ready) {
      await unlessAborted(this.#scheduleSnapshot(record, snapshot), signal);
    }
    return snapshotOf(snapshot);
  }

  /** The VM's snapshots, in the order they were taken. */
  listSnapshots(record: PodRecord): VirtualMachineSnapshot[] {
    return record.vm.snapshots.map(snapshotOf);
  }

  /**
   * Reverts the VM's disks to the snapshot `snapshotId`, after whatever the VM is doing:
   * its disk generation becomes the snapshot's. `InvalidInputError` unless the VM is
   * stopped, `NotFoundError` for an unknown snapshot, `UnavailableError` while it is still
   * being taken; reverting again to the snapshot the disks are at does nothing.
   */
  async restoreSnapshot(record: PodRecord, snapshotId: string, signal: AbortSignal): Promise<void> {
    await this.#failIfInjected(
      "snapshot",
      `restoring snapshot ${snapshotId} to ${vmName(record)}`,
    );
    await this.#whenResting(record, signal, async () => {
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
  async deleteSnapshot(record: PodRecord, snapshotId: string): Promise<void> {
    await this.#failIfInjected("snapshot", `deleting snapshot ${snapshotId} of ${vmName(record)}`);
    const snapshot = this.#snapshot(record, snapshotId);
    record.vm.snapshots = record.vm.snapshots.filter((known) => known !== snapshot);
    this.#snapshots.get(snapshotId)?.cancel.abort();
    record.vm.operations.deleteSnapshot++;
    await this.#options.changed(record);
  }

  /** The configured hosts the VM could be migrated to: every one but its own. */
  targets(record: PodRecord): string[] {
    return migrationTargets(record.vm, this.#options.config.hosts);
  }

  /**
   * Live-migrates the running VM to `targetHost`, or to the first other host, and
   * resolves with its host once it runs there. A repeat while it migrates there waits for
   * that migration; a VM already on `targetHost` stays. `InvalidInputError` for an
   * unknown host or a VM that is not running, `ResourceExhaustedError` (`capacity`) when
   * no other host is configured.
   */
  async migrate(
    record: PodRecord,
    targetHost: string | undefined,
    signal: AbortSignal,
  ): Promise<string> {
    const to = targetHost === undefined ? "another host" : `host "${targetHost}"`;
    await this.#failIfInjected("migrate", `migrating ${vmName(record)} to ${to}`);
    await this.#whenResting(record, signal, async () => {
      const vm = record.vm;
      if (vm.power !== "Running") {
        throw new InvalidInputError(
          `mock provider: cannot migrate ${
            vmName(record)
          }: expected the VM Running, found it ${vm.power}; start it first`,
        );
      }
      if (targetHost === vm.host) return;
      const targets = this.targets(record);
      if (targetHost !== undefined && !targets.includes(targetHost)) {
        throw new InvalidInputError(
          `mock provider: cannot migrate ${vmName(record)} to host "${targetHost}": expected ${
            targets.length === 0
              ? `no target, since ${vm.host} is the only host configured`
              : `one of ${targets.map((host) => `"${host}"`).join(", ")}`
          }`,
        );
      }
      const target = targetHost ?? targets[0];
      if (target === undefined) {
        throw new ResourceExhaustedError(
          `mock provider: no host can take ${
            vmName(record)
          }: it runs on ${vm.host}, the only host configured in vm.hosts`,
          { resource: "capacity" },
        );
      }
      await this.#act(record, "migrate", {
        action: { during: "Migrating", power: "Running", host: target },
        delayMs: this.#options.config.migrationDelayMs,
      }, signal);
    }, (transition) =>
      transition.during === "Migrating" &&
      (targetHost === undefined || targetHost === transition.host));
    return record.vm.host;
  }

  /** Begins `action`, counts it, saves and reports, then waits for its end. */
  async #act(
    record: PodRecord,
    operation: VmOperation,
    options: { action: Omit<VmTransition, "until">; delayMs: number },
    signal: AbortSignal,
  ): Promise<void> {
    const transition = beginTransition(record.vm, options.action, {
      now: this.#options.now(),
      delayMs: options.delayMs,
    });
    record.vm.operations[operation]++;
    logger.debug("{operation} of {vm}: {during} for {delay} ms", {
      operation,
      vm: vmName(record),
      during: transition.during,
      delay: options.delayMs,
    });
    const done = this.#schedule(record, transition);
    await this.#options.changed(record);
    await unlessAborted(done, signal);
  }

  /**
   * Waits until the VM of `record` rests (no action in progress), then runs `act` at once,
   * before any other action can begin. When `joins` says that an action in progress is
   * the one asked for, resolves once it ends instead, without `act`.
   */
  async #whenResting(
    record: PodRecord,
    signal: AbortSignal,
    act: () => Promise<void>,
    joins?: (transition: VmTransition) => boolean,
  ): Promise<void> {
    signal.throwIfAborted();
    for (let transition = record.vm.transition; transition !== undefined;) {
      await unlessAborted(this.#schedule(record, transition), signal);
      if (joins?.(transition)) return;
      transition = record.vm.transition;
    }
    await act();
  }

  /**
   * The end of `transition` of the VM of `record`: a timer that ends it after the rest of
   * its delay, started once. Rejects with `NotFoundError` when the pod is deleted first
   * and `UnavailableError` when the provider stops first (the action stays in progress).
   */
  #schedule(record: PodRecord, transition: VmTransition): Promise<void> {
    const pending = this.#transitions.get(record);
    if (pending?.transition === transition) return pending.done;
    const { now, stopped } = this.#options;
    const done = abortableSleep(
      Math.max(0, transition.until - now()),
      AbortSignal.any([record.deleted.signal, stopped]),
    ).then(async () => {
      if (this.#transitions.get(record)?.done === done) this.#transitions.delete(record);
      this.#throwIfGone(record, `${transition.during} ended`);
      if (record.vm.transition !== transition) return;
      endTransition(record.vm, now());
      const options = this.#options.changeOptions(record);
      if (transition.during === "Stopping") {
        powerOffContainers(record, {
          ...options,
          message: `mock provider: ${vmName(record)} was stopped`,
        });
      } else if (transition.during !== "Migrating") {
        bootContainers(record, {
          ...options,
          message: `mock provider: ${vmName(record)} was rebooted`,
        });
      }
      await this.#saveAfter(record, `${transition.during} ended`);
    });
    done.catch(() => {}); // waiters see the rejection; a timer nobody waits for is fine
    this.#transitions.set(record, { transition, done });
    return done;
  }

  /** The moment the snapshot is ready: a timer started once, cancelled by its deletion. */
  #scheduleSnapshot(record: PodRecord, snapshot: SnapshotRecord): Promise<void> {
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
      this.#throwIfGone(record, `snapshot "${snapshot.name}" was taken`);
      snapshot.ready = true;
      await this.#saveAfter(record, `snapshot "${snapshot.name}" was taken`);
    });
    done.catch(() => {});
    this.#snapshots.set(snapshot.id, { done, cancel });
    return done;
  }

  async #saveAfter(record: PodRecord, what: string): Promise<void> {
    try {
      await this.#options.changed(record);
    } catch (error) {
      logger.warn("{vm}: {what}, but saving it failed: {error}", {
        vm: vmName(record),
        what,
        error: errorMessage(error),
      });
      throw error;
    }
  }

  #throwIfGone(record: PodRecord, what: string): void {
    if (record.deleted.signal.aborted) {
      throw new NotFoundError(
        `mock provider: pod ${podKey(record.pod)} and its VM were deleted before ${what}`,
      );
    }
    if (this.#options.stopped.aborted) {
      throw new UnavailableError(
        `mock provider: stopped before ${what} on ${
          vmName(record)
        }; a new instance over the state file finishes it`,
      );
    }
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

  #failIfInjected(fault: MockFault, what: string): Promise<void> {
    return this.#options.faults.failIfInjected(fault, what);
  }
}
