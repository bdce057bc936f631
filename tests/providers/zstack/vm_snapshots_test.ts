import { assert, assertEquals, assertMatch } from "../../_harness/assert.ts";
import { volumeSnapshotSchema } from "../../../providers/zstack/api_types.ts";
import {
  parseSnapshotMarker,
  type SnapshotGroup,
  snapshotMarker,
  snapshotPartUuid,
  toVirtualMachineSnapshot,
} from "../../../providers/zstack/vm_snapshots.ts";

const vmUuid = "a".repeat(32);
const now = new Date("2026-12-01T10:00:00Z");

function part(uuid: string, fields: Record<string, unknown> = {}) {
  return volumeSnapshotSchema.parse({
    uuid,
    volumeUuid: `${uuid.slice(0, 31)}v`,
    status: "Ready",
    size: 100,
    createDate: "Dec 1, 2026 9:00:00 AM",
    ...fields,
  });
}

function group(
  parts: ReturnType<typeof part>[],
  options: { root?: boolean; expected?: number } = {},
) {
  const withRoot = options.root ?? true;
  return {
    name: "before-upgrade",
    id: "r".repeat(32),
    expectedParts: options.expected ?? parts.length,
    parts,
    ...(withRoot ? { root: parts.at(-1) } : {}),
  } as SnapshotGroup;
}

Deno.test("part uuids are deterministic, distinct per name and volume, and shaped as a version-5 uuid", async () => {
  const root = await snapshotPartUuid(vmUuid, { name: "s1", part: "root" });
  assertEquals(root, await snapshotPartUuid(vmUuid, { name: "s1", part: "root" }));
  const others = [
    await snapshotPartUuid(vmUuid, { name: "s2", part: "root" }),
    await snapshotPartUuid(vmUuid, { name: "s1", part: "b".repeat(32) }),
    await snapshotPartUuid("c".repeat(32), { name: "s1", part: "root" }),
  ];
  assert(!others.includes(root), "distinct uuids");
  for (const uuid of [root, ...others]) {
    assertMatch(uuid, /^[0-9a-f]{12}5[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
  }
});

Deno.test("the marker holds VM, part count and name; names may hold slashes; other descriptions are not ours", () => {
  const marker = snapshotMarker(vmUuid, 2, "nightly/2026-12-01");
  assertEquals(marker, `vkedge.io/vm-snapshot:${vmUuid}/2/nightly/2026-12-01`);
  assertEquals(parseSnapshotMarker(marker, vmUuid), { parts: 2, name: "nightly/2026-12-01" });
  assertEquals(parseSnapshotMarker(marker, "c".repeat(32)), undefined);
  assertEquals(parseSnapshotMarker("taken by an operator", vmUuid), undefined);
  assertEquals(parseSnapshotMarker(undefined, vmUuid), undefined);
});

Deno.test("a VM snapshot is ready once its root part and every other part are Ready, with their summed size", () => {
  const ready = toVirtualMachineSnapshot(group([part("d".repeat(32)), part("r".repeat(32))]), now);
  assertEquals(ready, {
    id: "r".repeat(32),
    name: "before-upgrade",
    createdAt: "2026-12-01T09:00:00Z",
    ready: true,
    sizeBytes: 200,
  });
  const creating = toVirtualMachineSnapshot(
    group([part("d".repeat(32)), part("r".repeat(32), { status: "Creating" })]),
    now,
  );
  assertEquals([creating.ready, creating.error, creating.sizeBytes], [false, undefined, undefined]);
  const noRoot = toVirtualMachineSnapshot(group([part("d".repeat(32))], { root: false }), now);
  assertEquals([noRoot.ready, noRoot.error], [false, undefined]);
});

Deno.test("a VM snapshot with a part deleted or disabled, or fewer parts than it was taken with, has an error", () => {
  const deleting = toVirtualMachineSnapshot(
    group([part("d".repeat(32), { status: "Deleting" }), part("r".repeat(32))]),
    now,
  );
  assertEquals([deleting.ready, deleting.error], [
    false,
    `volume snapshot ${"d".repeat(32)} of volume ${"d".repeat(31)}v is Deleting`,
  ]);
  const disabled = toVirtualMachineSnapshot(
    group([part("r".repeat(32), { state: "Disabled" })]),
    now,
  );
  assertEquals(
    disabled.error,
    `volume snapshot ${"r".repeat(32)} of volume ${"r".repeat(31)}v is Disabled`,
  );
  const short = toVirtualMachineSnapshot(group([part("r".repeat(32))], { expected: 3 }), now);
  assertEquals([short.ready, short.error], [false, "2 of its 3 volume snapshots no longer exist"]);
});
