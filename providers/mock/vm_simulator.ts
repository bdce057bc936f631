/**
 * The VM actions of the mock provider: power (start, stop, restart), snapshots (create,
 * list, restore, delete, in `vm_snapshots.ts`) and migration. An action that takes time is
 * a transition of the VM (Starting, Stopping, Rebooting, Migrating) that a timer ends after
 * the configured delay (`vm_transitions.ts`); a snapshot is ready after its own delay.
 * Every action is idempotent as the contract asks: a repeat waits for the action in
 * progress or finds it done, and a VM the state file brings back in the middle of an
 * action finishes it after the rest of the delay, so nothing is done twice across an agent
 * restart.
 *
 * @module
 */

import {
  InvalidInputError,
  ResourceExhaustedError,
  type StopOptions,
  type VirtualMachineSnapshot,
} from "../../lib/provider.ts";
import type { MockConfig } from "./config.ts";
import type { Faults, MockFault } from "./faults.ts";
import type { ContainerChangeOptions, PodRecord } from "./pod_records.ts";
import type { VmOperationCounts } from "./state_file.ts";
import { migrationTargets, type MockVirtualMachineState, stateOf } from "./virtual_machine.ts";
import { VmSnapshots } from "./vm_snapshots.ts";
import { vmName, VmTransitions } from "./vm_transitions.ts";

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

/** The VMs behind the mock's pods: their actions, with delays, waits and counts. */
export class VmSimulator {
  readonly #options: VmSimulatorOptions;
  readonly #transitions: VmTransitions;
  readonly #snapshots: VmSnapshots;

  /** A simulator for the VMs of one provider. */
  constructor(options: VmSimulatorOptions) {
    this.#options = options;
    this.#transitions = new VmTransitions(options);
    this.#snapshots = new VmSnapshots({ ...options, transitions: this.#transitions });
  }

  /**
   * Carries on what the VM of `record`, read from the state file, was doing: its action
   * and its snapshots end after the rest of their delays.
   */
  resume(record: PodRecord): void {
    const transition = record.vm.transition;
    if (transition !== undefined) {
      void this.#transitions.schedule(record, transition).catch(() => {});
    }
    this.#snapshots.resume(record);
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
    await this.#transitions.whenResting(record, signal, async () => {
      if (record.vm.power === "Running") return;
      await this.#transitions.act(record, "start", {
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
    await this.#transitions.whenResting(record, signal, async () => {
      if (record.vm.power === "Stopped") return;
      await this.#transitions.act(record, "stop", {
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
    await this.#transitions.whenResting(record, signal, async () => {
      if (record.vm.power === "Stopped") {
        throw new InvalidInputError(
          `mock provider: cannot restart ${vmName(record)}: it is Stopped; start it instead`,
        );
      }
      await this.#transitions.act(record, "restart", {
        action: { during: "Rebooting", power: "Running", host: record.vm.host },
        delayMs: options.force ? 0 : this.#options.config.powerDelayMs,
      }, signal);
    }, (transition) => transition.during === "Rebooting");
  }

  /**
   * Takes the snapshot `name` of the VM's disks and resolves once it is ready; a snapshot
   * of that name that exists, or is still being taken, is waited for and returned.
   */
  createSnapshot(
    record: PodRecord,
    name: string,
    signal: AbortSignal,
  ): Promise<VirtualMachineSnapshot> {
    return this.#snapshots.create(record, name, signal);
  }

  /** The VM's snapshots, in the order they were taken. */
  listSnapshots(record: PodRecord): VirtualMachineSnapshot[] {
    return this.#snapshots.list(record);
  }

  /**
   * Reverts the VM's disks to the snapshot `snapshotId`, after whatever the VM is doing:
   * its disk generation becomes the snapshot's. `InvalidInputError` unless the VM is
   * stopped, `NotFoundError` for an unknown snapshot, `UnavailableError` while it is still
   * being taken; reverting again to the snapshot the disks are at does nothing.
   */
  restoreSnapshot(record: PodRecord, snapshotId: string, signal: AbortSignal): Promise<void> {
    return this.#snapshots.restore(record, snapshotId, signal);
  }

  /** Deletes the snapshot `snapshotId` (taken or still being taken); `NotFoundError` if gone. */
  deleteSnapshot(record: PodRecord, snapshotId: string): Promise<void> {
    return this.#snapshots.delete(record, snapshotId);
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
    await this.#transitions.whenResting(record, signal, async () => {
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
      await this.#transitions.act(record, "migrate", {
        action: { during: "Migrating", power: "Running", host: target },
        delayMs: this.#options.config.migrationDelayMs,
      }, signal);
    }, (transition) =>
      transition.during === "Migrating" &&
      (targetHost === undefined || targetHost === transition.host));
    return record.vm.host;
  }

  #failIfInjected(fault: MockFault, what: string): Promise<void> {
    return this.#options.faults.failIfInjected(fault, what);
  }
}
