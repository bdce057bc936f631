/**
 * The vsphere provider end to end, as a user sees it with kubectl, against govmomi's vSphere
 * simulator as a separate process: a pod becomes a powered-on VM with its ownership in
 * extraConfig and the guest's IP in the pod; deleting the pod destroys the VM; a lone ESXi
 * host works the same; ended sessions are logged into again without the user noticing; a
 * kill -9 of the agent while 10 VMs are being cloned leaves exactly 10 VMs.
 *
 * The 60 s outage is in vsphere_outage_e2e_test.ts, the VM lifecycle in
 * vm_lifecycle_vsphere_e2e_test.ts.
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import { kubectl, kubectlJson, waitFor } from "../_harness/cluster.ts";
import { nodeCondition } from "../_harness/agent.ts";
import { apply, podExists, waitRunning } from "../_harness/pods.ts";
import { vspherePod, withVsphereNode } from "../_harness/vsphere.ts";

async function listPods(ns: string): Promise<Pod[]> {
  return (await kubectlJson<{ items: Pod[] }>(["get", "pods", "-n", ns])).items;
}

async function readyWithIp(ns: string, name: string, timeoutMs = 60_000): Promise<Pod> {
  let pod: Pod | undefined;
  await waitFor(`pod ${name} Ready with an IP`, async () => {
    pod = (await listPods(ns)).find((candidate) => candidate.metadata?.name === name);
    return pod?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ===
        true && !!pod.status?.podIP;
  }, { timeoutMs, intervalMs: 300 });
  return pod!;
}

Deno.test("vsphere: a pod becomes a powered-on VM owned by the node in extraConfig, with the guest's IP; delete destroys it", async () => {
  await withVsphereNode("vs-run", async (node) => {
    const { ns, nodeName, sim } = node;
    await node.start();
    await apply(ns, vspherePod("web", nodeName));
    const pod = await readyWithIp(ns, "web");
    const uid = pod.metadata!.uid!;

    const vms = await node.vms();
    assertEquals(vms.length, 1, "one VM for the node");
    const [vm] = vms;
    assertEquals(vm.name, `vkedge-${ns}.web`);
    assertEquals(vm.powerState, "poweredOn");
    assertEquals([vm.cpu, vm.memoryMB], [1, 256]);
    for (
      const [key, value] of [
        ["guestinfo.vkedge.cluster", "e2e"],
        ["guestinfo.vkedge.node", `e2e/${nodeName}`],
        ["guestinfo.vkedge.namespace", ns],
        ["guestinfo.vkedge.pod", "web"],
        ["guestinfo.vkedge.uid", uid],
        ["guestinfo.vkedge.pod-uid", uid],
        ["guestinfo.userdata.encoding", "base64"],
      ]
    ) {
      assertEquals(vm.extraConfig[key], value, `extraConfig ${key}`);
    }
    assertStringIncludes(atob(vm.extraConfig["guestinfo.userdata"]), "#cloud-config");
    assertEquals(pod.status?.podIP, vm.ip, "the pod shows the IP VMware Tools report");
    assertEquals(pod.status?.containerStatuses?.[0]?.ready, true);

    const logs = await kubectl(["logs", "web", "-n", ns]);
    assertStringIncludes(logs, "create requested: template cirros, 1 vCPU, 256 MiB");
    assertStringIncludes(logs, `VM vkedge-${ns}.web (${vm.ref}) poweredOn on host ${vm.host}`);
    const templates = (await sim.state()).vms.filter((candidate) => candidate.template);
    assertEquals(templates.map((t) => t.name).sort(), ["cirros", "ubuntu-22.04"]);

    await kubectl(["delete", "pod", "web", "-n", ns, "--timeout=60s"]);
    assertEquals(await podExists(ns, "web"), false);
    assertEquals(await node.vms(), [], "the VM is destroyed");
    assertEquals((await sim.state()).vms.filter((c) => c.template).length, 2, "templates stay");
  });
});

Deno.test("vsphere: a lone ESXi host (-esx) runs pods the same way (the node shows ESXi as its OS image)", async () => {
  await withVsphereNode("vs-esx", async (node) => {
    const { ns, nodeName, sim } = node;
    assertEquals(sim.apiType, "HostAgent");
    await node.start();
    await apply(ns, vspherePod("solo", nodeName));
    const pod = await readyWithIp(ns, "solo");
    const [vm] = await node.vms();
    assertEquals(vm.powerState, "poweredOn");
    assertEquals(pod.status?.podIP, vm.ip);
    const described = await kubectl([
      "get",
      "node",
      nodeName,
      "-o",
      "jsonpath={.status.nodeInfo.osImage}",
    ]);
    assertStringIncludes(described, "ESX");
    await kubectl(["delete", "pod", "solo", "-n", ns, "--timeout=60s"]);
    assertEquals(await node.vms(), []);
  }, { sim: { esx: true } });
});

Deno.test("vsphere: sessions ended under the agent (TerminateSession, as an administrator would) are invisible: pods keep being created and deleted", async () => {
  await withVsphereNode("vs-session", async (node) => {
    const { ns, nodeName, sim } = node;
    await node.start();
    await apply(ns, vspherePod("one", nodeName));
    await readyWithIp(ns, "one");
    const before = (await sim.stats()).calls.Login ?? 0;
    assert((await sim.terminateSessions()) >= 1, "the agent's session was ended");
    await apply(ns, vspherePod("two", nodeName));
    await readyWithIp(ns, "two");
    await kubectl(["delete", "pod", "one", "-n", ns, "--timeout=60s"]);
    assertEquals((await node.vms()).map((vm) => vm.name), [`vkedge-${ns}.two`]);
    const logins = (await sim.stats()).calls.Login ?? 0;
    assert(logins > before, `logged in again after the session ended (${before} → ${logins})`);
    assertEquals(
      (await nodeCondition(nodeName))?.status,
      "True",
      "the node stayed Ready",
    );
    const warnings = (await kubectlJson<{ items: { type: string; reason: string }[] }>([
      "get",
      "events",
      "-n",
      ns,
    ])).items.filter((event) => event.type === "Warning");
    assertEquals(warnings, [], "no warning reached the user");
  });
});

Deno.test("vsphere: kill -9 of the agent while 10 VMs are being cloned, then a restart: exactly 10 VMs, all running", async () => {
  await withVsphereNode("vs-kill", async (node) => {
    const { ns, nodeName } = node;
    await node.start();
    const names = Array.from({ length: 10 }, (_, i) => `vm-${i}`);
    for (const name of names) await apply(ns, vspherePod(name, nodeName));
    await waitFor("clones under way", async () => {
      const { calls } = await node.sim.stats();
      return (calls.CloneVM_Task ?? 0) >= 5;
    }, { timeoutMs: 30_000, intervalMs: 100 });
    await node.agent!.kill();
    await node.start();
    for (const name of names) await waitRunning(ns, name, 120_000);
    await waitFor("10 VMs powered on", async () => {
      const vms = await node.vms();
      return vms.length === 10 && vms.every((vm) => vm.powerState === "poweredOn");
    }, { timeoutMs: 60_000, intervalMs: 500 });
    const vms = await node.vms();
    assertEquals(
      vms.map((vm) => vm.name).sort(),
      names.map((name) => `vkedge-${ns}.${name}`).sort(),
    );
    const pods = await listPods(ns);
    for (const pod of pods) {
      const vm = vms.find((candidate) =>
        candidate.extraConfig["guestinfo.vkedge.pod"] === pod.metadata?.name
      );
      assertEquals(vm?.extraConfig["guestinfo.vkedge.uid"], pod.metadata?.uid);
    }
  }, { sim: { taskDelayMs: 1500, hostCpuCores: 8, hostMemoryMiB: 16384 } });
});
