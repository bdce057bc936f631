import type { Pod } from "kubernetes-types/core/v1.d.ts";
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
} from "../../_harness/assert.ts";
import { NotFoundError } from "../../../lib/provider.ts";
import { vmInstanceSchema } from "../../../providers/zstack/api_types.ts";
import { KnownHosts } from "../../../providers/zstack/hosts.ts";
import { ownerTags, type PodIdentity } from "../../../providers/zstack/identity.ts";
import { tombstoneMs, type TrackedVm, VmTracker } from "../../../providers/zstack/vm_tracker.ts";
import { client, inventories, isLogin, loginReply, signal } from "./_fixtures.ts";
import { json, type Received, startReplayServer } from "./_replay_server.ts";

const owner = { clusterName: "edge", nodeName: "node-1" };
const host = { uuid: "h".repeat(32), name: "host-1", managementIp: "172.20.0.11" };

interface FakeVm {
  uuid: string;
  identity: PodIdentity;
  state: string;
}

function vmOf(fake: FakeVm) {
  return {
    uuid: fake.uuid,
    name: `vkedge-${fake.identity.namespace}.${fake.identity.name}`,
    state: fake.state,
    hostUuid: host.uuid,
    lastOpDate: "Nov 25, 2026 10:00:30 AM",
    vmNics: [{ l3NetworkUuid: "l3", ip: "192.168.100.20" }],
    defaultL3NetworkUuid: "l3",
  };
}

/** A ZStack with `vms` (mutable) on one host, answering after `delayMs`. */
function zstackWith(vms: FakeVm[], delayMs = 0) {
  return startReplayServer(async (request: Received) => {
    if (isLogin(request)) return json(200, loginReply);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (request.path === "/v1/vm-instances") return inventories(vms.map(vmOf));
    if (request.path === "/v1/hosts") return inventories([host]);
    return inventories(vms.flatMap((vm) =>
      ownerTags(vm.identity, owner).map((tag, index) => ({
        uuid: `${vm.uuid.slice(0, 30)}${index}`.padEnd(32, "0"),
        resourceUuid: vm.uuid,
        resourceType: "VmInstanceVO",
        tag,
      }))
    ));
  });
}

function trackerOf(url: string, clock: { now: number }) {
  const reported: Pod[] = [];
  const events: string[] = [];
  const zstack = client(url);
  const tracker: VmTracker = new VmTracker({
    client: zstack,
    hosts: new KnownHosts(zstack),
    nodeTag: "vkedge.io/node:edge/node-1",
    nodeName: "node-1",
    logLines: 100,
    now: () => clock.now,
    report: (tracked: TrackedVm) => reported.push(tracker.fullPod(tracked)),
    recordEvent: (pod, type, reason) => events.push(`${pod.metadata?.name} ${type} ${reason}`),
  });
  return { tracker, reported, events };
}

function logOf(tracked: TrackedVm): string[] {
  const lines: string[] = [];
  for (let index = tracked.log.first(); index < tracked.log.end(); index++) {
    lines.push(tracked.log.line(index).text);
  }
  return lines;
}

const web: FakeVm = {
  uuid: "a".repeat(32),
  identity: { namespace: "default", name: "web", uid: crypto.randomUUID() },
  state: "Running",
};

Deno.test("concurrent refreshes share one VM query; tagged VMs are adopted and reported", async () => {
  const server = zstackWith([{ ...web }], 30);
  try {
    const { tracker, reported } = trackerOf(server.url, {
      now: Date.parse("2026-11-25T10:01:00Z"),
    });
    await Promise.all([tracker.refresh(signal), tracker.refresh(signal), tracker.refresh(signal)]);
    assertEquals(server.received.filter((r) => r.path === "/v1/vm-instances").length, 1);
    const tracked = tracker.get("default", "web");
    assert(tracked !== undefined);
    assertEquals(tracked.identity, web.identity);
    assertEquals(reported.map((pod) => [pod.metadata?.name, pod.status?.phase]), [[
      "web",
      "Running",
    ]]);
    assertEquals(reported[0].status?.hostIP, "172.20.0.11");
    assertEquals(logOf(tracked), [
      `[vkedge] 2026-11-25T10:00:30Z VM vkedge-default.web (${web.uuid}) Running on host host-1, IP 192.168.100.20 (found by vkedge; earlier history is not known)`,
    ]);
    await tracker.ensureFresh(signal);
    assertEquals(server.received.filter((r) => r.path === "/v1/vm-instances").length, 1);
  } finally {
    await server.close();
  }
});

Deno.test("a state change is logged, recorded as an event and reported", async () => {
  const vm = { ...web };
  const server = zstackWith([vm]);
  try {
    const clock = { now: Date.parse("2026-11-25T10:01:00Z") };
    const { tracker, reported, events } = trackerOf(server.url, clock);
    await tracker.refresh(signal);
    vm.state = "Stopped";
    clock.now += 5_000;
    await tracker.refresh(signal);
    assertEquals(events, ["web Warning VMStopped"]);
    assertEquals(
      reported.at(-1)?.status?.containerStatuses?.[0].state?.terminated?.reason,
      "VMStopped",
    );
    assertStringIncludes(
      logOf(tracker.get("default", "web")!).at(-1)!,
      "10:01:05Z VM vkedge-default.web",
    );
  } finally {
    await server.close();
  }
});

Deno.test("a VM that vanishes is reported Failed, kept as a tombstone, and forgotten after ten minutes", async () => {
  const vms = [{ ...web }];
  const server = zstackWith(vms);
  try {
    const clock = { now: Date.parse("2026-11-25T10:01:00Z") };
    const { tracker, reported, events } = trackerOf(server.url, clock);
    await tracker.refresh(signal);
    vms.length = 0;
    clock.now += 1_000;
    await tracker.refresh(signal);
    assertEquals(reported.at(-1)?.status?.phase, "Failed");
    assertEquals(events, ["web Warning VMGone"]);
    assert(tracker.get("default", "web")?.log.ended(), "followers stop at a tombstone");
    clock.now += tombstoneMs;
    await tracker.refresh(signal);
    assert(tracker.get("default", "web") !== undefined);
    clock.now += 1;
    await tracker.refresh(signal);
    assertEquals(tracker.all(), []);
  } finally {
    await server.close();
  }
});

Deno.test("a VM released by this process is not adopted again from a later listing", async () => {
  const server = zstackWith([{ ...web }]);
  try {
    const { tracker } = trackerOf(server.url, { now: 0 });
    await tracker.refresh(signal);
    const tracked = tracker.get("default", "web")!;
    tracker.setReleased(web.uuid, true);
    tracker.forget(tracked);
    await tracker.refresh(signal);
    assertEquals(tracker.all(), []);
    tracker.setReleased(web.uuid, false);
    await tracker.refresh(signal);
    assertEquals(tracker.all().length, 1);
  } finally {
    await server.close();
  }
});

Deno.test("find refreshes once for a pod it does not know, and refuses another uid", async () => {
  const server = zstackWith([{ ...web }]);
  try {
    const { tracker } = trackerOf(server.url, { now: 0 });
    const found = await tracker.find("default", "web", { uid: web.identity.uid, signal });
    assertEquals(found.vm.uuid, web.uuid);
    await assertRejects(
      () => tracker.find("default", "web", { uid: "other", signal }),
      NotFoundError,
      `serves uid "${web.identity.uid}"`,
    );
    await assertRejects(
      () => tracker.find("default", "nobody", { signal }),
      NotFoundError,
      "no VM is tagged for it",
    );
    assertEquals(server.received.filter((r) => r.path === "/v1/vm-instances").length, 2);
  } finally {
    await server.close();
  }
});

Deno.test("a tombstone replaced by a new pod of the same name is still listed but no longer current", async () => {
  const vms = [{ ...web }];
  const server = zstackWith(vms);
  try {
    const clock = { now: 0 };
    const { tracker } = trackerOf(server.url, clock);
    await tracker.refresh(signal);
    vms.length = 0;
    clock.now += 1_000;
    await tracker.refresh(signal);
    const successor = vmInstanceSchema.parse(
      vmOf({ ...web, uuid: "b".repeat(32), state: "Starting" }),
    );
    const identity = { ...web.identity, uid: crypto.randomUUID() };
    tracker.track(successor, { identity, stored: undefined });
    assertEquals(tracker.all().length, 2);
    assertEquals(tracker.current().map((tracked) => tracked.vm.uuid), ["b".repeat(32)]);
    assertEquals(tracker.get("default", "web")?.identity.uid, identity.uid);
  } finally {
    await server.close();
  }
});

Deno.test("forgetting the VM a pod key stands for says so; a superseded tombstone does not", async () => {
  const server = zstackWith([]);
  try {
    const forgotten: string[] = [];
    const zstack = client(server.url);
    const tracker = new VmTracker({
      client: zstack,
      hosts: new KnownHosts(zstack),
      nodeTag: "vkedge.io/node:edge/node-1",
      nodeName: "node-1",
      logLines: 10,
      now: Date.now,
      report: () => {},
      forgotten: (key) => forgotten.push(key),
    });
    const old = tracker.track(vmInstanceSchema.parse(vmOf(web)), {
      identity: web.identity,
      stored: undefined,
    });
    const successor = tracker.track(
      vmInstanceSchema.parse(vmOf({ ...web, uuid: "b".repeat(32) })),
      { identity: { ...web.identity, uid: "new" }, stored: undefined },
    );
    tracker.forget(old);
    assertEquals(forgotten, []);
    tracker.forget(successor);
    assertEquals(forgotten, ["default/web"]);
  } finally {
    await server.close();
  }
});
