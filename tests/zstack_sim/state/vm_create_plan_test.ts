import { assertEquals, assertThrows } from "../../_harness/assert.ts";
import { freshState, uuidNamed, vmRequest } from "../_state.ts";
import { ApiError } from "../errors.ts";
import type { SimState } from "./store.ts";
import { type CreateVmRequest, planCreate } from "./vm_create_plan.ts";

const GiB = 2 ** 30;

function failure(state: SimState, extra: Partial<CreateVmRequest>): string {
  const error = assertThrows(() => planCreate(state, vmRequest(state, extra)), ApiError);
  return `${error.error.code} ${error.error.details}`;
}

Deno.test("a plan takes CPUs and memory from the offering and the zone from the L3 network", async () => {
  const state = await freshState();
  const plan = planCreate(state, vmRequest(state, { cpuNum: 8, memorySize: 1 }));
  assertEquals(plan.demand, { cpuNum: 1, memorySize: GiB });
  assertEquals(plan.strategy, "InstantStart");
  assertEquals(plan.placement, { zoneUuid: [...state.zones.keys()][0] });
  const host = [...state.hosts.values()][1];
  const onHost = planCreate(state, vmRequest(state, { hostUuid: host.uuid, clusterUuid: "x" }));
  assertEquals(onHost.placement, {
    zoneUuid: host.zoneUuid,
    clusterUuid: host.clusterUuid,
    hostUuid: host.uuid,
  });
});

Deno.test("the first failing check is the one reported, in ZStack's order", async () => {
  const state = await freshState();
  const mandatory = "is mandatory, can not be null";
  assertEquals(
    failure(state, { name: undefined, imageUuid: undefined }).includes("field[name]"),
    true,
  );
  assertEquals(failure(state, { imageUuid: undefined }).endsWith(mandatory), true);
  assertEquals(failure(state, { name: "x".repeat(256) }).includes("length limit[255]"), true);
  assertEquals(
    failure(state, { strategy: "Later", imageUuid: "f".repeat(32) }).includes("Later"),
    true,
  );
  assertEquals(
    failure(state, { imageUuid: "f".repeat(32), cpuNum: 0 }).startsWith("SYS.1003"),
    true,
  );
  assertEquals(
    failure(state, { instanceOfferingUuid: undefined }),
    "SYS.1007 Missing CPU/memory settings",
  );
  assertEquals(
    failure(state, { instanceOfferingUuid: undefined, cpuNum: 2000, memorySize: 1 }),
    "SYS.1007 cpuNum[2000] must be in [1, 1024]",
  );
});

Deno.test("L3 networks must be given or a place must be; no duplicates; the default among them", async () => {
  const state = await freshState();
  const l3 = uuidNamed(state.l3Networks, "l3-default");
  assertEquals(
    failure(state, { l3NetworkUuids: [] }),
    "SYS.1007 at least one of l3NetworkUuids, zoneUuid, clusterUuid, hostUuid must be set",
  );
  assertEquals(failure(state, { l3NetworkUuids: [l3, l3] }), "SYS.1007 duplicate l3NetworkUuids");
  assertEquals(
    failure(state, { defaultL3NetworkUuid: "a".repeat(32) }),
    `SYS.1007 defaultL3NetworkUuid[uuid:${"a".repeat(32)}] is not in l3NetworkUuids["${l3}"]`,
  );
  const zoneUuid = [...state.zones.keys()][0];
  assertEquals(planCreate(state, vmRequest(state, { l3NetworkUuids: [], zoneUuid })).l3s, []);
});

Deno.test("an ISO needs a root disk; system tags are checked, one userdata at most", async () => {
  const state = await freshState();
  const image = state.images.get(vmRequest(state).imageUuid!)!;
  image.mediaType = "ISO";
  assertEquals(failure(state, {}).includes("mediaType is ISO"), true);
  assertEquals(planCreate(state, vmRequest(state, { rootDiskSize: GiB })).image.uuid, image.uuid);
  image.mediaType = "RootVolumeTemplate";
  assertEquals(
    failure(state, { systemTags: ["nope::1"] }),
    "SYS.1007 no system tag matches[nope::1]",
  );
  assertEquals(
    failure(state, { systemTags: ["userdata::YQ==", "userdata::Yg=="] }),
    "SYS.1007 only one userdata system tag is allowed, but 2 found",
  );
});
