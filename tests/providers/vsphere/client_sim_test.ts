// The vsphere client and provider against govmomi's simulator: TLS with the CA file, a wrong
// password named, re-login after the session was ended, faults mapped to typed errors,
// placement and template names checked, a pod on a distributed port group.

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { InvalidInputError, NotFoundError, UnauthenticatedError } from "../../../lib/provider.ts";
import { voidReply, VsphereClient } from "../../../providers/vsphere/client.ts";
import { parseVsphereConfig } from "../../../providers/vsphere/config.ts";
import { toProviderError } from "../../../providers/vsphere/faults.ts";
import { VsphereProvider } from "../../../providers/vsphere/vsphere_provider.ts";
import { startVcsim, type VcsimProcess } from "../../_harness/vcsim.ts";
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
} from "../../_harness/assert.ts";

const signal = new AbortController().signal;

async function clientOf(sim: VcsimProcess, password = sim.password): Promise<VsphereClient> {
  return new VsphereClient({
    url: sim.url,
    username: sim.username,
    password,
    tls: { caCerts: [await Deno.readTextFile(sim.caFile)] },
    requestTimeoutMs: 10_000,
  });
}

function providerOf(sim: VcsimProcess, client: VsphereClient, extra: Record<string, unknown> = {}) {
  const config = parseVsphereConfig({
    endpoint: sim.url,
    auth: { username: sim.username, passwordEnv: "UNUSED" },
    clusterName: "sim-test",
    ...extra,
  });
  return new VsphereProvider(config, client, {
    nodeName: "edge-1",
    operatingSystem: "linux",
    internalIp: "10.1.0.1",
    daemonPort: 10250,
  });
}

function pod(
  name: string,
  annotations: Record<string, string> = {},
  image = "vsphere/cirros",
): Pod {
  return {
    metadata: { namespace: "default", name, uid: crypto.randomUUID(), annotations },
    spec: { containers: [{ name: "main", image }] },
  };
}

Deno.test("vsphere client: a session ended by the server is logged into again once, invisibly", async () => {
  await using sim = await startVcsim();
  const client = await clientOf(sim);
  const { sessionManager } = await client.serviceContent(signal);
  await client.call(
    "SessionIsActive",
    sessionManager,
    "<sessionID>x</sessionID><userName>y</userName>",
    voidReply,
    signal,
  )
    .catch(() => undefined);
  assertEquals((await sim.stats()).calls.Login, 1);
  assert((await sim.terminateSessions()) >= 1, "a session to end");
  const provider = providerOf(sim, client);
  await provider.ping(signal);
  assertEquals((await sim.stats()).calls.Login, 2, "one re-login");
  await client.close(signal);
});

Deno.test("vsphere client: a wrong password is UnauthenticatedError naming the user, not an outage", async () => {
  await using sim = await startVcsim();
  const client = await clientOf(sim, "wrong");
  const provider = providerOf(sim, client);
  const error = await assertRejects(() => provider.ping(signal), UnauthenticatedError);
  assertStringIncludes(error.message, sim.url);
  assertStringIncludes(error.message, `refuses the login of "${sim.username}" (InvalidLogin)`);
  await client.close(signal);
});

Deno.test("vsphere client: faults map to typed errors (an unknown object is NotFoundError)", async () => {
  await using sim = await startVcsim();
  const client = await clientOf(sim);
  const error = await client.call(
    "PowerOnVM_Task",
    { type: "VirtualMachine", value: "vm-does-not-exist" },
    "",
    voidReply,
    signal,
  ).catch((caught) => caught);
  assert(toProviderError(error, "powering on") instanceof NotFoundError, String(error));
  await client.close(signal);
});

Deno.test("vsphere provider: unknown template, network, cluster or folder are refused naming what exists", async () => {
  await using sim = await startVcsim();
  const client = await clientOf(sim);
  const provider = providerOf(sim, client);
  const template = await assertRejects(
    () => provider.createPod(pod("a", {}, "vsphere/windows"), signal),
    InvalidInputError,
  );
  assertStringIncludes(template.message, `expected a template named "windows"`);
  assertStringIncludes(template.message, "cirros");
  const network = await assertRejects(
    () => provider.createPod(pod("b", { "vsphere.vkedge.io/network": "nowhere" }), signal),
    InvalidInputError,
  );
  assertStringIncludes(network.message, `expected a network named "nowhere"`);
  assertStringIncludes(network.message, "VM Network");
  assertEquals(await provider.getPods(signal), [], "nothing left behind");
  for (
    const [placement, text] of [
      [{ cluster: "C9" }, `expected a cluster named "C9"`],
      [{ folder: "no/such" }, `expected VM folder "no/such"`],
    ] as const
  ) {
    const bad = providerOf(sim, await clientOf(sim), { placement });
    const refused = await assertRejects(() => bad.createPod(pod("c"), signal), InvalidInputError);
    assertStringIncludes(refused.message, text);
  }
  await client.close(signal);
});

Deno.test("vsphere provider: a pod on a distributed port group runs, and the node's capacity is the hosts'", async () => {
  await using sim = await startVcsim({ hostCpuCores: 4, hostMemoryMiB: 8192 });
  const client = await clientOf(sim);
  const provider = providerOf(sim, client);
  const web = pod("web", { "vsphere.vkedge.io/network": "DC0_DVPG0" });
  await provider.createPod(web, signal);
  const state = await provider.getVirtualMachineState(web, signal);
  assertEquals(state.power, "Running");
  const node = await provider.configureNode({ metadata: { name: "edge-1" }, status: {} }, signal);
  assertEquals(node.status?.capacity, { cpu: "12", memory: `${3 * 8192 * 1024}Ki`, pods: "110" });
  assertEquals(node.metadata?.labels?.["vsphere.vkedge.io/compute"], "DC0_C0");
  await provider.deletePod(web, signal);
  assertEquals((await sim.vms()).length, 0);
  await client.close(signal);
});
