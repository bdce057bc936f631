/**
 * The zstack provider's VM power against the ZStack simulator: a stopped VM is kept and
 * its pod stays listed, Running and not Ready; start brings the same VM back; a graceful
 * stop that outlasts its grace period cuts the power; restart reboots, and is refused
 * while the VM is off.
 */

import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
} from "../../_harness/assert.ts";
import { InvalidInputError, NotFoundError } from "../../../lib/provider.ts";
import {
  eventually,
  type Harness,
  podOf,
  providerFor,
  signal,
  withSimulator,
} from "./_sim_harness.ts";

async function logsOf(harness: Harness, name: string): Promise<string> {
  const stream = await harness.provider.getContainerLogs(
    { namespace: "default", pod: name, container: "main" },
    {},
    signal,
  );
  return await new Response(stream).text();
}

Deno.test("a stopped VM is kept and its pod stays listed, Running and not Ready; start brings the same VM back", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim);
    const { provider } = harness;
    try {
      const pod = podOf("web");
      await provider.createPod(pod, signal);
      const uuid = pod.metadata!.uid!.replaceAll("-", "");
      const running = await provider.getVirtualMachineState(pod, signal);
      assertEquals(running.power, "Running");
      assertEquals(running.id, uuid);
      assert(
        ["host-1", "host-2"].includes(running.host ?? ""),
        `a host name, found ${running.host}`,
      );
      const ip = (await provider.getPod("default", "web", signal))?.status?.podIP;

      await provider.stopVirtualMachine(pod, {}, signal);
      assertEquals(await provider.getVirtualMachineState(pod, signal), {
        power: "Stopped",
        id: uuid,
      });
      // Several polls later the pod is still there: nothing destroys or re-creates the VM.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const [listed] = await provider.getPods(signal);
      assertEquals(listed.status?.phase, "Running");
      const ready = listed.status?.conditions?.find((condition) => condition.type === "Ready");
      assertEquals([ready?.status, ready?.reason], ["False", "VMStopped"]);
      assertEquals(sim.vms().map((vm) => [vm.uuid, vm.state]), [[uuid, "Stopped"]]);
      assert(
        harness.events.some((event) => event.startsWith("web Normal VMStopped")),
        `a Normal event for the requested stop, found ${harness.events.join(" | ")}`,
      );

      await provider.startVirtualMachine(pod, signal);
      await provider.startVirtualMachine(pod, signal);
      const back = await eventually("the pod Ready again", async () => {
        const current = await provider.getPod("default", "web", signal);
        const condition = current?.status?.conditions?.find((c) => c.type === "Ready");
        return condition?.status === "True" ? current : undefined;
      });
      assertEquals(back.status?.podIP, ip);
      assertEquals(sim.vms().map((vm) => [vm.uuid, vm.state]), [[uuid, "Running"]]);
      assertEquals(sim.stats().apis.CreateVmInstance, 1);
      assertEquals(sim.stats().apis.StartVmInstance, 1);
      const logs = await logsOf(harness, "web");
      assertStringIncludes(logs, "stop requested: guest shutdown, power cut after 60 s");
      assertStringIncludes(logs, "start requested");
    } finally {
      harness.stop.abort();
    }
  });
});

Deno.test("a graceful stop the guest ignores cuts the power after the grace period; force cuts it at once", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim);
    const { provider } = harness;
    try {
      const pod = podOf("stubborn");
      await provider.createPod(pod, signal);
      const uuid = pod.metadata!.uid!.replaceAll("-", "");
      sim.ignoreGuestShutdown(uuid);
      sim.resetStats();
      await provider.stopVirtualMachine(pod, { gracePeriodSeconds: 0.2 }, signal);
      assertEquals(sim.vms()[0].state, "Stopped");
      assertEquals(sim.stats().apis.StopVmInstance, 2);
      assertStringIncludes(
        await logsOf(harness, "stubborn"),
        "the guest did not shut down within 0.2 s: cutting the power (cold stop)",
      );

      await provider.startVirtualMachine(pod, signal);
      sim.resetStats();
      const started = Date.now();
      await provider.stopVirtualMachine(pod, { force: true }, signal);
      assert(Date.now() - started < 500, "a cold stop does not wait for the guest");
      assertEquals([sim.vms()[0].state, sim.stats().apis.StopVmInstance], ["Stopped", 1]);
      assertStringIncludes(
        await logsOf(harness, "stubborn"),
        "stop requested: power cut (cold stop)",
      );
    } finally {
      harness.stop.abort();
    }
  }, { guestShutdownTimeoutMs: 600 });
});

Deno.test("restart reboots a running or crashed VM into the same VM and is refused while it is off", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim);
    const { provider } = harness;
    try {
      const pod = podOf("db");
      await provider.createPod(pod, signal);
      const uuid = pod.metadata!.uid!.replaceAll("-", "");
      await provider.restartVirtualMachine(pod, {}, signal);
      assertEquals(sim.stats().apis.RebootVmInstance, 1);
      assertEquals(sim.vms().map((vm) => [vm.uuid, vm.state]), [[uuid, "Running"]]);

      // What a host sync reports after the guest crashed.
      const crashed = await fetch(`${sim.origin}/__sim/vms/${uuid}/state`, {
        method: "POST",
        body: JSON.stringify({ state: "Crashed" }),
      });
      assertEquals(crashed.status, 200);
      await crashed.body?.cancel();
      await eventually("Crashed reported", async () => {
        const state = await provider.getVirtualMachineState(pod, signal);
        return state.power === "Crashed" ? state : undefined;
      });
      await provider.restartVirtualMachine(pod, {}, signal);
      assertEquals((await provider.getVirtualMachineState(pod, signal)).power, "Running");

      await provider.stopVirtualMachine(pod, { force: true }, signal);
      const refused = await assertRejects(
        () => provider.restartVirtualMachine(pod, {}, signal),
        InvalidInputError,
      );
      assertStringIncludes(refused.message, "found it Stopped; start it instead");
      await provider.restartVirtualMachine(pod, {}, signal).catch(() => {});
      assertEquals(sim.stats().apis.RebootVmInstance, 2);
    } finally {
      harness.stop.abort();
    }
  });
});

Deno.test("the power calls of a pod without a VM are NotFoundError", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim);
    try {
      const ghost = podOf("ghost");
      await assertRejects(
        () => harness.provider.getVirtualMachineState(ghost, signal),
        NotFoundError,
      );
      await assertRejects(() => harness.provider.startVirtualMachine(ghost, signal), NotFoundError);
      await assertRejects(
        () => harness.provider.stopVirtualMachine(ghost, { force: true }, signal),
        NotFoundError,
      );
    } finally {
      harness.stop.abort();
    }
  });
});
