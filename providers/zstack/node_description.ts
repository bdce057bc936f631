/**
 * What the zstack provider says about its Node, for the provider kit's `describeNode`:
 * labels naming the zone, cluster and host of the placement (plus the configured ones),
 * capacity and allocatable, and nodeInfo: a machine ID from the node tag, a boot ID per
 * process, the endpoint as OS image, `zstack://1` as runtime and the hosts' architecture.
 *
 * @module
 */

import type { NodeDescription } from "../../lib/provider_kit/mod.ts";
import type { Host } from "./api_types.ts";
import type { NodeResources } from "./capacity.ts";
import type { Placement } from "./pod_to_vm.ts";

/** The node architecture of a host architecture: `x86_64` is `amd64`, `aarch64` `arm64`. */
export function architectureOf(arch: string | undefined): string {
  switch (arch) {
    case "x86_64":
    case undefined:
      return "amd64";
    case "aarch64":
      return "arm64";
    default:
      return arch;
  }
}

/** What the node description is made of. */
export interface ZStackNodeOptions {
  /** The resolved placement, when ZStack could be reached. */
  placement: Placement | undefined;
  /** Capacity and allocatable. */
  resources: NodeResources;
  /** A host of the placement, for the architecture. */
  host: Host | undefined;
  /** The tag of this node's VMs (the machine ID derives from it). */
  nodeTag: string;
  /** Random per process. */
  bootId: string;
  /** The ZStack endpoint, shown as OS image. */
  endpoint: string;
  /** `nodeInfo.operatingSystem`. */
  operatingSystem: string;
  /** Extra labels of the configuration; they win over the placement labels. */
  labels: Record<string, string>;
  /** `spec.providerID` of the configuration. */
  providerID?: string;
}

/** The description of this node. */
export function zstackNodeDescription(options: ZStackNodeOptions): NodeDescription {
  const { placement } = options;
  return {
    labels: {
      ...(placement ? { "zstack.vkedge.io/zone-uuid": placement.zone.uuid } : {}),
      ...(placement?.cluster ? { "zstack.vkedge.io/cluster-uuid": placement.cluster.uuid } : {}),
      ...(placement?.host ? { "zstack.vkedge.io/host-uuid": placement.host.uuid } : {}),
      ...options.labels,
    },
    ...(options.providerID === undefined ? {} : { providerID: options.providerID }),
    ...options.resources,
    nodeInfo: {
      machineID: options.nodeTag.replace(/[^a-z0-9]/gi, "").slice(-32),
      systemUUID: "",
      bootID: options.bootId,
      kernelVersion: "",
      osImage: `ZStack at ${options.endpoint}`,
      containerRuntimeVersion: "zstack://1",
      kubeProxyVersion: "",
      operatingSystem: options.operatingSystem,
      architecture: architectureOf(options.host?.architecture),
    },
  };
}
