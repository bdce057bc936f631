/**
 * A fresh inventory for the tests of the domain modules (`state/`) and route areas
 * (`routes/`): a seed (the default one unless given) loaded into a `SimState` whose boots
 * and transitions take no time, and small helpers to find seeded resources by name.
 * Private to this folder.
 *
 * @module
 */

import type { VmInstance, VmInstanceView } from "./inventory.ts";
import { loadSeed, parseSeed, type SeedInput } from "./seed.ts";
import { loadInventory } from "./state/seed_inventory.ts";
import { SimState, type StateTiming } from "./state/store.ts";
import { createVm, type CreateVmRequest } from "./state/vm_create.ts";

/** Options of {@linkcode freshState}. */
export interface FreshStateOptions {
  /** Seed data instead of `seed.yaml`. */
  seed?: SeedInput;
  /** Timing instead of instant boots and transitions and a week's expunge period. */
  timing?: Partial<StateTiming>;
}

/** A seeded inventory whose sleeps end at once. */
export async function freshState(options: FreshStateOptions = {}): Promise<SimState> {
  const seed = options.seed ? parseSeed(options.seed) : await loadSeed();
  const state = new SimState(
    { vmBootMs: 0, transitionMs: 0, vmExpungeSeconds: 604800, ...options.timing },
    new AbortController().signal,
  );
  loadInventory(state, seed);
  return state;
}

/** The uuid of the item of `map` named `name`; throws when there is none. */
export function uuidNamed(
  map: ReadonlyMap<string, { name: string; uuid: string }>,
  name: string,
): string {
  const found = [...map.values()].find((item) => item.name === name);
  if (!found) throw new Error(`expected an item named ${name}, found none`);
  return found.uuid;
}

/** A CreateVmInstance request for the seed's first image, instance offering and L3 network. */
export function vmRequest(state: SimState, extra: Partial<CreateVmRequest> = {}): CreateVmRequest {
  const first = (map: ReadonlyMap<string, unknown>) => [...map.keys()][0];
  return {
    name: "vm",
    imageUuid: first(state.images),
    instanceOfferingUuid: first(state.instanceOfferings),
    l3NetworkUuids: [first(state.l3Networks)],
    systemTags: [],
    userTags: [],
    ...extra,
  };
}

/** A VM created from {@linkcode vmRequest} (Running unless `extra` says otherwise). */
export async function createdVm(
  state: SimState,
  extra: Partial<CreateVmRequest> = {},
): Promise<VmInstanceView> {
  return await createVm(state, vmRequest(state, extra));
}

/** A bare VM record in `state` with 1 CPU and 1 byte unless `fields` say otherwise, for tests without an inventory. */
export function vmRecord(fields: Partial<VmInstance> = {}): VmInstance {
  const date = new Date(0);
  return {
    uuid: "0".repeat(32),
    name: "vm",
    zoneUuid: "z",
    imageUuid: "i",
    rootVolumeUuid: "r",
    platform: "Linux",
    architecture: "x86_64",
    type: "UserVm",
    hypervisorType: "KVM",
    memorySize: 1,
    reservedMemorySize: 0,
    cpuNum: 1,
    cpuSpeed: 0,
    allocatorStrategy: "LeastVmPreferredHostAllocatorStrategy",
    state: "Running",
    createDate: date,
    lastOpDate: date,
    ...fields,
  };
}

/** A seed of one zone, one cluster of `hosts` and one L3 network with a range of `range`. */
export function smallSeed(
  options: { hosts?: { cpuNum: number; memorySize: number }[]; range?: [string, string] } = {},
): SeedInput {
  const [startIp, endIp] = options.range ?? ["10.0.0.2", "10.0.0.4"];
  const hosts = options.hosts ?? [{ cpuNum: 4, memorySize: 8 * 2 ** 30 }];
  return {
    zones: [{ name: "z" }],
    clusters: [{ name: "c", zone: "z" }],
    hosts: hosts.map((host, index) => ({
      name: `h${index + 1}`,
      cluster: "c",
      managementIp: `172.16.0.${index + 1}`,
      ...host,
    })),
    primaryStorages: [{ name: "ps", zone: "z", totalCapacity: "1Ti" }],
    backupStorages: [{ name: "bs", zone: "z", totalCapacity: "1Ti" }],
    images: [{ name: "img", url: "http://images.example/img.qcow2", size: "1Gi" }],
    instanceOfferings: [{ name: "one", cpuNum: 1, memorySize: "1Gi" }],
    diskOfferings: [{ name: "d", diskSize: "10Gi" }],
    l3Networks: [{
      name: "net",
      zone: "z",
      ipRanges: [{ startIp, endIp, netmask: "255.255.255.0", gateway: "10.0.0.1" }],
    }],
  };
}
