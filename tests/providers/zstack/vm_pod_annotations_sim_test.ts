/**
 * The zstack provider reads the generic annotations of a VM-Pod (as lib/vm/vm_pod.ts
 * builds it from a VirtualMachine) against the ZStack simulator: its networks in order,
 * its user data merged into the VM's cloud-init, and its placement over the configured
 * one, a name that exists nowhere refused naming what does.
 */

import { parse as parseYaml } from "yaml";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { assertEquals, assertMatch, assertRejects } from "../../_harness/assert.ts";
import { InvalidInputError } from "../../../lib/provider.ts";
import { virtualMachineSpecSchema } from "../../../lib/vm/types.ts";
import { vmPodFor } from "../../../lib/vm/vm_pod.ts";
import {
  eventually,
  type Harness,
  nodeName,
  providerFor,
  seedWithHosts,
  signal,
  type Simulator,
  vmsNamed,
  withSimulator,
} from "./_sim_harness.ts";
import type { SeedInput } from "../../zstack_sim/mod.ts";

/** The default inventory plus network l3-storage and cluster-2 with host-3. */
async function seed(): Promise<SeedInput> {
  const base = await seedWithHosts((hosts) => [
    ...hosts,
    { ...hosts[0], name: "host-3", cluster: "cluster-2", managementIp: "172.20.0.13" },
  ]);
  return {
    ...base,
    clusters: [...(base.clusters ?? []), { name: "cluster-2", zone: "zone-1" }],
    l3Networks: [...(base.l3Networks ?? []), {
      name: "l3-storage",
      zone: "zone-1",
      ipRanges: [{
        startIp: "10.20.0.10",
        endIp: "10.20.0.250",
        netmask: "255.255.255.0",
        gateway: "10.20.0.1",
      }],
    }],
  };
}

/**
 * The VM-Pod of VirtualMachine `default/name` with `spec` (image `zstack/cirros` unless
 * given), with the UID the API server gives it.
 */
function vmPod(name: string, spec: Record<string, unknown>): Pod {
  const vm = { metadata: { namespace: "default", name, uid: crypto.randomUUID() } };
  const pod = vmPodFor(vm, virtualMachineSpecSchema.parse({ image: "zstack/cirros", ...spec }), {
    nodeName,
  });
  return { ...pod, metadata: { ...pod.metadata, uid: crypto.randomUUID() } };
}

/** Creates `pod` and waits until the provider reports it Running. */
async function runToRunning(harness: Harness, pod: Pod): Promise<Pod> {
  await harness.provider.createPod(pod, signal);
  return await eventually(
    `${pod.metadata?.name} Running`,
    () =>
      harness.updates.find((update) =>
        update.metadata?.name === pod.metadata?.name && update.status?.phase === "Running"
      ),
  );
}

function hostUuid(sim: Simulator, name: string): string {
  return sim.hosts().find((host) => host.name === name)!.uuid;
}

Deno.test("a VM-Pod with networks, user data and a placement host lands on that host with those networks and that user data", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim);
    try {
      const pod = vmPod("db", {
        networks: ["l3-storage", "l3-default"],
        userData: "#cloud-config\npackages: [postgresql]\n",
        placement: { host: "host-2" },
      });
      const running = await runToRunning(harness, pod);
      assertMatch(running.status?.podIP ?? "", /^10\.20\.0\.\d+$/);
      assertEquals(running.status?.hostIP, "172.20.0.12");
      const [vm] = await vmsNamed(harness.client, "vkedge-default.db");
      const view = sim.vms().find((candidate) => candidate.uuid === vm.uuid)!;
      assertEquals(view.hostUuid, hostUuid(sim, "host-2"));
      const nics = [...view.vmNics].sort((a, b) => a.deviceId - b.deviceId);
      const ipOf = (prefix: string) => nics.find((nic) => nic.ip?.startsWith(prefix));
      assertEquals(nics.map((nic) => nic.l3NetworkUuid), [
        ipOf("10.20.0.")?.l3NetworkUuid,
        ipOf("192.168.100.")?.l3NetworkUuid,
      ]);
      assertEquals(view.defaultL3NetworkUuid, nics[0].l3NetworkUuid);
      const tag = sim.tags().find((candidate) =>
        candidate.resourceUuid === vm.uuid && candidate.tag.startsWith("userdata::")
      )!;
      const userData = parseYaml(
        new TextDecoder().decode(
          Uint8Array.from(atob(tag.tag.slice("userdata::".length)), (c) => c.charCodeAt(0)),
        ),
      ) as { packages: string[]; hostname: string };
      assertEquals([userData.packages, userData.hostname], [["postgresql"], "db"]);
    } finally {
      harness.stop.abort();
    }
  }, { seed: await seed() });
});

Deno.test("a VM-Pod naming another cluster and a host in it lands there; the node's placement is unchanged", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim);
    try {
      await runToRunning(
        harness,
        vmPod("far", { placement: { cluster: "cluster-2", host: "host-3" } }),
      );
      await runToRunning(harness, vmPod("near", {}));
      const hostOf = async (name: string) => {
        const [vm] = await vmsNamed(harness.client, `vkedge-default.${name}`);
        return sim.vms().find((candidate) => candidate.uuid === vm.uuid)?.hostUuid;
      };
      assertEquals(await hostOf("far"), hostUuid(sim, "host-3"));
      const near = await hostOf("near");
      assertEquals([hostUuid(sim, "host-1"), hostUuid(sim, "host-2")].includes(near!), true);
    } finally {
      harness.stop.abort();
    }
  }, { seed: await seed() });
});

Deno.test("a VM-Pod naming an unknown host, or one outside the configured cluster, is refused naming the hosts there; no VM made", async () => {
  await withSimulator(async (sim) => {
    const harness = providerFor(sim);
    try {
      for (const host of ["host-9", "host-3"]) {
        await assertRejects(
          () => harness.provider.createPod(vmPod(`on-${host}`, { placement: { host } }), signal),
          InvalidInputError,
          `zstack provider: pod default/on-${host} annotation vkedge.io/placement-host: expected one host named "${host}" in cluster "cluster-1", found 0; the hosts there are host-1, host-2`,
        );
        assertEquals(await vmsNamed(harness.client, `vkedge-default.on-${host}`), []);
      }
      await assertRejects(
        () => harness.provider.createPod(vmPod("lost", { placement: { zone: "zone-9" } }), signal),
        InvalidInputError,
        `annotation vkedge.io/placement-zone: expected one zone named "zone-9", found 0; the zones are zone-1`,
      );
      assertEquals(sim.vms(), []);
    } finally {
      harness.stop.abort();
    }
  }, { seed: await seed() });
});
