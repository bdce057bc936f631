/**
 * The openstack provider across agent restarts and token trouble, against the real Nova
 * and Keystone of the OpenStack test stack: servers outlive the agent, so an agent killed
 * with SIGKILL in the middle of creating pods and started again must end with exactly one
 * server per pod (Nova has no idempotency key: a workload with two servers keeps the
 * oldest), and tokens that stop being valid (Keystone's keys rotated, as an expiry does)
 * are renewed without anyone noticing.
 */

import type { Event, Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals } from "../_harness/assert.ts";
import { kubectl, kubectlJson, waitFor } from "../_harness/cluster.ts";
import { apply, isRunning, waitRunning } from "../_harness/pods.ts";
import { invalidateTokens, serverPod, withOpenStackNode } from "../_harness/openstack.ts";

async function listPods(ns: string): Promise<Pod[]> {
  return (await kubectlJson<{ items: Pod[] }>(["get", "pods", "-n", ns])).items;
}

async function warnings(ns: string): Promise<Event[]> {
  const list = await kubectlJson<{ items: Event[] }>(["get", "events", "-n", ns]);
  return list.items.filter((event) => event.type === "Warning");
}

Deno.test("openstack: kill -9 while 10 pods are being created, then restart: exactly 10 servers, one per pod, all ACTIVE", async () => {
  await withOpenStackNode("os-kill", async (node) => {
    const { ns, nodeName } = node;
    const first = await node.start();
    const names = Array.from({ length: 10 }, (_, index) => `vm-${index}`);
    await kubectl(["apply", "-n", ns, "-f", "-"], {
      stdin: JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: names.map((n) => serverPod(n, nodeName)),
      }),
    });
    await waitFor("a few servers", async () => (await node.servers()).length >= 2, {
      timeoutMs: 120_000,
      intervalMs: 100,
    });
    await first.kill();
    const atKill = await node.servers();
    assert(
      atKill.length < 10 || atKill.some((server) => server.status !== "ACTIVE"),
      `the kill came too late: ${atKill.length} servers, all ACTIVE`,
    );

    await node.start();
    await waitFor("10 pods Running", async () => {
      const pods = await listPods(ns);
      return pods.length === 10 && pods.every(isRunning);
    }, { timeoutMs: 240_000, intervalMs: 1000 });
    // A duplicate made by a lost create is deleted within a poll or two.
    await waitFor("exactly 10 servers", async () => (await node.servers()).length === 10, {
      timeoutMs: 60_000,
      intervalMs: 1000,
    });
    const pods = await listPods(ns);
    const servers = await node.servers();
    assertEquals(
      new Set(servers.map((server) => server.metadata["vkedge.io:pod-uid"])),
      new Set(pods.map((pod) => pod.metadata?.uid)),
      "one server per pod UID",
    );
    const byPod = new Map(servers.map((server) => [server.metadata["vkedge.io:pod"], server]));
    for (const pod of pods) {
      const server = byPod.get(pod.metadata!.name!);
      assertEquals(server?.status, "ACTIVE", pod.metadata?.name);
      assertEquals(pod.status?.podIP, server?.addresses.private?.[0]?.addr, pod.metadata?.name);
    }
  });
});

Deno.test("openstack: tokens that stop being valid (Keystone's keys rotated) are renewed invisibly: pods stay Running, new pods run, no warnings", async () => {
  await withOpenStackNode("os-token", async (node) => {
    const { ns, nodeName } = node;
    const agent = await node.start();
    await apply(ns, serverPod("before", nodeName));
    await waitRunning(ns, "before", 240_000);
    const tokensBefore = ((await agent.output()).match(/Keystone token for /g) ?? []).length;

    await invalidateTokens(node.stack);
    // Keystone and Nova reuse a validation for 10 s each: past that, the old token is refused.
    await new Promise((resolve) => setTimeout(resolve, 25_000));
    await apply(ns, serverPod("after", nodeName));
    await waitRunning(ns, "after", 240_000);
    const tokensAfter = ((await agent.output()).match(/Keystone token for /g) ?? []).length;
    assert(tokensAfter > tokensBefore, `a new token (${tokensBefore} → ${tokensAfter})`);
    for (const pod of await listPods(ns)) assert(isRunning(pod), `${pod.metadata?.name} Running`);
    const ready = await kubectl([
      "get",
      "node",
      nodeName,
      "-o",
      `jsonpath={.status.conditions[?(@.type=="ProviderAvailable")].status}`,
    ]);
    assertEquals(ready.trim(), "True");
    assertEquals((await warnings(ns)).map((event) => event.message), []);
  });
});
