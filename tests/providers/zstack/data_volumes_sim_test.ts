/**
 * The zstack provider's volumes against the ZStack simulator: one data volume per PV name
 * under a derived uuid with the ownership tags, also when the create is interrupted while
 * its job runs; disk offerings and primary storage by name with refusals naming what
 * exists; attach and detach on the VM behind a pod; growing without shrinking; deleting
 * only detached volumes of this cluster, expunged; and a deleted pod's VM leaving its data
 * volumes in place even under `dataVolume.deleteOnVmDestroy`.
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
} from "../../_harness/assert.ts";
import {
  InvalidInputError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
  type VolumeRequest,
} from "../../../lib/provider.ts";
import { inventoryReplySchema, volumeSchema } from "../../../providers/zstack/api_types.ts";
import { volumeUuidFor } from "../../../providers/zstack/volume_request.ts";
import {
  eventually,
  podOf,
  providerFor,
  signal,
  type Simulator,
  withSimulator,
} from "./_sim_harness.ts";

const GiB = 2 ** 30;

function claim(name: string, extra: Partial<VolumeRequest> = {}): VolumeRequest {
  return {
    name: `pvc-${name}`,
    sizeBytes: 5 * GiB,
    parameters: {},
    accessModes: ["ReadWriteOnce"],
    claim: `default/${name}`,
    ...extra,
  };
}

function vmUuidOf(pod: Pod): string {
  return pod.metadata!.uid!.replaceAll("-", "");
}

function userTagsOf(sim: Simulator, uuid: string): string[] {
  return sim.tags().filter((tag) => tag.resourceUuid === uuid && tag.type === "User")
    .map((tag) => tag.tag);
}

Deno.test("a claim becomes one tagged data volume under a derived uuid; a repeat and a restarted provider find it", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim);
    const other = providerFor(sim, { node: "edge-2" });
    try {
      const created = await harness.provider.createVolume(claim("db"), signal);
      assertEquals(created.id, await volumeUuidFor("test", "pvc-db"));
      assertEquals([created.name, created.sizeBytes, created.ready, created.attachedTo], [
        "pvc-db",
        5 * GiB,
        true,
        [],
      ]);
      assertEquals(sim.volumes().filter((v) => v.type === "Data").map((v) => v.status), [
        "NotInstantiated",
      ]);
      assertEquals(userTagsOf(sim, created.id), [
        "vkedge.io/cluster:test",
        "vkedge.io/node:test/edge-1",
        "vkedge.io/claim:default/db",
        "vkedge.io/pv:pvc-db",
      ]);
      assertEquals(await harness.provider.createVolume(claim("db"), signal), created);
      assertEquals(sim.stats().apis.CreateDataVolume, 1);
      assertEquals(await harness.provider.getVolume(created.id, signal), created);
      assertEquals(await harness.provider.listVolumes(signal), [created]);
      assertEquals(await other.provider.listVolumes(signal), []);
      const restarted = providerFor(sim);
      try {
        assertEquals(await restarted.provider.listVolumes(signal), [created]);
      } finally {
        restarted.stop.abort();
      }
      assertEquals(await harness.provider.getVolume("f".repeat(32), signal), undefined);
    } finally {
      harness.stop.abort();
      other.stop.abort();
    }
  });
});

Deno.test("a create interrupted while its job runs and repeated makes one volume and waits for it to be Ready", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim, { config: { volumes: { primaryStorage: "ps-local" } } });
    try {
      const crash = new AbortController();
      const interrupted = harness.provider.createVolume(claim("db"), crash.signal);
      const uuid = await volumeUuidFor("test", "pvc-db");
      await eventually(
        "the volume Creating",
        () => sim.volumes().find((v) => v.uuid === uuid && v.status === "Creating"),
      );
      crash.abort(new Error("agent killed"));
      await assertRejects(() => interrupted);
      const [first, second] = await Promise.all([
        harness.provider.createVolume(claim("db"), signal),
        harness.provider.createVolume(claim("db"), signal),
      ]);
      assertEquals([first.id, first.ready, second.id], [uuid, true, uuid]);
      assertEquals(sim.volumes().filter((v) => v.type === "Data").map((v) => v.status), [
        "Ready",
      ]);
      assertEquals(sim.stats().apis.CreateDataVolume, 1);
      const ps = sim.state.primaryStorages.values().next().value!;
      assertEquals(first.attributes?.["zstack.vkedge.io/primary-storage"], ps.uuid);
    } finally {
      harness.stop.abort();
    }
  }, { transitionMs: 400 });
});

Deno.test("a disk offering sizes the volume, grown when the claim is larger; unknown names are refused naming what exists", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim);
    const { provider } = harness;
    try {
      const offered = { parameters: { diskOffering: "disk-10g" } };
      const small = await provider.createVolume(claim("small", offered), signal);
      assertEquals(small.sizeBytes, 10 * GiB);
      const large = await provider.createVolume(
        claim("large", { ...offered, sizeBytes: 20 * GiB }),
        signal,
      );
      assertEquals(large.sizeBytes, 20 * GiB);
      assertEquals(sim.stats().apis.ResizeDataVolume, 1);
      const offering = [...sim.state.diskOfferings.values()][0];
      assertEquals(large.attributes?.["zstack.vkedge.io/disk-offering"], offering.uuid);

      const unknownOffering = await assertRejects(
        () => provider.createVolume(claim("x", { parameters: { diskOffering: "gold" } }), signal),
        InvalidInputError,
      );
      assertStringIncludes(
        unknownOffering.message,
        `StorageClass parameter diskOffering: expected one disk offering named "gold", found 0; the disk offerings are disk-10g`,
      );
      const unknownStorage = await assertRejects(
        () => provider.createVolume(claim("y", { parameters: { primaryStorage: "nfs" } }), signal),
        InvalidInputError,
      );
      assertStringIncludes(
        unknownStorage.message,
        `expected one primary storage named "nfs" in zone "zone-1", found 0; the primary storages there are ps-local`,
      );
      await assertRejects(
        () => provider.createVolume(claim("z", { accessModes: ["ReadWriteMany"] }), signal),
        InvalidInputError,
        "attached to one VM at a time",
      );
      assertEquals(sim.stats().apis.CreateDataVolume, 2);
    } finally {
      harness.stop.abort();
    }
  });
});

Deno.test("the configured disk offering applies to classes naming none; a full primary storage is a capacity refusal", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim, {
      config: { volumes: { diskOffering: "disk-10g", primaryStorage: "ps-local" } },
    });
    try {
      const volume = await harness.provider.createVolume(claim("db", { sizeBytes: GiB }), signal);
      assertEquals(volume.sizeBytes, 10 * GiB);
      const full = await assertRejects(
        () => harness.provider.createVolume(claim("huge", { sizeBytes: 64 * 2 ** 40 }), signal),
        ResourceExhaustedError,
      );
      assertEquals(full.resource, "capacity");
      assertStringIncludes(full.message, "has not enough capacity");
    } finally {
      harness.stop.abort();
    }
  });
});

Deno.test("attach hot-plugs into the pod's VM, once; another pod's VM is refused until detached; detach is idempotent", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim);
    const { provider } = harness;
    try {
      const db = podOf("db", {
        volumes: [{ name: "data", persistentVolumeClaim: { claimName: "db" } }],
      });
      const web = podOf("web");
      await provider.createPod(db, signal);
      await provider.createPod(web, signal);
      const volume = await provider.createVolume(claim("db"), signal);
      await provider.attachVolume(volume.id, db, signal);
      await provider.attachVolume(volume.id, db, signal);
      assertEquals(sim.stats().apis.AttachDataVolumeToVm, 1);
      const attached = sim.volumes().find((v) => v.uuid === volume.id)!;
      assertEquals([attached.vmInstanceUuid, attached.status], [vmUuidOf(db), "Ready"]);
      assertEquals((await provider.getVolume(volume.id, signal))?.attachedTo, ["default/db"]);

      const taken = await assertRejects(
        () => provider.attachVolume(volume.id, web, signal),
        UnavailableError,
      );
      assertStringIncludes(taken.message, `attached to VM ${vmUuidOf(db)} of pod default/db`);
      await provider.detachVolume(volume.id, web, signal);
      assertEquals(sim.volumes().find((v) => v.uuid === volume.id)?.vmInstanceUuid, vmUuidOf(db));

      await provider.detachVolume(volume.id, db, signal);
      await provider.detachVolume(volume.id, db, signal);
      assertEquals(sim.stats().apis.DetachDataVolumeFromVm, 1);
      assertEquals((await provider.getVolume(volume.id, signal))?.attachedTo, []);
      await provider.attachVolume(volume.id, web, signal);
      assertEquals((await provider.getVolume(volume.id, signal))?.attachedTo, ["default/web"]);
      const lines = await new Response(
        await provider.getContainerLogs(
          { namespace: "default", pod: "db", container: "main" },
          {},
          signal,
        ),
      ).text();
      assertStringIncludes(lines, `data volume pvc-db (${volume.id}) attached`);
      assertStringIncludes(lines, `data volume pvc-db (${volume.id}) detached`);

      await assertRejects(
        () => provider.attachVolume("f".repeat(32), db, signal),
        NotFoundError,
      );
      await assertRejects(
        () => provider.attachVolume(volume.id, podOf("ghost"), signal),
        NotFoundError,
      );
    } finally {
      harness.stop.abort();
    }
  });
});

Deno.test("a volume attaches to a stopped VM, which starts with it", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim);
    const { provider } = harness;
    try {
      const pod = podOf("db");
      await provider.createPod(pod, signal);
      await provider.stopVirtualMachine(pod, { force: true }, signal);
      const volume = await provider.createVolume(claim("db"), signal);
      await provider.attachVolume(volume.id, pod, signal);
      await provider.startVirtualMachine(pod, signal);
      const [vm] = sim.vms();
      assertEquals(vm.state, "Running");
      assertEquals(vm.allVolumes.map((v) => v.type), ["Root", "Data"]);
    } finally {
      harness.stop.abort();
    }
  });
});

Deno.test("expand grows a volume, also attached to a running VM, and never shrinks it", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim);
    const { provider } = harness;
    try {
      const pod = podOf("db");
      await provider.createPod(pod, signal);
      const volume = await provider.createVolume(claim("db"), signal);
      await provider.attachVolume(volume.id, pod, signal);
      assertEquals(await provider.expandVolume(volume.id, 8 * GiB, signal), 8 * GiB);
      assertEquals(await provider.expandVolume(volume.id, 6 * GiB, signal), 8 * GiB);
      assertEquals(await provider.expandVolume(volume.id, 8 * GiB, signal), 8 * GiB);
      assertEquals(sim.stats().apis.ResizeDataVolume, 1);
      assertEquals(sim.volumes().find((v) => v.uuid === volume.id)?.size, 8 * GiB);
      await assertRejects(
        () => provider.expandVolume("f".repeat(32), 8 * GiB, signal),
        NotFoundError,
      );
    } finally {
      harness.stop.abort();
    }
  });
});

Deno.test("delete refuses an attached volume and one vkedge did not provision, and deletes and expunges a detached one", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim);
    const { provider, client } = harness;
    try {
      const pod = podOf("db");
      await provider.createPod(pod, signal);
      const volume = await provider.createVolume(claim("db"), signal);
      await provider.attachVolume(volume.id, pod, signal);
      await assertRejects(
        () => provider.deleteVolume(volume.id, signal),
        UnavailableError,
        "detach it first",
      );
      await provider.detachVolume(volume.id, pod, signal);
      await provider.deleteVolume(volume.id, signal);
      assertEquals(sim.volumes().some((v) => v.uuid === volume.id), false);
      assertEquals(userTagsOf(sim, volume.id), []);
      await assertRejects(() => provider.deleteVolume(volume.id, signal), NotFoundError);
      assertEquals(await provider.getVolume(volume.id, signal), undefined);

      const foreign = await client.call("POST", "/v1/volumes/data", {
        body: { params: { name: "admin-disk", diskSize: GiB } },
        schema: inventoryReplySchema(volumeSchema),
        signal,
      });
      await assertRejects(
        () => provider.deleteVolume(foreign.inventory.uuid, signal),
        InvalidInputError,
        `expected a volume vkedge provisioned for cluster "test"`,
      );
      assert(sim.volumes().some((v) => v.uuid === foreign.inventory.uuid), "left alone");
    } finally {
      harness.stop.abort();
    }
  });
});

Deno.test("deleting a pod detaches its VM's data volumes before the destroy, so they survive dataVolume.deleteOnVmDestroy", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim);
    const { provider } = harness;
    try {
      const pod = podOf("db", {
        volumes: [{ name: "data", persistentVolumeClaim: { claimName: "db" } }],
      });
      await provider.createPod(pod, signal);
      const volume = await provider.createVolume(claim("db"), signal);
      await provider.attachVolume(volume.id, pod, signal);
      await provider.deletePod(pod, signal);
      assertEquals(sim.vms(), []);
      const kept = sim.volumes().find((v) => v.uuid === volume.id);
      assertEquals([kept?.status, kept?.vmInstanceUuid], ["Ready", undefined]);
      assertEquals((await provider.getVolume(volume.id, signal))?.attachedTo, []);
      await provider.detachVolume(volume.id, pod, signal);
    } finally {
      harness.stop.abort();
    }
  }, { dataVolumeDeleteOnVmDestroy: true });
});
