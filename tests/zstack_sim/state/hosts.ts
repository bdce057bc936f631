/**
 * Hosts and their CPU and memory capacity: which hosts may take a VM, the least-loaded
 * allocator, reserving and releasing capacity as VMs start, stop, resize and migrate, and
 * the sums GetCpuMemoryCapacity reports.
 *
 * @module
 */

import { type ApiError, operationError } from "../errors.ts";
import type { Host, VmInstance } from "../inventory.ts";
import type { SimState } from "./store.ts";

/** What a VM asks of a host. */
export interface Demand {
  cpuNum: number;
  memorySize: number;
}

/** Where a VM may be placed: its zone, and a cluster or a host when they are fixed. */
export interface Placement {
  zoneUuid: string;
  clusterUuid?: string;
  hostUuid?: string;
}

/** The CPU and memory sums of a group of hosts, as GetCpuMemoryCapacity names them. */
export interface CapacitySums {
  totalCpu: number;
  availableCpu: number;
  totalMemory: number;
  availableMemory: number;
  managedCpuNum: number;
}

/** A failure to allocate capacity that ZStack reports with operr(). */
export function noHost(demand: Demand): ApiError {
  return operationError(
    `no host having cpu[${demand.cpuNum}], memory[${demand.memorySize} bytes] found`,
  );
}

/** Whether `host` is usable and has room for `demand`. */
export function fits(host: Host, demand: Demand): boolean {
  return host.state === "Enabled" && host.status === "Connected" &&
    host.availableCpuCapacity >= demand.cpuNum && host.availableMemoryCapacity >= demand.memorySize;
}

/**
 * Picks the candidate with the most free memory, as a least-loaded allocator would, or the
 * `preferred` host (the VM's last one) when it fits.
 */
export function allocateHost(
  candidates: Host[],
  demand: Demand,
  options: { preferred?: string } = {},
): Host {
  const fitting = candidates.filter((host) => fits(host, demand));
  if (fitting.length === 0) throw noHost(demand);
  const last = fitting.find((host) => host.uuid === options.preferred);
  if (last) return last;
  return fitting.reduce((best, host) =>
    host.availableMemoryCapacity > best.availableMemoryCapacity ? host : best
  );
}

/** Takes `demand` from the free capacity of `host` (a negative demand gives it back). */
export function reserve(host: Host, demand: Demand): void {
  host.availableCpuCapacity -= demand.cpuNum;
  host.availableMemoryCapacity -= demand.memorySize;
}

/** Gives a VM's capacity back to its host and takes the VM off it. */
export function release(state: SimState, vm: VmInstance): void {
  const host = vm.hostUuid ? state.hosts.get(vm.hostUuid) : undefined;
  if (host) {
    host.availableCpuCapacity = Math.min(
      host.totalCpuCapacity,
      host.availableCpuCapacity + vm.cpuNum,
    );
    host.availableMemoryCapacity = Math.min(
      host.totalMemoryCapacity,
      host.availableMemoryCapacity + vm.memorySize,
    );
  }
  if (vm.hostUuid) vm.lastHostUuid = vm.hostUuid;
  vm.hostUuid = undefined;
}

/** The hosts of `placement`: its zone, its cluster when given, its host when given. */
export function hostsFor(state: SimState, placement: Placement): Host[] {
  return [...state.hosts.values()].filter((host) =>
    host.zoneUuid === placement.zoneUuid &&
    (placement.clusterUuid === undefined || host.clusterUuid === placement.clusterUuid) &&
    (placement.hostUuid === undefined || host.uuid === placement.hostUuid)
  );
}

/** Reserves the VM's capacity on `host` and records it there. */
export function placeOnHost(vm: VmInstance, host: Host): void {
  reserve(host, vm);
  vm.hostUuid = host.uuid;
  vm.clusterUuid = host.clusterUuid;
  vm.lastHostUuid = host.uuid;
}

/** Changes a VM's CPUs and memory, taking the difference from its host when it has one. */
export function resize(state: SimState, vm: VmInstance, demand: Demand): void {
  const host = vm.hostUuid ? state.hosts.get(vm.hostUuid) : undefined;
  if (host) {
    const delta = {
      cpuNum: demand.cpuNum - vm.cpuNum,
      memorySize: demand.memorySize - vm.memorySize,
    };
    if (
      host.availableCpuCapacity < delta.cpuNum || host.availableMemoryCapacity < delta.memorySize
    ) {
      throw noHost(demand);
    }
    reserve(host, delta);
  }
  vm.cpuNum = demand.cpuNum;
  vm.memorySize = demand.memorySize;
}

/** Hosts a VM could live-migrate to: same cluster, not its host, with room for it. */
export function migrationTargets(state: SimState, vm: VmInstance): Host[] {
  return [...state.hosts.values()].filter((host) =>
    host.clusterUuid === vm.clusterUuid && host.uuid !== vm.hostUuid && fits(host, vm)
  );
}

/** The CPU and memory sums of `hosts`. */
export function capacityOf(hosts: Host[]): CapacitySums {
  const sum = (pick: (host: Host) => number) =>
    hosts.reduce((total, host) => total + pick(host), 0);
  return {
    totalCpu: sum((host) => host.totalCpuCapacity),
    availableCpu: sum((host) => host.availableCpuCapacity),
    totalMemory: sum((host) => host.totalMemoryCapacity),
    availableMemory: sum((host) => host.availableMemoryCapacity),
    managedCpuNum: sum((host) => host.cpuNum),
  };
}
