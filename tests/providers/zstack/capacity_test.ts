import { assertEquals, assertRejects } from "../../_harness/assert.ts";
import { UnavailableError } from "../../../lib/provider.ts";
import { type VmInstance, vmInstanceSchema } from "../../../providers/zstack/api_types.ts";
import { NodeCapacity, type NodeResources } from "../../../providers/zstack/capacity.ts";
import { KnownHosts } from "../../../providers/zstack/hosts.ts";
import { NameResolver } from "../../../providers/zstack/name_resolver.ts";
import { client, conditionsOf, inventories, isLogin, loginReply, signal } from "./_fixtures.ts";
import { json, type Received, startReplayServer, text } from "./_replay_server.ts";

const gib = 2 ** 30;
const zone = { uuid: "z".repeat(32), name: "zone-1" };
const host = { uuid: "h".repeat(32), name: "host-1", zoneUuid: zone.uuid, architecture: "aarch64" };

function zstackWith(free: { cpu: number; memory: number }, down = () => false) {
  return startReplayServer((request: Received) => {
    if (isLogin(request)) return json(200, loginReply);
    if (down()) return text(500, "down");
    if (request.path === "/v1/zones") return inventories([zone]);
    if (request.path === "/v1/hosts") return inventories([host]);
    return json(200, {
      totalCpu: 32,
      availableCpu: free.cpu,
      totalMemory: 128 * gib,
      availableMemory: free.memory,
    });
  });
}

function capacityOf(url: string, own: VmInstance[]) {
  const zstack = client(url);
  const hosts = new KnownHosts(zstack);
  const resolver = new NameResolver(zstack, {
    placement: { zone: "zone-1" },
    now: Date.now,
    signal,
  });
  return {
    hosts,
    capacity: new NodeCapacity({
      client: zstack,
      resolver,
      hosts,
      maxPods: 110,
      ownVms: () => own,
    }),
  };
}

function vm(state: string, cpuNum: number, memoryGib: number): VmInstance {
  return vmInstanceSchema.parse({
    uuid: crypto.randomUUID().replaceAll("-", ""),
    name: "vm",
    state,
    hostUuid: state === "Stopped" ? undefined : host.uuid,
    cpuNum,
    memorySize: memoryGib * gib,
  });
}

Deno.test("before the first refresh the node has no CPU or memory, only its pods", () => {
  const { capacity } = capacityOf("http://127.0.0.1:9/zstack", []);
  assertEquals(capacity.resources(), {
    capacity: { cpu: "0", memory: "0", pods: "110" },
    allocatable: { cpu: "0", memory: "0", pods: "110" },
  });
});

Deno.test("allocatable is what ZStack has free plus what this node's running VMs use", async () => {
  const server = zstackWith({ cpu: 20, memory: 100 * gib });
  try {
    const own = [vm("Running", 4, 8), vm("Starting", 2, 2), vm("Stopped", 8, 16)];
    const { capacity, hosts } = capacityOf(server.url, own);
    await capacity.refresh(signal);
    assertEquals(capacity.resources(), {
      capacity: { cpu: "32", memory: `${128 * 2 ** 20}Ki`, pods: "110" },
      allocatable: { cpu: "26", memory: `${110 * 2 ** 20}Ki`, pods: "110" },
    });
    const query = server.received.find((r) => r.path === "/v1/hosts/capacities/cpu-memory")!;
    assertEquals(query.search, `?zoneUuids=${zone.uuid}`);
    const hostQuery = server.received.find((r) => r.path === "/v1/hosts")!;
    assertEquals(conditionsOf(hostQuery), [`zoneUuid=${zone.uuid}`]);
    assertEquals(hosts.first()?.architecture, "aarch64");
  } finally {
    await server.close();
  }
});

Deno.test("the refresh loop says when capacity changed, survives failures and stops with its signal", async () => {
  const free = { cpu: 32, memory: 128 * gib };
  let failing = false;
  const server = zstackWith(free, () => failing);
  const stop = new AbortController();
  try {
    const { capacity } = capacityOf(server.url, []);
    await capacity.refresh(signal);
    const changes: NodeResources[] = [];
    const loop = capacity.watch({
      intervalMs: 20,
      onChange: (resources) => changes.push(resources),
      signal: stop.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 70));
    assertEquals(changes, []);
    failing = true;
    await new Promise((resolve) => setTimeout(resolve, 50));
    failing = false;
    free.cpu = 30;
    await new Promise((resolve) => setTimeout(resolve, 70));
    assertEquals(changes.map((change) => change.allocatable.cpu), ["30"]);
    stop.abort();
    await loop;
    failing = true;
    await assertRejects(() => capacity.refresh(signal), UnavailableError, "reading host capacity");
  } finally {
    stop.abort();
    await server.close();
  }
});
