/**
 * The vsphere provider while vSphere is down, against govmomi's simulator as a separate
 * process frozen with SIGSTOP (connections hang, as with a vCenter that stopped answering):
 * a minute without vSphere keeps the node Ready with ProviderAvailable=False naming vsphere
 * and the endpoint and the NoSchedule taint, deletes nothing, and everything recovers with
 * the same VMs. In a file of its
 * own because it takes over a minute, so that it runs in parallel with the others.
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import { kubectlJson, waitFor } from "../_harness/cluster.ts";
import { nodeCondition } from "../_harness/agent.ts";
import { apply, waitRunning } from "../_harness/pods.ts";
import { vspherePod, withVsphereNode } from "../_harness/vsphere.ts";

async function listPods(ns: string): Promise<Pod[]> {
  return (await kubectlJson<{ items: Pod[] }>(["get", "pods", "-n", ns])).items;
}

Deno.test("vsphere: the simulator frozen for 60 s: node Ready, ProviderAvailable=False naming vsphere, NoSchedule, nothing deleted, then all recovers", async () => {
  await withVsphereNode("vs-outage", async (node) => {
    const { ns, nodeName, sim } = node;
    await node.start();
    const names = ["vm-0", "vm-1", "vm-2"];
    for (const name of names) await apply(ns, vspherePod(name, nodeName));
    for (const name of names) await waitRunning(ns, name, 60_000);
    const uids = new Map(
      (await listPods(ns)).map((pod) => [pod.metadata!.name!, pod.metadata!.uid]),
    );
    const refs = (await node.vms()).map((vm) => vm.ref).sort();
    assertEquals(refs.length, 3);

    const downAt = Date.now();
    sim.pause();
    try {
      await waitFor("ProviderAvailable=False naming vsphere", async () => {
        const available = await nodeCondition(nodeName, "ProviderAvailable");
        return available?.status === "False" && available.reason === "VsphereProviderUnreachable";
      }, { timeoutMs: 30_000, intervalMs: 500 });
      const available = await nodeCondition(nodeName, "ProviderAvailable");
      assertStringIncludes(available?.message ?? "", sim.url);
      assertEquals((await nodeCondition(nodeName))?.status, "True", "the node stays Ready");
      await waitFor("the NoSchedule taint", async () => {
        const described = await kubectlJson<
          { spec?: { taints?: { key: string; effect: string }[] } }
        >(["get", "node", nodeName]);
        return described.spec?.taints?.some((t) =>
          t.key === "vkedge.io/provider-unavailable" && t.effect === "NoSchedule"
        ) ?? false;
      }, { timeoutMs: 20_000, intervalMs: 500 });
      while (Date.now() - downAt < 60_000) {
        const during = await listPods(ns);
        assertEquals(during.map((pod) => pod.metadata?.name).sort(), names);
        for (const pod of during) {
          assert(!pod.metadata?.deletionTimestamp, `${pod.metadata?.name} is being deleted`);
          assertEquals(pod.metadata?.uid, uids.get(pod.metadata!.name!));
        }
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
    } finally {
      sim.resume();
    }

    await waitFor(
      "node Ready again",
      async () => (await nodeCondition(nodeName))?.status === "True",
      {
        timeoutMs: 60_000,
        intervalMs: 500,
      },
    );
    for (const name of names) await waitRunning(ns, name, 60_000);
    assertEquals((await node.vms()).map((vm) => vm.ref).sort(), refs, "the same VMs");
    const after = await listPods(ns);
    assertEquals(after.map((pod) => pod.metadata?.uid).sort(), [...uids.values()].sort());
    await apply(ns, vspherePod("vm-3", nodeName));
    await waitRunning(ns, "vm-3", 60_000);
  });
});
