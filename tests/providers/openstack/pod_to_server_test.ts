import {
  availabilityZoneOf,
  chooseFlavor,
  createRequestedText,
  networkRefsOf,
  NO_NETWORK,
  parseImageRef,
  serverCreateBody,
  serverSizeOf,
  validatePod,
} from "../../../providers/openstack/pod_to_server.ts";
import { InvalidInputError } from "../../../lib/provider.ts";
import { assertEquals, assertMatch, assertThrows } from "../../_harness/assert.ts";
import { FLAVORS, pod } from "./_fixtures.ts";

Deno.test("an image is openstack/<name or id>, with aliases; anything else is refused saying what to write", () => {
  assertEquals(parseImageRef("openstack/ubuntu-22.04"), { kind: "name", name: "ubuntu-22.04" });
  assertEquals(parseImageRef("openstack/0B1D4F6E-7A8C-4D3E-B2F1-9C8D7E6F5A40"), {
    kind: "id",
    id: "0b1d4f6e-7a8c-4d3e-b2f1-9c8d7e6f5a40",
  });
  assertEquals(parseImageRef("openstack/ubuntu", { ubuntu: "ubuntu-24.04" }), {
    kind: "name",
    name: "ubuntu-24.04",
  });
  const error = assertThrows(() => parseImageRef("nginx:1.27"), InvalidInputError);
  assertMatch(error.message, /expected "openstack\/<Glance image name or id>"/);
});

Deno.test("a pod with two containers, init containers or a foreign image is refused naming what to change", () => {
  const two = pod("two");
  two.spec!.containers.push({ name: "side", image: "openstack/tiny" });
  assertMatch(
    assertThrows(() => validatePod(two), InvalidInputError).message,
    /exactly one container.*"main", "side"/,
  );
  const init = pod("init");
  init.spec!.initContainers = [{ name: "setup", image: "busybox" }];
  assertMatch(
    assertThrows(() => validatePod(init), InvalidInputError).message,
    /no init containers.*user-data/,
  );
  assertMatch(
    assertThrows(() => validatePod(pod("web", { image: "nginx" })), InvalidInputError).message,
    /pod default\/web, container "main": container image: expected/,
  );
});

Deno.test("a VM-Pod's identity is its VirtualMachine's UID", () => {
  const vmPod = pod("vm", {
    uid: "pod-uid",
    annotations: { "vkedge.io/virtual-machine-uid": "vm-uid" },
  });
  assertEquals(validatePod(vmPod).identity, { namespace: "default", name: "vm", uid: "vm-uid" });
});

Deno.test("the smallest flavor that fits the limits is chosen: fewest vCPUs, then least memory", () => {
  const size = (limits: Record<string, string>) =>
    serverSizeOf({ name: "c", resources: { limits } }, { cpu: "1", memory: "512Mi" });
  assertEquals(chooseFlavor(FLAVORS, size({ cpu: "1", memory: "256Mi" }), {}).name, "m1.nano");
  assertEquals(chooseFlavor(FLAVORS, size({ cpu: "500m", memory: "300Mi" }), {}).name, "m1.tiny");
  assertEquals(chooseFlavor(FLAVORS, size({ cpu: "2", memory: "1Gi" }), {}).name, "m1.medium");
  assertEquals(chooseFlavor(FLAVORS, size({ cpu: "1", memory: "3Gi" }), {}).name, "m1.medium");
  assertEquals(
    chooseFlavor(FLAVORS, size({ cpu: "1", memory: "256Mi" }), {
      allowed: ["m1.small", "m1.large"],
    }).name,
    "m1.small",
  );
});

Deno.test("requests stand in for limits, defaults for both, and the default flavor for pods without a size", () => {
  const requested = serverSizeOf({
    name: "c",
    resources: { requests: { cpu: "2", memory: "2Gi" } },
  }, {
    cpu: "1",
    memory: "512Mi",
  });
  assertEquals(requested, { vcpus: 2, ramMiB: 2048, explicit: true });
  const unsized = serverSizeOf({ name: "c" }, { cpu: "1", memory: "512Mi" });
  assertEquals(unsized, { vcpus: 1, ramMiB: 512, explicit: false });
  assertEquals(chooseFlavor(FLAVORS, unsized, { defaultFlavor: "m1.small" }).name, "m1.small");
  assertEquals(chooseFlavor(FLAVORS, requested, { defaultFlavor: "m1.small" }).name, "m1.medium");
});

Deno.test("a named flavor wins; one that does not exist, or no flavor that fits, is refused listing the flavors", () => {
  const small = { vcpus: 1, ramMiB: 256, explicit: true };
  const named = { ref: "m1.large", annotation: "openstack.vkedge.io/flavor" };
  assertEquals(chooseFlavor(FLAVORS, small, { named }).id, "f-large");
  const unknown = assertThrows(
    () => chooseFlavor(FLAVORS, small, { named: { ...named, ref: "m9.huge" } }),
    InvalidInputError,
  );
  assertMatch(
    unknown.message,
    /flavor "m9.huge" not found: expected one of m1.nano \(1 vCPU, 256 MiB\)/,
  );
  const none = assertThrows(
    () => chooseFlavor(FLAVORS, { vcpus: 16, ramMiB: 1, explicit: true }, {}),
    InvalidInputError,
  );
  assertMatch(none.message, /no flavor has at least 16 vCPU.*openstack.vkedge.io\/flavor/);
});

Deno.test("networks come from the openstack annotation, else the VM-Pod's; the zone from annotations or config", () => {
  const both = pod("web", {
    annotations: { "openstack.vkedge.io/networks": "a, b", "vkedge.io/networks": "c" },
  });
  assertEquals(networkRefsOf(both), ["a", "b"]);
  assertEquals(networkRefsOf(pod("vm", { annotations: { "vkedge.io/networks": "c" } })), ["c"]);
  assertEquals(networkRefsOf(pod("plain")), undefined);
  assertEquals(availabilityZoneOf(pod("plain"), "nova"), "nova");
  assertEquals(
    availabilityZoneOf(
      pod("vm", { annotations: { "vkedge.io/placement-host": "compute-2" } }),
      "nova",
    ),
    "nova:compute-2",
  );
  assertEquals(
    availabilityZoneOf(
      pod("vm", { annotations: { "openstack.vkedge.io/availability-zone": "az2" } }),
      "nova",
    ),
    "az2",
  );
});

Deno.test("the create body carries name, image, flavor, networks, metadata, tags and base64 user data", () => {
  const request = {
    identity: { namespace: "default", name: "web", uid: "u-1" },
    image: { id: "img-1", name: "tiny" },
    flavor: FLAVORS[0],
    networks: [{ id: "net-1", name: "private" }],
    metadata: { "vkedge.io:pod": "web" },
    tags: ["vkedge", "vkedge-uid-u-1"],
    userData: "#cloud-config\nhostname: web\n",
    securityGroups: ["default"],
  };
  const body = serverCreateBody(request) as { server: Record<string, unknown> };
  assertEquals(body.server.name, "vkedge-default.web");
  assertEquals(body.server.flavorRef, "f-nano");
  assertEquals(body.server.networks, [{ uuid: "net-1" }]);
  assertEquals(body.server.security_groups, [{ name: "default" }]);
  assertEquals(atob(body.server.user_data as string), "#cloud-config\nhostname: web\n");
  const none = serverCreateBody({ ...request, networks: NO_NETWORK }) as {
    server: Record<string, unknown>;
  };
  assertEquals([none.server.networks, none.server.security_groups], ["none", undefined]);
  assertEquals(
    createRequestedText(request),
    "create requested: image tiny (img-1), flavor m1.nano (1 vCPU, 256 MiB), network private",
  );
});
