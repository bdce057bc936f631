/**
 * The zstack provider end to end, as a user sees it with kubectl, against the ZStack
 * simulator running as a separate process: a pod becomes a tagged, running VM whose IP
 * the pod shows; deleting the pod destroys and expunges the VM; spec changes ZStack can
 * take are applied and the others are refused with a reason; pods ZStack cannot run say
 * why and leave no VM behind; expired sessions are renewed without the user noticing.
 *
 * Agent restarts are in zstack_restart_e2e_test.ts, the management node outage in
 * zstack_outage_e2e_test.ts.
 */

import type { Event, Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import { kubectl, kubectlJson, waitFor } from "../_harness/cluster.ts";
import { nodeCondition } from "../_harness/agent.ts";
import {
  apply,
  getPod,
  isRunning,
  podEvents,
  podExists,
  waitForEvent,
  waitRunning,
} from "../_harness/pods.ts";
import { defaultNicIp, vmPod, withZStackNode } from "../_harness/zstack.ts";
import { decodePodSpec, vmUuidForPod } from "../../providers/zstack/mapping.ts";

async function listPods(ns: string): Promise<Pod[]> {
  return (await kubectlJson<{ items: Pod[] }>(["get", "pods", "-n", ns])).items;
}

async function warnings(ns: string): Promise<Event[]> {
  const list = await kubectlJson<{ items: Event[] }>(["get", "events", "-n", ns]);
  return list.items.filter((event) => event.type === "Warning");
}

Deno.test("zstack: a pod becomes a running VM tagged for the node, with the VM's IP", async () => {
  await withZStackNode("zs-run", async (node) => {
    const { ns, nodeName } = node;
    await node.start();
    await apply(ns, vmPod("web", nodeName));
    const pod = await waitRunning(ns, "web");
    const uid = pod.metadata!.uid!;

    const vms = await node.vms();
    assertEquals(vms.length, 1, "one VM for the node");
    const [vm] = vms;
    assertEquals(vm.uuid, await vmUuidForPod(uid));
    assertEquals(vm.state, "Running");
    assertEquals(vm.name, `vkedge-${ns}.web`);
    for (
      const tag of [
        "vkedge.io/cluster:e2e",
        `vkedge.io/node:e2e/${nodeName}`,
        `vkedge.io/namespace:${ns}`,
        "vkedge.io/pod:web",
        `vkedge.io/pod-uid:${uid}`,
      ]
    ) {
      assert(vm.userTags.includes(tag), `tag ${tag} in ${vm.userTags.join(", ")}`);
    }
    const { hosts, images } = await node.sim.state();
    assertEquals(vm.imageUuid, images.find((image) => image.name === "cirros")?.uuid);

    assertEquals(pod.spec?.nodeName, nodeName);
    assertEquals(pod.status?.podIP, defaultNicIp(vm));
    assert(pod.status?.podIP, "the pod has an IP");
    const host = hosts.find((candidate) => candidate.uuid === vm.hostUuid);
    assert(host, `host ${vm.hostUuid} of the VM`);
    assertEquals(pod.status?.hostIP, host.managementIp);
    assertEquals(pod.status?.containerStatuses?.[0]?.name, "vm");
    assertEquals(pod.status?.containerStatuses?.[0]?.ready, true);
    assertEquals(pod.status?.containerStatuses?.[0]?.containerID, `zstack://${vm.uuid}`);

    const created = await waitForEvent(ns, "web", "ProviderCreateSuccess");
    assertEquals(created.type, "Normal");
    assertEquals(await warnings(ns), []);
  });
});

Deno.test("zstack: deleting the pod destroys and expunges its VM", async () => {
  await withZStackNode("zs-del", async (node) => {
    const { ns, nodeName } = node;
    await node.start();
    await apply(ns, vmPod("web", nodeName));
    await waitRunning(ns, "web");
    const [vm] = await node.vms();
    assert(vm, "a VM for the pod");

    await kubectl(["delete", "pod", "web", "-n", ns, "--wait=false"]);
    await waitFor("the pod gone", async () => !(await podExists(ns, "web")));
    const state = await node.sim.state();
    assertEquals(state.vms.filter((candidate) => candidate.uuid === vm.uuid), [], "expunged");
    assertEquals(state.tags.filter((tag) => tag.resourceUuid === vm.uuid), [], "no tags left");
    assertEquals(await node.vms(), []);
    const { apis } = await node.sim.stats();
    assertEquals([apis["DestroyVmInstance"], apis["ExpungeVmInstance"]], [1, 1]);
    const deleted = await waitForEvent(ns, "web", "ProviderDeleteSuccess");
    assertEquals(deleted.type, "Normal");
    assertEquals(await warnings(ns), [], "vkedge destroying the VM is no surprise");
  }, { sim: { jobDurationMs: 400 } }); // slow enough for status polls during the destroy
});

Deno.test("zstack: a label change is recorded on the VM; an image change is refused with the reason", async () => {
  await withZStackNode("zs-upd", async (node) => {
    const { ns, nodeName } = node;
    await node.start();
    await apply(ns, vmPod("web", nodeName, { labels: { tier: "a" } }));
    const before = await waitRunning(ns, "web");
    const [vm] = await node.vms();

    await kubectl(["label", "pod", "web", "-n", ns, "tier=b", "--overwrite"]);
    const updated = await waitForEvent(ns, "web", "ProviderUpdateSuccess");
    assertEquals(updated.type, "Normal");
    await waitFor("the new label in the VM's description", async () => {
      const [current] = await node.vms();
      return (await decodePodSpec(current?.description))?.labels?.tier === "b";
    });
    assertEquals((await node.vms()).map((current) => [current.uuid, current.state]), [
      [vm.uuid, "Running"],
    ]);

    await kubectl(["set", "image", "-n", ns, "pod/web", "vm=zstack/ubuntu-22.04"]);
    const refused = await waitForEvent(ns, "web", "ProviderUpdateFailed");
    assertEquals(refused.type, "Warning");
    assertStringIncludes(refused.message ?? "", "a new image needs a new VM");
    assertStringIncludes(refused.message ?? "", "zstack/ubuntu-22.04");
    await waitFor("the pod saying why", async () => {
      const pod = await getPod(ns, "web");
      return pod.status?.reason === "ProviderFailed" &&
        (pod.status.message ?? "").includes("a new image needs a new VM");
    });

    // The VM is untouched: same uuid, image and IP, still running.
    const after = await node.vms();
    assertEquals(after.map((current) => [current.uuid, current.state, current.imageUuid]), [
      [vm.uuid, "Running", vm.imageUuid],
    ]);
    const pod = await getPod(ns, "web");
    assertEquals(pod.metadata?.uid, before.metadata?.uid);
    assertEquals(pod.status?.podIP, before.status?.podIP);
    assertEquals(
      (await podEvents(ns, "web")).filter((event) => event.reason === "ProviderCreateSuccess")
        .length,
      1,
    );

    // Back to the VM's image: the pod is Running and Ready again, on the same VM.
    await kubectl(["set", "image", "-n", ns, "pod/web", "vm=zstack/cirros"]);
    const reverted = await waitRunning(ns, "web");
    assertEquals(reverted.status?.reason, undefined);
    assertEquals(reverted.status?.message, undefined);
    const readyCondition = reverted.status?.conditions?.find((condition) =>
      condition.type === "Ready"
    );
    assertEquals([readyCondition?.reason, readyCondition?.message], [undefined, undefined]);
    assertEquals(reverted.status?.podIP, before.status?.podIP);
    assertEquals((await node.vms()).map((current) => current.uuid), [vm.uuid]);
  });
});

Deno.test("zstack: pods ZStack cannot run get a Warning event and a status saying why, and leave no VM", async () => {
  await withZStackNode("zs-bad", async (node) => {
    const { ns, nodeName } = node;
    await node.start();
    const twoContainers = vmPod("two-containers", nodeName);
    twoContainers.spec!.containers.push({ name: "sidecar", image: "zstack/cirros" });
    const cases = [
      {
        pod: vmPod("bad-image", nodeName, { image: "zstack/no-such-image" }),
        why: 'expected one image named "no-such-image", found 0',
      },
      {
        pod: vmPod("bad-l3", nodeName, {
          annotations: { "zstack.vkedge.io/l3-networks": "no-such-l3" },
        }),
        why: 'expected one L3 network named "no-such-l3", found 0',
      },
      {
        // Fits the node (two hosts of 16 CPUs) but no single host.
        pod: vmPod("too-large", nodeName, {
          container: { resources: { limits: { cpu: "20", memory: "1Gi" } } },
        }),
        why: "no host having cpu[20]",
      },
      {
        pod: twoContainers,
        why: "expected exactly one container (one VM per pod), found 2",
      },
    ];
    for (const { pod } of cases) await apply(ns, pod);
    await apply(ns, vmPod("good", nodeName));

    for (const { pod, why } of cases) {
      const name = pod.metadata!.name!;
      const event = await waitForEvent(ns, name, "ProviderCreateFailed");
      assertEquals(event.type, "Warning", name);
      assertStringIncludes(event.message ?? "", why, name);
      await waitFor(`${name} saying why`, async () => {
        const current = await getPod(ns, name);
        return current.status?.reason === "ProviderFailed" &&
          (current.status.message ?? "").includes(why);
      });
      const current = await getPod(ns, name);
      assertEquals(current.status?.phase, "Pending", name);
      assertEquals(
        current.status?.conditions?.find((condition) => condition.type === "Ready")?.status,
        "False",
        name,
      );
    }
    const good = await waitRunning(ns, "good");

    // Only the good pod has a VM, in the node's view and in ZStack as a whole.
    const vms = await node.vms();
    assertEquals(vms.map((vm) => vm.podKey), [`${ns}/good`]);
    assertEquals(vms[0].podUid, good.metadata?.uid);
    assertEquals((await node.sim.vms()).map((vm) => vm.uuid), [vms[0].uuid]);
    for (const { pod } of cases) {
      assertEquals(
        (await podEvents(ns, pod.metadata!.name!)).filter((event) =>
          event.reason === "ProviderCreateSuccess"
        ),
        [],
      );
    }
  });
});

Deno.test("zstack: expired sessions are invisible: pods stay Running, new pods run, no warnings", async () => {
  await withZStackNode("zs-session", async (node) => {
    const { ns, nodeName, sim } = node;
    await node.start();
    await apply(ns, vmPod("before", nodeName));
    const before = await waitRunning(ns, "before");
    const logins = (await sim.stats()).apis["LogInByAccount"] ?? 0;
    assert(logins >= 1, "the agent logged in");

    // Expire every session while a VM is being created (its job still running).
    await apply(ns, vmPod("during", nodeName));
    await waitFor("the VM of 'during' booting", async () => {
      return (await node.vms()).some((vm) => vm.podKey === `${ns}/during`);
    }, { intervalMs: 50 });
    await sim.faults({ expireSessions: true });
    await waitRunning(ns, "during");
    await apply(ns, vmPod("after", nodeName));
    await waitRunning(ns, "after");
    assert(((await sim.stats()).apis["LogInByAccount"] ?? 0) > logins, "a new login");

    // A few status polls later every pod is still as it was.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const pods = await listPods(ns);
    assertEquals(pods.map((pod) => [pod.metadata?.name, isRunning(pod)]).sort(), [
      ["after", true],
      ["before", true],
      ["during", true],
    ]);
    const still = pods.find((pod) => pod.metadata?.name === "before");
    assertEquals(still?.metadata?.uid, before.metadata?.uid);
    assertEquals(still?.status?.podIP, before.status?.podIP);
    assertEquals((await nodeCondition(nodeName))?.status, "True");
    const vms = await node.vms();
    assertEquals(
      vms.map((vm) => vm.podKey).sort(),
      ["after", "before", "during"].map((name) => `${ns}/${name}`),
    );
    for (const vm of vms) assertEquals(vm.state, "Running", vm.podKey);
    assertEquals(await warnings(ns), []);
  }, { sim: { vmBootMs: 1500 } });
});
