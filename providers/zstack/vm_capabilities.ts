/**
 * The VM capabilities of the zstack provider (power, snapshots, live migration) and the
 * container restart as the contract names them: each finds the pod's VM and hands the
 * action to `vm_power.ts`, `vm_snapshots.ts` or `vm_migration.ts`; a container restart is
 * a reboot (or a start) of the VM, recorded as one restart more of the pod's container.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import {
  type ContainerRef,
  type ContainerRestarter,
  NotFoundError,
  type RestartOptions,
  type StopOptions,
  type VirtualMachineMigration,
  type VirtualMachinePower,
  type VirtualMachineSnapshot,
  type VirtualMachineSnapshots,
  type VirtualMachineState,
} from "../../lib/provider.ts";
import { formatTime } from "../../lib/provider_kit/mod.ts";
import { describeVm, type VmActionContext } from "./vm_action.ts";
import { migrate, migrationTargets } from "./vm_migration.ts";
import { powerOff, powerOn, reboot, virtualMachineState } from "./vm_power.ts";
import { deleteSnapshot, listSnapshots, restoreSnapshot, takeSnapshot } from "./vm_snapshots.ts";
import type { TrackedVm } from "./vm_tracker.ts";

const logger = getLogger(["vkedge", "provider", "zstack"]);

/** The tracked VM behind a pod; `NotFoundError` when it has none. */
export type TrackedVmLookup = (pod: Pod, signal: AbortSignal) => Promise<TrackedVm>;

/** Power, snapshots and migration of the VM behind a pod, and container restarts. */
export class VmCapabilities
  implements
    VirtualMachinePower,
    VirtualMachineSnapshots,
    VirtualMachineMigration,
    ContainerRestarter {
  readonly #actions: VmActionContext;
  readonly #vmOf: TrackedVmLookup;
  readonly #report: (tracked: TrackedVm) => void;

  /** Acts through `actions` on the VMs `vmOf` finds; `report` tells of a restart. */
  constructor(
    actions: VmActionContext,
    vmOf: TrackedVmLookup,
    report: (tracked: TrackedVm) => void,
  ) {
    this.#actions = actions;
    this.#vmOf = vmOf;
    this.#report = report;
  }

  // -- VirtualMachinePower -------------------------------------------------

  /** Returns the power state, host name and uuid of the VM behind `pod`. */
  async getVirtualMachineState(pod: Pod, signal: AbortSignal): Promise<VirtualMachineState> {
    await this.#actions.tracker.ensureFresh(signal);
    return virtualMachineState(await this.#vmOf(pod, signal), this.#actions.hosts);
  }

  /** Powers the VM on (resumes a Paused one) and resolves once it runs. */
  async startVirtualMachine(pod: Pod, signal: AbortSignal): Promise<void> {
    await powerOn(this.#actions, await this.#vmOf(pod, signal), { signal });
  }

  /**
   * Powers the VM off: a graceful stop, then a cold one after `gracePeriodSeconds` (60 s by
   * default); a cold stop at once with `force`. The VM, its disks and its pod stay.
   */
  async stopVirtualMachine(pod: Pod, options: StopOptions, signal: AbortSignal): Promise<void> {
    await powerOff(this.#actions, await this.#vmOf(pod, signal), { ...options, signal });
  }

  /** Reboots the running VM (a cold stop and a start with `force`). */
  async restartVirtualMachine(pod: Pod, options: StopOptions, signal: AbortSignal): Promise<void> {
    await reboot(this.#actions, await this.#vmOf(pod, signal), { ...options, signal });
  }

  // -- VirtualMachineSnapshots ----------------------------------------------

  /**
   * Takes snapshot `options.name` of every volume of the VM (see `vm_snapshots.ts`) and
   * resolves once it is ready; a repeat finds the parts already taken or being taken.
   */
  async createVirtualMachineSnapshot(
    pod: Pod,
    options: { name: string },
    signal: AbortSignal,
  ): Promise<VirtualMachineSnapshot> {
    return await takeSnapshot(this.#actions, await this.#vmOf(pod, signal), {
      name: options.name,
      signal,
    });
  }

  /** Lists the VM's snapshots, oldest first, complete or not. */
  async listVirtualMachineSnapshots(
    pod: Pod,
    signal: AbortSignal,
  ): Promise<VirtualMachineSnapshot[]> {
    return await listSnapshots(this.#actions, await this.#vmOf(pod, signal), { signal });
  }

  /** Reverts the VM's disks to snapshot `snapshotId`; the VM must be Stopped. */
  async restoreVirtualMachineSnapshot(
    pod: Pod,
    snapshotId: string,
    signal: AbortSignal,
  ): Promise<void> {
    await restoreSnapshot(this.#actions, await this.#vmOf(pod, signal), {
      snapshotId,
      signal,
    });
  }

  /** Deletes snapshot `snapshotId` of the VM; `NotFoundError` when it is gone. */
  async deleteVirtualMachineSnapshot(
    pod: Pod,
    snapshotId: string,
    signal: AbortSignal,
  ): Promise<void> {
    await deleteSnapshot(this.#actions, await this.#vmOf(pod, signal), { snapshotId, signal });
  }

  // -- VirtualMachineMigration ----------------------------------------------

  /** Live-migrates the VM and resolves with the name of its new host. */
  async migrateVirtualMachine(
    pod: Pod,
    options: { targetHost?: string },
    signal: AbortSignal,
  ): Promise<string> {
    return await migrate(this.#actions, await this.#vmOf(pod, signal), {
      ...options,
      signal,
    });
  }

  /** Names the hosts the VM could be live-migrated to now. */
  async listMigrationTargets(pod: Pod, signal: AbortSignal): Promise<string[]> {
    return await migrationTargets(this.#actions, await this.#vmOf(pod, signal), { signal });
  }

  // -- Restarts ------------------------------------------------------------------

  /**
   * Restarts the pod's one container the only way a VM can: a reboot of the running VM
   * (a cold one for a grace period of 0), or a start of a stopped or crashed one. The pod
   * then shows one restart more and the run that ended as the last state. The agent's
   * probes dial the VM's IP themselves, so this provider opens no connections for them.
   */
  async restartContainer(
    ref: ContainerRef,
    options: RestartOptions,
    signal: AbortSignal,
  ): Promise<void> {
    await this.#actions.tracker.ensureFresh(signal);
    const key = `${ref.namespace}/${ref.pod}`;
    const tracked = this.#actions.tracker.get(ref.namespace, ref.pod);
    if (tracked === undefined || tracked.deleted !== undefined) {
      throw new NotFoundError(`pod "${key}" not found in the zstack provider`);
    }
    const container = tracked.pod.spec?.containers?.[0]?.name ?? "vm";
    if (ref.container !== container) {
      throw new NotFoundError(
        `container "${ref.container}" not found in pod "${key}": expected "${container}"`,
      );
    }
    const before = this.#actions.tracker.fullPod(tracked).status?.containerStatuses?.[0];
    const running = tracked.vm.state === "Running";
    if (running) {
      await reboot(this.#actions, tracked, {
        ...(options.gracePeriodSeconds === 0 ? { force: true } : {}),
        signal,
      });
    } else {
      await powerOn(this.#actions, tracked, { signal });
    }
    const now = new Date(this.#actions.now());
    const ended = before?.state?.terminated ?? {
      exitCode: 137,
      reason: "Error",
      message: `${describeVm(tracked)} was rebooted by vkedge: ${options.reason}`,
      ...(before?.state?.running?.startedAt ? { startedAt: before.state.running.startedAt } : {}),
      finishedAt: formatTime(now),
      containerID: `zstack://${tracked.vm.uuid}`,
    };
    tracked.restarts = { count: (tracked.restarts?.count ?? 0) + 1, last: ended };
    tracked.log.append(
      now,
      `container restarted (${options.reason}): VM ${running ? "rebooted" : "started"}`,
    );
    logger.info("pod {pod}: VM {uuid} {what} to restart its container ({reason})", {
      pod: key,
      uuid: tracked.vm.uuid,
      what: running ? "rebooted" : "started",
      reason: options.reason,
    });
    this.#report(tracked);
  }
}
