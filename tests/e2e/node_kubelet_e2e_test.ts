/**
 * The Node as the kubelet keeps it: labels, taints and pod capacity from the kubelet's
 * flags, the OS as upstream spells it, the agent's version, NodeSchedulable and
 * NodeNotSchedulable events on uncordon and cordon, and `/healthz` turning unhealthy while
 * the provider does not answer.
 */

import type { Event, Node } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import { kubectl, kubectlJson, kubectlResult, waitFor } from "../_harness/cluster.ts";
import { kubeletGet, startAgent, uniqueNodeName, waitForNodeReady } from "../_harness/agent.ts";
import { VERSION } from "../../lib/version.ts";

async function nodeEvents(name: string): Promise<Event[]> {
  return (await kubectlJson<{ items: Event[] }>([
    "get",
    "events",
    "-n",
    "default",
    "--field-selector",
    `involvedObject.kind=Node,involvedObject.name=${name}`,
  ])).items;
}

Deno.test("the kubelet's node flags shape the Node; cordon, uncordon and provider outages show", async () => {
  const nodeName = uniqueNodeName("node-flags");
  const dir = await Deno.makeTempDir({ prefix: "vkedge-node-flags-" });
  const faultFile = `${dir}/faults`;
  await Deno.writeTextFile(faultFile, "");
  const agent = await startAgent({
    nodeName,
    providerConfig: { faultFile },
    extraArgs: [
      "--os=Linux",
      "--disable-taint=false",
      "--node-labels=topology.kubernetes.io/zone=edge-a,site=plant-7",
      "--register-with-taints=dedicated=edge:NoSchedule,maintenance:PreferNoSchedule",
      "--max-pods=7",
      "--provider-ping-interval=1s",
    ],
  });
  try {
    await waitForNodeReady(agent);
    const node = await kubectlJson<Node>(["get", "node", nodeName]);
    assertEquals(node.metadata?.labels?.["topology.kubernetes.io/zone"], "edge-a");
    assertEquals(node.metadata?.labels?.site, "plant-7");
    assertEquals(node.metadata?.labels?.["kubernetes.io/os"], "linux");
    assertEquals(node.status?.nodeInfo?.operatingSystem, "linux");
    assertEquals(node.status?.nodeInfo?.kubeletVersion, `v1.36.3-vkedge-${VERSION}`);
    assertEquals(
      (node.spec?.taints ?? []).map((t) => `${t.key}=${t.value ?? ""}:${t.effect}`).sort(),
      [
        "dedicated=edge:NoSchedule",
        "maintenance=:PreferNoSchedule",
        "virtual-kubelet.io/provider=mock:NoSchedule",
      ],
    );
    assertEquals([node.status?.capacity?.pods, node.status?.allocatable?.pods], ["7", "7"]);

    await kubectl(["cordon", nodeName]);
    await waitFor(
      "NodeNotSchedulable",
      async () =>
        (await nodeEvents(nodeName)).some((e) =>
          e.reason === "NodeNotSchedulable" &&
          e.message === `Node ${nodeName} status is now: NodeNotSchedulable`
        ),
    );
    await kubectl(["uncordon", nodeName]);
    await waitFor(
      "NodeSchedulable",
      async () => (await nodeEvents(nodeName)).some((e) => e.reason === "NodeSchedulable"),
    );

    const healthy = await kubeletGet(agent, "/healthz", { anonymous: true });
    assertEquals([healthy.status, await healthy.text()], [200, "ok"]);
    assertEquals((await kubeletGet(agent, "/readyz", { anonymous: true })).status, 200);
    await Deno.writeTextFile(faultFile, "ping\n");
    let text = "";
    await waitFor("/healthz unhealthy", async () => {
      const response = await kubeletGet(agent, "/healthz", { anonymous: true });
      text = await response.text();
      return response.status === 500;
    }, { timeoutMs: 20_000 });
    assertStringIncludes(text, "[-]provider failed: provider mock did not answer its health check");
    assert(!text.includes("[-]apiserver"), "the API server is still reachable");
    await Deno.writeTextFile(faultFile, "");
    await waitFor(
      "/healthz ok again",
      async () => (await kubeletGet(agent, "/healthz", { anonymous: true })).status === 200,
      {
        timeoutMs: 20_000,
      },
    );
  } finally {
    await agent.stop();
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
    await Deno.remove(dir, { recursive: true });
  }
});
