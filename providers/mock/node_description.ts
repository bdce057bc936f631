/**
 * What the mock provider tells the agent about its node: capacity (= allocatable) and
 * labels from the configuration, and a `nodeInfo` with a machine id and system UUID
 * derived from the node name, so the same node looks the same after every restart.
 *
 * @module
 */

import type { NodeDescription } from "../../lib/provider_kit/mod.ts";
import type { MockConfig } from "./config.ts";
import { stableHex } from "./stable_hash.ts";

/** Options of {@linkcode mockNodeDescription}. */
export interface MockNodeOptions {
  /** Node name. */
  nodeName: string;
  /** `nodeInfo.operatingSystem`, such as `linux`. */
  operatingSystem: string;
  /** `nodeInfo.bootID`: new with every provider instance. */
  bootId: string;
}

/** A version 4 UUID built from 32 hexadecimal digits. */
function uuidOf(hex: string): string {
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    `4${hex.slice(13, 16)}`,
    `8${hex.slice(17, 20)}`,
    hex.slice(20, 32),
  ].join("-");
}

/** The description `configureNode` merges into the agent's Node with `describeNode`. */
export function mockNodeDescription(config: MockConfig, options: MockNodeOptions): NodeDescription {
  const machineId = stableHex(`machine/${options.nodeName}`, 32);
  const { architecture, kernelVersion, osImage } = config.nodeInfo;
  return {
    labels: config.labels,
    ...(config.providerID === undefined ? {} : { providerID: config.providerID }),
    capacity: config.capacity,
    nodeInfo: {
      machineID: machineId,
      systemUUID: uuidOf(machineId),
      bootID: options.bootId,
      kernelVersion: kernelVersion ?? "vkedge-mock",
      osImage: osImage ?? "vkedge mock provider",
      containerRuntimeVersion: "mock://1.0.0",
      kubeProxyVersion: "",
      operatingSystem: options.operatingSystem,
      // Without one configured, the agent's (the machine's) architecture stays.
      ...(architecture === undefined ? {} : { architecture }),
    },
  };
}
