/**
 * The zstack provider across agent restarts, against the ZStack simulator as a separate
 * process: VMs outlive the agent, so an agent killed with SIGKILL in the middle of
 * creating pods and started again must end with exactly one VM per pod (the VM uuid comes
 * from the pod UID), and VMs of pods deleted while no agent ran are destroyed and
 * expunged when it starts.
 */

import type { Event, Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals } from "../_harness/assert.ts";
import { kubectl, kubectlJson, waitFor } from "../_harness/cluster.ts";
import { apply, getPod, isRunning, podExists, waitRunning } from "../_harness/pods.ts";
import { type TaggedVm, vmPod, withZStackNode } from "../_harness/zstack.ts";
import { vmUuidForPod } from "../../providers/zstack/mapping.ts";

async function warnings(ns: string): Promise<Event[]> {
  const list = await kubectlJson<{ items: Event[] }>(["get", "events", "-n", ns]);
  return list.items.filter((event) => event.type === "Warning");
}

async function listPods(ns: string): Promise<Pod[]> {
  return (await kubectlJson<{ items: Pod[] }>(["get", "pods", "-n", ns])).items;
}

function byPodKey(vms: TaggedVm[]): Map<string, TaggedVm> {
  return new Map(vms.map((vm) => [vm.podKey ?? "", vm]));
}

Deno.test("zstack: kill -9 while 20 pods are being created, then restart: one VM per pod, all Running, none leaked", async () => {
  await withZStackNode("zs-kill", async (node) => {
    const { ns, nodeName } = node;
    const first = await node.start();
    const names = Array.from({ length: 20 }, (_, index) => `vm-${index}`);
    await kubectl(["apply", "-n", ns, "-f", "-"], {
      stdin: JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: names.map((name) => vmPod(name, nodeName)),
      }),
    });

    // Kill as soon as a few VMs exist, while most are still being created or booting.
    await waitFor("a few VMs", async () => (await node.vms()).length >= 3, {
      timeoutMs: 60_000,
      intervalMs: 50,
    });
    await first.kill();
    const atKill = await node.vms();
    const runningAtKill = (await listPods(ns)).filter(isRunning).length;
    const runningVmsAtKill = atKill.filter((vm) => vm.state === "Running").length;
    assert(
      runningAtKill < 20 && runningVmsAtKill < 20,
      `the kill came too late: ${atKill.length} VMs, ${runningAtKill} pods Running`,
    );

    await node.start();
    await waitFor("20 pods Running", async () => {
      const pods = await listPods(ns);
      return pods.length === 20 && pods.every(isRunning);
    }, { timeoutMs: 120_000, intervalMs: 1000 });

    const pods = await listPods(ns);
    const vms = await node.vms();
    assertEquals(vms.length, 20, "exactly 20 VMs tagged for the node");
    assertEquals(new Set(vms.map((vm) => vm.podUid)).size, 20, "one VM per pod UID");
    assertEquals(
      new Set(vms.map((vm) => vm.podUid)),
      new Set(pods.map((pod) => pod.metadata?.uid)),
      "the VMs serve exactly the pods",
    );
    for (const vm of vms) {
      assertEquals(vm.uuid, await vmUuidForPod(vm.podUid ?? ""));
      assertEquals(vm.state, "Running", vm.podKey);
    }
    const vmsByKey = byPodKey(vms);
    for (const pod of pods) {
      const vm = vmsByKey.get(`${ns}/${pod.metadata?.name}`);
      assert(vm, `a VM for ${pod.metadata?.name}`);
      assertEquals(pod.status?.podIP, vm.vmNics[0]?.ip, pod.metadata?.name);
    }
    assertEquals((await node.sim.vms()).length, 20, "no VM outside the node's");
    for (const vm of atKill) assert(vmsByKey.get(vm.podKey ?? "")?.uuid === vm.uuid, vm.podKey);
    assertEquals(await warnings(ns), []);

    await kubectl(["delete", "pods", "--all", "-n", ns, "--wait=false"]);
    await waitFor("every pod gone", async () => (await listPods(ns)).length === 0, {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    assertEquals(await node.sim.vms(), [], "every VM destroyed and expunged");
  }, { sim: { vmBootMs: 2000 } });
});

Deno.test("zstack: VMs of pods deleted while the agent was down are destroyed and expunged on start", async () => {
  await withZStackNode("zs-down-del", async (node) => {
    const { ns, nodeName } = node;
    const first = await node.start();
    for (const name of ["keep", "forced", "graceful"]) await apply(ns, vmPod(name, nodeName));
    const keep = await waitRunning(ns, "keep");
    await waitRunning(ns, "forced");
    await waitRunning(ns, "graceful");
    const before = byPodKey(await node.vms());
    assertEquals(before.size, 3);

    await first.kill();
    await kubectl(["delete", "pod", "forced", "-n", ns, "--grace-period=0", "--force"]);
    await kubectl(["delete", "pod", "graceful", "-n", ns, "--wait=false"]);
    assert(!(await podExists(ns, "forced")));
    assert((await getPod(ns, "graceful")).metadata?.deletionTimestamp, "Terminating");
    assertEquals((await node.vms()).length, 3, "no agent, no change in ZStack");

    await node.start();
    await waitFor("the Terminating pod gone", async () => !(await podExists(ns, "graceful")));
    await waitFor("the two VMs expunged", async () => (await node.sim.vms()).length === 1, {
      timeoutMs: 30_000,
    });
    const [kept] = await node.sim.vms();
    assertEquals(kept.uuid, before.get(`${ns}/keep`)?.uuid);
    assertEquals(kept.state, "Running");
    const after = await getPod(ns, "keep");
    assert(isRunning(after));
    assertEquals(after.metadata?.uid, keep.metadata?.uid);
    assertEquals(after.status?.podIP, keep.status?.podIP);
    assertEquals(await warnings(ns), []);
    const state = await node.sim.state();
    for (const name of ["forced", "graceful"]) {
      const uuid = before.get(`${ns}/${name}`)?.uuid;
      assertEquals(state.tags.filter((tag) => tag.resourceUuid === uuid), [], name);
    }
  });
});
