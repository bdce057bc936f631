// The pure pod ↔ VM functions of the vsphere provider, without a server.

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { InvalidInputError } from "../../../lib/provider.ts";
import {
  decodePodRecord,
  encodePodRecord,
  identityOf,
  keys,
  networkOf,
  podFromVm,
  podStatusOf,
  templateOf,
  userDataOf,
  validatePod,
  vmNameOf,
  vmSizeOf,
} from "../../../providers/vsphere/mapping.ts";
import type { VmRecord } from "../../../providers/vsphere/vm_record.ts";
import { assert, assertEquals, assertStringIncludes, assertThrows } from "../../_harness/assert.ts";

function pod(
  overrides: Partial<Pod["metadata"]> = {},
  container: Record<string, unknown> = {},
): Pod {
  return {
    metadata: { namespace: "default", name: "web", uid: "uid-1", ...overrides },
    spec: { containers: [{ name: "main", image: "vsphere/cirros", ...container }] },
  };
}

function vm(overrides: Partial<VmRecord> = {}): VmRecord {
  return {
    ref: { type: "VirtualMachine", value: "vm-42" },
    name: "vkedge-default.web",
    template: false,
    instanceUuid: "1234",
    extraConfig: new Map(),
    numCpu: 1,
    memoryMB: 256,
    power: "poweredOn",
    ips: ["10.0.0.5"],
    toolsRunning: true,
    snapshots: [],
    ...overrides,
  };
}

const context = {
  stateSince: new Date("2026-12-01T10:00:00Z"),
  createdAt: new Date("2026-12-01T09:59:00Z"),
  waitForGuestIp: true,
};

Deno.test("vm names are vkedge-<namespace>.<name>, at most 80 characters with a hash when longer", () => {
  assertEquals(vmNameOf("default", "web"), "vkedge-default.web");
  const long = vmNameOf(
    "a-namespace-with-a-long-name",
    "a-pod-whose-name-is-long-enough-to-pass-eighty-chars",
  );
  assertEquals(long.length, 80);
  assert(long.startsWith("vkedge-a-namespace-with-a-long-name."), long);
  assert(
    long !==
      vmNameOf(
        "a-namespace-with-a-long-name",
        "a-pod-whose-name-is-long-enough-to-pass-eighty-chars-2",
      ),
    "different pods, different names",
  );
});

Deno.test("the image names the template: vsphere/<template> or an alias; anything else is refused naming the form", () => {
  assertEquals(templateOf("vsphere/ubuntu-22.04", {}), "ubuntu-22.04");
  assertEquals(templateOf("ubuntu", { ubuntu: "ubuntu-22.04" }), "ubuntu-22.04");
  assertEquals(templateOf("nginx:1.27", {}), undefined);
  const error = assertThrows(
    () => validatePod(pod({}, { image: "nginx:1.27" })),
    InvalidInputError,
  );
  assertStringIncludes(error.message, `expected image "vsphere/<template>"`);
  const twin = pod();
  twin.spec!.containers.push({ name: "side", image: "vsphere/cirros" });
  assertThrows(() => validatePod(twin), InvalidInputError, "exactly one container");
});

Deno.test("size from limits, else requests, else defaults: whole vCPUs and MiB rounded up", () => {
  const defaults = { cpu: "2", memory: "1Gi" };
  assertEquals(
    vmSizeOf({ name: "m", resources: { limits: { cpu: "1500m", memory: "300M" } } }, defaults),
    {
      numCpu: 2,
      memoryMB: 287,
    },
  );
  assertEquals(
    vmSizeOf({ name: "m", resources: { requests: { cpu: "1", memory: "512Mi" } } }, defaults),
    {
      numCpu: 1,
      memoryMB: 512,
    },
  );
  assertEquals(vmSizeOf({ name: "m" }, defaults), { numCpu: 2, memoryMB: 1024 });
});

Deno.test("the network comes from vsphere.vkedge.io/network, else a VM-Pod's first vkedge.io/networks", () => {
  assertEquals(
    networkOf(pod({ annotations: { "vsphere.vkedge.io/network": "DC0_DVPG0" } })),
    "DC0_DVPG0",
  );
  assertEquals(
    networkOf(pod({ annotations: { "vkedge.io/networks": "VM Network, other" } })),
    "VM Network",
  );
  assertEquals(networkOf(pod()), undefined);
});

Deno.test("ownership is read back from extraConfig; a VM without it is nobody's", () => {
  const extraConfig = new Map([
    [keys.namespace, "default"],
    [keys.pod, "web"],
    [keys.uid, "uid-1"],
  ]);
  assertEquals(identityOf(extraConfig), { namespace: "default", name: "web", uid: "uid-1" });
  assertEquals(identityOf(new Map([[keys.namespace, "default"]])), undefined);
});

Deno.test("the pod record round-trips containers, labels and annotations; the rebuilt pod has the pod UID", async () => {
  const original = pod({ labels: { tier: "front" }, annotations: { note: "x" } }, {
    env: [{ name: "A", value: "1" }],
  });
  const record = await decodePodRecord(await encodePodRecord(original));
  assertEquals(record?.containers, original.spec?.containers);
  assertEquals(record?.labels, { tier: "front" });
  assertEquals(await decodePodRecord("not base64 gzip"), undefined);
  const rebuilt = podFromVm(vm({ extraConfig: new Map([[keys.podUid, "pod-uid-2"]]) }), {
    identity: { namespace: "default", name: "web", uid: "uid-1" },
    record,
    nodeName: "edge-1",
  });
  assertEquals(rebuilt.metadata?.uid, "pod-uid-2");
  assertEquals(rebuilt.spec?.nodeName, "edge-1");
  assertEquals(rebuilt.metadata?.labels, { tier: "front" });
});

Deno.test("user data: env and command for cloud-init, the pod's own user data as a second MIME part", () => {
  const plain = userDataOf(pod(), {
    name: "main",
    env: [{ name: "GREETING", value: "it's me" }],
    command: ["/bin/app"],
    args: ["--port", "80"],
  });
  assert(plain.startsWith("#cloud-config\n"), plain);
  assertStringIncludes(plain, `GREETING='it'\\"'\\"'s me'`);
  assertStringIncludes(plain, `exec '/bin/app' '--port' '80'`);
  const own = userDataOf(
    pod({ annotations: { "vsphere.vkedge.io/user-data": "#!/bin/sh\necho hi" } }),
    { name: "main" },
  );
  assertStringIncludes(own, "multipart/mixed");
  assertStringIncludes(own, "text/x-shellscript");
  assertStringIncludes(own, "echo hi");
});

Deno.test("status: cloning Pending, powered on with an IP Running and Ready, without IP not Ready, off not Ready and not terminal, destroyed Succeeded", () => {
  const p = pod();
  const creating = podStatusOf(undefined, { ...context, pod: p, creating: true });
  assertEquals(creating.phase, "Pending");
  assertEquals(creating.containerStatuses?.[0]?.state?.waiting?.reason, "ContainerCreating");

  const running = podStatusOf(vm(), { ...context, pod: p });
  assertEquals([running.phase, running.podIP], ["Running", "10.0.0.5"]);
  assertEquals(running.conditions?.find((c) => c.type === "Ready")?.status, "True");

  const booting = podStatusOf(vm({ ips: [] }), { ...context, pod: p });
  assertEquals(booting.phase, "Running");
  assertEquals(booting.conditions?.find((c) => c.type === "Ready")?.reason, "VMBooting");
  const noWait = podStatusOf(vm({ ips: [] }), { ...context, pod: p, waitForGuestIp: false });
  assertEquals(noWait.conditions?.find((c) => c.type === "Ready")?.status, "True");

  const stopped = podStatusOf(vm({ power: "poweredOff" }), { ...context, pod: p });
  assertEquals(stopped.phase, "Running");
  assertEquals(stopped.containerStatuses?.[0]?.state?.terminated?.reason, "VMStopped");
  assertEquals(stopped.conditions?.find((c) => c.type === "Ready")?.status, "False");

  const gone = podStatusOf(vm(), { ...context, pod: p, deleted: { at: new Date(), byUs: true } });
  assertEquals([gone.phase, gone.podIP], ["Succeeded", undefined]);
  assertEquals(
    podStatusOf(vm(), { ...context, pod: p }),
    running,
    "an unchanged VM gives the same status",
  );
});
