/**
 * The zstack provider while the management node is down, against the ZStack simulator as
 * a separate process: a minute without ZStack leaves the node Ready (so nothing is
 * evicted), says why in its ProviderAvailable condition naming zstack, taints it NoSchedule
 * so that no new pod lands, deletes nothing, and everything recovers with the same VMs. In a file of
 * its own because it takes over a minute, so that it runs in parallel with the others.
 */

import type { Event, Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import { kubectlJson, kubectlResult, waitFor } from "../_harness/cluster.ts";
import { nodeCondition } from "../_harness/agent.ts";
import { apply, isRunning, waitRunning } from "../_harness/pods.ts";
import { vmPod, withZStackNode } from "../_harness/zstack.ts";

async function listPods(ns: string): Promise<Pod[]> {
  return (await kubectlJson<{ items: Pod[] }>(["get", "pods", "-n", ns])).items;
}

async function warnings(ns: string): Promise<Event[]> {
  const list = await kubectlJson<{ items: Event[] }>(["get", "events", "-n", ns]);
  // The scheduler's FailedScheduling of the pod kept off the tainted node is expected.
  return list.items.filter((event) =>
    event.type === "Warning" && event.involvedObject?.name !== "newcomer"
  );
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

Deno.test("zstack: management node down for 60 s: node Ready, ProviderAvailable=False naming zstack, NoSchedule, nothing deleted or scheduled, then all recovers", async () => {
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
    await waitFor("ProviderAvailable=False naming zstack", async () => {
      const available = await nodeCondition(nodeName, "ProviderAvailable");
      return available?.status === "False" && available.reason === "ZstackProviderUnreachable";
    }, { timeoutMs: 20_000, intervalMs: 500 });
    const available = await nodeCondition(nodeName, "ProviderAvailable");
    assertStringIncludes(available?.message ?? "", sim.url);
    assertEquals((await nodeCondition(nodeName))?.status, "True", "the node stays Ready");
    await waitFor("the NoSchedule taint", async () => {
      const node = await kubectlJson<{ spec?: { taints?: { key: string; effect: string }[] } }>(
        ["get", "node", nodeName],
      );
      return node.spec?.taints?.some((t) =>
        t.key === "vkedge.io/provider-unavailable" && t.effect === "NoSchedule"
      ) ?? false;
    }, { timeoutMs: 20_000, intervalMs: 500 });
    // A pod the scheduler would otherwise put here waits.
    const newcomer = vmPod("newcomer", nodeName);
    delete newcomer.spec!.nodeName;
    newcomer.spec!.nodeSelector = { "kubernetes.io/hostname": nodeName };
    newcomer.spec!.tolerations = [{ key: "virtual-kubelet.io/provider", operator: "Exists" }];
    await apply(ns, newcomer);

    // While it is down, no pod is deleted or replaced.
    while (Date.now() - downAt < 55_000) {
      const all = await listPods(ns);
      const waiting = all.find((pod) => pod.metadata?.name === "newcomer");
      assertEquals(
        waiting?.spec?.nodeName,
        undefined,
        "nothing new is scheduled during the outage",
      );
      const during = all.filter((pod) => pod.metadata?.name !== "newcomer");
      assertEquals(during.map((pod) => pod.metadata?.name).sort(), names);
      for (const pod of during) {
        assert(!pod.metadata?.deletionTimestamp, `${pod.metadata?.name} is being deleted`);
        assertEquals(pod.metadata?.uid, pods.get(pod.metadata!.name!)?.uid);
      }
      await new Promise((resolve) => setTimeout(resolve, 5_000));
    }
    // Before ZStack is back: the newcomer never gets this node.
    await kubectlResult(["delete", "pod", "newcomer", "-n", ns, "--grace-period=0", "--force"]);

    await waitFor(
      "ProviderAvailable again",
      async () => (await nodeCondition(nodeName, "ProviderAvailable"))?.status === "True",
      {
        timeoutMs: 40_000,
        intervalMs: 500,
      },
    );
    await waitFor("every pod Running again", async () => {
      const after = (await listPods(ns)).filter((pod) => pod.metadata?.name !== "newcomer");
      return after.length === 3 && after.every(isRunning);
    }, { timeoutMs: 30_000, intervalMs: 500 });
    const current = await snapshot(ns);
    current.delete("newcomer");
    assertEquals(current, pods, "same pods with the same IPs");
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
