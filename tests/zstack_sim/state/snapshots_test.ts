import { assertEquals, assertRejects, assertThrows } from "../../_harness/assert.ts";
import { createdVm, freshState, smallSeed } from "../_state.ts";
import { ApiError } from "../errors.ts";
import {
  createSnapshot,
  deleteSnapshot,
  deleteSnapshotsOf,
  revertSnapshot,
  updateSnapshot,
} from "./snapshots.ts";
import { stopVm } from "./vm_actions.ts";
import { createDataVolume } from "./volumes.ts";

Deno.test("snapshots of a volume form a chain: each the child of the latest, one tree, growing distance", async () => {
  const state = await freshState({ seed: smallSeed() });
  const vm = await createdVm(state);
  const root = vm.rootVolumeUuid;
  const first = await createSnapshot(state, root, { name: "s1" });
  const second = await createSnapshot(state, root, { name: "s2" });
  assertEquals([first.latest, second.latest, second.parentUuid], [false, true, first.uuid]);
  assertEquals([second.treeUuid, second.distance], [first.treeUuid, 1]);
  assertEquals(second.primaryStorageInstallPath.endsWith(`.snapshots/${second.uuid}.qcow2`), true);
  await assertRejects(() => revertSnapshot(state, first.uuid), ApiError, "not in Stopped state");
  await stopVm(state, vm.uuid);
  await revertSnapshot(state, first.uuid);
  assertEquals(updateSnapshot(state, first.uuid, { name: "renamed" }).name, "renamed");
  const third = await createSnapshot(state, root, { name: "s3" });
  deleteSnapshot(state, third.uuid);
  assertEquals(state.snapshots.get(second.uuid)?.latest, true);
  deleteSnapshot(state, first.uuid);
  assertEquals(state.snapshots.size, 0);
  deleteSnapshot(state, first.uuid);
  await assertRejects(async () => await createSnapshot(state, root, {}), ApiError, "field[name]");
  deleteSnapshotsOf(state, root);
  assertThrows(() => updateSnapshot(state, first.uuid, {}), ApiError, "VolumeSnapshotVO");
});

Deno.test("a snapshot needs a Ready and Enabled volume that exists", async () => {
  const state = await freshState({ seed: smallSeed() });
  const volume = await createDataVolume(state, {
    name: "v",
    diskSize: 1,
    systemTags: [],
    userTags: [],
  });
  await assertRejects(
    () => createSnapshot(state, volume.uuid, { name: "s" }),
    ApiError,
    "current state is Enabled, status is NotInstantiated",
  );
  assertThrows(() => createSnapshot(state, "f".repeat(32), { name: "s" }), ApiError, "volumeUuid");
});

Deno.test("a snapshot is queryable as Creating while its job runs and Ready after; its uuid is taken at once", async () => {
  const state = await freshState({ seed: smallSeed(), timing: { transitionMs: 50 } });
  const vm = await createdVm(state);
  const resourceUuid = "5".repeat(32);
  const taking = createSnapshot(state, vm.rootVolumeUuid, { name: "s", resourceUuid });
  await new Promise((resolve) => setTimeout(resolve, 10));
  assertEquals([
    state.snapshots.get(resourceUuid)?.status,
    state.snapshots.get(resourceUuid)?.latest,
  ], [
    "Creating",
    false,
  ]);
  const again = createSnapshot(state, vm.rootVolumeUuid, { name: "s", resourceUuid });
  const taken = await taking;
  assertEquals([taken.uuid, taken.status, taken.latest], [resourceUuid, "Ready", true]);
  await assertRejects(() => again, ApiError, "Duplicate entry");
  assertEquals(state.snapshots.size, 1);
});
