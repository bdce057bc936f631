/**
 * The zstack provider's live migration against the ZStack simulator: candidates by host
 * name, a move to a named candidate or to the host ZStack picks, refusals that name the
 * candidates, and a capacity error with the reason when no host can take the VM.
 */

import { assertEquals, assertRejects, assertStringIncludes } from "../../_harness/assert.ts";
import { InvalidInputError, ResourceExhaustedError } from "../../../lib/provider.ts";
import { podOf, providerFor, seedWithHosts, signal, withSimulator } from "./_sim_harness.ts";

Deno.test("a running VM moves to a named candidate and back to the host ZStack picks; the host name follows", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim);
    const { provider } = harness;
    try {
      const pod = podOf("web");
      await provider.createPod(pod, signal);
      const from = (await provider.getVirtualMachineState(pod, signal)).host!;
      const other = from === "host-1" ? "host-2" : "host-1";
      assertEquals(await provider.listMigrationTargets(pod, signal), [other]);

      assertEquals(await provider.migrateVirtualMachine(pod, { targetHost: other }, signal), other);
      assertEquals((await provider.getVirtualMachineState(pod, signal)).host, other);
      const uuid = pod.metadata!.uid!.replaceAll("-", "");
      const vm = sim.vms().find((candidate) => candidate.uuid === uuid)!;
      assertEquals(sim.hosts().find((host) => host.uuid === vm.hostUuid)?.name, other);
      // Asked again for the same target (an agent restart), the VM is left where it is.
      assertEquals(await provider.migrateVirtualMachine(pod, { targetHost: other }, signal), other);
      assertEquals(sim.stats().apis.MigrateVm, 1);

      assertEquals(await provider.migrateVirtualMachine(pod, {}, signal), from);
      assertEquals(sim.stats().apis.MigrateVm, 2);
      const logs = await new Response(
        await provider.getContainerLogs(
          { namespace: "default", pod: "web", container: "main" },
          {},
          signal,
        ),
      ).text();
      assertStringIncludes(logs, `migration requested from host ${from} to host ${other}`);
    } finally {
      harness.stop.abort();
    }
  });
});

Deno.test("migration to an unknown host, or of a stopped VM, is InvalidInputError naming the candidates", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim);
    const { provider } = harness;
    try {
      const pod = podOf("web");
      await provider.createPod(pod, signal);
      const [candidate] = await provider.listMigrationTargets(pod, signal);
      const unknown = await assertRejects(
        () => provider.migrateVirtualMachine(pod, { targetHost: "host-9" }, signal),
        InvalidInputError,
      );
      assertStringIncludes(
        unknown.message,
        `to host "host-9": ZStack has no such host; expected one of the candidates: ${candidate}`,
      );
      await provider.stopVirtualMachine(pod, { force: true }, signal);
      assertEquals(await provider.listMigrationTargets(pod, signal), []);
      const stopped = await assertRejects(
        () => provider.migrateVirtualMachine(pod, {}, signal),
        InvalidInputError,
      );
      assertStringIncludes(stopped.message, "expected it Running, found it Stopped");
      assertEquals(sim.stats().apis.MigrateVm, undefined);
    } finally {
      harness.stop.abort();
    }
  });
});

Deno.test("with a single host a migration fails as a capacity error saying there is no other host", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim);
    const { provider } = harness;
    try {
      const pod = podOf("web");
      await provider.createPod(pod, signal);
      assertEquals(await provider.listMigrationTargets(pod, signal), []);
      const error = await assertRejects(
        () => provider.migrateVirtualMachine(pod, {}, signal),
        ResourceExhaustedError,
      );
      assertEquals(error.resource, "capacity");
      assertStringIncludes(
        error.message,
        "from host host-1: no host can take it: its cluster has no host other than host-1",
      );
      // Its own host is where it already is: nothing to do.
      assertEquals(
        await provider.migrateVirtualMachine(pod, { targetHost: "host-1" }, signal),
        "host-1",
      );
      assertEquals(sim.stats().apis.MigrateVm, undefined);
    } finally {
      harness.stop.abort();
    }
  }, { seed: await seedWithHosts((hosts) => hosts.slice(0, 1)) });
});

Deno.test("when the other host is full the capacity error says how much it has free", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim);
    const { provider } = harness;
    try {
      const pod = podOf("web");
      pod.spec!.containers[0].resources = { limits: { cpu: "2", memory: "48Gi" } };
      await provider.createPod(pod, signal);
      const error = await assertRejects(
        () => provider.migrateVirtualMachine(pod, {}, signal),
        ResourceExhaustedError,
      );
      assertStringIncludes(error.message, "has 4 GiB of memory free, the VM needs 48 GiB");
    } finally {
      harness.stop.abort();
    }
  }, {
    seed: await seedWithHosts((hosts) => [hosts[0], { ...hosts[1], memorySize: 4 * 2 ** 30 }]),
  });
});
