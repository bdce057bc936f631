import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals, assertRejects } from "../../_harness/assert.ts";
import { podsEqual } from "../../../lib/pods/compare.ts";
import { InvalidInputError, NotFoundError } from "../../../lib/provider.ts";
import { ZStackClient } from "../../../providers/zstack/client.ts";
import { parseZStackConfig } from "../../../providers/zstack/config.ts";
import { encodePodSpec, ownerTags } from "../../../providers/zstack/mapping.ts";
import { ZStackProvider } from "../../../providers/zstack/zstack_provider.ts";
import { knownProviders, loadProvider } from "../../../providers/mod.ts";
import { json, type Received, startReplayServer } from "./_replay_server.ts";

const signal = new AbortController().signal;
const uid = "7d2c4e1a-8b3f-4a6d-9c0e-5f1b2a3c4d5e";
const vmUuid = uid.replaceAll("-", "");
const desired: Pod = {
  metadata: { namespace: "shop", name: "db", uid, labels: { tier: "data" } },
  spec: {
    nodeName: "edge-1",
    containers: [{ name: "postgres", image: "zstack/ubuntu-22.04", args: ["--port", "5432"] }],
  },
};

function provider(url: string): ZStackProvider {
  const config = parseZStackConfig({
    endpoint: url,
    auth: { account: { name: "admin", passwordEnv: "NOT_READ" } },
    clusterName: "shop-cluster",
    placement: { zone: "zone-1" },
    networks: { default: ["l3-default"] },
  });
  const client = new ZStackClient({
    endpoint: url,
    credentials: { kind: "account", accountName: "admin", password: "password" },
  });
  return new ZStackProvider(config, client, {
    nodeName: "edge-1",
    operatingSystem: "linux",
    internalIp: "10.0.0.1",
    daemonPort: 10250,
  });
}

async function zstackWithOneVm(): Promise<(request: Received) => Response> {
  const { description } = await encodePodSpec(desired, { namespace: "shop", name: "db", uid });
  const tags = ownerTags({ namespace: "shop", name: "db", uid }, {
    clusterName: "shop-cluster",
    nodeName: "edge-1",
  });
  return (request) => {
    if (request.path === "/v1/accounts/login") {
      return json(200, { inventory: { uuid: "f".repeat(32) } });
    }
    if (request.path === "/v1/vm-instances") {
      return json(200, {
        inventories: [{
          uuid: vmUuid,
          name: "vkedge-shop.db",
          description,
          state: "Running",
          hostUuid: "h".repeat(32),
          defaultL3NetworkUuid: "l3",
          createDate: "Nov 25, 2026 10:00:00 AM",
          lastOpDate: "Nov 25, 2026 10:00:30 AM",
          vmNics: [{ l3NetworkUuid: "l3", ip: "192.168.100.20" }],
        }],
        total: 1,
        schema: {},
      });
    }
    if (request.path === "/v1/user-tags") {
      return json(200, {
        inventories: tags.map((tag, index) => ({
          uuid: `${index}`.padStart(32, "0"),
          resourceUuid: vmUuid,
          resourceType: "VmInstanceVO",
          tag,
          type: "User",
        })),
        total: tags.length,
      });
    }
    if (request.path === "/v1/hosts") {
      return json(200, {
        inventories: [{ uuid: "h".repeat(32), name: "host-1", managementIp: "172.20.0.11" }],
        total: 1,
      });
    }
    return json(200, { inventories: [], total: 0 });
  };
}

Deno.test("getPods lists this node's VMs with one tag query and rebuilds pods from tags and description", async () => {
  const server = startReplayServer(await zstackWithOneVm());
  try {
    const zstack = provider(server.url);
    const pods = await zstack.getPods(signal);
    assertEquals(pods.length, 1);
    const [pod] = pods;
    assertEquals(pod.metadata?.uid, uid);
    assert(podsEqual(pod, desired), "the adopted pod must equal the desired one");
    assertEquals(pod.status?.phase, "Running");
    assertEquals(pod.status?.podIP, "192.168.100.20");
    assertEquals(pod.status?.hostIP, "172.20.0.11");
    assertEquals(
      pod.status?.containerStatuses?.[0].state?.running?.startedAt,
      "2026-11-25T10:00:30Z",
    );
    const queries = server.received.filter((request) => request.path === "/v1/vm-instances");
    assertEquals(queries.map((request) => decodeURIComponent(request.search)), [
      "?q=__userTag__=vkedge.io/node:shop-cluster/edge-1&q=type=UserVm&limit=500&start=0&replyWithCount=true",
    ]);
    const tagQuery = server.received.find((request) => request.path === "/v1/user-tags")!;
    assertEquals(
      decodeURIComponent(tagQuery.search),
      `?q=resourceUuid?=${vmUuid}&q=resourceType=VmInstanceVO&limit=500&start=0&replyWithCount=true`,
    );
    // A second look within a second answers from the same query.
    assert((await zstack.getPod("shop", "db", signal)) !== undefined);
    assertEquals(await zstack.getPod("shop", "other", signal), undefined);
    assertEquals(
      server.received.filter((request) => request.path === "/v1/vm-instances").length,
      1,
    );
  } finally {
    await server.close();
  }
});

Deno.test("deletePod of a pod with another uid is NotFoundError and leaves the VM alone", async () => {
  const server = startReplayServer(await zstackWithOneVm());
  try {
    const zstack = provider(server.url);
    const impostor: Pod = {
      ...desired,
      metadata: { ...desired.metadata, uid: crypto.randomUUID() },
    };
    await assertRejects(() => zstack.deletePod(impostor, signal), NotFoundError, "serves uid");
    assertEquals(server.received.filter((request) => request.method === "DELETE"), []);
  } finally {
    await server.close();
  }
});

Deno.test("logs show the VM lifecycle as vkedge observed it, labelled, honouring tail", async () => {
  const server = startReplayServer(await zstackWithOneVm());
  try {
    const zstack = provider(server.url);
    const text = await new Response(
      await zstack.getContainerLogs({ namespace: "shop", pod: "db", container: "postgres" }, {
        tail: 5,
      }, signal),
    ).text();
    assertEquals(
      text,
      `[vkedge] 2026-11-25T10:00:30Z VM vkedge-shop.db (${vmUuid}) Running on host host-1, IP 192.168.100.20 (found by vkedge; earlier history is not known)\n`,
    );
    await assertRejects(
      () =>
        zstack.getContainerLogs({ namespace: "shop", pod: "db", container: "sidecar" }, {}, signal),
      NotFoundError,
      `expected "postgres"`,
    );
  } finally {
    await server.close();
  }
});

Deno.test("the registry loads the zstack module, which refuses a missing config naming the fields", async () => {
  assert(knownProviders().includes("zstack"));
  const module = await loadProvider("zstack");
  assertEquals(module.name, "zstack");
  await assertRejects(
    () =>
      module.create({
        nodeName: "n",
        operatingSystem: "linux",
        internalIp: "192.0.2.1",
        daemonPort: 10250,
        config: undefined,
        signal,
      }),
    InvalidInputError,
    "endpoint, auth, clusterName, placement, networks",
  );
});
