/**
 * Plain pods (not VirtualMachines) on a ZStack node across outages longer than their
 * eviction timeout. The pods tolerate `unreachable`/`not-ready` for 10 s only (what the
 * DefaultTolerationSeconds admission plugin gives with 300 s, shortened here on the pods
 * themselves so that the test takes seconds; another Ready node keeps the node-lifecycle
 * controller out of its "all nodes down" mode, where it would evict nothing):
 *
 * - ZStack down for 30 s: the node stays Ready (only ProviderAvailable=False), so it is never
 *   tainted NoExecute and no pod is evicted;
 * - the agent down until the taint manager evicts the pods: when it returns, their VMs are
 *   destroyed but not expunged (`onEvictedPodDelete: destroy`), with a Warning event that says
 *   how to recover them;
 * - a clean stop logs out of ZStack (no session left open).
 */

import type { Event, Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import { kubectl, kubectlJson, kubectlResult, waitFor } from "../_harness/cluster.ts";
import { nodeCondition, startAgent, uniqueNodeName, waitForNodeReady } from "../_harness/agent.ts";
import { apply, waitRunning } from "../_harness/pods.ts";
import { stopAgent, vmPod, withZStackNode } from "../_harness/zstack.ts";

async function getPod(ns: string, name: string): Promise<Pod | undefined> {
  const result = await kubectlResult(["get", "pod", name, "-n", ns, "-o", "json"]);
  return result.code === 0 ? JSON.parse(result.stdout) as Pod : undefined;
}

async function noExecuteTaint(nodeName: string): Promise<boolean> {
  const taints = await kubectl(["get", "node", nodeName, "-o", "jsonpath={.spec.taints}"]);
  return taints.includes("NoExecute");
}

Deno.test({
  name:
    "zstack: outages past the eviction timeout: ZStack down evicts nothing; the agent down gets evicted pods' VMs a recoverable destroy, never an expunge; a clean stop logs out",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const bystanderName = uniqueNodeName("zs-evict-ready");
    const bystander = await startAgent({ nodeName: bystanderName });
    try {
      await waitForNodeReady(bystander);
      await withZStackNode("zs-evict", async (node) => {
        const { ns, nodeName, sim } = node;
        await node.start();
        const names = ["a", "b"];
        for (const name of names) {
          const pod = vmPod(name, nodeName);
          pod.spec!.tolerations = [
            { key: "virtual-kubelet.io/provider", operator: "Exists" },
            ...["unreachable", "not-ready"].map((what) => ({
              key: `node.kubernetes.io/${what}`,
              operator: "Exists",
              effect: "NoExecute",
              tolerationSeconds: 10,
            })),
          ];
          await apply(ns, pod);
        }
        for (const name of names) await waitRunning(ns, name, 60_000);
        const uids = new Map<string, string>();
        for (const name of names) uids.set(name, (await getPod(ns, name))!.metadata!.uid!);
        const vms = await node.vms();
        assertEquals(vms.length, 2);

        // ZStack away for three times the pods' eviction timeout: nothing happens to them.
        const down = sim.down(30_000);
        await waitFor(
          "ProviderAvailable=False",
          async () => (await nodeCondition(nodeName, "ProviderAvailable"))?.status === "False",
          {
            timeoutMs: 20_000,
          },
        );
        const started = Date.now();
        while (Date.now() - started < 20_000) {
          assertEquals((await nodeCondition(nodeName))?.status, "True", "the node stays Ready");
          assert(!(await noExecuteTaint(nodeName)), "never tainted NoExecute");
          for (const name of names) {
            const pod = await getPod(ns, name);
            assertEquals(pod?.metadata?.uid, uids.get(name), `${name} kept`);
            assertEquals(pod?.metadata?.deletionTimestamp, undefined, `${name} not evicted`);
          }
          await new Promise((resolve) => setTimeout(resolve, 2000));
        }
        await down;
        await waitFor(
          "ProviderAvailable again",
          async () => (await nodeCondition(nodeName, "ProviderAvailable"))?.status === "True",
          {
            timeoutMs: 30_000,
          },
        );
        assertEquals((await sim.stats()).apis["DestroyVmInstance"] ?? 0, 0, "no VM destroyed");

        // The agent away: the taint manager evicts the pods; their VMs ran all along.
        await node.agent!.kill();
        await waitFor("both pods evicted by the taint manager", async () => {
          for (const name of names) {
            const pod = await getPod(ns, name);
            const evicted = pod?.status?.conditions?.some((c) =>
              c.type === "DisruptionTarget" && c.reason === "DeletionByTaintManager"
            );
            if (pod && !(pod.metadata?.deletionTimestamp && evicted)) return false;
          }
          return true;
        }, { timeoutMs: 150_000, intervalMs: 2000 });
        await node.start();
        await waitFor("the evicted pods gone", async () => {
          for (const name of names) if (await getPod(ns, name)) return false;
          return true;
        }, { timeoutMs: 60_000 });
        const after = await sim.vms();
        for (const vm of vms) {
          const now = after.find((candidate) => candidate.uuid === vm.uuid);
          assertEquals(
            now?.state,
            "Destroyed",
            `VM ${vm.uuid} destroyed, recoverable, not expunged`,
          );
        }
        assertEquals((await sim.stats()).apis["ExpungeVmInstance"] ?? 0, 0, "nothing expunged");
        const events = await kubectlJson<{ items: Event[] }>([
          "get",
          "events",
          "-n",
          ns,
          "--field-selector",
          "reason=EvictedPodVMKept",
        ]);
        assertEquals(events.items.length, 2, "one Warning per evicted pod");
        assertStringIncludes(events.items[0].message ?? "", "RecoverVmInstance");
        assertStringIncludes(events.items[0].message ?? "", "DeletionByTaintManager");

        // A clean stop leaves no ZStack session behind (the killed agent's stays until it
        // times out: a kill -9 cannot log out).
        const sessions = (await sim.state()).sessions;
        assert(sessions >= 1, "the agent holds a session");
        await stopAgent(node.agent!);
        node.agent = undefined;
        assertEquals((await sim.state()).sessions, sessions - 1, "logged out on a clean stop");
      });
    } finally {
      await stopAgent(bystander);
      await kubectlResult(["delete", "node", bystanderName, "--wait=false"]);
    }
  },
});
