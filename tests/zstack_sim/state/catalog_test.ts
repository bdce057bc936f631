import { assertEquals } from "../../_harness/assert.ts";
import { freshState } from "../_state.ts";
import { addDiskOffering, addImage, addInstanceOffering } from "./catalog.ts";

Deno.test("an added image is Enabled and Ready on every backup storage", async () => {
  const state = await freshState();
  const image = addImage(state, {
    uuid: "a".repeat(32),
    name: "debian",
    url: "http://images.example/debian.qcow2",
    size: 5,
    mediaType: "RootVolumeTemplate",
    format: "qcow2",
    platform: "Linux",
    architecture: "x86_64",
  });
  assertEquals([image.state, image.status, image.actualSize, image.system], [
    "Enabled",
    "Ready",
    5,
    false,
  ]);
  const bs = [...state.backupStorages.values()];
  assertEquals(
    image.backupStorageRefs.map((ref) => [ref.backupStorageUuid, ref.installPath]),
    bs.map((one) => [one.uuid, `${one.url}/${"a".repeat(32)}.qcow2`]),
  );
  assertEquals(state.images.get(image.uuid), image);
});

Deno.test("offerings are Enabled with ZStack's allocator strategies", async () => {
  const state = await freshState();
  const instance = addInstanceOffering(state, {
    uuid: "b".repeat(32),
    name: "tiny",
    cpuNum: 1,
    memorySize: 1,
  });
  assertEquals([instance.state, instance.type, instance.allocatorStrategy], [
    "Enabled",
    "UserVm",
    "LeastVmPreferredHostAllocatorStrategy",
  ]);
  const disk = addDiskOffering(state, { uuid: "c".repeat(32), name: "d", diskSize: 1 });
  assertEquals(disk.allocatorStrategy, "DefaultPrimaryStorageAllocationStrategy");
  assertEquals([state.instanceOfferings.has(instance.uuid), state.diskOfferings.has(disk.uuid)], [
    true,
    true,
  ]);
});
