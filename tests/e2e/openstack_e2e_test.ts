/**
 * The agent with `--provider=openstack` against the real Nova, Keystone, Glance and
 * Neutron APIs of the OpenStack test stack (Nova's fake hypervisor): a pod becomes an
 * ACTIVE server with its ownership metadata and tags and Neutron's IP as the pod IP, a
 * deleted pod's server is deleted, pods OpenStack cannot run say why, and two agents on
 * one project never touch each other's servers.
 */

import type { Event, Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals, assertMatch } from "../_harness/assert.ts";
import { kubectl, kubectlJson, waitFor } from "../_harness/cluster.ts";
import { apply, getPod, waitRunning } from "../_harness/pods.ts";
import { serverPod, withOpenStackNode } from "../_harness/openstack.ts";
import { nodeTag, uidTag } from "../../providers/openstack/identity.ts";

async function events(ns: string, name: string): Promise<Event[]> {
  const list = await kubectlJson<{ items: Event[] }>(["get", "events", "-n", ns]);
  return list.items.filter((event) => event.involvedObject?.name === name);
}

Deno.test("openstack: a pod becomes an ACTIVE server with ownership metadata and tags and Neutron's IP; deleting it deletes the server", async () => {
  await withOpenStackNode("os-pod", async (node) => {
    const { ns, nodeName } = node;
    await node.start();
    await apply(ns, serverPod("web", nodeName, { labels: { app: "web" } }));
    await waitRunning(ns, "web", 240_000);
    const pod = await getPod(ns, "web");
    const [server] = await node.servers();
    assertEquals(server.status, "ACTIVE");
    assertEquals(server.name, `vkedge-${ns}.web`);
    assertEquals(server.metadata["vkedge.io:cluster"], "e2e");
    assertEquals(server.metadata["vkedge.io:namespace"], ns);
    assertEquals(server.metadata["vkedge.io:pod"], "web");
    assertEquals(server.metadata["vkedge.io:pod-uid"], pod.metadata?.uid);
    const tags = new Set(server.tags);
    assert(tags.has(await nodeTag({ clusterName: "e2e", nodeName })), [...tags].join(","));
    assert(tags.has(await uidTag(pod.metadata!.uid!)), [...tags].join(","));
    assertEquals(pod.status?.podIP, server.addresses.private?.[0]?.addr);
    assertMatch(pod.status?.podIP ?? "", /^10\.20\./);
    const logs = await kubectl(["logs", "web", "-n", ns]);
    assertMatch(logs, /create requested: image tiny/);
    assertMatch(logs, /FAKE CONSOLE OUTPUT/);
    assertEquals(await kubectl(["logs", "web", "-n", ns, "--tail=1"]), "LAST LINE\n");

    await kubectl(["delete", "pod", "web", "-n", ns, "--timeout=120s"]);
    await waitFor("the server deleted", async () => (await node.servers()).length === 0, {
      timeoutMs: 120_000,
      intervalMs: 1000,
    });
  });
});

Deno.test("openstack: a pod whose flavor or image OpenStack does not have gets a Warning event and a status saying why, and no server", async () => {
  await withOpenStackNode("os-refuse", async (node) => {
    const { ns, nodeName } = node;
    await node.start();
    await apply(ns, serverPod("no-image", nodeName, { image: "openstack/no-such-image" }));
    await apply(
      ns,
      serverPod("no-flavor", nodeName, {
        annotations: { "openstack.vkedge.io/flavor": "m9.huge" },
      }),
    );
    const expectations: Record<string, RegExp> = {
      "no-image": /image "no-such-image" not found in Glance/,
      "no-flavor": /flavor "m9.huge" not found: expected one of m1.nano/,
    };
    for (const [name, pattern] of Object.entries(expectations)) {
      let pod: Pod | undefined;
      await waitFor(`${name} says why`, async () => {
        pod = await getPod(ns, name);
        const ready = pod.status?.conditions?.find((c) => c.type === "Ready");
        return ready?.reason === "ProviderFailed" && pattern.test(ready.message ?? "");
      }, { timeoutMs: 60_000, intervalMs: 500 });
      assertEquals(pod?.status?.phase, "Pending");
      const warning = (await events(ns, name)).find((event) => event.type === "Warning");
      assertMatch(warning?.message ?? "", pattern);
    }
    assertEquals(await node.servers(), [], "no server was made");
  });
});

Deno.test("openstack: two agents on one project with different nodes never touch each other's servers", async () => {
  await withOpenStackNode("os-two-a", async (a) => {
    await withOpenStackNode("os-two-b", async (b) => {
      await a.start();
      await b.start();
      await apply(a.ns, serverPod("same", a.nodeName));
      await apply(b.ns, serverPod("same", b.nodeName));
      await waitRunning(a.ns, "same", 240_000);
      await waitRunning(b.ns, "same", 240_000);
      const [serverA] = await a.servers();
      const [serverB] = await b.servers();
      assert(serverA.id !== serverB.id, "two servers");
      // Each agent lists only its own node's servers; deleting one pod leaves the other.
      await kubectl(["delete", "pod", "same", "-n", a.ns, "--timeout=120s"]);
      await waitFor("a's server deleted", async () => (await a.servers()).length === 0, {
        timeoutMs: 120_000,
        intervalMs: 1000,
      });
      const stillB = await b.servers();
      assertEquals(stillB.map((server) => [server.id, server.status]), [[serverB.id, "ACTIVE"]]);
      // A restart of b adopts its server only, and a's restart finds nothing to take.
      await b.agent!.kill();
      await b.start();
      await a.agent!.kill();
      await a.start();
      await waitRunning(b.ns, "same", 240_000);
      assertEquals((await b.servers()).map((server) => server.id), [serverB.id]);
      assertEquals(await a.servers(), []);
      const bPod = await getPod(b.ns, "same");
      assertEquals(bPod.status?.podIP, serverB.addresses.private?.[0]?.addr);
    }, { clusterName: "e2e" });
  }, { clusterName: "e2e" });
});
