/** Pods, flavors and servers shaped as the tests of the openstack provider need them. */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { Flavor, Server } from "../../../providers/openstack/api_types.ts";

/** A pod of one `openstack/tiny` container sized 1 CPU and 256 MiB, unless overridden. */
export function pod(
  name: string,
  options: {
    uid?: string;
    annotations?: Record<string, string>;
    image?: string;
    resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
  } = {},
): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      namespace: "default",
      name,
      uid: options.uid ?? crypto.randomUUID(),
      ...(options.annotations ? { annotations: options.annotations } : {}),
    },
    spec: {
      nodeName: "edge-1",
      containers: [{
        name: "main",
        image: options.image ?? "openstack/tiny",
        resources: options.resources ?? { limits: { cpu: "1", memory: "256Mi" } },
      }],
    },
  };
}

/** The flavors of the test stack. */
export const FLAVORS: Flavor[] = [
  { id: "f-nano", name: "m1.nano", vcpus: 1, ram: 256, disk: 1 },
  { id: "f-tiny", name: "m1.tiny", vcpus: 1, ram: 512, disk: 1 },
  { id: "f-small", name: "m1.small", vcpus: 1, ram: 2048, disk: 20 },
  { id: "f-medium", name: "m1.medium", vcpus: 2, ram: 4096, disk: 40 },
  { id: "f-large", name: "m1.large", vcpus: 4, ram: 8192, disk: 80 },
];

/** A server as Nova lists it (2.79), with `overrides`. */
export function server(overrides: Partial<Server> = {}): Server {
  return {
    id: "5e1f0c7a-0c5e-4a3b-9d2c-2a6a8b7c1d00",
    name: "vkedge-default.web",
    status: "ACTIVE",
    created: new Date("2026-12-01T10:00:00Z"),
    metadata: { "vkedge.io:pod-network": "private" },
    addresses: {
      other: [{ addr: "10.21.0.9", version: 4, "OS-EXT-IPS:type": "fixed" }],
      private: [
        { addr: "fd00::5", version: 6, "OS-EXT-IPS:type": "fixed" },
        { addr: "10.20.0.5", version: 4, "OS-EXT-IPS:type": "fixed" },
        { addr: "172.24.4.10", version: 4, "OS-EXT-IPS:type": "floating" },
      ],
    },
    image: { id: "0b1d4f6e-7a8c-4d3e-b2f1-9c8d7e6f5a40" },
    flavor: { original_name: "m1.nano", vcpus: 1, ram: 256, disk: 1 },
    "OS-EXT-SRV-ATTR:host": "compute-1",
    "OS-EXT-STS:task_state": null,
    ...overrides,
  };
}
