import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { assertEquals, assertRejects } from "../../_harness/assert.ts";
import { InvalidInputError } from "../../../lib/provider.ts";
import { parseZStackConfig } from "../../../providers/zstack/config.ts";
import { NameResolver } from "../../../providers/zstack/name_resolver.ts";
import { validatePod } from "../../../providers/zstack/pod_to_vm.ts";
import { resolveVmRequest } from "../../../providers/zstack/vm_request.ts";
import { client, conditionsOf, inventories, isLogin, loginReply, signal } from "./_fixtures.ts";
import { json, type Received, startReplayServer } from "./_replay_server.ts";

const zone = { uuid: "z".repeat(32), name: "zone-1" };
const image = { uuid: "i".repeat(32), name: "cirros", state: "Enabled", status: "Ready" };
const networks = [
  { uuid: "a".repeat(32), name: "l3-default", state: "Enabled" },
  { uuid: "b".repeat(32), name: "l3-storage", state: "Enabled" },
];
const offering = { uuid: "o".repeat(32), name: "small", cpuNum: 2, memorySize: 2 ** 31 };

function zstack() {
  return startReplayServer((request: Received) => {
    if (isLogin(request)) return json(200, loginReply);
    const name = conditionsOf(request)[0]?.split("=")[1];
    switch (request.path) {
      case "/v1/zones":
        return inventories([zone]);
      case "/v1/images":
        return inventories([image]);
      case "/v1/l3-networks":
        return inventories(networks.filter((network) => network.name === name));
      default:
        return inventories([offering]);
    }
  });
}

function podOf(annotations: Record<string, string>, limits?: Record<string, string>): Pod {
  return {
    metadata: { namespace: "default", name: "web", uid: crypto.randomUUID(), annotations },
    spec: {
      containers: [{
        name: "main",
        image: "zstack/cirros",
        ...(limits ? { resources: { limits } } : {}),
      }],
    },
  };
}

function configWith(defaults: Record<string, string> = {}) {
  return parseZStackConfig({
    endpoint: "http://127.0.0.1:9/zstack",
    auth: { account: { name: "admin", passwordEnv: "UNUSED" } },
    clusterName: "edge",
    placement: { zone: "zone-1" },
    networks: { default: ["l3-default"] },
    defaults,
  });
}

async function resolve(url: string, pod: Pod, defaults: Record<string, string> = {}) {
  const zstackClient = client(url);
  return await resolveVmRequest(pod, {
    validated: validatePod(pod),
    uuid: "v".repeat(32),
    description: "vkedge:v1:x",
    owner: { clusterName: "edge", nodeName: "node-1" },
    config: configWith(defaults),
    resolver: new NameResolver(zstackClient, {
      placement: { zone: "zone-1" },
      now: Date.now,
      signal,
    }),
    signal,
  });
}

Deno.test("a pod's request has the annotated networks in order and its own size", async () => {
  const server = zstack();
  try {
    const request = await resolve(
      server.url,
      podOf({ "zstack.vkedge.io/l3-networks": "l3-storage, l3-default" }, { cpu: "2" }),
      { instanceOffering: "small" },
    );
    assertEquals(request.networks.map((network) => network.name), ["l3-storage", "l3-default"]);
    assertEquals([request.image.uuid, request.placement.zone.uuid], [image.uuid, zone.uuid]);
    assertEquals([request.offering, request.size.cpuNum], [undefined, 2]);
    assertEquals(request.userData.startsWith("#cloud-config\n"), true);
  } finally {
    await server.close();
  }
});

Deno.test("without a size of its own a pod gets the default offering; the annotation wins", async () => {
  const server = zstack();
  try {
    const byDefault = await resolve(server.url, podOf({}), { instanceOffering: "small" });
    assertEquals(byDefault.offering?.uuid, offering.uuid);
    assertEquals(byDefault.networks.map((network) => network.name), ["l3-default"]);
    const annotated = await resolve(
      server.url,
      podOf({ "zstack.vkedge.io/instance-offering": "small" }, { cpu: "4" }),
    );
    assertEquals(annotated.offering?.name, "small");
    assertEquals((await resolve(server.url, podOf({}))).offering, undefined);
  } finally {
    await server.close();
  }
});

Deno.test("bad user data is InvalidInputError naming the pod", async () => {
  const server = zstack();
  try {
    await assertRejects(
      () => resolve(server.url, podOf({ "zstack.vkedge.io/user-data": "#cloud-config\n: [" })),
      InvalidInputError,
      "zstack provider: pod default/web: annotation zstack.vkedge.io/user-data: expected valid YAML",
    );
  } finally {
    await server.close();
  }
});

Deno.test("a VM-Pod's vkedge.io/networks choose the networks unless the zstack annotation is given", async () => {
  const server = zstack();
  try {
    const generic = await resolve(server.url, podOf({ "vkedge.io/networks": "l3-storage" }));
    assertEquals(generic.networks.map((network) => network.name), ["l3-storage"]);
    const both = await resolve(
      server.url,
      podOf({ "vkedge.io/networks": "l3-storage", "zstack.vkedge.io/l3-networks": "l3-default" }),
    );
    assertEquals(both.networks.map((network) => network.name), ["l3-default"]);
  } finally {
    await server.close();
  }
});
