import { assertEquals, assertStringIncludes, assertThrows } from "../../_harness/assert.ts";
import { InvalidInputError } from "../../../lib/provider.ts";
import { WORKLOAD_UID_ANNOTATION } from "../../../lib/provider_kit/mod.ts";
import {
  imageSchema,
  instanceOfferingSchema,
  l3NetworkSchema,
  zoneOrClusterSchema,
} from "../../../providers/zstack/api_types.ts";
import {
  createRequestedText,
  networkRefsOf,
  parseImageRef,
  placementHintsOf,
  placementRefsFor,
  validatePod,
  vmCreateBody,
  type VmRequest,
  vmSizeOf,
} from "../../../providers/zstack/pod_to_vm.ts";
import { pod, uid } from "./_mapping_fixtures.ts";

Deno.test("a pod with two containers is refused with what to change", () => {
  const twin = pod({
    containers: [{ name: "a", image: "zstack/x" }, { name: "b", image: "zstack/y" }],
  });
  const error = assertThrows(() => validatePod(twin), InvalidInputError);
  assertStringIncludes(error.message, "pod default/web: expected exactly one container");
  assertStringIncludes(error.message, `found 2 ("a", "b"): run them in one VM image or split them`);
  assertThrows(
    () => validatePod(pod({ initContainers: [{ name: "init", image: "zstack/x" }] })),
    InvalidInputError,
    "expected no init containers",
  );
  assertThrows(
    () => validatePod(pod({ containers: [{ name: "main", image: "nginx:1.27" }] })),
    InvalidInputError,
    `expected "zstack/<ZStack image name or uuid>" such as "zstack/ubuntu-22.04", found "nginx:1.27"`,
  );
});

Deno.test("container images name ZStack images by name, uuid or configured alias", () => {
  assertEquals(parseImageRef("zstack/cirros"), { kind: "name", name: "cirros" });
  assertEquals(parseImageRef("zstack/1111aaaa2222bbbb3333cccc4444dddd"), {
    kind: "uuid",
    uuid: "1111aaaa2222bbbb3333cccc4444dddd",
  });
  assertEquals(parseImageRef("zstack/ubuntu", { ubuntu: "ubuntu-22.04" }), {
    kind: "name",
    name: "ubuntu-22.04",
  });
});

Deno.test("VM size comes from limits, then requests, then defaults, rounded up", () => {
  const defaults = { cpu: "1", memory: "1Gi" };
  assertEquals(vmSizeOf(pod().spec!.containers[0], defaults), {
    cpuNum: 2,
    memorySize: 1000 * 2 ** 20,
    explicit: true,
  });
  assertEquals(
    vmSizeOf({ name: "c", resources: { requests: { memory: "1.5G" } } }, defaults),
    { cpuNum: 1, memorySize: 1431 * 2 ** 20, explicit: true },
  );
  assertEquals(vmSizeOf({ name: "c" }, defaults), {
    cpuNum: 1,
    memorySize: 2 ** 30,
    explicit: false,
  });
});

Deno.test("the create body places the VM, sizes it, carries user data and the owner tags", () => {
  const request: VmRequest = {
    identity: { namespace: "default", name: "web", uid },
    owner: { clusterName: "edge", nodeName: "node-1" },
    uuid: "0f6c2b9e5d1a4c7e9b3f2a8d4e6f1c0b",
    description: "vkedge:v1:x",
    image: imageSchema.parse({ uuid: "i".repeat(32), name: "cirros" }),
    networks: [
      l3NetworkSchema.parse({ uuid: "a".repeat(32), name: "l3-default" }),
      l3NetworkSchema.parse({ uuid: "b".repeat(32), name: "" }),
    ],
    placement: { zone: zoneOrClusterSchema.parse({ uuid: "z".repeat(32), name: "zone-1" }) },
    size: { cpuNum: 1, memorySize: 512 * 2 ** 20, explicit: true },
    userData: "#cloud-config\nhostname: wéb\n",
  };
  const body = vmCreateBody(request) as {
    params: Record<string, unknown>;
    systemTags: string[];
    userTags: string[];
  };
  assertEquals(body.params, {
    name: "vkedge-default.web",
    description: "vkedge:v1:x",
    imageUuid: "i".repeat(32),
    l3NetworkUuids: ["a".repeat(32), "b".repeat(32)],
    defaultL3NetworkUuid: "a".repeat(32),
    resourceUuid: "0f6c2b9e5d1a4c7e9b3f2a8d4e6f1c0b",
    strategy: "InstantStart",
    zoneUuid: "z".repeat(32),
    cpuNum: 1,
    memorySize: 512 * 2 ** 20,
  });
  const [userData] = body.systemTags;
  assertEquals(
    new TextDecoder().decode(
      Uint8Array.from(atob(userData.slice("userdata::".length)), (c) => c.charCodeAt(0)),
    ),
    request.userData,
  );
  assertEquals(body.userTags[1], "vkedge.io/node:edge/node-1");
  assertEquals(
    createRequestedText(request),
    `create requested: image cirros (${"i".repeat(32)}), 1 vCPU, 0.5 GiB, L3 l3-default, ${
      "b".repeat(32)
    }`,
  );
  const cluster = zoneOrClusterSchema.parse({ uuid: "c".repeat(32), name: "cluster-1" });
  const offering = instanceOfferingSchema.parse({
    uuid: "o".repeat(32),
    name: "small",
    cpuNum: 2,
    memorySize: 2 ** 31,
  });
  const sized = { ...request, placement: { ...request.placement, cluster }, offering };
  const params = (vmCreateBody(sized) as { params: Record<string, unknown> }).params;
  assertEquals(
    [params.clusterUuid, params.zoneUuid, params.instanceOfferingUuid, params.cpuNum],
    ["c".repeat(32), undefined, "o".repeat(32), undefined],
  );
  assertStringIncludes(createRequestedText(sized), "instance offering small (2 vCPU, 2 GiB)");
});

Deno.test("a VM-Pod's identity carries its VirtualMachine's UID; a plain pod's its own", () => {
  const workload = "7a1e0c52-3f4b-4d9a-8e6c-1b2d3f4a5c6e";
  const vmPod = pod({}, { [WORKLOAD_UID_ANNOTATION]: workload });
  assertEquals(validatePod(vmPod).identity, { namespace: "default", name: "web", uid: workload });
  assertEquals(validatePod(pod()).identity.uid, uid);
});

Deno.test("networks come from the zstack annotation, else a VM-Pod's vkedge.io/networks", () => {
  assertEquals(networkRefsOf(pod()), undefined);
  assertEquals(networkRefsOf(pod({}, { "vkedge.io/networks": "l3-storage, l3-default" })), [
    "l3-storage",
    "l3-default",
  ]);
  const both = pod({}, {
    "vkedge.io/networks": "l3-default",
    "zstack.vkedge.io/l3-networks": "l3-storage",
  });
  assertEquals(networkRefsOf(both), ["l3-storage"]);
  const blankZStack = pod({}, {
    "vkedge.io/networks": "l3-default",
    "zstack.vkedge.io/l3-networks": " , ",
  });
  assertEquals(networkRefsOf(blankZStack), ["l3-default"]);
});

Deno.test("placement hints are the vkedge.io/placement-* annotations; blank ones are absent", () => {
  assertEquals(placementHintsOf(pod()), {});
  const hinted = pod({}, {
    "vkedge.io/placement-zone": " zone-2 ",
    "vkedge.io/placement-cluster": "",
    "vkedge.io/placement-host": "host-3",
  });
  assertEquals(placementHintsOf(hinted), { zone: "zone-2", host: "host-3" });
});

Deno.test("a placement hint replaces its level and drops the configured levels below it", () => {
  const configured = { zone: "zone-1", cluster: "cluster-1", host: "host-1" };
  const annotation = (level: string) => `vkedge.io/placement-${level}`;
  assertEquals(placementRefsFor(configured, {}), {
    zone: { ref: "zone-1" },
    cluster: { ref: "cluster-1" },
    host: { ref: "host-1" },
  });
  assertEquals(placementRefsFor(configured, { host: "host-2" }), {
    zone: { ref: "zone-1" },
    cluster: { ref: "cluster-1" },
    host: { ref: "host-2", annotation: annotation("host") },
  });
  assertEquals(placementRefsFor(configured, { cluster: "cluster-2" }), {
    zone: { ref: "zone-1" },
    cluster: { ref: "cluster-2", annotation: annotation("cluster") },
  });
  assertEquals(placementRefsFor(configured, { zone: "zone-2", host: "host-9" }), {
    zone: { ref: "zone-2", annotation: annotation("zone") },
    host: { ref: "host-9", annotation: annotation("host") },
  });
  assertEquals(placementRefsFor({ zone: "zone-1" }, { host: "host-2" }), {
    zone: { ref: "zone-1" },
    host: { ref: "host-2", annotation: annotation("host") },
  });
});
