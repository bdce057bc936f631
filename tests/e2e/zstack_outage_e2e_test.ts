/**
 * The zstack provider while the management node is down, against the ZStack simulator as
 * a separate process: a minute without ZStack makes the node NotReady with a reason
 * naming zstack, deletes nothing, and everything recovers with the same VMs. In a file of
 * its own because it takes over a minute, so that it runs in parallel with the others.
 */

import type { Event, Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import { kubectlJson, waitFor } from "../_harness/cluster.ts";
import { nodeCondition } from "../_harness/agent.ts";
import { apply, isRunning, waitRunning } from "../_harness/pods.ts";
import { vmPod, withZStackNode } from "../_harness/zstack.ts";

async function listPods(ns: string): Promise<Pod[]> {
  return (await kubectlJson<{ items: Pod[] }>(["get", "pods", "-n", ns])).items;
}

async function warnings(ns: string): Promise<Event[]> {
  const list = await kubectlJson<{ items: Event[] }>(["get", "events", "-n", ns]);
  return list.items.filter((event) => event.type === "Warning");
}

/** What must survive an outage: the pod, its VM and its IP. */
async function snapshot(ns: string): Promise<Map<string, { uid?: string; podIP?: string }>> {
  return new Map(
    (await listPods(ns)).map((pod) => [
      pod.metadata!.name!,
      { uid: pod.metadata?.uid, podIP: pod.status?.podIP },
    ]),
  );
}

Deno.test("zstack: management node down for 60 s: node NotReady naming zstack, nothing deleted, then all recovers", async () => {
  await withZStackNode("zs-outage", async (node) => {
    const { ns, nodeName, sim } = node;
    await node.start();
    const names = ["vm-0", "vm-1", "vm-2"];
    for (const name of names) await apply(ns, vmPod(name, nodeName));
    for (const name of names) await waitRunning(ns, name);
    const pods = await snapshot(ns);
    const vms = new Map((await node.vms()).map((vm) => [vm.uuid, vm.podKey]));
    assertEquals(vms.size, 3);
    const before = await sim.stats();

    const downAt = Date.now();
    await sim.down(60_000);
    await waitFor("node Ready=False naming zstack", async () => {
      const ready = await nodeCondition(nodeName);
      return ready?.status === "False" && ready.reason === "ZstackProviderUnreachable";
    }, { timeoutMs: 20_000, intervalMs: 500 });
    const ready = await nodeCondition(nodeName);
    assertStringIncludes(ready?.message ?? "", sim.url);

    // While it is down, no pod is deleted or replaced.
    while (Date.now() - downAt < 55_000) {
      const during = await listPods(ns);
      assertEquals(during.map((pod) => pod.metadata?.name).sort(), names);
      for (const pod of during) {
        assert(!pod.metadata?.deletionTimestamp, `${pod.metadata?.name} is being deleted`);
        assertEquals(pod.metadata?.uid, pods.get(pod.metadata!.name!)?.uid);
      }
      await new Promise((resolve) => setTimeout(resolve, 5_000));
    }

    await waitFor(
      "node Ready again",
      async () => (await nodeCondition(nodeName))?.status === "True",
      {
        timeoutMs: 40_000,
        intervalMs: 500,
      },
    );
    await waitFor("every pod Running again", async () => {
      const after = await listPods(ns);
      return after.length === 3 && after.every(isRunning);
    }, { timeoutMs: 30_000, intervalMs: 500 });
    assertEquals(await snapshot(ns), pods, "same pods with the same IPs");
    const after = await node.vms();
    assertEquals(new Map(after.map((vm) => [vm.uuid, vm.podKey])), vms, "same VM uuids");
    for (const vm of after) assertEquals(vm.state, "Running", vm.podKey);
    const stats = await sim.stats();
    for (const api of ["CreateVmInstance", "DestroyVmInstance", "ExpungeVmInstance"]) {
      assertEquals(stats.apis[api] ?? 0, before.apis[api] ?? 0, `${api} calls`);
    }

    assertEquals(await warnings(ns), []);

    // And the node takes new pods again.
    await apply(ns, vmPod("after", nodeName));
    await waitRunning(ns, "after");
  });
});
