/**
 * CreateVmInstance once its plan is made: the host allocated (none for JustCreate), the
 * VM record, NICs with their IPs (static ones from `staticIp::` tags), the root volume and
 * data volumes, the tags, and the boot according to the strategy (InstantStart runs,
 * CreateStopped boots once and stops, JustCreate stays Created).
 *
 * @module
 */

import { newUuid, type VmInstance, type VmInstanceView, type VmNic } from "../inventory.ts";
import { allocateHost, hostsFor, placeOnHost, release } from "./hosts.ts";
import { assignIp, staticIpsOf } from "./ipam.ts";
import { vmView } from "./lookup.ts";
import type { SimState } from "./store.ts";
import { createTag, tagsOf } from "./tags.ts";
import { type CreatePlan, type CreateVmRequest, planCreate } from "./vm_create_plan.ts";
import { setState } from "./vm_states.ts";
import { dataVolumePath, newVolume } from "./volumes.ts";

export type { CreateVmRequest } from "./vm_create_plan.ts";

/** The VM being created, what it was asked with and its plan. */
interface Creation {
  vm: VmInstance;
  request: CreateVmRequest;
  plan: CreatePlan;
}

function randomMac(): string {
  const octets = crypto.getRandomValues(new Uint8Array(5));
  return ["fa", ...Array.from(octets, (octet) => octet.toString(16).padStart(2, "0"))].join(":");
}

function vmRecord(request: CreateVmRequest, plan: CreatePlan, uuid: string): VmInstance {
  const { image, demand, placement } = plan;
  const now = new Date();
  return {
    uuid,
    name: plan.name,
    description: request.description,
    zoneUuid: placement.zoneUuid,
    clusterUuid: placement.clusterUuid,
    imageUuid: image.uuid,
    instanceOfferingUuid: request.instanceOfferingUuid,
    rootVolumeUuid: newUuid(),
    platform: request.platform ?? image.platform,
    architecture: request.architecture ?? image.architecture,
    guestOsType: request.guestOsType ?? image.guestOsType,
    defaultL3NetworkUuid: request.defaultL3NetworkUuid ?? plan.l3Uuids[0],
    type: request.type ?? "UserVm",
    hypervisorType: "KVM",
    memorySize: demand.memorySize,
    reservedMemorySize: request.reservedMemorySize ?? 0,
    cpuNum: demand.cpuNum,
    cpuSpeed: 0,
    allocatorStrategy: "LeastVmPreferredHostAllocatorStrategy",
    state: "Created",
    createDate: now,
    lastOpDate: now,
  };
}

/**
 * One NIC per L3 network, each with an IP. IPs are allocated at create for every strategy
 * (JustCreate included), so that a created VM can be found by `vmNics.ip`; when one
 * cannot be had, the NICs made so far are removed again.
 */
function createNics(state: SimState, { vm, plan, request }: Creation): void {
  const staticIps = staticIpsOf(request.systemTags);
  const now = new Date();
  const nics: VmNic[] = plan.l3s.map((l3, deviceId) => ({
    uuid: newUuid(),
    vmInstanceUuid: vm.uuid,
    l3NetworkUuid: l3.uuid,
    mac: randomMac(),
    ipVersion: 4,
    deviceId,
    driverType: "virtio",
    type: "VNIC",
    state: "enable",
    internalName: `vnic${state.vms.size + 1}.${deviceId}`,
    usedIps: [],
    createDate: now,
    lastOpDate: now,
  }));
  const assigned: VmNic[] = [];
  try {
    for (const nic of nics) {
      assignIp(state, nic, { staticIp: staticIps.get(nic.l3NetworkUuid) });
      state.nics.set(nic.uuid, nic);
      assigned.push(nic);
    }
  } catch (error) {
    for (const nic of assigned) state.nics.delete(nic.uuid);
    throw error;
  }
}

/** The root volume (from the image) and the data volumes asked for, attached in order. */
function createVolumes(state: SimState, { vm, plan, request }: Creation): void {
  const { image } = plan;
  const primaryStorage = request.primaryStorageUuidForRootVolume !== undefined
    ? state.primaryStorages.get(request.primaryStorageUuidForRootVolume)
    : [...state.primaryStorages.values()].find((ps) => ps.zoneUuid === vm.zoneUuid);
  const rootOffering = request.rootDiskOfferingUuid;
  const rootSize = request.rootDiskSize ??
    (rootOffering ? state.diskOfferings.get(rootOffering)?.diskSize : undefined) ??
    image.size;
  const root = vm.rootVolumeUuid;
  state.volumes.set(
    root,
    newVolume({
      uuid: root,
      name: `ROOT-for-${vm.name}`,
      description: `Root volume for VM[uuid:${vm.uuid}]`,
      primaryStorageUuid: primaryStorage?.uuid,
      vmInstanceUuid: vm.uuid,
      rootImageUuid: vm.imageUuid,
      installPath: `${
        primaryStorage?.url ?? "/zstack_ps"
      }/rootVolumes/acct-36c27e8f/vol-${root}/${root}.qcow2`,
      type: "Root",
      size: rootSize,
      actualSize: image.actualSize,
      deviceId: 0,
    }),
  );
  const data = [
    ...(request.dataDiskOfferingUuids ?? []).map((offering) => ({
      size: state.diskOfferings.get(offering)?.diskSize ?? 0,
      offering,
    })),
    ...(request.dataDiskSizes ?? []).map((size) => ({ size, offering: undefined })),
  ];
  const now = new Date();
  data.forEach(({ size, offering }, index) => {
    const uuid = newUuid();
    state.volumes.set(
      uuid,
      newVolume({
        uuid,
        name: `DATA-for-${vm.name}`,
        primaryStorageUuid: primaryStorage?.uuid,
        vmInstanceUuid: vm.uuid,
        diskOfferingUuid: offering,
        installPath: dataVolumePath(primaryStorage, uuid),
        type: "Data",
        size,
        deviceId: index + 1,
        lastVmInstanceUuid: vm.uuid,
        lastAttachDate: now,
      }),
    );
  });
}

function createTags(state: SimState, { vm, request }: Creation): void {
  const resource = { resourceType: "VmInstanceVO", resourceUuid: vm.uuid };
  for (const tag of request.systemTags) createTag(state, { ...resource, type: "System", tag });
  for (const tag of request.userTags) {
    if (!tagsOf(state, vm.uuid).user.includes(tag)) {
      createTag(state, { ...resource, type: "User", tag });
    }
  }
}

/** CreateVmInstance: validation, then allocation, then the boot according to `strategy`. */
export function createVm(state: SimState, request: CreateVmRequest): Promise<VmInstanceView> {
  const plan = planCreate(state, request);
  const uuid = state.claimUuid(request.resourceUuid);
  const host = plan.strategy === "JustCreate"
    ? undefined
    : allocateHost(hostsFor(state, plan.placement), plan.demand);
  const vm = vmRecord(request, plan, uuid);
  const creation = { vm, request, plan };
  createNics(state, creation);
  createVolumes(state, creation);
  state.vms.set(uuid, vm);
  createTags(state, creation);
  if (host) {
    // Reserved before the first await, so that concurrent creates cannot overcommit a host.
    placeOnHost(vm, host);
    setState(vm, "Starting");
  }
  return state.serial(uuid, async () => {
    if (host) {
      await state.pause("boot");
      if (plan.strategy === "CreateStopped") {
        release(state, vm);
        setState(vm, "Stopped");
      } else {
        setState(vm, "Running");
      }
    }
    return vmView(state, vm);
  });
}
