/**
 * Live migration of the VM behind a pod (`VirtualMachineMigration`): the candidates are
 * what `GET /v1/vm-instances/{uuid}/migration-target-hosts` lists, by host name (the name
 * `getVirtualMachineState` reports); a migration is `migrateVm` to the named candidate, or
 * to the host ZStack picks. A migration in progress when asked (an agent restart) is
 * waited for, not repeated, and a VM already on the target host is left there. When no
 * host can take the VM, the error says why for each host of its cluster.
 *
 * @module
 */

import { InvalidInputError, ResourceExhaustedError, UnavailableError } from "../../lib/provider.ts";
import { type Host, hostSchema, queryReplySchema, type VmInstance } from "./api_types.ts";
import { hosts, queryAll, vmInstances } from "./collections.ts";
import { toProviderError } from "./errors.ts";
import { eq } from "./query.ts";
import {
  describeVm,
  logAction,
  readVm,
  requesting,
  runVmAction,
  settleVm,
  type VmActionContext,
} from "./vm_action.ts";
import type { TrackedVm } from "./vm_tracker.ts";

/** States in which ZStack live-migrates a VM. */
const migratableStates: ReadonlySet<string> = new Set(["Running", "Paused", "Unknown"]);

function gibibytes(bytes: number): string {
  return `${Math.round((bytes / 2 ** 30) * 10) / 10} GiB`;
}

/** Why `host` cannot take `vm`, as far as its inventory tells. */
export function whyHostCannotTake(host: Host, vm: VmInstance): string {
  const name = host.name || host.uuid;
  if (host.state !== undefined && host.state !== "Enabled") return `${name} is ${host.state}`;
  if (host.status !== undefined && host.status !== "Connected") return `${name} is ${host.status}`;
  const cpus = vm.cpuNum ?? 0;
  if (host.availableCpuCapacity !== undefined && host.availableCpuCapacity < cpus) {
    return `${name} has ${host.availableCpuCapacity} vCPUs free, the VM needs ${cpus}`;
  }
  const memory = vm.memorySize ?? 0;
  if (host.availableMemoryCapacity !== undefined && host.availableMemoryCapacity < memory) {
    return `${name} has ${gibibytes(host.availableMemoryCapacity)} of memory free, the VM needs ${
      gibibytes(memory)
    }`;
  }
  return `${name} is not offered by ZStack as a migration target`;
}

/** Why no host can take `vm`: one reason per other host of its cluster. */
async function whyNoCandidate(
  context: VmActionContext,
  vm: VmInstance,
  signal: AbortSignal,
): Promise<string> {
  if (vm.clusterUuid === undefined) return "ZStack offers no migration target host";
  const others = (await queryAll(context.client, hosts, {
    conditions: [eq("clusterUuid", vm.clusterUuid)],
    signal,
  })).filter((host) => host.uuid !== vm.hostUuid);
  context.hosts.add(others);
  if (others.length === 0) {
    return `its cluster has no host other than ${
      vm.hostUuid === undefined ? "the one it runs on" : context.hosts.name(vm.hostUuid)
    }`;
  }
  return others.map((host) => whyHostCannotTake(host, vm)).join("; ");
}

/** The hosts the VM can migrate to now; none when it is not running. */
async function candidatesOf(
  context: VmActionContext,
  vm: VmInstance,
  signal: AbortSignal,
): Promise<Host[]> {
  if (!migratableStates.has(vm.state)) return [];
  const reply = await context.client.get(
    `${vmInstances.path}/${vm.uuid}/migration-target-hosts`,
    { schema: queryReplySchema(hostSchema), signal },
  );
  context.hosts.add(reply.inventories);
  return reply.inventories;
}

/** The names of the hosts the VM can migrate to now (none when it is not running). */
export async function migrationTargets(
  context: VmActionContext,
  tracked: TrackedVm,
  options: { signal: AbortSignal },
): Promise<string[]> {
  try {
    const vm = await readVm(context, tracked, options);
    const candidates = await candidatesOf(context, vm, options.signal);
    return candidates.map((host) => context.hosts.name(host.uuid));
  } catch (error) {
    throw toProviderError(
      error,
      `zstack provider: listing migration targets of ${describeVm(tracked)}`,
    );
  }
}

/** Whether `name` is how ZStack names `host` (its name, management IP or uuid). */
function names(host: Host, name: string): boolean {
  return host.name === name || host.managementIp === name || host.uuid === name;
}

/**
 * Live-migrates the VM to `targetHost` (a candidate's name) or to the host ZStack picks,
 * and resolves with the name of the host it runs on afterwards. `InvalidInputError` for
 * an unknown or unfit target or a VM that is not running (each naming the candidates),
 * `ResourceExhaustedError` (`capacity`) with the reason when no host can take the VM.
 */
export async function migrate(
  context: VmActionContext,
  tracked: TrackedVm,
  options: { targetHost?: string; signal: AbortSignal },
): Promise<string> {
  const { targetHost, signal } = options;
  const what = describeVm(tracked);
  const hostOf = (vm: VmInstance) =>
    vm.hostUuid === undefined ? undefined : context.hosts.name(vm.hostUuid);
  try {
    const migrating = (await readVm(context, tracked, { signal })).state === "Migrating";
    const vm = await settleVm(context, tracked, { signal });
    const current = hostOf(vm);
    if (
      migrating && current !== undefined && (targetHost === undefined || current === targetHost)
    ) {
      return current; // the migration asked for before (an agent restart) ended
    }
    if (targetHost !== undefined && current === targetHost) return current;
    if (!migratableStates.has(vm.state)) {
      throw new InvalidInputError(
        `zstack provider: cannot migrate ${what}: expected it Running, found it ${vm.state}; only a running VM is live-migrated`,
      );
    }
    const candidates = await candidatesOf(context, vm, signal);
    const listed = candidates.map((host) => context.hosts.name(host.uuid));
    let target: Host | undefined;
    if (targetHost !== undefined) {
      target = candidates.find((host) => names(host, targetHost));
      if (target === undefined) {
        const known = (await queryAll(context.client, hosts, { conditions: [], signal }))
          .some((host) => names(host, targetHost));
        throw new InvalidInputError(
          `zstack provider: cannot migrate ${what} to host "${targetHost}": ${
            known ? "it cannot take the VM now" : "ZStack has no such host"
          }; expected one of the candidates: ${
            listed.length > 0
              ? listed.join(", ")
              : `none (${await whyNoCandidate(context, vm, signal)})`
          }`,
        );
      }
    } else if (candidates.length === 0) {
      throw new ResourceExhaustedError(
        `zstack provider: cannot migrate ${what} from host ${
          current ?? "(unknown)"
        }: no host can take it: ${await whyNoCandidate(
          context,
          vm,
          signal,
        )}`,
        { resource: "capacity" },
      );
    }
    logAction(
      context,
      tracked,
      `migration requested from host ${current ?? "(unknown)"} to ${
        target === undefined ? "the host ZStack picks" : `host ${context.hosts.name(target.uuid)}`
      }`,
    );
    const moved = await requesting(
      tracked,
      ["Migrating", "Running", "Paused"],
      () =>
        runVmAction(context, tracked, {
          action: "migrateVm",
          params: target === undefined ? {} : { hostUuid: target.uuid },
          signal,
        }),
    );
    const host = hostOf(moved);
    if (host === undefined) {
      throw new UnavailableError(
        `zstack provider: migrating ${what}: expected the VM on a host afterwards, found it ${moved.state} on none`,
      );
    }
    return host;
  } catch (error) {
    throw toProviderError(error, `zstack provider: migrating ${what}`);
  }
}
