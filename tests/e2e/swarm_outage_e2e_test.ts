/**
 * The swarm provider while dockerd is stopped for 60 s: the node stays Ready (so nothing
 * is evicted) and says why in its ProviderAvailable condition, with a reason naming the
 * provider and a message naming the Engine; no pod is deleted or replaced and no service
 * removed; once dockerd is back ProviderAvailable is True again, the
 * Swarm restarts the containers of the same services, and the pods run again. In a file of
 * its own because it takes over a minute.
 */

import { assert, assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import { kubectlJson, waitFor } from "../_harness/cluster.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { nodeCondition } from "../_harness/agent.ts";
import { apply, isRunning, waitRunning } from "../_harness/pods.ts";
import { swarmPod, withSwarmNode } from "../_harness/swarm_node.ts";

async function listPods(ns: string): Promise<Pod[]> {
  return (await kubectlJson<{ items: Pod[] }>(["get", "pods", "-n", ns])).items;
}

Deno.test("swarm: dockerd stopped for 60 s: ProviderAvailable=False naming swarm, node still Ready, nothing deleted, then all recovers", async () => {
  await withSwarmNode("swarm-outage", async (node) => {
    const { ns, nodeName, swarm } = node;
    await node.start();
    const names = ["a", "b"];
    for (const name of names) await apply(ns, swarmPod(name, nodeName, "exec sleep 3600"));
    for (const name of names) await waitRunning(ns, name, 60_000);
    const uids = new Map(
      (await listPods(ns)).map((pod) => [pod.metadata!.name!, pod.metadata!.uid!]),
    );
    const services = await node.services();

    const downAt = Date.now();
    await swarm.stopDaemon();
    await waitFor("ProviderAvailable=False naming swarm", async () => {
      const available = await nodeCondition(nodeName, "ProviderAvailable");
      return available?.status === "False" && available.reason === "SwarmProviderUnreachable";
    }, { timeoutMs: 30_000, intervalMs: 500 });
    const available = await nodeCondition(nodeName, "ProviderAvailable");
    assertStringIncludes(available?.message ?? "", swarm.endpoint);
    assertEquals((await nodeCondition(nodeName))?.status, "True", "the node stays Ready");

    while (Date.now() - downAt < 60_000) {
      const during = await listPods(ns);
      assertEquals(during.map((pod) => pod.metadata?.name).sort(), names);
      for (const pod of during) {
        assert(!pod.metadata?.deletionTimestamp, `${pod.metadata?.name} is being deleted`);
        assertEquals(pod.metadata?.uid, uids.get(pod.metadata!.name!));
      }
      await new Promise((resolve) => setTimeout(resolve, 5_000));
    }

    await swarm.startDaemon();
    await waitFor(
      "node Ready again",
      async () => (await nodeCondition(nodeName))?.status === "True",
      {
        timeoutMs: 60_000,
        intervalMs: 500,
      },
    );
    await waitFor("every pod Running again", async () => {
      const after = await listPods(ns);
      return after.length === 2 && after.every(isRunning);
    }, { timeoutMs: 90_000, intervalMs: 1_000 });
    assertEquals(await node.services(), services, "the same services");
    const after = await listPods(ns);
    assertEquals(new Map(after.map((pod) => [pod.metadata!.name!, pod.metadata!.uid!])), uids);

    await apply(ns, swarmPod("after", nodeName, "exec sleep 3600"));
    await waitRunning(ns, "after", 60_000);
  });
});
