/**
 * The openstack provider while Nova's API is down for a minute: the agent's compute
 * endpoint is a nova-api of its own (another process of the stack's Nova, so the other
 * tests sharing the stack keep theirs), stopped and started again. The node stays Ready,
 * says why in its ProviderAvailable condition naming openstack, is tainted NoSchedule,
 * nothing is deleted, and everything recovers with the same servers. In a file of its
 * own because it takes over a minute.
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals } from "../_harness/assert.ts";
import { kubectlJson, waitFor } from "../_harness/cluster.ts";
import { nodeCondition } from "../_harness/agent.ts";
import { apply, isRunning, waitRunning } from "../_harness/pods.ts";
import {
  controlService,
  extraNovaApi,
  openstackStack,
  serverPod,
  withOpenStackNode,
} from "../_harness/openstack.ts";

async function listPods(ns: string): Promise<Pod[]> {
  return (await kubectlJson<{ items: Pod[] }>(["get", "pods", "-n", ns])).items;
}

Deno.test("openstack: Nova's API down for 60 s: node Ready, ProviderAvailable=False naming openstack, NoSchedule, nothing deleted, then all recovers", async () => {
  const nova = await extraNovaApi(await openstackStack());
  await withOpenStackNode("os-outage", async (node) => {
    const { ns, nodeName, stack } = node;
    await node.start();
    const names = ["vm-0", "vm-1"];
    for (const name of names) await apply(ns, serverPod(name, nodeName));
    for (const name of names) await waitRunning(ns, name, 240_000);
    const uids = new Map(
      (await listPods(ns)).map((pod) => [pod.metadata!.name!, pod.metadata!.uid]),
    );
    const servers = (await node.servers()).map((server) => server.id).sort();

    const downAt = Date.now();
    await controlService(stack, nova.name, "stop");
    try {
      await waitFor("ProviderAvailable=False naming openstack", async () => {
        const available = await nodeCondition(nodeName, "ProviderAvailable");
        return available?.status === "False" && available.reason === "OpenstackProviderUnreachable";
      }, { timeoutMs: 60_000, intervalMs: 500 });
      assertEquals((await nodeCondition(nodeName))?.status, "True", "the node stays Ready");
      const available = await nodeCondition(nodeName, "ProviderAvailable");
      assert(available?.message?.includes("127.0.0.1"), available?.message);
      await waitFor("the NoSchedule taint", async () => {
        const found = await kubectlJson<{ spec?: { taints?: { key: string; effect: string }[] } }>([
          "get",
          "node",
          nodeName,
        ]);
        return found.spec?.taints?.some((t) => t.key === "vkedge.io/provider-unavailable") ?? false;
      }, { timeoutMs: 30_000, intervalMs: 500 });
      while (Date.now() - downAt < 60_000) {
        const pods = await listPods(ns);
        assertEquals(pods.map((pod) => pod.metadata?.name).sort(), names);
        for (const pod of pods) {
          assert(!pod.metadata?.deletionTimestamp, `${pod.metadata?.name} is being deleted`);
          assertEquals(pod.metadata?.uid, uids.get(pod.metadata!.name!));
        }
        await new Promise((resolve) => setTimeout(resolve, 5_000));
      }
    } finally {
      await controlService(stack, nova.name, "start");
    }
    await waitFor(
      "ProviderAvailable=True again",
      async () => (await nodeCondition(nodeName, "ProviderAvailable"))?.status === "True",
      {
        timeoutMs: 120_000,
        intervalMs: 1000,
      },
    );
    await waitFor("the pods Ready again", async () => (await listPods(ns)).every(isRunning), {
      timeoutMs: 120_000,
      intervalMs: 1000,
    });
    assertEquals(
      (await node.servers()).map((server) => server.id).sort(),
      servers,
      "the same servers",
    );
    for (const pod of await listPods(ns)) {
      assertEquals(pod.metadata?.uid, uids.get(pod.metadata!.name!));
    }
  }, { extra: { endpoints: { compute: nova.url } } });
  await controlService(await openstackStack(), nova.name, "stop");
});
