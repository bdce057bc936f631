/**
 * The zstack provider's VM snapshots against the ZStack simulator: one volume snapshot per
 * disk under a uuid derived from VM and name, so a create repeated after an interruption
 * (while the first job runs, or after it was queued) never takes a second one; restore
 * only while the VM is stopped; delete removes every part.
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { assertEquals, assertRejects, assertStringIncludes } from "../../_harness/assert.ts";
import { InvalidInputError, NotFoundError } from "../../../lib/provider.ts";
import {
  emptyReplySchema,
  inventoryReplySchema,
  volumeSchema,
} from "../../../providers/zstack/api_types.ts";
import type { ZStackClient } from "../../../providers/zstack/client.ts";
import { podOf, providerFor, signal, withSimulator } from "./_sim_harness.ts";

/** Resolves once `condition` holds, looking every 5 ms: no test here depends on timing. */
async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function vmUuidOf(pod: Pod): string {
  return pod.metadata!.uid!.replaceAll("-", "");
}

async function attachDataVolume(client: ZStackClient, vmUuid: string): Promise<string> {
  const created = await client.call("POST", "/v1/volumes/data", {
    body: { params: { name: "data", diskSize: 2 ** 30 } },
    schema: inventoryReplySchema(volumeSchema),
    signal,
  });
  await client.call("POST", `/v1/volumes/${created.inventory.uuid}/vm-instances/${vmUuid}`, {
    body: { params: {} },
    schema: emptyReplySchema,
    signal,
  });
  return created.inventory.uuid;
}

Deno.test("a snapshot covers root and data volumes; restore is refused while running and done when stopped; delete removes it", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim);
    const { provider, client } = harness;
    try {
      const pod = podOf("db");
      await provider.createPod(pod, signal);
      const vmUuid = vmUuidOf(pod);
      const data = await attachDataVolume(client, vmUuid);
      const root = sim.vms()[0].rootVolumeUuid;

      const taken = await provider.createVirtualMachineSnapshot(
        pod,
        { name: "before-upgrade" },
        signal,
      );
      assertEquals([taken.name, taken.ready, taken.error], ["before-upgrade", true, undefined]);
      assertEquals(sim.snapshots().map((s) => s.volumeUuid).sort(), [data, root].sort());
      assertEquals(sim.snapshots().find((s) => s.volumeUuid === root)?.uuid, taken.id);
      assertEquals(await provider.listVirtualMachineSnapshots(pod, signal), [taken]);
      const again = await provider.createVirtualMachineSnapshot(
        pod,
        { name: "before-upgrade" },
        signal,
      );
      assertEquals([again.id, sim.snapshots().length], [taken.id, 2]);

      const refused = await assertRejects(
        () => provider.restoreVirtualMachineSnapshot(pod, taken.id, signal),
        InvalidInputError,
      );
      assertStringIncludes(
        refused.message,
        "expected the VM Stopped, found it Running; stop the VM first",
      );
      await provider.stopVirtualMachine(pod, {}, signal);
      sim.resetStats();
      await provider.restoreVirtualMachineSnapshot(pod, taken.id, signal);
      await provider.restoreVirtualMachineSnapshot(pod, taken.id, signal);
      assertEquals(sim.stats().apis.RevertVolumeFromSnapshot, 4);
      assertEquals(sim.vms().map((vm) => [vm.uuid, vm.state]), [[vmUuid, "Stopped"]]);

      await provider.deleteVirtualMachineSnapshot(pod, taken.id, signal);
      assertEquals(sim.snapshots(), []);
      assertEquals(await provider.listVirtualMachineSnapshots(pod, signal), []);
      await assertRejects(
        () => provider.deleteVirtualMachineSnapshot(pod, taken.id, signal),
        NotFoundError,
      );
      const logs = await new Response(
        await provider.getContainerLogs(
          { namespace: "default", pod: "db", container: "main" },
          {},
          signal,
        ),
      ).text();
      assertStringIncludes(logs, `snapshot "before-upgrade" requested (2 volumes)`);
      assertStringIncludes(logs, `disks reverted to snapshot "before-upgrade"`);
    } finally {
      harness.stop.abort();
    }
  });
});

Deno.test("a snapshot create interrupted mid-job and repeated while the job runs yields one snapshot", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim);
    const { provider } = harness;
    try {
      const pod = podOf("web");
      await provider.createPod(pod, signal);
      sim.resetStats();
      const crash = new AbortController();
      const interrupted = provider.createVirtualMachineSnapshot(
        pod,
        { name: "nightly" },
        crash.signal,
      );
      // Killed while the job runs.
      await until(() => sim.snapshots().length === 1);
      crash.abort(new Error("agent killed"));
      await assertRejects(() => interrupted);
      assertEquals(sim.snapshots().map((s) => s.status), ["Creating"]);
      const taken = await provider.createVirtualMachineSnapshot(pod, { name: "nightly" }, signal);
      assertEquals(taken.ready, true);
      assertEquals(sim.snapshots().map((s) => [s.uuid, s.status]), [[taken.id, "Ready"]]);
      assertEquals(sim.stats().apis.CreateVolumeSnapshot, 1);
      assertEquals((await provider.listVirtualMachineSnapshots(pod, signal)).length, 1);
    } finally {
      harness.stop.abort();
    }
  }, { jobDurationMs: 20, transitionMs: 3000 });
});

Deno.test("a snapshot create interrupted while its job waits in the VM's queue and repeated yields one snapshot", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim);
    const { provider, client } = harness;
    try {
      const pod = podOf("web");
      await provider.createPod(pod, signal);
      // A reboot keeps the VM's queue busy, so the snapshot job has not claimed its uuid yet.
      const rebooting = client.call("PUT", `/v1/vm-instances/${vmUuidOf(pod)}/actions`, {
        body: { rebootVmInstance: {} },
        schema: emptyReplySchema,
        signal,
      });
      await until(() => sim.vms()[0].state === "Rebooting");
      sim.resetStats();
      const crash = new AbortController();
      const interrupted = provider.createVirtualMachineSnapshot(
        pod,
        { name: "queued" },
        crash.signal,
      );
      // Killed once the job is submitted, while it still waits behind the reboot.
      await until(() => (sim.stats().apis.CreateVolumeSnapshot ?? 0) === 1);
      assertEquals(sim.vms()[0].state, "Rebooting", "the reboot still holds the VM's queue");
      crash.abort(new Error("agent killed"));
      await assertRejects(() => interrupted);
      assertEquals(sim.snapshots(), []);
      const taken = await provider.createVirtualMachineSnapshot(pod, { name: "queued" }, signal);
      await rebooting;
      assertEquals([taken.ready, sim.snapshots().map((s) => s.uuid)], [true, [taken.id]]);
      // The repeat was submitted too, and failed on the uuid the first one had claimed.
      assertEquals(sim.stats().apis.CreateVolumeSnapshot, 2);
    } finally {
      harness.stop.abort();
    }
  }, { vmBootMs: 3000 });
});

Deno.test("snapshot names must be usable and unknown snapshot ids are NotFoundError naming the VM's snapshots", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim);
    const { provider } = harness;
    try {
      const pod = podOf("web");
      await provider.createPod(pod, signal);
      for (const name of ["", " padded ", "x".repeat(256)]) {
        await assertRejects(
          () => provider.createVirtualMachineSnapshot(pod, { name }, signal),
          InvalidInputError,
        );
      }
      const taken = await provider.createVirtualMachineSnapshot(pod, { name: "one" }, signal);
      const missing = await assertRejects(
        () => provider.restoreVirtualMachineSnapshot(pod, "f".repeat(32), signal),
        NotFoundError,
      );
      assertStringIncludes(missing.message, `expected one of ${taken.id} ("one")`);
    } finally {
      harness.stop.abort();
    }
  });
});
