import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import {
  InvalidInputError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
} from "../../../lib/provider.ts";
import { WORKLOAD_UID_ANNOTATION } from "../../../lib/provider_kit/mod.ts";
import { parseMockConfig } from "../../../providers/mock/config.ts";
import { MockProvider } from "../../../providers/mock/mock_provider.ts";
import { readStateFile } from "../../../providers/mock/state_file.ts";

const signal = new AbortController().signal;

function makePod(name: string, options: { uid?: string; workload?: string } = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      namespace: "default",
      name,
      uid: options.uid ?? `uid-${name}`,
      ...(options.workload === undefined
        ? {}
        : { annotations: { [WORKLOAD_UID_ANNOTATION]: options.workload } }),
    },
    spec: { nodeName: "mock-node", containers: [{ name: "app", image: "nginx:1.27" }] },
  };
}

/** Runs `body` with providers over `raw` (each `next()` a new instance), stopping them after. */
async function withProviders(
  raw: Record<string, unknown>,
  body: (next: () => MockProvider, stops: AbortController[]) => Promise<void>,
): Promise<void> {
  const stops: AbortController[] = [];
  const config = parseMockConfig(raw);
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
    await body(next, stops);
  } finally {
    for (const stop of stops) stop.abort();
  }
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 5_000;
  while (true) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function conditionOf(pod: Pod | undefined, type: string) {
  return pod?.status?.conditions?.find((condition) => condition.type === type);
}

Deno.test("stop: Stopping, then Stopped with the pod Running, not Ready, containers VMStopped; start brings the same VM back", async () => {
  await withProviders({ vm: { powerDelayMs: 40 } }, async (next) => {
    const provider = next();
    const pod = makePod("web");
    await provider.createPod(pod, signal);
    const seen: Pod[] = [];
    provider.notifyPods(signal, (notified) => seen.push(notified));
    const before = await provider.getPod("default", "web", signal);
    const { id, host } = await provider.getVirtualMachineState(pod, signal);

    const stopping = provider.stopVirtualMachine(pod, {}, signal);
    await eventually(
      "Stopping",
      async () =>
        (await provider.getVirtualMachineState(pod, signal)).power === "Stopping" || undefined,
    );
    const during = await provider.getPod("default", "web", signal);
    assert.equal(conditionOf(during, "Ready")?.reason, "VMStopping");
    assert.ok(during?.status?.containerStatuses?.[0].state?.running, "the guest still runs");
    await stopping;

    assert.deepEqual(await provider.getVirtualMachineState(pod, signal), {
      power: "Stopped",
      host,
      id,
      diskGeneration: 1,
    });
    const stopped = await provider.getPod("default", "web", signal);
    assert.equal(stopped?.status?.phase, "Running", "never a terminal phase");
    assert.equal(conditionOf(stopped, "Ready")?.status, "False");
    assert.equal(conditionOf(stopped, "Ready")?.reason, "VMStopped");
    assert.equal(conditionOf(stopped, "ContainersReady")?.status, "False");
    const container = stopped?.status?.containerStatuses?.[0];
    assert.equal(container?.ready, false);
    assert.equal(container?.state?.terminated?.reason, "VMStopped");
    assert.match(container?.state?.terminated?.message ?? "", new RegExp(`VM ${id}.*stopped`));
    assert.equal(stopped?.status?.podIP, before?.status?.podIP);
    assert.equal((await provider.getPods(signal)).length, 1, "a stopped VM's pod is listed");

    const starting = provider.startVirtualMachine(pod, signal);
    await eventually(
      "Starting",
      async () =>
        (await provider.getVirtualMachineState(pod, signal)).power === "Starting" || undefined,
    );
    const booting = await provider.getPod("default", "web", signal);
    assert.equal(booting?.status?.containerStatuses?.[0].state?.waiting?.reason, "VMStarting");
    assert.equal(
      booting?.status?.containerStatuses?.[0].lastState?.terminated?.reason,
      "VMStopped",
    );
    await starting;

    const state = await provider.getVirtualMachineState(pod, signal);
    assert.deepEqual([state.power, state.id, state.host], ["Running", id, host]);
    const started = await provider.getPod("default", "web", signal);
    assert.equal(conditionOf(started, "Ready")?.status, "True");
    assert.equal(started?.status?.podIP, before?.status?.podIP, "the same IP");
    assert.equal(started?.status?.containerStatuses?.[0].restartCount, 1);
    assert.ok(started?.status?.containerStatuses?.[0].state?.running);
    assert.deepEqual(
      seen.map((notified) => conditionOf(notified, "Ready")?.reason ?? "Ready"),
      ["VMStopping", "VMStopped", "VMStarting", "Ready"],
      "each power state is notified once",
    );
    assert.deepEqual(provider.vmOperations("default", "web"), {
      start: 1,
      stop: 1,
      restart: 0,
      snapshot: 0,
      restore: 0,
      deleteSnapshot: 0,
      migrate: 0,
    });
  });
});

Deno.test("stop and start act once however often they are asked, at once or later", async () => {
  await withProviders({ vm: { powerDelayMs: 30 } }, async (next) => {
    const provider = next();
    const pod = makePod("web");
    await provider.createPod(pod, signal);
    await provider.startVirtualMachine(pod, signal);
    await Promise.all([
      provider.stopVirtualMachine(pod, {}, signal),
      provider.stopVirtualMachine(pod, {}, signal),
    ]);
    await provider.stopVirtualMachine(pod, { force: true }, signal);
    assert.equal((await provider.getVirtualMachineState(pod, signal)).power, "Stopped");
    await Promise.all([
      provider.startVirtualMachine(pod, signal),
      provider.startVirtualMachine(pod, signal),
    ]);
    await provider.startVirtualMachine(pod, signal);
    assert.equal((await provider.getVirtualMachineState(pod, signal)).power, "Running");
    const counts = provider.vmOperations("default", "web");
    assert.deepEqual([counts?.stop, counts?.start], [1, 1]);
    assert.equal(provider.vmOperations("default", "ghost"), undefined);
  });
});

Deno.test("restart reboots a running VM once, even asked twice at once; a stopped VM refuses it", async () => {
  await withProviders({ vm: { powerDelayMs: 30 } }, async (next) => {
    const provider = next();
    const pod = makePod("web");
    await provider.createPod(pod, signal);
    const rebooting = provider.restartVirtualMachine(pod, {}, signal);
    await eventually(
      "Rebooting",
      async () =>
        (await provider.getVirtualMachineState(pod, signal)).power === "Rebooting" || undefined,
    );
    assert.equal(
      conditionOf(await provider.getPod("default", "web", signal), "Ready")?.reason,
      "VMRebooting",
    );
    await Promise.all([rebooting, provider.restartVirtualMachine(pod, {}, signal)]);
    const state = await provider.getVirtualMachineState(pod, signal);
    assert.equal(state.power, "Running");
    assert.equal(state.diskGeneration, 2, "a reboot is a boot on the same disks");
    const container = (await provider.getPod("default", "web", signal))?.status
      ?.containerStatuses?.[0];
    assert.equal(container?.restartCount, 1);
    assert.equal(container?.lastState?.terminated?.reason, "VMRebooted");
    assert.equal(provider.vmOperations("default", "web")?.restart, 1);

    await provider.stopVirtualMachine(pod, { force: true }, signal);
    await assert.rejects(provider.restartVirtualMachine(pod, {}, signal), (error: unknown) => {
      assert.ok(error instanceof InvalidInputError);
      assert.match(error.message, /cannot restart the VM .* it is Stopped; start it instead/);
      return true;
    });
  });
});

Deno.test("a forced stop is at once and a graceful one lasts at most its grace period", async () => {
  await withProviders({ vm: { powerDelayMs: 60_000 } }, async (next) => {
    const provider = next();
    const forced = makePod("forced");
    const graceful = makePod("graceful");
    await provider.createPod(forced, signal);
    await provider.createPod(graceful, signal);
    const started = Date.now();
    await provider.stopVirtualMachine(forced, { force: true }, signal);
    await provider.stopVirtualMachine(graceful, { gracePeriodSeconds: 0.05 }, signal);
    assert.ok(Date.now() - started < 10_000, "neither waits the 60 s power delay");
    assert.equal((await provider.getVirtualMachineState(forced, signal)).power, "Stopped");
    assert.equal((await provider.getVirtualMachineState(graceful, signal)).power, "Stopped");
  });
});

Deno.test("snapshots: one per name, ready after the delay, the same one when asked again while being taken", async () => {
  await withProviders({ vm: { snapshotDelayMs: 40 } }, async (next) => {
    const provider = next();
    const pod = makePod("web");
    await provider.createPod(pod, signal);
    const first = provider.createVirtualMachineSnapshot(pod, { name: "before-upgrade" }, signal);
    const listed = await eventually(
      "the snapshot listed",
      async () => (await provider.listVirtualMachineSnapshots(pod, signal))[0],
    );
    assert.equal(listed.ready, false, "not ready while being taken");
    const [a, b] = await Promise.all([
      first,
      provider.createVirtualMachineSnapshot(pod, { name: "before-upgrade" }, signal),
    ]);
    assert.deepEqual(a, b);
    assert.equal(a.ready, true);
    assert.equal(a.name, "before-upgrade");
    assert.deepEqual(
      await provider.createVirtualMachineSnapshot(pod, { name: "before-upgrade" }, signal),
      a,
    );
    assert.deepEqual(await provider.listVirtualMachineSnapshots(pod, signal), [a]);
    assert.equal(provider.vmOperations("default", "web")?.snapshot, 1);
    await assert.rejects(
      provider.createVirtualMachineSnapshot(pod, { name: "" }, signal),
      InvalidInputError,
    );
  });
});

Deno.test("restore needs a stopped VM, sets the disk generation back to the snapshot's and is harmless twice", async () => {
  await withProviders({ vm: { powerDelayMs: 10, snapshotDelayMs: 10 } }, async (next) => {
    const provider = next();
    const pod = makePod("web");
    await provider.createPod(pod, signal);
    const snapshot = await provider.createVirtualMachineSnapshot(pod, { name: "s1" }, signal);
    await assert.rejects(
      provider.restoreVirtualMachineSnapshot(pod, snapshot.id, signal),
      (error: unknown) => {
        assert.ok(error instanceof InvalidInputError);
        assert.match(error.message, /expected the VM Stopped, found it Running; stop it first/);
        return true;
      },
    );
    await provider.restartVirtualMachine(pod, {}, signal);
    await provider.stopVirtualMachine(pod, {}, signal);
    assert.equal((await provider.getVirtualMachineState(pod, signal)).diskGeneration, 2);

    await provider.restoreVirtualMachineSnapshot(pod, snapshot.id, signal);
    await provider.restoreVirtualMachineSnapshot(pod, snapshot.id, signal);
    const state = await provider.getVirtualMachineState(pod, signal);
    assert.deepEqual(
      [state.power, state.diskGeneration, state.restoredFrom],
      ["Stopped", 1, snapshot.id],
    );
    assert.equal(provider.vmOperations("default", "web")?.restore, 1);
    await assert.rejects(
      provider.restoreVirtualMachineSnapshot(pod, "no-such-snapshot", signal),
      (error: unknown) => {
        assert.ok(error instanceof NotFoundError);
        assert.match(error.message, new RegExp(`expected one of "${snapshot.id}" \\(s1\\)`));
        return true;
      },
    );

    await provider.deleteVirtualMachineSnapshot(pod, snapshot.id, signal);
    assert.deepEqual(await provider.listVirtualMachineSnapshots(pod, signal), []);
    await assert.rejects(
      provider.deleteVirtualMachineSnapshot(pod, snapshot.id, signal),
      /not found: expected none, it has no snapshots/,
    );
    await provider.startVirtualMachine(pod, signal);
    assert.equal((await provider.getVirtualMachineState(pod, signal)).diskGeneration, 2);
  });
});

Deno.test("a snapshot still being taken cannot be restored yet, and deleting it ends its creation", async () => {
  await withProviders({ vm: { powerDelayMs: 0, snapshotDelayMs: 60_000 } }, async (next) => {
    const provider = next();
    const pod = makePod("web");
    await provider.createPod(pod, signal);
    await provider.stopVirtualMachine(pod, {}, signal);
    const taking = provider.createVirtualMachineSnapshot(pod, { name: "slow" }, signal);
    const [pending] = await eventually("the snapshot listed", async () => {
      const listed = await provider.listVirtualMachineSnapshots(pod, signal);
      return listed.length > 0 ? listed : undefined;
    });
    await assert.rejects(
      provider.restoreVirtualMachineSnapshot(pod, pending.id, signal),
      (error: unknown) =>
        error instanceof UnavailableError && /still being taken/.test(error.message),
    );
    await provider.deleteVirtualMachineSnapshot(pod, pending.id, signal);
    await assert.rejects(taking, (error: unknown) => {
      assert.ok(error instanceof NotFoundError);
      assert.match(error.message, /snapshot "slow" .* was deleted while being taken/);
      return true;
    });
  });
});

Deno.test("migration moves a running VM to a named or the first other host, once, and refuses what it cannot do", async () => {
  await withProviders({ vm: { migrationDelayMs: 40, hosts: ["h1", "h2", "h3"] } }, async (next) => {
    const provider = next();
    const pod = makePod("web");
    await provider.createPod(pod, signal);
    const { host } = await provider.getVirtualMachineState(pod, signal);
    const targets = await provider.listMigrationTargets(pod, signal);
    assert.deepEqual(targets, ["h1", "h2", "h3"].filter((known) => known !== host));
    await assert.rejects(
      provider.migrateVirtualMachine(pod, { targetHost: "h9" }, signal),
      (error: unknown) => {
        assert.ok(error instanceof InvalidInputError);
        assert.ok(
          error.message.includes(`to host "h9": expected one of "${targets[0]}", "${targets[1]}"`),
          error.message,
        );
        return true;
      },
    );

    const moving = provider.migrateVirtualMachine(pod, { targetHost: targets[1] }, signal);
    await eventually(
      "Migrating",
      async () =>
        (await provider.getVirtualMachineState(pod, signal)).power === "Migrating" || undefined,
    );
    assert.equal(
      conditionOf(await provider.getPod("default", "web", signal), "Ready")?.status,
      "True",
      "a live migration keeps the pod Ready",
    );
    const [arrived, again] = await Promise.all([
      moving,
      provider.migrateVirtualMachine(pod, { targetHost: targets[1] }, signal),
    ]);
    assert.deepEqual([arrived, again], [targets[1], targets[1]]);
    assert.equal(
      await provider.migrateVirtualMachine(pod, { targetHost: targets[1] }, signal),
      targets[1],
      "already there",
    );
    assert.equal((await provider.getVirtualMachineState(pod, signal)).host, targets[1]);
    assert.equal(provider.vmOperations("default", "web")?.migrate, 1);
    assert.ok(!(await provider.listMigrationTargets(pod, signal)).includes(targets[1]));
    assert.notEqual(await provider.migrateVirtualMachine(pod, {}, signal), targets[1]);

    await provider.stopVirtualMachine(pod, { force: true }, signal);
    await assert.rejects(
      provider.migrateVirtualMachine(pod, {}, signal),
      /expected the VM Running, found it Stopped; start it first/,
    );
  });
  await withProviders({ vm: { hosts: ["only"] } }, async (next) => {
    const provider = next();
    const pod = makePod("web");
    await provider.createPod(pod, signal);
    assert.deepEqual(await provider.listMigrationTargets(pod, signal), []);
    await assert.rejects(provider.migrateVirtualMachine(pod, {}, signal), (error: unknown) => {
      assert.ok(error instanceof ResourceExhaustedError);
      assert.equal(error.resource, "capacity");
      assert.match(error.message, /only host configured/);
      return true;
    });
    await assert.rejects(
      provider.migrateVirtualMachine(pod, { targetHost: "other" }, signal),
      InvalidInputError,
    );
  });
});

Deno.test("VM power, host, snapshots and counts survive an agent restart through the state file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vkedge-mock-vm-" });
  const stateFile = `${dir}/state.json`;
  try {
    await withProviders(
      { stateFile, vm: { powerDelayMs: 10, snapshotDelayMs: 10 } },
      async (next) => {
        const first = next();
        const pod = makePod("web");
        await first.createPod(pod, signal);
        const snapshot = await first.createVirtualMachineSnapshot(pod, { name: "s1" }, signal);
        const host = await first.migrateVirtualMachine(pod, {}, signal);
        await first.stopVirtualMachine(pod, {}, signal);
        const before = await first.getVirtualMachineState(pod, signal);
        const podBefore = await first.getPod("default", "web", signal);

        const second = next();
        assert.deepEqual(await second.getVirtualMachineState(pod, signal), before);
        assert.equal(before.host, host);
        assert.deepEqual(await second.getPod("default", "web", signal), podBefore);
        assert.deepEqual(await second.listVirtualMachineSnapshots(pod, signal), [snapshot]);
        assert.deepEqual(
          second.vmOperations("default", "web"),
          first.vmOperations("default", "web"),
        );
        await second.startVirtualMachine(pod, signal);
        assert.equal((await second.getVirtualMachineState(pod, signal)).id, before.id);
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an action in progress when the agent stops is finished once by the next instance", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vkedge-mock-vm-" });
  const stateFile = `${dir}/state.json`;
  try {
    await withProviders({ stateFile, vm: { powerDelayMs: 150 } }, async (next, stops) => {
      const first = next();
      const pod = makePod("web");
      await first.createPod(pod, signal);
      const stopping = first.stopVirtualMachine(pod, {}, signal);
      await eventually(
        "the stop in the state file",
        () => Promise.resolve(readStateFile(stateFile)[0]?.vm?.transition),
      );
      stops[0].abort(); // the agent dies in the middle of the stop
      await assert.rejects(stopping, (error: unknown) => {
        assert.ok(error instanceof UnavailableError);
        assert.match(error.message, /stopped before Stopping ended .* finishes it/);
        return true;
      });

      const second = next();
      const seen: Pod[] = [];
      second.notifyPods(signal, (notified) => seen.push(notified));
      assert.equal((await second.getVirtualMachineState(pod, signal)).power, "Stopping");
      await second.stopVirtualMachine(pod, {}, signal); // the retried action joins it
      assert.equal((await second.getVirtualMachineState(pod, signal)).power, "Stopped");
      assert.equal(second.vmOperations("default", "web")?.stop, 1, "stopped exactly once");
      assert.equal(conditionOf(seen.at(-1), "Ready")?.reason, "VMStopped");
      assert.equal(readStateFile(stateFile)[0]?.vm?.power, "Stopped");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a pod re-created with a new UID and the workload annotation adopts the VM; only a delete removes it", async () => {
  await withProviders({ vm: { powerDelayMs: 0 } }, async (next) => {
    const provider = next();
    const first = makePod("vm-a", { uid: "pod-1", workload: "vm-uid" });
    await provider.createPod(first, signal);
    await provider.stopVirtualMachine(first, {}, signal);
    const vm = await provider.getVirtualMachineState(first, signal);
    const ip = (await provider.getPod("default", "vm-a", signal))?.status?.podIP;

    const second = makePod("vm-a", { uid: "pod-2", workload: "vm-uid" });
    await provider.createPod(second, signal);
    const adopted = await provider.getPod("default", "vm-a", signal);
    assert.equal(adopted?.metadata?.uid, "pod-2");
    assert.equal(adopted?.metadata?.annotations?.[WORKLOAD_UID_ANNOTATION], "vm-uid");
    assert.equal(adopted?.status?.podIP, ip);
    assert.deepEqual(await provider.getVirtualMachineState(second, signal), vm, "still Stopped");
    assert.equal((await provider.getPods(signal)).length, 1);
    await assert.rejects(
      provider.deletePod(first, signal),
      NotFoundError,
      "the old object is gone",
    );

    const third = makePod("vm-a", { uid: "pod-3", workload: "vm-uid" });
    await provider.updatePod(third, signal);
    assert.equal((await provider.getPod("default", "vm-a", signal))?.metadata?.uid, "pod-3");

    const renamed = makePod("vm-a-2", { uid: "pod-4", workload: "vm-uid" });
    await provider.createPod(renamed, signal);
    assert.equal(await provider.getPod("default", "vm-a", signal), undefined);
    assert.equal((await provider.getVirtualMachineState(renamed, signal)).id, vm.id);

    await provider.deletePod(renamed, signal);
    assert.deepEqual(await provider.getPods(signal), []);
    await assert.rejects(provider.getVirtualMachineState(renamed, signal), (error: unknown) => {
      assert.ok(error instanceof NotFoundError);
      assert.match(error.message, /pod default\/vm-a-2 \(uid "pod-4"\) has no VM/);
      return true;
    });
    await provider.createPod(makePod("vm-a", { uid: "pod-5", workload: "vm-uid" }), signal);
    assert.notEqual(
      (await provider.getVirtualMachineState(makePod("vm-a", { uid: "pod-5" }), signal)).id,
      vm.id,
      "after the delete, a new VM",
    );
  });
});

Deno.test("deleting a pod ends a wait for its VM with NotFoundError", async () => {
  await withProviders({ vm: { powerDelayMs: 60_000 } }, async (next) => {
    const provider = next();
    const pod = makePod("web");
    await provider.createPod(pod, signal);
    const stopping = provider.stopVirtualMachine(pod, {}, signal);
    await eventually(
      "Stopping",
      async () =>
        (await provider.getVirtualMachineState(pod, signal)).power === "Stopping" || undefined,
    );
    await provider.deletePod(pod, signal);
    await assert.rejects(
      stopping,
      /pod default\/web and its VM were deleted before Stopping ended/,
    );
  });
});

Deno.test("the fault file fails VM actions while it names power, snapshot or migrate", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vkedge-mock-vm-" });
  const faultFile = `${dir}/faults`;
  try {
    await withProviders(
      { faultFile, vm: { powerDelayMs: 0, migrationDelayMs: 0 } },
      async (next) => {
        const provider = next();
        const pod = makePod("web");
        await provider.createPod(pod, signal);
        await Deno.writeTextFile(faultFile, "power snapshot migrate");
        await assert.rejects(provider.stopVirtualMachine(pod, {}, signal), (error: unknown) => {
          assert.ok(error instanceof UnavailableError);
          assert.match(error.message, /stopping the VM .* fails while the file contains "power"/);
          return true;
        });
        await assert.rejects(
          provider.createVirtualMachineSnapshot(pod, { name: "s" }, signal),
          /contains "snapshot"/,
        );
        await assert.rejects(provider.migrateVirtualMachine(pod, {}, signal), /contains "migrate"/);
        assert.equal((await provider.getVirtualMachineState(pod, signal)).power, "Running");
        await Deno.writeTextFile(faultFile, "");
        await provider.stopVirtualMachine(pod, {}, signal);
        assert.equal(provider.vmOperations("default", "web")?.stop, 1);
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an aborted wait rejects with its reason and leaves the action going", async () => {
  await withProviders({ vm: { powerDelayMs: 50 } }, async (next) => {
    const provider = next();
    const pod = makePod("web");
    await provider.createPod(pod, signal);
    const caller = new AbortController();
    const stopping = provider.stopVirtualMachine(pod, {}, caller.signal);
    await eventually(
      "Stopping",
      async () =>
        (await provider.getVirtualMachineState(pod, signal)).power === "Stopping" || undefined,
    );
    caller.abort(new Error("the caller gave up"));
    await assert.rejects(stopping, /the caller gave up/);
    await provider.stopVirtualMachine(pod, {}, signal);
    assert.equal((await provider.getVirtualMachineState(pod, signal)).power, "Stopped");
    assert.equal(provider.vmOperations("default", "web")?.stop, 1);
  });
});
