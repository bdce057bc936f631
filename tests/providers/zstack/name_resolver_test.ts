import { assertEquals, assertRejects, assertStringIncludes } from "../../_harness/assert.ts";
import { InvalidInputError } from "../../../lib/provider.ts";
import { NameResolver, resolutionTtlMs } from "../../../providers/zstack/name_resolver.ts";
import { client, conditionsOf, inventories, isLogin, loginReply, signal } from "./_fixtures.ts";
import { json, type Received, startReplayServer } from "./_replay_server.ts";

const cirros = {
  uuid: "c".repeat(32),
  name: "cirros",
  state: "Enabled",
  status: "Ready",
  mediaType: "RootVolumeTemplate",
};

function zstack(answer: (request: Received) => Response | Promise<Response>) {
  return startReplayServer((request) => isLogin(request) ? json(200, loginReply) : answer(request));
}

function resolverOf(url: string, clock: { now: number }): NameResolver {
  return new NameResolver(client(url), {
    placement: { zone: "zone-1", cluster: "cluster-1" },
    now: () => clock.now,
    signal,
  });
}

function queriesOf(received: Received[], path: string): Received[] {
  return received.filter((request) => request.path === path);
}

Deno.test("concurrent creates naming one image share one lookup; it is reused for a minute", async () => {
  const server = zstack(async (request) => {
    await new Promise((resolve) => setTimeout(resolve, 30));
    return inventories(request.path === "/v1/images" ? [cirros] : []);
  });
  try {
    const clock = { now: 1_000_000 };
    const resolver = resolverOf(server.url, clock);
    const lookups = Array.from(
      { length: 5 },
      (_, index) => resolver.image({ kind: "name", name: "cirros" }, { pod: `p/${index}`, signal }),
    );
    for (const image of await Promise.all(lookups)) assertEquals(image.uuid, cirros.uuid);
    const [query] = queriesOf(server.received, "/v1/images");
    assertEquals(queriesOf(server.received, "/v1/images").length, 1);
    assertEquals(conditionsOf(query), ["name=cirros"]);
    clock.now += resolutionTtlMs - 1;
    await resolver.image({ kind: "name", name: "cirros" }, { pod: "p/late", signal });
    assertEquals(queriesOf(server.received, "/v1/images").length, 1);
    clock.now += 2;
    await resolver.image({ kind: "uuid", uuid: cirros.uuid }, { pod: "p/by-uuid", signal });
    await resolver.image({ kind: "name", name: "cirros" }, { pod: "p/later", signal });
    assertEquals(
      queriesOf(server.received, "/v1/images").map((request) => conditionsOf(request)),
      [["name=cirros"], [`uuid=${cirros.uuid}`], ["name=cirros"]],
    );
  } finally {
    await server.close();
  }
});

Deno.test("a caller whose signal aborts stops waiting; the shared lookup still serves the others", async () => {
  const server = zstack(async () => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return inventories([cirros]);
  });
  try {
    const resolver = resolverOf(server.url, { now: 0 });
    const impatient = new AbortController();
    const gaveUp = resolver.image({ kind: "name", name: "cirros" }, {
      pod: "p/a",
      signal: impatient.signal,
    });
    const patient = resolver.image({ kind: "name", name: "cirros" }, { pod: "p/b", signal });
    impatient.abort(new Error("pod deleted"));
    await assertRejects(() => gaveUp, Error, "pod deleted");
    assertEquals((await patient).name, "cirros");
    assertEquals(queriesOf(server.received, "/v1/images").length, 1);
  } finally {
    await server.close();
  }
});

Deno.test("a name matching nothing or several is InvalidInputError and is asked again next time", async () => {
  const server = zstack((request) =>
    inventories(
      request.path === "/v1/l3-networks"
        ? [{ uuid: "a".repeat(32), name: "twin" }, { uuid: "b".repeat(32), name: "twin" }]
        : [],
    )
  );
  try {
    const resolver = resolverOf(server.url, { now: 0 });
    const none = await assertRejects(
      () => resolver.image({ kind: "name", name: "windows-95" }, { pod: "default/web", signal }),
      InvalidInputError,
    );
    assertStringIncludes(
      none.message,
      `pod default/web image: expected one image named "windows-95", found 0`,
    );
    const twins = await assertRejects(
      () => resolver.l3Network("twin", { pod: "default/web", signal }),
      InvalidInputError,
    );
    assertStringIncludes(twins.message, `found 2: name it by uuid instead`);
    await assertRejects(() => resolver.l3Network("twin", { pod: "default/web", signal }));
    assertEquals(queriesOf(server.received, "/v1/l3-networks").length, 2);
  } finally {
    await server.close();
  }
});

Deno.test("unusable images, networks and offerings are refused saying what they are", async () => {
  const server = zstack((request) => {
    if (request.path === "/v1/images") {
      return inventories([{ ...cirros, state: "Disabled", mediaType: "ISO", system: true }]);
    }
    if (request.path === "/v1/l3-networks") {
      return inventories([{ uuid: "a".repeat(32), name: "mgmt", state: "Enabled", system: true }]);
    }
    return inventories([{ uuid: "o".repeat(32), name: "small", state: "Disabled" }]);
  });
  try {
    const resolver = resolverOf(server.url, { now: 0 });
    const lookup = { pod: "default/web", signal };
    const image = await assertRejects(
      () => resolver.image({ kind: "name", name: "cirros" }, lookup),
      InvalidInputError,
    );
    assertStringIncludes(
      image.message,
      `expected image "cirros" to be an Enabled, Ready RootVolumeTemplate, found state Disabled, media type ISO, a system image`,
    );
    await resolver.image({ kind: "name", name: "cirros" }, lookup).catch(() => {});
    assertEquals(
      queriesOf(server.received, "/v1/images").length,
      2,
      "the refusal clears the cache",
    );
    await assertRejects(
      () => resolver.l3Network("mgmt", lookup),
      InvalidInputError,
      "to be Enabled and not a system network, found state Enabled, system",
    );
    await assertRejects(
      () => resolver.instanceOffering("small", lookup),
      InvalidInputError,
      `expected instance offering "small" to be Enabled, found Disabled`,
    );
  } finally {
    await server.close();
  }
});

Deno.test("the placement resolves the zone, then the cluster within it, once for all callers", async () => {
  const zone = { uuid: "z".repeat(32), name: "zone-1" };
  const cluster = { uuid: "k".repeat(32), name: "cluster-1", zoneUuid: zone.uuid };
  const server = zstack((request) =>
    inventories(
      request.path === "/v1/zones" ? [zone] : request.path === "/v1/clusters" ? [cluster] : [],
    )
  );
  try {
    const resolver = resolverOf(server.url, { now: 0 });
    assertEquals(await resolver.knownPlacement(), undefined);
    const [first, second] = await Promise.all([
      resolver.placement(signal),
      resolver.placement(signal),
    ]);
    assertEquals(first, second);
    assertEquals([first.zone.uuid, first.cluster?.uuid, first.host], [
      zone.uuid,
      cluster.uuid,
      undefined,
    ]);
    assertEquals((await resolver.knownPlacement())?.zone.name, "zone-1");
    assertEquals(conditionsOf(queriesOf(server.received, "/v1/clusters")[0]), [
      "name=cluster-1",
      `zoneUuid=${zone.uuid}`,
    ]);
    assertEquals(queriesOf(server.received, "/v1/zones").length, 1);
  } finally {
    await server.close();
  }
});

/** A ZStack of one zone, cluster-1 (host-1, host-2) and cluster-2 (host-3), answering `q=` filters. */
function placementZStack() {
  const zone = { uuid: "z".repeat(32), name: "zone-1" };
  const cluster1 = { uuid: "1".repeat(32), name: "cluster-1", zoneUuid: zone.uuid };
  const cluster2 = { uuid: "2".repeat(32), name: "cluster-2", zoneUuid: zone.uuid };
  const host = (name: string, digit: string, cluster: { uuid: string }) => ({
    uuid: digit.repeat(32),
    name,
    zoneUuid: zone.uuid,
    clusterUuid: cluster.uuid,
  });
  const items: Record<string, Array<Record<string, string>>> = {
    "/v1/zones": [zone],
    "/v1/clusters": [cluster1, cluster2],
    "/v1/hosts": [
      host("host-1", "a", cluster1),
      host("host-2", "b", cluster1),
      host("host-3", "c", cluster2),
    ],
  };
  const server = zstack((request) => {
    const conditions = conditionsOf(request).map((condition) => condition.split("="));
    return inventories(
      (items[request.path] ?? []).filter((item) =>
        conditions.every(([field, value]) => item[field] === value)
      ),
    );
  });
  return { server, zone, cluster1, cluster2 };
}

Deno.test("a pod's placement hints resolve over the configured placement, which stays as it was", async () => {
  const { server, cluster1, cluster2 } = placementZStack();
  try {
    const resolver = resolverOf(server.url, { now: 0 });
    const lookup = { pod: "default/db", signal };
    const onHost = await resolver.podPlacement({ host: "host-2" }, lookup);
    assertEquals([onHost.cluster?.uuid, onHost.host?.name], [cluster1.uuid, "host-2"]);
    const elsewhere = await resolver.podPlacement({ cluster: "cluster-2", host: "host-3" }, lookup);
    assertEquals([elsewhere.cluster?.uuid, elsewhere.host?.name], [cluster2.uuid, "host-3"]);
    const configured = await resolver.podPlacement({}, lookup);
    assertEquals([configured.cluster?.uuid, configured.host], [cluster1.uuid, undefined]);
    assertEquals(await resolver.knownPlacement(), configured);
    assertEquals(
      queriesOf(server.received, "/v1/hosts").map((request) => conditionsOf(request)),
      [["name=host-2", `clusterUuid=${cluster1.uuid}`], [
        "name=host-3",
        `clusterUuid=${cluster2.uuid}`,
      ]],
    );
  } finally {
    await server.close();
  }
});

Deno.test("a placement hint naming nothing is refused naming the annotation and what exists there", async () => {
  const { server } = placementZStack();
  try {
    const resolver = resolverOf(server.url, { now: 0 });
    const lookup = { pod: "default/db", signal };
    await assertRejects(
      () => resolver.podPlacement({ host: "host-3" }, lookup),
      InvalidInputError,
      `zstack provider: pod default/db annotation vkedge.io/placement-host: expected one host named "host-3" in cluster "cluster-1", found 0; the hosts there are host-1, host-2`,
    );
    await assertRejects(
      () => resolver.podPlacement({ cluster: "cluster-9" }, lookup),
      InvalidInputError,
      `pod default/db annotation vkedge.io/placement-cluster: expected one cluster named "cluster-9" in zone "zone-1", found 0; the clusters there are cluster-1, cluster-2`,
    );
    await assertRejects(
      () => resolver.podPlacement({ zone: "zone-9" }, lookup),
      InvalidInputError,
      `pod default/db annotation vkedge.io/placement-zone: expected one zone named "zone-9", found 0; the zones are zone-1`,
    );
  } finally {
    await server.close();
  }
});
