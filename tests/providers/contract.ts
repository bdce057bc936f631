/**
 * The provider contract suite: one set of behavioural tests that every provider's test
 * module runs against its own backend (`providerContract("mock", setUp)`), so each new
 * provider gets them for free. They pin what the agent relies on: create, get, list,
 * update and delete converge when repeated; unknown pods are `NotFoundError` (or
 * `undefined` from the getters), a second pod under a taken name `AlreadyExistsError`, a
 * pod the backend cannot run `InvalidInputError`; notifications after create and delete;
 * every log option; and a new provider instance over the same backend (an agent restart)
 * finds the pods by listing.
 *
 * For the VM capabilities, run only when the provider has them: power (stop keeps the pod
 * listed and not Ready, start brings the same VM back, both idempotent, restart of a
 * stopped VM refused), snapshots (one per name, restore refused while running and done
 * when stopped), migration (unknown hosts refused, a listed target reached), and workload
 * identity (a VM-Pod re-created with a new UID adopts the same VM, also after a restart).
 *
 * For volumes, run only when the provider is a `VolumeProvisioner`: a create is idempotent
 * by name (repeated, concurrent, and from a restarted instance), access modes and
 * parameters a disk cannot take are `InvalidInputError`, attach and detach on the VM behind
 * a pod converge and show in `attachedTo`, deleting the pod keeps its volumes detached,
 * only a detached volume is deleted, and expand grows but never shrinks.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import {
  AlreadyExistsError,
  hasContainerLogs,
  hasPodNotifier,
  hasVirtualMachineMigration,
  hasVirtualMachinePower,
  hasVirtualMachineSnapshots,
  hasVolumeProvisioner,
  InvalidInputError,
  isAlreadyExists,
  NotFoundError,
  type Provider,
  ResourceExhaustedError,
  type VirtualMachineMigration,
  type VirtualMachinePower,
  type VirtualMachineSnapshots,
  type VolumeProvisioner,
  type VolumeRequest,
} from "../../lib/provider.ts";
import { WORKLOAD_UID_ANNOTATION, workloadUid } from "../../lib/provider_kit/mod.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "../_harness/assert.ts";

/** One backend for one contract test, with the provider under test over it. */
export interface ContractBackend {
  /** The provider under test, over a fresh backend. */
  provider: Provider;
  /** A new provider instance over the same backend, as after an agent restart. */
  restart(): Promise<Provider>;
  /** A pod this provider can run; `uid` distinct per call unless given. */
  pod(name: string, options?: { uid?: string }): Pod;
  /** A pod the provider must refuse as invalid input. */
  invalidPod(name: string): Pod;
  /** Stops every provider instance and the backend. */
  close(): Promise<void>;
  /** How long a pod may take to run (default 5 s). */
  timeoutMs?: number;
  /**
   * How many hosts a running VM can be migrated to; 0 (a backend of one host) makes the
   * migration case check the capacity refusal instead of a move. Default: at least one.
   */
  migrationTargets?: number;
  /** StorageClass parameters every volume case passes (default none). */
  volumeParameters?: Record<string, string>;
}

const signal = new AbortController().signal;

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

function keysOf(pods: Pod[]): string[] {
  return pods.map((pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`).sort();
}

async function running(backend: ContractBackend, pod: Pod): Promise<Pod> {
  const { namespace, name } = pod.metadata!;
  return await eventually(`${name} Running`, async () => {
    const current = await backend.provider.getPod(namespace!, name!, signal);
    return current?.status?.phase === "Running" ? current : undefined;
  }, backend.timeoutMs ?? 5_000);
}

function readyOf(pod: Pod | undefined): string | undefined {
  return pod?.status?.conditions?.find((condition) => condition.type === "Ready")?.status;
}

function isTerminal(pod: Pod | undefined): boolean {
  return ["Succeeded", "Failed"].includes(pod?.status?.phase ?? "");
}

/** `pod` as the VM-Pod of the workload `uid` (a VirtualMachine's UID). */
function ofWorkload(pod: Pod, uid: string): Pod {
  return {
    ...pod,
    metadata: {
      ...pod.metadata,
      annotations: { ...pod.metadata?.annotations, [WORKLOAD_UID_ANNOTATION]: uid },
    },
  };
}

/** The pod `namespace/name` of `pod` once its Ready condition is `status`. */
async function readiness(
  backend: ContractBackend,
  provider: Provider,
  pod: Pod,
  status: "True" | "False",
): Promise<Pod> {
  const { namespace, name } = pod.metadata!;
  return await eventually(`${name} Ready ${status}`, async () => {
    const current = await provider.getPod(namespace!, name!, signal);
    return readyOf(current) === status ? current : undefined;
  }, backend.timeoutMs ?? 5_000);
}

/** The VM capabilities a contract case needs. */
type VmCapability = "power" | "snapshots" | "migration";

type VmProvider =
  & Provider
  & VirtualMachinePower
  & VirtualMachineSnapshots
  & VirtualMachineMigration;

const vmGuards: Record<VmCapability, (provider: Provider) => boolean> = {
  power: hasVirtualMachinePower,
  snapshots: hasVirtualMachineSnapshots,
  migration: hasVirtualMachineMigration,
};

const vmCapabilityNames: Record<VmCapability, string> = {
  power: "VirtualMachinePower",
  snapshots: "VirtualMachineSnapshots",
  migration: "VirtualMachineMigration",
};

/** Registers the contract tests for provider `name`; `setUp` makes a fresh backend per test. */
export function providerContract(name: string, setUp: () => Promise<ContractBackend>): void {
  function contractTest(title: string, body: (backend: ContractBackend) => Promise<void>): void {
    Deno.test(`contract ${name}: ${title}`, async () => {
      const backend = await setUp();
      try {
        await body(backend);
      } finally {
        await backend.close();
      }
    });
  }

  contractTest("a created pod is got and listed with its UID and a status", async (backend) => {
    const { provider } = backend;
    const pod = backend.pod("web");
    await provider.createPod(pod, signal);
    const got = await running(backend, pod);
    assertEquals(got.metadata?.uid, pod.metadata?.uid);
    assertEquals(got.spec?.containers?.[0]?.name, pod.spec?.containers[0].name);
    assert((got.status?.containerStatuses?.length ?? 0) >= 1, "container statuses");
    assertEquals(keysOf(await provider.getPods(signal)), ["default/web"]);
    const status = await provider.getPodStatus("default", "web", signal);
    assertEquals(status?.phase, "Running");
    assertEquals(status?.podIP, got.status?.podIP);
  });

  contractTest("create, update and delete converge when repeated", async (backend) => {
    const { provider } = backend;
    const pod = backend.pod("web");
    await provider.createPod(pod, signal);
    await provider.createPod(pod, signal).catch((error) => {
      if (!isAlreadyExists(error)) throw error; // refusing the repeat is as good as adopting it
    });
    await running(backend, pod);
    assertEquals(keysOf(await provider.getPods(signal)), ["default/web"]);

    const labelled: Pod = {
      ...pod,
      metadata: { ...pod.metadata, labels: { ...pod.metadata?.labels, tier: "front" } },
    };
    await provider.updatePod(labelled, signal);
    await provider.updatePod(labelled, signal);
    const updated = await provider.getPod("default", "web", signal);
    assertEquals(updated?.metadata?.labels?.tier, "front");
    assertEquals(updated?.metadata?.uid, pod.metadata?.uid);

    await provider.deletePod(labelled, signal);
    await eventually("web gone", async () => {
      const listed = await provider.getPods(signal);
      const left = listed.filter((listedPod) =>
        listedPod.metadata?.name === "web" && !["Succeeded", "Failed"].includes(
          listedPod.status?.phase ?? "",
        )
      );
      return left.length === 0 ? true : undefined;
    }, backend.timeoutMs ?? 5_000);
    await assertRejects(() => provider.deletePod(labelled, signal), NotFoundError);
  });

  contractTest(
    "unknown pods: getters answer undefined, update and delete NotFoundError",
    async (backend) => {
      const { provider } = backend;
      const ghost = backend.pod("ghost");
      assertEquals(await provider.getPod("default", "ghost", signal), undefined);
      assertEquals(await provider.getPodStatus("default", "ghost", signal), undefined);
      await assertRejects(() => provider.updatePod(ghost, signal), NotFoundError);
      await assertRejects(() => provider.deletePod(ghost, signal), NotFoundError);
    },
  );

  contractTest(
    "a second pod under a taken name is AlreadyExistsError; bad input InvalidInputError",
    async (backend) => {
      const { provider } = backend;
      await provider.createPod(backend.pod("web", { uid: "uid-first" }), signal);
      await assertRejects(
        () => provider.createPod(backend.pod("web", { uid: "uid-second" }), signal),
        AlreadyExistsError,
      );
      await assertRejects(
        () => provider.createPod(backend.invalidPod("bad"), signal),
        InvalidInputError,
      );
      assertEquals(keysOf(await provider.getPods(signal)), ["default/web"]);
      assertEquals((await provider.getPod("default", "web", signal))?.metadata?.uid, "uid-first");
    },
  );

  contractTest(
    "notifications follow a pod from creation to its terminal status after delete",
    async (backend) => {
      const { provider } = backend;
      if (!hasPodNotifier(provider)) {
        console.log(`skipped: provider ${name} has no PodNotifier (the agent polls it)`);
        return;
      }
      const seen: Pod[] = [];
      const stop = new AbortController();
      provider.notifyPods(stop.signal, (pod) => seen.push(pod));
      const pod = backend.pod("web");
      await provider.createPod(pod, signal);
      const timeoutMs = backend.timeoutMs ?? 5_000;
      await eventually("a Running notification", () =>
        Promise.resolve(
          seen.find((seenPod) =>
            seenPod.metadata?.uid === pod.metadata?.uid && seenPod.status?.phase === "Running"
          ),
        ), timeoutMs);
      await provider.deletePod(pod, signal);
      const terminal = await eventually("a terminal notification", () =>
        Promise.resolve(
          seen.find((seenPod) => ["Succeeded", "Failed"].includes(seenPod.status?.phase ?? "")),
        ), timeoutMs);
      assertEquals(terminal.metadata?.uid, pod.metadata?.uid);
      const count = seen.length;
      stop.abort();
      await provider.createPod(backend.pod("after"), signal);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assertEquals(seen.length, count, "no notification after the signal aborted");
    },
  );

  contractTest(
    "logs honour tail, limitBytes, timestamps, sinceTime, previous and unknown names",
    async (backend) => {
      const { provider } = backend;
      if (!hasContainerLogs(provider)) {
        console.log(`skipped: provider ${name} has no ContainerLogs`);
        return;
      }
      const pod = backend.pod("web");
      await provider.createPod(pod, signal);
      await running(backend, pod);
      const container = pod.spec!.containers[0].name;
      const ref = { namespace: "default", pod: "web", container };
      const full = await readAll(await provider.getContainerLogs(ref, {}, signal));
      const lines = full.trimEnd().split("\n");
      assert(
        full.endsWith("\n") && lines.length >= 1,
        `a log of whole lines, found ${JSON.stringify(full)}`,
      );
      const tail = await readAll(await provider.getContainerLogs(ref, { tail: 1 }, signal));
      assertEquals(tail, `${lines.at(-1)}\n`);
      const limited = await readAll(
        await provider.getContainerLogs(ref, { limitBytes: 5 }, signal),
      );
      assertEquals(limited, full.slice(0, 5));
      const stamped = await readAll(
        await provider.getContainerLogs(ref, { timestamps: true, tail: 1 }, signal),
      );
      assertMatch(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /);
      assertEquals(stamped.slice(stamped.indexOf(" ") + 1), tail);
      const future = new Date(Date.now() + 3_600_000);
      assertEquals(
        await readAll(await provider.getContainerLogs(ref, { sinceTime: future }, signal)),
        "",
      );
      await assertRejects(
        () => provider.getContainerLogs(ref, { previous: true }, signal),
        InvalidInputError,
      );
      await assertRejects(
        () => provider.getContainerLogs({ ...ref, container: "no-such-container" }, {}, signal),
        NotFoundError,
      );
      await assertRejects(
        () => provider.getContainerLogs({ ...ref, pod: "ghost" }, {}, signal),
        NotFoundError,
      );
    },
  );

  contractTest(
    "a new instance over the same backend finds the pods by listing and can delete them",
    async (backend) => {
      const pods = [backend.pod("one"), backend.pod("two")];
      for (const pod of pods) await backend.provider.createPod(pod, signal);
      for (const pod of pods) await running(backend, pod);
      const again = await backend.restart();
      const listed = await again.getPods(signal);
      assertEquals(keysOf(listed), ["default/one", "default/two"]);
      assertEquals(
        listed.map((pod) => pod.metadata?.uid).sort(),
        pods.map((pod) => pod.metadata?.uid).sort(),
      );
      const one = await again.getPod("default", "one", signal);
      assertEquals(one?.status?.phase, "Running");
      await again.deletePod(pods[0], signal);
      assertEquals(
        keysOf((await again.getPods(signal)).filter((pod) => pod.status?.phase === "Running")),
        ["default/two"],
      );
    },
  );

  /** A contract case that runs only when the provider has every capability in `needs`. */
  function vmTest(
    title: string,
    needs: VmCapability[],
    body: (backend: ContractBackend, provider: VmProvider) => Promise<void>,
  ): void {
    contractTest(title, async (backend) => {
      const missing = needs.filter((need) => !vmGuards[need](backend.provider));
      if (missing.length > 0) {
        console.log(
          `skipped: provider ${name} has no ${
            missing.map((need) => vmCapabilityNames[need]).join(", ")
          }`,
        );
        return;
      }
      await body(backend, backend.provider as VmProvider);
    });
  }

  vmTest(
    "a stopped VM keeps its pod listed, not Ready and not terminal; started, the same VM runs",
    ["power"],
    async (backend, provider) => {
      const pod = backend.pod("vm");
      await provider.createPod(pod, signal);
      await running(backend, pod);
      const before = await provider.getVirtualMachineState(pod, signal);
      assertEquals(before.power, "Running");

      await provider.stopVirtualMachine(pod, {}, signal);
      const stopped = await provider.getVirtualMachineState(pod, signal);
      assertEquals([stopped.power, stopped.id], ["Stopped", before.id]);
      const notReady = await readiness(backend, provider, pod, "False");
      assert(
        !isTerminal(notReady),
        `a stopped VM's pod is not terminal: ${notReady.status?.phase}`,
      );
      assertEquals(keysOf(await provider.getPods(signal)), ["default/vm"]);

      await provider.startVirtualMachine(pod, signal);
      const started = await provider.getVirtualMachineState(pod, signal);
      assertEquals([started.power, started.id], ["Running", before.id]);
      await readiness(backend, provider, pod, "True");
      await assertRejects(
        () => provider.getVirtualMachineState(backend.pod("ghost"), signal),
        NotFoundError,
      );
    },
  );

  vmTest(
    "stop and start are idempotent, at once and repeated",
    ["power"],
    async (backend, provider) => {
      const pod = backend.pod("vm");
      await provider.createPod(pod, signal);
      await running(backend, pod);
      const { id } = await provider.getVirtualMachineState(pod, signal);
      await provider.startVirtualMachine(pod, signal);
      assertEquals((await provider.getVirtualMachineState(pod, signal)).power, "Running");
      await Promise.all([
        provider.stopVirtualMachine(pod, {}, signal),
        provider.stopVirtualMachine(pod, {}, signal),
      ]);
      await provider.stopVirtualMachine(pod, {}, signal);
      assertEquals((await provider.getVirtualMachineState(pod, signal)).power, "Stopped");
      await Promise.all([
        provider.startVirtualMachine(pod, signal),
        provider.startVirtualMachine(pod, signal),
      ]);
      await provider.startVirtualMachine(pod, signal);
      const state = await provider.getVirtualMachineState(pod, signal);
      assertEquals([state.power, state.id], ["Running", id]);
    },
  );

  vmTest(
    "restart reboots a running VM into the same VM; a stopped VM refuses it with InvalidInputError",
    ["power"],
    async (backend, provider) => {
      const pod = backend.pod("vm");
      await provider.createPod(pod, signal);
      await running(backend, pod);
      const { id } = await provider.getVirtualMachineState(pod, signal);
      await provider.restartVirtualMachine(pod, {}, signal);
      const rebooted = await provider.getVirtualMachineState(pod, signal);
      assertEquals([rebooted.power, rebooted.id], ["Running", id]);
      await readiness(backend, provider, pod, "True");

      await provider.stopVirtualMachine(pod, { force: true }, signal);
      await assertRejects(
        () => provider.restartVirtualMachine(pod, {}, signal),
        InvalidInputError,
      );
      assertEquals((await provider.getVirtualMachineState(pod, signal)).power, "Stopped");
    },
  );

  vmTest(
    "a snapshot name makes one snapshot; restore is refused while running and done when stopped",
    ["power", "snapshots"],
    async (backend, provider) => {
      const pod = backend.pod("vm");
      await provider.createPod(pod, signal);
      await running(backend, pod);
      const { id } = await provider.getVirtualMachineState(pod, signal);
      const [first, second] = await Promise.all([
        provider.createVirtualMachineSnapshot(pod, { name: "snap-1" }, signal),
        provider.createVirtualMachineSnapshot(pod, { name: "snap-1" }, signal),
      ]);
      assertEquals(second.id, first.id);
      assert(first.ready, "a created snapshot is ready");
      assertEquals(first.name, "snap-1");
      const again = await provider.createVirtualMachineSnapshot(pod, { name: "snap-1" }, signal);
      assertEquals(again.id, first.id);
      const named = (await provider.listVirtualMachineSnapshots(pod, signal))
        .filter((snapshot) => snapshot.name === "snap-1");
      assertEquals(named.map((snapshot) => snapshot.id), [first.id]);

      await assertRejects(
        () => provider.restoreVirtualMachineSnapshot(pod, first.id, signal),
        InvalidInputError,
      );
      await provider.stopVirtualMachine(pod, {}, signal);
      await provider.restoreVirtualMachineSnapshot(pod, first.id, signal);
      await provider.restoreVirtualMachineSnapshot(pod, first.id, signal);
      const restored = await provider.getVirtualMachineState(pod, signal);
      assertEquals([restored.power, restored.id], ["Stopped", id]);
      await provider.startVirtualMachine(pod, signal);
      assertEquals((await provider.getVirtualMachineState(pod, signal)).power, "Running");

      await provider.deleteVirtualMachineSnapshot(pod, first.id, signal);
      const left = await provider.listVirtualMachineSnapshots(pod, signal);
      assertEquals(left.filter((snapshot) => snapshot.id === first.id), []);
      await assertRejects(
        () => provider.deleteVirtualMachineSnapshot(pod, first.id, signal),
        NotFoundError,
      );
    },
  );

  vmTest(
    "migration refuses an unknown host and moves a running VM to a listed target",
    ["power", "migration"],
    async (backend, provider) => {
      const pod = backend.pod("vm");
      await provider.createPod(pod, signal);
      await running(backend, pod);
      const before = await provider.getVirtualMachineState(pod, signal);
      const targets = await provider.listMigrationTargets(pod, signal);
      if (backend.migrationTargets !== undefined) {
        assertEquals(targets.length, backend.migrationTargets, `targets ${targets.join(", ")}`);
      } else {
        assert(targets.length >= 1, "at least one migration target");
      }
      assert(!targets.includes(before.host ?? ""), "the VM's own host is no target");
      await assertRejects(
        () => provider.migrateVirtualMachine(pod, { targetHost: "no-such-host.vkedge" }, signal),
        InvalidInputError,
      );
      if (targets.length === 0) {
        await assertRejects(
          () => provider.migrateVirtualMachine(pod, {}, signal),
          ResourceExhaustedError,
        );
        console.log(`provider ${name}: no migration target, so the capacity refusal was checked`);
        return;
      }
      const host = await provider.migrateVirtualMachine(pod, { targetHost: targets[0] }, signal);
      assertEquals(host, targets[0]);
      const after = await provider.getVirtualMachineState(pod, signal);
      assertEquals([after.power, after.host, after.id], ["Running", targets[0], before.id]);
      assert(after.host !== before.host, "the host changed");
    },
  );

  vmTest(
    "a VM-Pod re-created with a new UID and the workload annotation adopts the same VM, also after a restart",
    ["power"],
    async (backend, provider) => {
      const workload = crypto.randomUUID();
      const first = ofWorkload(backend.pod("vm"), workload);
      await provider.createPod(first, signal);
      await running(backend, first);
      const { id } = await provider.getVirtualMachineState(first, signal);

      const second = ofWorkload(backend.pod("vm"), workload);
      await provider.createPod(second, signal);
      const adopted = await provider.getPod("default", "vm", signal);
      assertEquals(adopted?.metadata?.uid, second.metadata?.uid);
      assertEquals(workloadUid(adopted!), workload);
      assertEquals((await provider.getVirtualMachineState(second, signal)).id, id);
      assertEquals(keysOf(await provider.getPods(signal)), ["default/vm"]);

      const third = ofWorkload(backend.pod("vm"), workload);
      await provider.updatePod(third, signal);
      assertEquals(
        (await provider.getPod("default", "vm", signal))?.metadata?.uid,
        third.metadata?.uid,
      );
      await provider.stopVirtualMachine(third, {}, signal);

      const again = await backend.restart();
      if (!hasVirtualMachinePower(again)) {
        throw new Error("the restarted provider lost its power capability");
      }
      const listed = await again.getPods(signal);
      assertEquals(keysOf(listed), ["default/vm"]);
      assertEquals(workloadUid(listed[0]), workload);
      const state = await again.getVirtualMachineState(third, signal);
      assertEquals([state.power, state.id], ["Stopped", id]);
      await again.startVirtualMachine(third, signal);
      assertEquals((await again.getVirtualMachineState(third, signal)).id, id);
    },
  );

  /** A contract case that runs only when the provider provisions volumes. */
  function volumeTest(
    title: string,
    body: (backend: ContractBackend, provider: Provider & VolumeProvisioner) => Promise<void>,
  ): void {
    contractTest(title, async (backend) => {
      if (!hasVolumeProvisioner(backend.provider)) {
        console.log(`skipped: provider ${name} has no VolumeProvisioner`);
        return;
      }
      await body(backend, backend.provider);
    });
  }

  function volumeRequest(
    backend: ContractBackend,
    claim: string,
    extra: Partial<VolumeRequest> = {},
  ): VolumeRequest {
    return {
      name: `pvc-${crypto.randomUUID()}`,
      sizeBytes: 2 ** 30,
      parameters: { ...backend.volumeParameters },
      accessModes: ["ReadWriteOnce"],
      claim: `default/${claim}`,
      ...extra,
    };
  }

  volumeTest(
    "a volume name makes one ready volume, repeated, concurrently and from a restarted instance",
    async (backend, provider) => {
      const request = volumeRequest(backend, "data");
      const [first, second] = await Promise.all([
        provider.createVolume(request, signal),
        provider.createVolume(request, signal),
      ]);
      assertEquals(second.id, first.id);
      assert(first.ready, "a created volume is ready");
      assertEquals([first.name, first.attachedTo], [request.name, []]);
      assert(first.sizeBytes >= request.sizeBytes, `size ${first.sizeBytes}`);
      assertEquals((await provider.createVolume(request, signal)).id, first.id);
      assertEquals((await provider.getVolume(first.id, signal))?.id, first.id);
      assertEquals((await provider.listVolumes(signal)).map((volume) => volume.id), [first.id]);
      const again = await backend.restart();
      if (!hasVolumeProvisioner(again)) {
        throw new Error("the restarted provider lost its volume capability");
      }
      assertEquals((await again.listVolumes(signal)).map((volume) => volume.id), [first.id]);
      assertEquals((await again.createVolume(request, signal)).id, first.id);
      assertEquals(await provider.getVolume(`missing-${crypto.randomUUID()}`, signal), undefined);
    },
  );

  volumeTest(
    "access modes a disk cannot give and unknown parameters are InvalidInputError, and make nothing",
    async (backend, provider) => {
      await assertRejects(
        () =>
          provider.createVolume(
            volumeRequest(backend, "shared", { accessModes: ["ReadWriteMany"] }),
            signal,
          ),
        InvalidInputError,
      );
      const odd = volumeRequest(backend, "odd");
      await assertRejects(
        () =>
          provider.createVolume(
            { ...odd, parameters: { ...odd.parameters, "no-such-parameter": "x" } },
            signal,
          ),
        InvalidInputError,
      );
      assertEquals(await provider.listVolumes(signal), []);
    },
  );

  volumeTest(
    "attach and detach on the VM behind a pod converge when repeated and show in attachedTo",
    async (backend, provider) => {
      const pod = backend.pod("db");
      await provider.createPod(pod, signal);
      await running(backend, pod);
      const volume = await provider.createVolume(volumeRequest(backend, "db"), signal);
      await provider.attachVolume(volume.id, pod, signal);
      await provider.attachVolume(volume.id, pod, signal);
      assertEquals((await provider.getVolume(volume.id, signal))?.attachedTo, ["default/db"]);
      await provider.detachVolume(volume.id, pod, signal);
      await provider.detachVolume(volume.id, pod, signal);
      assertEquals((await provider.getVolume(volume.id, signal))?.attachedTo, []);
      await assertRejects(
        () => provider.attachVolume(volume.id, backend.pod("ghost"), signal),
        NotFoundError,
      );
    },
  );

  volumeTest(
    "deleting a pod keeps its volumes, detached; only a detached volume is deleted, once",
    async (backend, provider) => {
      const pod = backend.pod("db");
      await provider.createPod(pod, signal);
      await running(backend, pod);
      const volume = await provider.createVolume(volumeRequest(backend, "db"), signal);
      await provider.attachVolume(volume.id, pod, signal);
      await assertRejects(() => provider.deleteVolume(volume.id, signal));
      assertEquals((await provider.getVolume(volume.id, signal))?.attachedTo, ["default/db"]);
      await provider.deletePod(pod, signal);
      const kept = await provider.getVolume(volume.id, signal);
      assertEquals([kept?.id, kept?.attachedTo], [volume.id, []]);
      await provider.deleteVolume(volume.id, signal);
      assertEquals(await provider.getVolume(volume.id, signal), undefined);
      await assertRejects(() => provider.deleteVolume(volume.id, signal), NotFoundError);
    },
  );

  volumeTest("expand grows a volume and never shrinks it", async (backend, provider) => {
    const volume = await provider.createVolume(volumeRequest(backend, "db"), signal);
    const larger = volume.sizeBytes + 2 ** 30;
    assertEquals(await provider.expandVolume(volume.id, larger, signal), larger);
    assertEquals(await provider.expandVolume(volume.id, volume.sizeBytes, signal), larger);
    assertEquals((await provider.getVolume(volume.id, signal))?.sizeBytes, larger);
    await assertRejects(
      () => provider.expandVolume(`missing-${crypto.randomUUID()}`, larger, signal),
      NotFoundError,
    );
  });
}
