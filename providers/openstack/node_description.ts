/**
 * What the openstack provider says about its Node, for the provider kit's
 * `describeNode`: labels naming the region and availability zone (plus the configured
 * ones), capacity and allocatable, and nodeInfo: a machine ID from the node tag, a boot ID
 * per process, the Keystone URL and project as OS image, and `openstack://nova-<version>`
 * as runtime.
 *
 * @module
 */

import type { NodeDescription } from "../../lib/provider_kit/mod.ts";
import type { NodeResources } from "./capacity.ts";

/** What the node description is made of. */
export interface OpenStackNodeOptions {
  resources: NodeResources;
  /** The tag of this node's servers (the machine ID derives from it). */
  nodeTag: string;
  /** Random per process. */
  bootId: string;
  /** Keystone's URL, shown as OS image. */
  authUrl: string;
  /** The project's name or id, when known. */
  project?: string;
  /** The compute microversion in use, when known. */
  computeVersion?: string;
  region?: string;
  availabilityZone?: string;
  /** `nodeInfo.operatingSystem`. */
  operatingSystem: string;
  /** Extra labels of the configuration; they win over the provider's. */
  labels: Record<string, string>;
  providerID?: string;
}

/** The description of this node. */
export function openstackNodeDescription(options: OpenStackNodeOptions): NodeDescription {
  return {
    labels: {
      ...(options.region ? { "topology.kubernetes.io/region": options.region } : {}),
      ...(options.availabilityZone
        ? { "topology.kubernetes.io/zone": options.availabilityZone }
        : {}),
      ...options.labels,
    },
    ...(options.providerID === undefined ? {} : { providerID: options.providerID }),
    ...options.resources,
    nodeInfo: {
      machineID: options.nodeTag.replace(/^vkedge-node-/, "").padEnd(32, "0").slice(0, 32),
      systemUUID: "",
      bootID: options.bootId,
      kernelVersion: "",
      osImage: `OpenStack at ${options.authUrl}${
        options.project ? ` (project ${options.project})` : ""
      }`,
      containerRuntimeVersion: `openstack://nova-${options.computeVersion ?? "2.x"}`,
      kubeProxyVersion: "",
      operatingSystem: options.operatingSystem,
      architecture: "amd64",
    },
  };
}
