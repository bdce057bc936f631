/**
 * Live migration of the VM behind a pod (`VirtualMachineMigration`): `RelocateVM_Task` to
 * another host of the placement's cluster. The candidates are the cluster's hosts but the
 * VM's own that are connected, not in maintenance and have the memory for it (host memory
 * less the memory of the VMs vkedge sees on it); a target that is unknown or unfit is
 * refused naming the candidates, and no candidate at all (a lone ESXi host) is a capacity
 * error with each host's reason. A call repeated after an agent restart waits for the
 * relocation still running instead of starting another.
 *
 * @module
 */

import { InvalidInputError, ResourceExhaustedError } from "../../lib/provider.ts";
import { toProviderError } from "./faults.ts";
import type { HostInfo } from "./inventory.ts";
import {
  activeTasks,
  describeVm,
  reread,
  type VmActionContext,
  vmTask,
  waitForActive,
} from "./vm_action.ts";
import type { VmRecord } from "./vm_record.ts";
import type { TrackedPod } from "./vm_tracker.ts";
import { relocateArgsXml } from "./vm_specs.ts";

const relocateTasks = ["VirtualMachine.relocate", "VirtualMachine.migrate"];

/** A host and why it cannot take the VM (`undefined`: it can). */
interface Candidate {
  host: HostInfo;
  reason?: string;
}

async function assess(
  context: VmActionContext,
  vm: VmRecord,
  signal: AbortSignal,
): Promise<Candidate[]> {
  const hosts = await context.inventory.hosts(signal);
  const used = new Map<string, number>();
  for (const tracked of context.tracker.all()) {
    const other = tracked.vm;
    if (other?.host === undefined || other.power !== "poweredOn" || tracked.deleted) continue;
    used.set(other.host.value, (used.get(other.host.value) ?? 0) + other.memoryMB);
  }
  return hosts.map((host) => {
    if (host.ref.value === vm.host?.value) return { host, reason: "the VM runs there" };
    if (!host.usable) return { host, reason: host.reason };
    const freeMB = host.memoryBytes / (1024 * 1024) - (used.get(host.ref.value) ?? 0);
    if (freeMB < vm.memoryMB) {
      return { host, reason: `${Math.floor(freeMB)} MiB free, ${vm.memoryMB} MiB needed` };
    }
    return { host };
  });
}

function reasons(candidates: Candidate[]): string {
  return candidates.map((c) => `${c.host.name}: ${c.reason}`).join("; ") ||
    "the placement has no hosts";
}

/** The hosts the VM could move to now. */
export async function migrationTargets(
  context: VmActionContext,
  tracked: TrackedPod,
  signal: AbortSignal,
): Promise<string[]> {
  const vm = await reread(context, tracked, signal);
  return (await assess(context, vm, signal)).filter((c) => c.reason === undefined)
    .map((c) => c.host.name);
}

/** Moves the running VM to `targetHost` or the candidate with the most free memory. */
export async function migrateVm(
  context: VmActionContext,
  tracked: TrackedPod,
  targetHost: string | undefined,
  signal: AbortSignal,
): Promise<string> {
  const what = describeVm(tracked);
  const hostName = (vm: VmRecord) =>
    context.tracker.hostName(vm.host) ?? vm.host?.value ?? "(unknown)";
  try {
    const running = await activeTasks(context, tracked.vm!.ref, relocateTasks, signal);
    if (running.length > 0) {
      tracked.log.append("migration requested: a migration is running; waiting for it");
      tracked.transition = "Migrating";
      try {
        await waitForActive(context, running, signal);
      } finally {
        tracked.transition = undefined;
      }
      const moved = await reread(context, tracked, signal);
      if (targetHost === undefined || hostName(moved) === targetHost) return hostName(moved);
    }
    const vm = await reread(context, tracked, signal);
    if (targetHost !== undefined && hostName(vm) === targetHost) return targetHost;
    if (vm.power !== "poweredOn") {
      throw new InvalidInputError(
        `vsphere provider: cannot migrate ${what}: expected it powered on, found it ${vm.power}; only a running VM is live-migrated`,
      );
    }
    const candidates = await assess(context, vm, signal);
    const fit = candidates.filter((c) => c.reason === undefined);
    let target: HostInfo | undefined;
    if (targetHost !== undefined) {
      const named = candidates.find((c) => c.host.name === targetHost);
      if (named === undefined || named.reason !== undefined) {
        throw new InvalidInputError(
          `vsphere provider: cannot migrate ${what} to host "${targetHost}": ${
            named ? `it cannot take the VM (${named.reason})` : "the placement has no such host"
          }; expected one of the candidates: ${
            fit.length > 0
              ? fit.map((c) => c.host.name).join(", ")
              : `none (${reasons(candidates)})`
          }`,
        );
      }
      target = named.host;
    } else {
      if (fit.length === 0) {
        throw new ResourceExhaustedError(
          `vsphere provider: cannot migrate ${what} from host ${
            hostName(vm)
          }: no host can take it: ${reasons(candidates)}`,
          { resource: "capacity" },
        );
      }
      target = fit.map((c) => c.host).sort((a, b) => b.memoryBytes - a.memoryBytes)[0];
    }
    tracked.log.append(`migration requested from host ${hostName(vm)} to host ${target.name}`);
    tracked.transition = "Migrating";
    context.report(tracked);
    try {
      await vmTask(
        context,
        "RelocateVM_Task",
        vm.ref,
        relocateArgsXml(target.ref, undefined),
        signal,
      );
    } finally {
      tracked.transition = undefined;
    }
    const moved = await reread(context, tracked, signal);
    return hostName(moved);
  } catch (error) {
    throw toProviderError(error, `vsphere provider: migrating ${what}`);
  }
}
