/**
 * What the mapping tests share: a pod with one container (command, args with `$(PORT)`,
 * env, limits) and a VM with two NICs, the default one dual-stack.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { type VmInstance, vmInstanceSchema } from "../../../providers/zstack/api_types.ts";

/** The pod's UID. */
export const uid = "0f6c2b9e-5d1a-4c7e-9b3f-2a8d4e6f1c0b";

/** When the VM entered its state in the status tests. */
export const since = new Date("2026-11-25T10:00:05Z");

/** Pod `default/web` with `overrides` of its spec and `annotations`. */
export function pod(overrides: Partial<NonNullable<Pod["spec"]>> = {}, annotations = {}): Pod {
  return {
    metadata: { namespace: "default", name: "web", uid, labels: { app: "web" }, annotations },
    spec: {
      containers: [{
        name: "main",
        image: "zstack/ubuntu-22.04",
        command: ["/usr/bin/server"],
        args: ["--port", "$(PORT)", "it's"],
        env: [{ name: "PORT", value: "8080" }, { name: "my.var", value: "x" }],
        resources: { limits: { cpu: "1500m", memory: "1000Mi" } },
      }],
      ...overrides,
    },
  };
}

/** The VM of that pod, with `fields` changed. */
export function vm(fields: Partial<VmInstance> & { state: string }): VmInstance {
  return vmInstanceSchema.parse({
    uuid: "0f6c2b9e5d1a4c7e9b3f2a8d4e6f1c0b",
    name: "vkedge-default.web",
    imageUuid: "1111aaaa2222bbbb3333cccc4444dddd",
    defaultL3NetworkUuid: "l3b",
    createDate: "Nov 25, 2026 10:00:00 AM",
    vmNics: [
      { l3NetworkUuid: "l3a", ip: "192.168.0.9", deviceId: 0 },
      { l3NetworkUuid: "l3b", ip: "10.0.0.5", deviceId: 1, usedIps: [{ ip: "fd00::5" }] },
    ],
    ...fields,
  });
}
