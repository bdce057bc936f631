/**
 * The zstack provider keys a VM by its workload UID: a VM-Pod re-created for the same
 * VirtualMachine (a new pod UID, maybe a new name) adopts the VM instead of making a
 * second one, and the provider's pod follows the new pod object, also after a restart.
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { assertEquals } from "../../_harness/assert.ts";
import {
  WORKLOAD_NAME_ANNOTATION,
  WORKLOAD_UID_ANNOTATION,
  workloadUid,
} from "../../../lib/provider_kit/mod.ts";
import { eventually, podOf, providerFor, signal, withSimulator } from "./_sim_harness.ts";

function vmPod(name: string, vmUid: string): Pod {
  const pod = podOf(name);
  pod.metadata!.annotations = {
    ...pod.metadata!.annotations,
    [WORKLOAD_UID_ANNOTATION]: vmUid,
    [WORKLOAD_NAME_ANNOTATION]: "db",
  };
  return pod;
}

function withUid(pod: Pod): Pod {
  return { ...pod, metadata: { ...pod.metadata, uid: crypto.randomUUID() } };
}

Deno.test("a VM-Pod re-created under a new pod UID adopts the same VM, and updatePod rebinds to the next UID", async () => {
  await withSimulator(async (sim) => {
    const vmUid = crypto.randomUUID();
    const vmUuid = vmUid.replaceAll("-", "");
    const first = providerFor(sim);
    const again = withUid(vmPod("vm-db", vmUid));
    const rebound = withUid(again);
    try {
      const original = vmPod("vm-db", vmUid);
      await first.provider.createPod(original, signal);
      assertEquals(sim.vms().map((vm) => vm.uuid), [vmUuid]);

      await first.provider.createPod(again, signal);
      assertEquals(sim.vms().map((vm) => vm.uuid), [vmUuid]);
      const adopted = await first.provider.getPod("default", "vm-db", signal);
      assertEquals(adopted?.metadata?.uid, again.metadata?.uid);
      assertEquals(workloadUid(adopted!), vmUid);
      assertEquals(adopted?.status?.phase, "Running");

      await first.provider.updatePod(rebound, signal);
      const updated = await first.provider.getPod("default", "vm-db", signal);
      assertEquals(updated?.metadata?.uid, rebound.metadata?.uid);
      await eventually(
        "a notification with the new UID",
        () => first.updates.find((update) => update.metadata?.uid === rebound.metadata?.uid),
      );
    } finally {
      first.stop.abort();
    }
    const second = providerFor(sim);
    try {
      const [listed] = await second.provider.getPods(signal);
      assertEquals([listed.metadata?.name, listed.metadata?.uid], ["vm-db", rebound.metadata?.uid]);
      assertEquals(workloadUid(listed), vmUid);
      const tags = sim.tags().filter((tag) => tag.resourceUuid === vmUuid).map((tag) => tag.tag);
      assertEquals(tags.filter((tag) => tag.startsWith("vkedge.io/pod-uid:")), [
        `vkedge.io/pod-uid:${vmUid}`,
      ]);
    } finally {
      second.stop.abort();
    }
  });
});

Deno.test("a VM-Pod re-created under another name adopts the VM and moves its pod tag and VM name", async () => {
  await withSimulator(async (sim) => {
    const vmUid = crypto.randomUUID();
    const vmUuid = vmUid.replaceAll("-", "");
    const first = providerFor(sim);
    try {
      await first.provider.createPod(vmPod("vm-db-a", vmUid), signal);
      await first.provider.createPod(vmPod("vm-db-b", vmUid), signal);
      assertEquals(sim.vms().map((vm) => [vm.uuid, vm.name]), [[vmUuid, "vkedge-default.vm-db-b"]]);
      assertEquals(await first.provider.getPod("default", "vm-db-a", signal), undefined);
      assertEquals(
        (await first.provider.getPod("default", "vm-db-b", signal))?.status?.phase,
        "Running",
      );
      const podTags = sim.tags().filter((tag) =>
        tag.resourceUuid === vmUuid && tag.tag.startsWith("vkedge.io/pod:")
      );
      assertEquals(podTags.map((tag) => tag.tag), ["vkedge.io/pod:vm-db-b"]);
    } finally {
      first.stop.abort();
    }
    const second = providerFor(sim);
    try {
      const pods = await second.provider.getPods(signal);
      assertEquals(pods.map((pod) => pod.metadata?.name), ["vm-db-b"]);
    } finally {
      second.stop.abort();
    }
  });
});
