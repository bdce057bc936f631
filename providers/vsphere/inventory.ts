/**
 * The vSphere objects the configuration names, found once and kept: the datacenter, the
 * compute resource (a cluster, or a standalone or named host) with its resource pool and
 * hosts, the datastore, the VM folder, templates and networks. A name that matches nothing
 * is refused with `InvalidInputError` naming what exists there; reads are through
 * container views, a few calls at start-up.
 *
 * @module
 */

import { z } from "zod";
import { InvalidInputError } from "../../lib/provider.ts";
import type { VsphereClient } from "./client.ts";
import type { VsphereConfig } from "./config.ts";
import { type ObjectContent, retrieveObjects, retrieveUnder } from "./property_collector.ts";
import { many, type MoRef, one, type Plain, xmlBoolean, xmlInt, xmlMoRef, xmlText } from "./xml.ts";

/** One host: its name, size and whether it can take VMs. */
export interface HostInfo {
  ref: MoRef;
  name: string;
  cpuCores: number;
  memoryBytes: number;
  /** Connected and not in maintenance mode. */
  usable: boolean;
  /** Why not, when it is not. */
  reason?: string;
}

/** Where the provider's VMs go. */
export interface Placement {
  datacenter: { ref: MoRef; name: string };
  vmFolder: MoRef;
  /** The compute resource's name (cluster or host). */
  computeName: string;
  /** Whether the compute resource is a cluster. */
  cluster: boolean;
  pool: MoRef;
  /** The configured host, when VMs are pinned to one. */
  host?: MoRef;
  datastore?: MoRef;
  hosts: HostInfo[];
}

/** A template: its reference and first NIC. */
export interface Template {
  ref: MoRef;
  name: string;
  nic?: { key: number; type: string; network?: string; macAddress?: string };
}

/** A network a NIC can be put on. */
export interface NetworkTarget {
  ref: MoRef;
  name: string;
  /** For a distributed port group: its key and its switch's uuid. */
  portgroup?: { key: string; switchUuid: string };
}

function prop<T>(object: ObjectContent, path: string, schema: z.ZodType<T>): T | undefined {
  const value = object.props.get(path);
  if (value === undefined) return undefined;
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

function pickByName(
  objects: ObjectContent[],
  wanted: string | undefined,
  what: string,
  where: string,
): ObjectContent {
  const names = objects.map((object) => prop(object, "name", xmlText) ?? object.obj.value);
  if (wanted === undefined) {
    if (objects.length === 1) return objects[0];
    throw new InvalidInputError(
      `vsphere provider config: expected one ${what} in ${where} or field placement.${what} naming one, found ${
        objects.length === 0 ? "none" : names.join(", ")
      }`,
    );
  }
  const index = names.indexOf(wanted);
  if (index < 0) {
    throw new InvalidInputError(
      `vsphere provider config: field "placement.${what}": expected a ${what} named "${wanted}" in ${where}, found ${
        names.length === 0 ? "none" : names.join(", ")
      }`,
    );
  }
  return objects[index];
}

const refList = one(z.object({ ManagedObjectReference: many(xmlMoRef) }));

/** The host properties read for capacity and migration. */
export const hostPaths = [
  "name",
  "summary.hardware.numCpuCores",
  "summary.hardware.memorySize",
  "runtime.connectionState",
  "runtime.inMaintenanceMode",
];

/** The typed host of a retrieved HostSystem. */
export function hostInfoOf(object: ObjectContent): HostInfo {
  const connection = prop(object, "runtime.connectionState", xmlText) ?? "connected";
  const maintenance = prop(object, "runtime.inMaintenanceMode", xmlBoolean) ?? false;
  const reason = connection !== "connected"
    ? `connection state ${connection}`
    : maintenance
    ? "in maintenance mode"
    : undefined;
  return {
    ref: object.obj,
    name: prop(object, "name", xmlText) ?? object.obj.value,
    cpuCores: prop(object, "summary.hardware.numCpuCores", xmlInt) ?? 0,
    memoryBytes: prop(object, "summary.hardware.memorySize", xmlInt) ?? 0,
    usable: reason === undefined,
    ...(reason ? { reason } : {}),
  };
}

/** Finds and keeps the configured placement, templates and networks. */
export class Inventory {
  readonly #client: VsphereClient;
  readonly #config: VsphereConfig;
  #placement: Promise<Placement> | undefined;
  readonly #templates = new Map<string, Promise<Template>>();
  readonly #networks = new Map<string, Promise<NetworkTarget>>();

  /** Creates the inventory; nothing is read until asked. */
  constructor(client: VsphereClient, config: VsphereConfig) {
    this.#client = client;
    this.#config = config;
  }

  /** The placement, read once (again after {@linkcode forget}). */
  placement(signal: AbortSignal): Promise<Placement> {
    if (this.#placement === undefined) {
      const read = this.#readPlacement(signal);
      this.#placement = read;
      read.catch(() => {
        if (this.#placement === read) this.#placement = undefined;
      });
    }
    return this.#placement;
  }

  /** Forgets what was read, after vSphere said an object is gone. */
  forget(): void {
    this.#placement = undefined;
    this.#templates.clear();
    this.#networks.clear();
  }

  /** The hosts of the placement, read now. */
  async hosts(signal: AbortSignal): Promise<HostInfo[]> {
    const placement = await this.placement(signal);
    const objects = await retrieveObjects(
      this.#client,
      placement.hosts.map((host) => host.ref),
      hostPaths,
      signal,
    );
    return objects.map(hostInfoOf);
  }

  async #readPlacement(signal: AbortSignal): Promise<Placement> {
    const wanted = this.#config.placement;
    const { rootFolder } = await this.#client.serviceContent(signal);
    const datacenters = await retrieveUnder(this.#client, rootFolder, [{
      type: "Datacenter",
      paths: ["name", "vmFolder", "hostFolder"],
    }], signal);
    const dcObject = pickByName(datacenters, wanted.datacenter, "datacenter", "the inventory");
    const dcName = prop(dcObject, "name", xmlText) ?? dcObject.obj.value;
    const where = `datacenter "${dcName}"`;
    const hostFolder = prop(dcObject, "hostFolder", xmlMoRef);
    const dcVmFolder = prop(dcObject, "vmFolder", xmlMoRef);
    if (hostFolder === undefined || dcVmFolder === undefined) {
      throw new Error(`datacenter ${dcName}: expected hostFolder and vmFolder, found neither`);
    }
    const compute = await retrieveUnder(this.#client, hostFolder, [
      { type: "ComputeResource", paths: ["name", "resourcePool", "host"] },
      { type: "HostSystem", paths: hostPaths },
    ], signal);
    const resources = compute.filter((object) => object.obj.type !== "HostSystem");
    const hostObjects = compute.filter((object) => object.obj.type === "HostSystem");
    let computeObject: ObjectContent;
    let pinned: MoRef | undefined;
    if (wanted.host !== undefined) {
      const host = pickByName(hostObjects, wanted.host, "host", where);
      pinned = host.obj;
      const owner = resources.find((resource) =>
        (prop(resource, "host", refList)?.ManagedObjectReference ?? [])
          .some((ref) => ref.value === host.obj.value)
      );
      if (owner === undefined) {
        throw new Error(`host ${wanted.host}: expected a compute resource owning it`);
      }
      if (wanted.cluster !== undefined && prop(owner, "name", xmlText) !== wanted.cluster) {
        throw new InvalidInputError(
          `vsphere provider config: field "placement.host": expected host "${wanted.host}" in cluster "${wanted.cluster}", found it in "${
            prop(owner, "name", xmlText)
          }"`,
        );
      }
      computeObject = owner;
    } else {
      const candidates = wanted.cluster !== undefined
        ? resources.filter((object) => object.obj.type === "ClusterComputeResource")
        : resources;
      computeObject = pickByName(candidates, wanted.cluster, "cluster", where);
    }
    const computeName = prop(computeObject, "name", xmlText) ?? computeObject.obj.value;
    const memberRefs = prop(computeObject, "host", refList)?.ManagedObjectReference ?? [];
    const members = hostObjects.filter((object) =>
      pinned
        ? object.obj.value === pinned.value
        : memberRefs.some((ref) => ref.value === object.obj.value)
    );
    let pool = prop(computeObject, "resourcePool", xmlMoRef);
    if (pool === undefined) throw new Error(`${computeName}: expected a resource pool, found none`);
    if (wanted.resourcePool !== undefined) {
      const pools = await retrieveUnder(this.#client, pool, [{
        type: "ResourcePool",
        paths: ["name"],
      }], signal);
      pool = pickByName(pools, wanted.resourcePool, "resourcePool", `"${computeName}"`).obj;
    }
    let datastore: MoRef | undefined;
    if (wanted.datastore !== undefined) {
      const stores = await retrieveUnder(this.#client, dcObject.obj, [{
        type: "Datastore",
        paths: ["name"],
      }], signal);
      datastore = pickByName(stores, wanted.datastore, "datastore", where).obj;
    }
    const vmFolder = wanted.folder === undefined
      ? dcVmFolder
      : await this.#folder(dcVmFolder, wanted.folder, where, signal);
    return {
      datacenter: { ref: dcObject.obj, name: dcName },
      vmFolder,
      computeName,
      cluster: computeObject.obj.type === "ClusterComputeResource",
      pool,
      ...(pinned ? { host: pinned } : {}),
      ...(datastore ? { datastore } : {}),
      hosts: members.map(hostInfoOf),
    };
  }

  async #folder(root: MoRef, path: string, where: string, signal: AbortSignal): Promise<MoRef> {
    const folders = await retrieveUnder(this.#client, root, [{
      type: "Folder",
      paths: ["name", "parent"],
    }], signal);
    let current = root;
    for (const segment of path.split("/").filter(Boolean)) {
      const next = folders.find((folder) =>
        prop(folder, "name", xmlText) === segment &&
        prop(folder, "parent", xmlMoRef)?.value === current.value
      );
      if (next === undefined) {
        throw new InvalidInputError(
          `vsphere provider config: field "placement.folder": expected VM folder "${path}" in ${where}, found no "${segment}"`,
        );
      }
      current = next.obj;
    }
    return current;
  }

  /** The template named `name` in the datacenter, with its first NIC. */
  template(name: string, signal: AbortSignal): Promise<Template> {
    let found = this.#templates.get(name);
    if (found === undefined) {
      found = this.#readTemplate(name, signal);
      this.#templates.set(name, found);
      found.catch(() => this.#templates.delete(name));
    }
    return found;
  }

  async #readTemplate(name: string, signal: AbortSignal): Promise<Template> {
    const placement = await this.placement(signal);
    const vms = await retrieveUnder(this.#client, placement.datacenter.ref, [{
      type: "VirtualMachine",
      paths: ["name", "config.template"],
    }], signal);
    const templates = vms.filter((vm) => prop(vm, "config.template", xmlBoolean) === true);
    const match = templates.find((vm) => prop(vm, "name", xmlText) === name) ??
      vms.find((vm) => prop(vm, "name", xmlText) === name);
    if (match === undefined) {
      throw new InvalidInputError(
        `vsphere provider: expected a template named "${name}" in datacenter "${placement.datacenter.name}", found ${
          templates.map((vm) => prop(vm, "name", xmlText)).join(", ") || "no templates"
        }`,
      );
    }
    const [detail] = await retrieveObjects(
      this.#client,
      [match.obj],
      ["config.hardware.device"],
      signal,
    );
    return {
      ref: match.obj,
      name,
      ...(detail ? nicOf(detail.props.get("config.hardware.device")) : {}),
    };
  }

  /** The network named `name` (a standard network or a distributed port group). */
  network(name: string, signal: AbortSignal): Promise<NetworkTarget> {
    let found = this.#networks.get(name);
    if (found === undefined) {
      found = this.#readNetwork(name, signal);
      this.#networks.set(name, found);
      found.catch(() => this.#networks.delete(name));
    }
    return found;
  }

  async #readNetwork(name: string, signal: AbortSignal): Promise<NetworkTarget> {
    const placement = await this.placement(signal);
    const networks = await retrieveUnder(this.#client, placement.datacenter.ref, [
      { type: "Network", paths: ["name"] },
    ], signal);
    const match = networks.find((network) => prop(network, "name", xmlText) === name);
    if (match === undefined) {
      throw new InvalidInputError(
        `vsphere provider: expected a network named "${name}" in datacenter "${placement.datacenter.name}", found ${
          networks.map((network) => prop(network, "name", xmlText)).join(", ") || "none"
        }`,
      );
    }
    if (match.obj.type !== "DistributedVirtualPortgroup") return { ref: match.obj, name };
    const [group] = await retrieveObjects(this.#client, [match.obj], [
      "key",
      "config.distributedVirtualSwitch",
    ], signal);
    const key = group && prop(group, "key", xmlText);
    const dvs = group && prop(group, "config.distributedVirtualSwitch", xmlMoRef);
    const [dvsObject] = dvs ? await retrieveObjects(this.#client, [dvs], ["uuid"], signal) : [];
    const switchUuid = dvsObject && prop(dvsObject, "uuid", xmlText);
    if (!key || !switchUuid) {
      throw new Error(`port group ${name}: expected its key and its switch's uuid, found neither`);
    }
    return { ref: match.obj, name, portgroup: { key, switchUuid } };
  }
}

const deviceSchema = z.object({
  _xsiType: z.string(),
  key: xmlInt,
  macAddress: xmlText.optional(),
  deviceInfo: one(z.object({ summary: xmlText.optional() })).optional(),
  backing: one(z.object({ deviceName: xmlText.optional() }).passthrough()).optional(),
}).passthrough();

/** The first Ethernet card among `devices` (`config.hardware.device`). */
export function nicOf(devices: Plain | undefined): Pick<Template, "nic"> {
  const list = one(z.object({ VirtualDevice: many(z.unknown()) })).safeParse(devices);
  if (!list.success) return {};
  for (const raw of list.data.VirtualDevice) {
    const device = deviceSchema.safeParse(raw);
    if (!device.success || device.data.macAddress === undefined) continue;
    if (!/(Vmxnet|E1000|Pcnet|Ethernet|Sriov)/i.test(device.data._xsiType)) continue;
    return {
      nic: {
        key: device.data.key,
        type: device.data._xsiType,
        ...(device.data.backing?.deviceName ? { network: device.data.backing.deviceName } : {}),
        macAddress: device.data.macAddress,
      },
    };
  }
  return {};
}
