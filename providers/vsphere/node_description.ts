/**
 * What the vsphere provider says about its Node, for the provider kit's `describeNode`:
 * labels naming the datacenter and compute resource, capacity from the placement's hosts
 * (cores and memory summed, `maxPods` pods), and nodeInfo: a machine ID from the owner key,
 * a boot ID per process, vCenter's or ESXi's name as OS image and `vsphere://<api version>`
 * as runtime.
 *
 * @module
 */

import type { NodeDescription } from "../../lib/provider_kit/mod.ts";
import type { ServiceContent } from "./client.ts";
import type { HostInfo, Placement } from "./inventory.ts";

/** What the node description is made of. */
export interface VsphereNodeOptions {
  /** The placement, when vSphere could be reached. */
  placement: Placement | undefined;
  /** vCenter's or the host's `about`. */
  about: ServiceContent["about"] | undefined;
  /** The placement's hosts, read now. */
  hosts: HostInfo[];
  maxPods: number;
  /** `guestinfo.vkedge.node` of this agent's VMs. */
  owner: string;
  bootId: string;
  endpoint: string;
  operatingSystem: string;
  /** Extra labels of the configuration; they win. */
  labels: Record<string, string>;
}

function labelValue(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 63).replace(
    /^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g,
    "",
  );
}

/** The description of this node. */
export function vsphereNodeDescription(options: VsphereNodeOptions): NodeDescription {
  const { placement } = options;
  const usable = options.hosts.filter((host) => host.usable);
  const cores = usable.reduce((sum, host) => sum + host.cpuCores, 0);
  const memoryKi = Math.floor(usable.reduce((sum, host) => sum + host.memoryBytes, 0) / 1024);
  return {
    labels: {
      ...(placement
        ? {
          "vsphere.vkedge.io/datacenter": labelValue(placement.datacenter.name),
          "vsphere.vkedge.io/compute": labelValue(placement.computeName),
        }
        : {}),
      ...options.labels,
    },
    capacity: { cpu: String(cores), memory: `${memoryKi}Ki`, pods: String(options.maxPods) },
    nodeInfo: {
      machineID: options.owner.replace(/[^a-z0-9]/gi, "").slice(-32),
      systemUUID: options.about?.instanceUuid ?? "",
      bootID: options.bootId,
      kernelVersion: "",
      osImage: options.about
        ? `${options.about.fullName} at ${options.endpoint}`
        : `vSphere at ${options.endpoint}`,
      containerRuntimeVersion: `vsphere://${options.about?.apiVersion ?? "unknown"}`,
      kubeProxyVersion: "",
      operatingSystem: options.operatingSystem,
      architecture: "amd64",
    },
  };
}
