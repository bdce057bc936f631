/**
 * The VM APIs: CreateVmInstance, the actions of `PUT /v1/vm-instances/{uuid}/actions`
 * (start, stop, reboot, pause, resume, recover, expunge, migrate, update, change
 * offering), DestroyVmInstance, migration targets and console address, and the VM and
 * VM NIC query collections.
 *
 * @module
 */

import { invalidArgument, operationError } from "../errors.ts";
import type { VmInstanceView, VmNic } from "../inventory.ts";
import { migrationTargets } from "../state/hosts.ts";
import { getVm, vmView } from "../state/lookup.ts";
import {
  changeInstanceOffering,
  destroyVm,
  expungeOverdue,
  expungeVm,
  migrateVm,
  pauseVm,
  rebootVm,
  recoverVm,
  resumeVm,
  startVm,
  stopVm,
  updateVm,
} from "../state/vm_actions.ts";
import { createVm } from "../state/vm_create.ts";
import { checkState } from "../state/vm_states.ts";
import {
  type ApiContext,
  type ApiSpec,
  defineApi,
  HOUR,
  inventory,
  queryRoutes,
  type Route,
  SYNC,
  uuidAction,
  uuidCommand,
} from "./api_spec.ts";
import { belongsTo, collection, DATES } from "./collection.ts";
import type { FieldType } from "./params.ts";

const VMS = collection<VmInstanceView>({
  path: "/vm-instances",
  voName: "VmInstanceVO",
  inventoryClass: "org.zstack.header.vm.VmInstanceInventory",
  fields: [
    "uuid",
    "name",
    "description",
    "zoneUuid",
    "clusterUuid",
    "hostUuid",
    "lastHostUuid",
    "imageUuid",
    "instanceOfferingUuid",
    "rootVolumeUuid",
    "platform",
    "architecture",
    "guestOsType",
    "defaultL3NetworkUuid",
    "type",
    "hypervisorType",
    "memorySize",
    "reservedMemorySize",
    "cpuNum",
    "cpuSpeed",
    "allocatorStrategy",
    "state",
    "vmNics",
    "allVolumes",
    "vmCdRoms",
    ...DATES,
  ],
  items: (state) => {
    expungeOverdue(state);
    return [...state.vms.values()].map((vm) => vmView(state, vm));
  },
  joins: {
    host: belongsTo("hosts", "hostUuid"),
    zone: belongsTo("zones", "zoneUuid"),
    cluster: belongsTo("clusters", "clusterUuid"),
    image: belongsTo("images", "imageUuid"),
    instanceOffering: belongsTo("instanceOfferings", "instanceOfferingUuid"),
    rootVolume: belongsTo("volumes", "rootVolumeUuid"),
  },
});

const NICS = collection<VmNic>({
  path: "/vm-instances/nics",
  voName: "VmNicVO",
  inventoryClass: "org.zstack.header.vm.VmNicInventory",
  fields: [
    "uuid",
    "vmInstanceUuid",
    "l3NetworkUuid",
    "ip",
    "mac",
    "netmask",
    "gateway",
    "ipVersion",
    "deviceId",
    "driverType",
    "type",
    "state",
    "internalName",
    "usedIpUuid",
    "usedIps",
    ...DATES,
  ],
  items: "nics",
  joins: {
    vmInstance: belongsTo("vms", "vmInstanceUuid"),
    l3Network: belongsTo("l3Networks", "l3NetworkUuid"),
  },
});

const CREATE_FIELDS: Record<string, FieldType> = {
  name: "string",
  description: "string",
  instanceOfferingUuid: "string",
  cpuNum: "int",
  memorySize: "long",
  reservedMemorySize: "long",
  imageUuid: "string",
  l3NetworkUuids: "stringList",
  defaultL3NetworkUuid: "string",
  zoneUuid: "string",
  clusterUuid: "string",
  hostUuid: "string",
  rootDiskSize: "long",
  rootDiskOfferingUuid: "string",
  dataDiskOfferingUuids: "stringList",
  dataDiskSizes: "longList",
  primaryStorageUuidForRootVolume: "string",
  strategy: "string",
  type: "string",
  platform: "string",
  guestOsType: "string",
  architecture: "string",
  resourceUuid: "string",
};

const VM_API = "org.zstack.header.vm";

const ACTIONS: Record<string, ApiSpec> = {
  startVmInstance: defineApi("StartVmInstance", async ({ state, path, params }) =>
    inventory(
      await startVm(state, path.uuid, {
        hostUuid: params.string("hostUuid"),
        clusterUuid: params.string("clusterUuid"),
      }),
    ), { fields: { hostUuid: "string", clusterUuid: "string" } }),
  stopVmInstance: defineApi("StopVmInstance", async ({ state, path, params }) => {
    const type = params.string("type") ?? "grace";
    if (type !== "grace" && type !== "cold") {
      throw invalidArgument(
        `valid value for field[type] of message[${VM_API}.APIStopVmInstanceMsg] are [grace, cold], but ${type} found`,
      );
    }
    return inventory(await stopVm(state, path.uuid, { type }));
  }, { fields: { type: "string", stopHA: "string" } }),
  rebootVmInstance: uuidAction("RebootVmInstance", rebootVm),
  pauseVmInstance: uuidAction("PauseVmInstance", pauseVm),
  resumeVmInstance: uuidAction("ResumeVmInstance", resumeVm),
  recoverVmInstance: uuidAction("RecoverVmInstance", recoverVm),
  expungeVmInstance: uuidCommand("ExpungeVmInstance", expungeVm, { timeoutMs: 3 * HOUR }),
  migrateVm: defineApi(
    "MigrateVm",
    async ({ state, path, params }) =>
      inventory(await migrateVm(state, path.uuid, { hostUuid: params.string("hostUuid") })),
    {
      fields: {
        hostUuid: "string",
        migrateFromDestination: "boolean",
        allowUnknown: "boolean",
        strategy: "string",
        downTime: "int",
      },
      timeoutMs: HOUR,
    },
  ),
  updateVmInstance: defineApi("UpdateVmInstance", async ({ state, path, params }) => {
    const cpuNum = params.number("cpuNum");
    if (cpuNum !== undefined && (cpuNum < 1 || cpuNum > 1024)) {
      throw invalidArgument(
        `field[cpuNum] of message[${VM_API}.APIUpdateVmInstanceMsg] must be in range of [1, 1024]`,
      );
    }
    return inventory(
      await updateVm(state, path.uuid, {
        name: params.string("name"),
        description: params.string("description"),
        cpuNum,
        memorySize: params.number("memorySize"),
      }),
    );
  }, {
    fields: {
      name: "string",
      description: "string",
      state: "string",
      cpuNum: "int",
      memorySize: "long",
    },
  }),
  changeInstanceOffering: defineApi("ChangeInstanceOffering", async ({ state, path, params }) => {
    const instanceOfferingUuid = params.requiredString(
      "instanceOfferingUuid",
      `${VM_API}.APIChangeInstanceOfferingMsg`,
    );
    return inventory(await changeInstanceOffering(state, path.uuid, { instanceOfferingUuid }));
  }, { fields: { instanceOfferingUuid: "string" } }),
};

/** GetVmConsoleAddress: the VNC port counts the VMs on the host before this one. */
function consoleAddress({ state, path }: ApiContext): Record<string, unknown> {
  const vm = getVm(state, path.uuid);
  checkState(vm, "GetVmConsoleAddress");
  const host = vm.hostUuid ? state.hosts.get(vm.hostUuid) : undefined;
  if (!host) throw operationError(`vm[uuid:${vm.uuid}] has no host`);
  const onHost = [...state.vms.values()].filter((other) => other.hostUuid === host.uuid);
  const port = 5900 + onHost.findIndex((other) => other.uuid === vm.uuid);
  return {
    hostIp: host.managementIp,
    port,
    protocol: "vnc",
    vdiPortInfo: { vncPort: port },
    success: true,
  };
}

/** The routes of VMs and their NICs. */
export const VM_ROUTES: Route[] = [
  {
    method: "POST",
    pattern: "/v1/vm-instances",
    api: defineApi("CreateVmInstance", async ({ state, params, systemTags, userTags }) =>
      inventory(
        await createVm(state, { ...params.read(CREATE_FIELDS), systemTags, userTags }),
      ), { fields: CREATE_FIELDS, timeoutMs: 12 * HOUR }),
  },
  ...queryRoutes("QueryVmInstance", VMS),
  ...queryRoutes("QueryVmNic", NICS),
  { method: "PUT", pattern: "/v1/vm-instances/{uuid}/actions", actions: ACTIONS },
  {
    method: "DELETE",
    pattern: "/v1/vm-instances/{uuid}",
    api: defineApi("DestroyVmInstance", async ({ state, path, query }) => {
      const mode = query.get("deleteMode") ?? "Permissive";
      if (mode !== "Permissive" && mode !== "Enforcing") {
        throw invalidArgument(
          `valid value for field[deleteMode] are [Permissive, Enforcing], but ${mode} found`,
        );
      }
      await destroyVm(state, path.uuid);
      return {};
    }),
  },
  {
    method: "GET",
    pattern: "/v1/vm-instances/{uuid}/migration-target-hosts",
    api: defineApi("GetVmMigrationCandidateHosts", ({ state, path }) => {
      const vm = getVm(state, path.uuid, { field: "vmInstanceUuid" });
      checkState(vm, "MigrateVm");
      return { inventories: migrationTargets(state, vm) };
    }, SYNC),
  },
  {
    method: "GET",
    pattern: "/v1/vm-instances/{uuid}/console-addresses",
    api: defineApi("GetVmConsoleAddress", consoleAddress, SYNC),
  },
];
