// The mock provider's volumes: one volume per name, ready after the create delay, found
// again by a repeat and by a restarted provider (also mid-create); refusals of what a disk
// cannot be; attach to the VM behind a pod, following the pod that adopts the VM; a deleted
// pod's VM leaves its volumes detached and in place; grow, never shrink; counts.

import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import {
  InvalidInputError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
  type VolumeRequest,
} from "../../../lib/provider.ts";
import { WORKLOAD_UID_ANNOTATION } from "../../../lib/provider_kit/mod.ts";
import { parseMockConfig } from "../../../providers/mock/config.ts";
import { MockProvider } from "../../../providers/mock/mock_provider.ts";
import { readState } from "../../../providers/mock/state_file.ts";

const signal = new AbortController().signal;
const GiB = 2 ** 30;

function makePod(name: string, options: { workload?: string } = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      namespace: "default",
      name,
      uid: crypto.randomUUID(),
      ...(options.workload === undefined
        ? {}
        : { annotations: { [WORKLOAD_UID_ANNOTATION]: options.workload } }),
    },
    spec: {
      nodeName: "mock-node",
      containers: [{ name: "app", image: "nginx:1.27" }],
      volumes: [{ name: "data", persistentVolumeClaim: { claimName: name } }],
    },
  };
}

function claim(name: string, extra: Partial<VolumeRequest> = {}): VolumeRequest {
  return {
    name: `pvc-${name}`,
    sizeBytes: GiB,
    parameters: {},
    accessModes: ["ReadWriteOnce"],
    claim: `default/${name}`,
    ...extra,
  };
}

/** Runs `body` with providers over one state file (each `next()` a new instance, a restart). */
async function withProviders(
  raw: Record<string, unknown>,
  body: (next: () => MockProvider, stateFile: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vkedge-mock-volumes-" });
  const stateFile = `${dir}/state.json`;
  const stops: AbortController[] = [];
  const config = parseMockConfig({ stateFile, ...raw });
  function next(): MockProvider {
    const stop = new AbortController();
    stops.push(stop);
    return new MockProvider(config, {
      nodeName: "mock-node",
      operatingSystem: "linux",
      internalIp: "192.0.2.10",
      daemonPort: 10250,
      signal: stop.signal,
    });
  }
  try {
    await body(next, stateFile);
  } finally {
    for (const stop of stops) stop.abort();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a claim makes one volume, ready after the create delay; repeats and a restarted provider find it", async () => {
  await withProviders({ volumes: { createDelayMs: 50 } }, async (next, stateFile) => {
    const provider = next();
    const started = Date.now();
    const created = await provider.createVolume(claim("db"), signal);
    assert.ok(Date.now() - started >= 45, "ready only after the create delay");
    assert.deepEqual(created, {
      id: created.id,
      name: "pvc-db",
      sizeBytes: GiB,
      attachedTo: [],
      ready: true,
      attributes: { "mock.vkedge.io/disk-offering": "standard" },
    });
    assert.deepEqual(await provider.createVolume(claim("db"), signal), created);
    assert.deepEqual(await provider.getVolume(created.id, signal), created);
    assert.deepEqual(await next().listVolumes(signal), [created]);
    assert.equal(provider.volumeOperations().create, 1);
    assert.deepEqual(readState(stateFile).volumes.map((volume) => volume.name), ["pvc-db"]);
    assert.equal(await provider.getVolume("no-such-volume", signal), undefined);
  });
});

Deno.test("a create interrupted before the volume is ready and repeated by a restarted provider makes one volume", async () => {
  await withProviders({ volumes: { createDelayMs: 300 } }, async (next) => {
    const crash = new AbortController();
    const interrupted = next().createVolume(claim("db"), crash.signal);
    await new Promise((resolve) => setTimeout(resolve, 50));
    crash.abort(new Error("agent killed"));
    await assert.rejects(interrupted);
    const restarted = next();
    const listed = await restarted.listVolumes(signal);
    assert.deepEqual(listed.map((volume) => [volume.name, volume.ready]), [["pvc-db", false]]);
    const created = await restarted.createVolume(claim("db"), signal);
    assert.deepEqual([created.id, created.ready], [listed[0].id, true]);
    assert.equal(restarted.volumeOperations().create, 1);
  });
});

Deno.test("what a disk cannot be is InvalidInputError saying why; beyond the capacity a capacity refusal", async () => {
  await withProviders(
    { volumes: { capacity: "3Gi", diskOfferings: ["standard", "fast"] } },
    async (next) => {
      const provider = next();
      const refusals: Array<[Partial<VolumeRequest>, RegExp]> = [
        [{ accessModes: ["ReadWriteMany"] }, /found ReadWriteMany: a mock volume is a disk/],
        [{ parameters: { type: "ssd" } }, /parameter "type" unknown: expected only diskOffering/],
        [{ parameters: { diskOffering: "gold" } }, /expected one of standard, fast, found "gold"/],
        [{ sizeBytes: 0 }, /positive whole number of bytes, found 0/],
      ];
      for (const [extra, message] of refusals) {
        await assert.rejects(provider.createVolume(claim("x", extra), signal), (error: Error) => {
          assert.ok(error instanceof InvalidInputError, error.message);
          assert.match(error.message, message);
          return true;
        });
      }
      const fast = await provider.createVolume(
        claim("a", { sizeBytes: 2 * GiB, parameters: { diskOffering: "fast" } }),
        signal,
      );
      assert.equal(fast.attributes?.["mock.vkedge.io/disk-offering"], "fast");
      await assert.rejects(
        provider.createVolume(claim("b", { sizeBytes: 2 * GiB }), signal),
        (error: Error) => error instanceof ResourceExhaustedError && error.resource === "capacity",
      );
      await assert.rejects(
        provider.expandVolume(fast.id, 4 * GiB, signal),
        ResourceExhaustedError,
      );
      assert.deepEqual((await provider.listVolumes(signal)).map((volume) => volume.name), [
        "pvc-a",
      ]);
    },
  );
});

Deno.test("attach records the pod; another pod's VM is refused until detached; the pod adopting the VM takes it over", async () => {
  await withProviders({ volumes: { createDelayMs: 0 } }, async (next) => {
    const provider = next();
    const workload = crypto.randomUUID();
    const db = makePod("db", { workload });
    const web = makePod("web");
    await provider.createPod(db, signal);
    await provider.createPod(web, signal);
    const volume = await provider.createVolume(claim("db"), signal);
    await provider.attachVolume(volume.id, db, signal);
    await provider.attachVolume(volume.id, db, signal);
    assert.deepEqual((await provider.getVolume(volume.id, signal))?.attachedTo, ["default/db"]);
    await assert.rejects(provider.attachVolume(volume.id, web, signal), (error: Error) => {
      assert.ok(error instanceof UnavailableError);
      assert.match(error.message, /attached to the VM .* of pod default\/db/);
      return true;
    });
    await provider.detachVolume(volume.id, web, signal);
    assert.deepEqual((await provider.getVolume(volume.id, signal))?.attachedTo, ["default/db"]);

    const renamed = makePod("db-2", { workload });
    await provider.createPod(renamed, signal);
    assert.deepEqual((await provider.getVolume(volume.id, signal))?.attachedTo, ["default/db-2"]);
    await provider.detachVolume(volume.id, renamed, signal);
    await provider.detachVolume(volume.id, renamed, signal);
    assert.deepEqual((await provider.getVolume(volume.id, signal))?.attachedTo, []);
    assert.deepEqual(
      [provider.volumeOperations().attach, provider.volumeOperations().detach],
      [1, 1],
    );
    await assert.rejects(provider.attachVolume("no-such-volume", web, signal), NotFoundError);
    await assert.rejects(provider.attachVolume(volume.id, makePod("ghost"), signal), NotFoundError);
  });
});

Deno.test("a deleted pod's VM leaves its volumes detached and in place; only a detached volume is deleted", async () => {
  await withProviders({ volumes: { createDelayMs: 0 } }, async (next) => {
    const provider = next();
    const pod = makePod("db");
    await provider.createPod(pod, signal);
    const volume = await provider.createVolume(claim("db"), signal);
    await provider.attachVolume(volume.id, pod, signal);
    await assert.rejects(provider.deleteVolume(volume.id, signal), /detach it first/);
    await provider.deletePod(pod, signal);
    const restarted = next();
    assert.deepEqual((await restarted.getVolume(volume.id, signal))?.attachedTo, []);
    await restarted.deleteVolume(volume.id, signal);
    assert.deepEqual(await restarted.listVolumes(signal), []);
    await assert.rejects(restarted.deleteVolume(volume.id, signal), NotFoundError);
    assert.deepEqual(restarted.volumeOperations(), {
      create: 1,
      delete: 1,
      expand: 0,
      attach: 1,
      detach: 1,
    });
  });
});

Deno.test("expand grows a volume and never shrinks it; a larger repeat of the create grows it too", async () => {
  await withProviders({ volumes: { createDelayMs: 0 } }, async (next) => {
    const provider = next();
    const volume = await provider.createVolume(claim("db"), signal);
    assert.equal(await provider.expandVolume(volume.id, 2 * GiB, signal), 2 * GiB);
    assert.equal(await provider.expandVolume(volume.id, GiB, signal), 2 * GiB);
    const repeated = await provider.createVolume(claim("db", { sizeBytes: 3 * GiB }), signal);
    assert.deepEqual([repeated.id, repeated.sizeBytes], [volume.id, 3 * GiB]);
    assert.equal(provider.volumeOperations().expand, 2);
    await assert.rejects(provider.expandVolume("no-such-volume", GiB, signal), NotFoundError);
  });
});

Deno.test("the volume fault fails the volume actions with UnavailableError while the fault file names it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vkedge-mock-volume-fault-" });
  try {
    const faultFile = `${dir}/faults`;
    await withProviders({ faultFile, volumes: { createDelayMs: 0 } }, async (next) => {
      const provider = next();
      const volume = await provider.createVolume(claim("db"), signal);
      await Deno.writeTextFile(faultFile, "volume\n");
      await assert.rejects(provider.createVolume(claim("other"), signal), UnavailableError);
      await assert.rejects(provider.expandVolume(volume.id, 2 * GiB, signal), UnavailableError);
      await assert.rejects(provider.deleteVolume(volume.id, signal), UnavailableError);
      assert.equal((await provider.listVolumes(signal)).length, 1, "reads still answer");
      await Deno.writeTextFile(faultFile, "");
      await provider.deleteVolume(volume.id, signal);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
