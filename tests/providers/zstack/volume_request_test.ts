import { assertEquals, assertNotEquals, assertThrows } from "../../_harness/assert.ts";
import { InvalidInputError, type VolumeRequest } from "../../../lib/provider.ts";
import { volumeSchema } from "../../../providers/zstack/api_types.ts";
import {
  planVolume,
  toProvisionedVolume,
  volumeCreateBody,
  volumeUuidFor,
} from "../../../providers/zstack/volume_request.ts";

const owner = { clusterName: "edge", nodeName: "node-1" };

function request(extra: Partial<VolumeRequest> = {}): VolumeRequest {
  return {
    name: "pvc-0b6c3f4e-1d2a-4c5b-8e9f-001122334455",
    sizeBytes: 5 * 2 ** 30,
    parameters: {},
    accessModes: ["ReadWriteOnce"],
    claim: "shop/db-data",
    ...extra,
  };
}

Deno.test("a plan takes the class's offering and storage over the configured ones and says where each came from", () => {
  const plan = planVolume(request({ parameters: { diskOffering: "fast" } }), {
    diskOffering: "standard",
    primaryStorage: "ps-local",
  });
  assertEquals(plan.diskOffering, { ref: "fast", source: "StorageClass parameter diskOffering" });
  assertEquals(plan.primaryStorage, {
    ref: "ps-local",
    source: "volumes.primaryStorage of the provider configuration",
  });
  assertEquals(planVolume(request(), {}).diskOffering, undefined);
});

Deno.test("a plan refuses RWX and ROX, unknown parameters, bad sizes and names with InvalidInputError saying why", () => {
  const cases: Array<[Partial<VolumeRequest>, string]> = [
    [
      { accessModes: ["ReadWriteOnce", "ReadWriteMany"] },
      "found ReadWriteMany: a ZStack data volume is attached to one VM at a time",
    ],
    [
      { accessModes: ["ReadOnlyMany"] },
      "expected access modes among ReadWriteOnce, ReadWriteOncePod",
    ],
    [
      { parameters: { type: "ssd", fsType: "ext4" } },
      `parameters "fsType", "type" unknown: expected only diskOffering and primaryStorage`,
    ],
    [{ sizeBytes: 0 }, "expected a size of a positive whole number of bytes, found 0"],
    [{ sizeBytes: 1.5 }, "found 1.5"],
    [{ name: "" }, "expected a name of 1 to 255 characters"],
  ];
  for (const [extra, message] of cases) {
    assertThrows(() => planVolume(request(extra), {}), InvalidInputError, message);
  }
  assertEquals(
    planVolume(request({ accessModes: ["ReadWriteOncePod"] }), {}).sizeBytes,
    5 * 2 ** 30,
  );
});

Deno.test("the volume uuid is a ZStack uuid derived from cluster and PV name", async () => {
  const uuid = await volumeUuidFor("edge", "pvc-1");
  assertEquals(/^[0-9a-f]{12}5[0-9a-f]{3}[89ab][0-9a-f]{15}$/.test(uuid), true, uuid);
  assertEquals(await volumeUuidFor("edge", "pvc-1"), uuid);
  assertNotEquals(await volumeUuidFor("other", "pvc-1"), uuid);
  assertNotEquals(await volumeUuidFor("edge", "pvc-2"), uuid);
});

Deno.test("the create body sizes by offering or by claim, names the storage and carries the ownership tags", () => {
  const plan = planVolume(request(), {});
  const sized = volumeCreateBody(plan, { uuid: "u", owner });
  assertEquals(sized.params.diskSize, 5 * 2 ** 30);
  assertEquals(sized.params.diskOfferingUuid, undefined);
  assertEquals(sized.params.resourceUuid, "u");
  assertEquals(sized.userTags, [
    "vkedge.io/cluster:edge",
    "vkedge.io/node:edge/node-1",
    "vkedge.io/claim:shop/db-data",
    `vkedge.io/pv:${plan.name}`,
  ]);
  const offered = volumeCreateBody(plan, {
    uuid: "u",
    owner,
    offering: { uuid: "o" },
    primaryStorage: { uuid: "p" },
  });
  assertEquals([offered.params.diskOfferingUuid, offered.params.diskSize], ["o", undefined]);
  assertEquals(offered.params.primaryStorageUuid, "p");
});

Deno.test("an inventory becomes a provisioned volume named by its PV tag, ready unless Creating or Disabled", () => {
  const volume = volumeSchema.parse({
    uuid: "v",
    name: "renamed-by-an-admin",
    size: 10737418240,
    status: "NotInstantiated",
    state: "Enabled",
    diskOfferingUuid: "o",
  });
  assertEquals(
    toProvisionedVolume(volume, { tags: ["vkedge.io/pv:pvc-1"], attachedTo: ["shop/db"] }),
    {
      id: "v",
      name: "pvc-1",
      sizeBytes: 10737418240,
      attachedTo: ["shop/db"],
      ready: true,
      attributes: { "zstack.vkedge.io/disk-offering": "o" },
    },
  );
  const creating = volumeSchema.parse({ uuid: "v", name: "pvc-1", status: "Creating" });
  assertEquals(toProvisionedVolume(creating, { tags: [], attachedTo: [] }).ready, false);
  const disabled = volumeSchema.parse({ uuid: "v", status: "Ready", state: "Disabled" });
  assertEquals(toProvisionedVolume(disabled, { tags: [], attachedTo: [] }).ready, false);
});
