/**
 * A VirtualMachine's VM survives its agent being away for longer than the node's eviction
 * timeout. With the agent killed, the node-lifecycle controller marks the node unreachable
 * and taints it `node.kubernetes.io/unreachable:NoExecute`; the taint manager then evicts
 * every pod whose toleration runs out. The default is 300 s (DefaultTolerationSeconds);
 * the test shortens it for a control pod by giving it the same toleration with
 * `tolerationSeconds: 10`, which is what the admission plugin would have added, so that
 * the eviction is seen to happen on this cluster within the test. VM-Pods tolerate the
 * taint with no limit, so they are never evicted; a VM-Pod force-deleted meanwhile is
 * made again when the agent returns, for the same VM. Another Ready node (a mock agent)
 * is in the cluster throughout: with every node unreachable the node-lifecycle controller
 * would evict nothing and hide a defect.
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals } from "./../_harness/assert.ts";
import { kubectl, kubectlJson, kubectlResult, waitFor } from "../_harness/cluster.ts";
import { startAgent, uniqueNodeName, waitForNodeReady } from "../_harness/agent.ts";
import { stopAgent, vmPod, withZStackNode } from "../_harness/zstack.ts";
import { apply, waitRunning } from "../_harness/pods.ts";

interface VmObject {
  metadata: { uid: string };
  status?: { vmId?: string; printableStatus?: string; ready?: boolean };
}

async function getVm(ns: string, name: string): Promise<VmObject> {
  return await kubectlJson<VmObject>(["get", "vm", name, "-n", ns]);
}

async function getPod(ns: string, name: string): Promise<Pod | undefined> {
  const result = await kubectlResult(["get", "pod", name, "-n", ns, "-o", "json"]);
  return result.code === 0 ? JSON.parse(result.stdout) as Pod : undefined;
}

Deno.test({
  name:
    "VirtualMachines keep their VMs (same uuid, nothing re-created) when the agent is away for longer than the eviction timeout",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const bystanderName = uniqueNodeName("vm-evict-ready");
    const bystander = await startAgent({ nodeName: bystanderName });
    try {
      await waitForNodeReady(bystander);
      await withZStackNode("vm-evict", async (node) => {
        const { ns, nodeName, sim } = node;
        await node.start();
        for (const name of ["left-alone", "force-deleted"]) {
          await kubectl(["apply", "-n", ns, "-f", "-"], {
            stdin: JSON.stringify({
              apiVersion: "vkedge.io/v1alpha1",
              kind: "VirtualMachine",
              metadata: { name },
              spec: { nodeName, image: "zstack/cirros", cpu: 1, memory: "512Mi" },
            }),
          });
        }
        const control = vmPod("control", nodeName);
        control.spec!.tolerations = [
          { key: "virtual-kubelet.io/provider", operator: "Exists" },
          {
            key: "node.kubernetes.io/unreachable",
            operator: "Exists",
            effect: "NoExecute",
            tolerationSeconds: 10,
          },
        ];
        await apply(ns, control);
        await waitRunning(ns, "control", 60_000);
        const before = new Map<string, { vmId: string; podUid: string }>();
        await waitFor("both VirtualMachines Running", async () => {
          for (const name of ["left-alone", "force-deleted"]) {
            const vm = await getVm(ns, name);
            const pod = await getPod(ns, name);
            if (vm.status?.printableStatus !== "Running" || !vm.status.vmId || !pod) return false;
            before.set(name, { vmId: vm.status.vmId, podUid: pod.metadata!.uid! });
          }
          return true;
        }, { timeoutMs: 90_000 });
        const tolerations = (await getPod(ns, "left-alone"))!.spec!.tolerations ?? [];
        for (const key of ["node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready"]) {
          const toleration = tolerations.find((t) => t.key === key && t.effect === "NoExecute");
          assert(toleration, `the VM-Pod tolerates ${key}`);
          assertEquals(toleration.tolerationSeconds, undefined, `${key} without a time limit`);
        }
        const created = (await sim.stats()).apis["CreateVmInstance"] ?? 0;

        await node.agent!.kill();
        await waitFor("the node tainted unreachable:NoExecute", async () => {
          const taints = await kubectl(["get", "node", nodeName, "-o", "jsonpath={.spec.taints}"]);
          return taints.includes("node.kubernetes.io/unreachable") && taints.includes("NoExecute");
        }, { timeoutMs: 150_000, intervalMs: 2000 });
        await waitFor("the control pod evicted by the taint manager", async () => {
          const pod = await getPod(ns, "control");
          return pod === undefined || pod.metadata?.deletionTimestamp !== undefined;
        }, { timeoutMs: 60_000, intervalMs: 1000 });
        // Well past the control pod's eviction: nothing may have touched the VM-Pods.
        await new Promise((resolve) => setTimeout(resolve, 10_000));
        const alone = await getPod(ns, "left-alone");
        assertEquals(alone?.metadata?.uid, before.get("left-alone")!.podUid, "not evicted");
        assertEquals(alone?.metadata?.deletionTimestamp, undefined, "not being deleted");
        await kubectl(["delete", "pod", "force-deleted", "-n", ns, "--force", "--grace-period=0"]);

        await node.start();
        await waitFor("both VirtualMachines Running again", async () => {
          for (const name of ["left-alone", "force-deleted"]) {
            const vm = await getVm(ns, name);
            if (vm.status?.printableStatus !== "Running" || !vm.status.ready) return false;
          }
          return true;
        }, { timeoutMs: 120_000 });
        for (const name of ["left-alone", "force-deleted"]) {
          const vm = await getVm(ns, name);
          assertEquals(vm.status?.vmId, before.get(name)!.vmId, `${name}: the same VM`);
          const iaas = (await sim.vms()).find((candidate) => candidate.uuid === vm.status?.vmId);
          assertEquals(iaas?.state, "Running", `${name}: the VM kept running in ZStack`);
        }
        assertEquals(
          (await getPod(ns, "left-alone"))?.metadata?.uid,
          before.get("left-alone")!.podUid,
          "the VM-Pod left alone is the same pod",
        );
        assert(
          (await getPod(ns, "force-deleted"))?.metadata?.uid !==
            before.get("force-deleted")!.podUid,
          "the force-deleted VM-Pod was made again",
        );
        assertEquals(
          (await sim.stats()).apis["CreateVmInstance"] ?? 0,
          created,
          "no VM created since",
        );
        await kubectlResult(["delete", "vm", "--all", "-n", ns, "--timeout=60s"]);
      }, { extraArgs: ["--install-crds"] });
    } finally {
      await stopAgent(bystander);
      await kubectlResult(["delete", "node", bystanderName, "--wait=false"]);
    }
  },
});
