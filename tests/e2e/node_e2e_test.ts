/**
 * The virtual Node as a user sees it: registered with its labels, taint and
 * capacity, kept alive by its Lease, NotReady with our reason while the
 * provider's ping fails, and back after someone deletes it.
 */

import type { Node } from "kubernetes-types/core/v1.d.ts";
import type { Lease } from "kubernetes-types/coordination/v1.d.ts";
import { assert, assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import { kubectl, kubectlJson, kubectlResult, waitFor } from "../_harness/cluster.ts";
import { nodeCondition, startAgent, uniqueNodeName, waitForNodeReady } from "../_harness/agent.ts";

async function deleteNode(name: string): Promise<void> {
  await kubectlResult(["delete", "node", name, "--wait=false"]);
}

Deno.test("the agent registers a Ready virtual node with labels, taint, capacity and a renewed Lease", async () => {
  const nodeName = uniqueNodeName("vk-node");
  const agent = await startAgent({
    nodeName,
    providerConfig: { capacity: { cpu: "8", memory: "16Gi", pods: "110" } },
  });
  try {
    await waitForNodeReady(agent);
    const node = await kubectlJson<Node>(["get", "node", nodeName]);
    const labels = node.metadata?.labels ?? {};
    assertEquals(labels["type"], "virtual-kubelet");
    assertEquals(labels["kubernetes.io/role"], "agent");
    assertEquals(labels["kubernetes.io/hostname"], nodeName);
    assertEquals(labels["kubernetes.io/os"], "linux");
    assert(["amd64", "arm64"].includes(labels["kubernetes.io/arch"]));
    assertEquals(node.spec?.taints?.find((t) => t.key === "virtual-kubelet.io/provider"), {
      key: "virtual-kubelet.io/provider",
      value: "mock",
      effect: "NoSchedule",
    });
    assertEquals(node.status?.capacity?.cpu, "8");
    assertEquals(node.status?.allocatable?.pods, "110");
    assertEquals(node.status?.daemonEndpoints?.kubeletEndpoint?.Port, agent.kubeletPort);
    assertEquals(
      node.status?.addresses?.find((a) => a.type === "InternalIP")?.address,
      "127.0.0.1",
    );
    assertStringIncludes(node.status?.nodeInfo?.kubeletVersion ?? "", "vkedge");

    const first = await kubectlJson<Lease>(["get", "lease", nodeName, "-n", "kube-node-lease"]);
    assertEquals(first.spec?.holderIdentity, nodeName);
    assertEquals(first.spec?.leaseDurationSeconds, 40);
    assertEquals(first.metadata?.ownerReferences?.[0]?.uid, node.metadata?.uid);
    assert(/\.\d{6}Z$/.test(first.spec?.renewTime ?? ""), `renewTime ${first.spec?.renewTime}`);
    await waitFor("the lease to be renewed", async () => {
      const lease = await kubectlJson<Lease>(["get", "lease", nodeName, "-n", "kube-node-lease"]);
      return lease.spec!.renewTime! > first.spec!.renewTime!;
    }, { timeoutMs: 25_000, intervalMs: 1000 });
  } finally {
    assertEquals(await agent.stop(), 0);
    await deleteNode(nodeName);
  }
});

Deno.test("a failing provider ping keeps the node Ready (nothing is evicted), says why in ProviderAvailable and taints it NoSchedule, until the provider answers", async () => {
  const nodeName = uniqueNodeName("vk-ping");
  const faultFile = await Deno.makeTempFile();
  const agent = await startAgent({
    nodeName,
    providerConfig: { faultFile },
    extraArgs: ["--provider-ping-interval=1s"],
  });
  try {
    await waitForNodeReady(agent);
    await Deno.writeTextFile(faultFile, "ping");
    await waitFor(
      "ProviderAvailable=False",
      async () => (await nodeCondition(nodeName, "ProviderAvailable"))?.status === "False",
      { timeoutMs: 40_000, intervalMs: 500 },
    );
    const available = await nodeCondition(nodeName, "ProviderAvailable");
    assertEquals(available?.reason, "MockProviderUnreachable");
    assertStringIncludes(available?.message ?? "", "provider mock");
    assertEquals((await nodeCondition(nodeName))?.status, "True", "still Ready");
    await waitFor("the NoSchedule taint", async () => {
      const taints = await kubectl(["get", "node", nodeName, "-o", "jsonpath={.spec.taints}"]);
      return taints.includes("vkedge.io/provider-unavailable") && taints.includes("NoSchedule");
    }, { timeoutMs: 20_000 });
    const events = await kubectl([
      "get",
      "events",
      "-n",
      "default",
      "--field-selector",
      `involvedObject.name=${nodeName},reason=ProviderUnavailable`,
      "-o",
      "name",
    ]);
    assert(events.trim().length > 0, "expected a ProviderUnavailable event");
    await Deno.writeTextFile(faultFile, "");
    await waitFor(
      "ProviderAvailable=True and the taint gone",
      async () =>
        (await nodeCondition(nodeName, "ProviderAvailable"))?.status === "True" &&
        !(await kubectl(["get", "node", nodeName, "-o", "jsonpath={.spec.taints}"]))
          .includes("vkedge.io/provider-unavailable"),
      { timeoutMs: 40_000, intervalMs: 500 },
    );
  } finally {
    await agent.stop();
    await deleteNode(nodeName);
    await Deno.remove(faultFile);
  }
});

Deno.test("a deleted Node is registered again with a new UID", async () => {
  const nodeName = uniqueNodeName("vk-del");
  const agent = await startAgent({ nodeName });
  try {
    await waitForNodeReady(agent);
    const before = await kubectlJson<Node>(["get", "node", nodeName]);
    await kubectl(["delete", "node", nodeName]);
    await waitFor("the node to come back", async () => {
      const r = await kubectlResult(["get", "node", nodeName, "-o", "jsonpath={.metadata.uid}"]);
      return r.code === 0 && r.stdout !== "" && r.stdout !== before.metadata?.uid;
    }, { timeoutMs: 30_000, intervalMs: 500 });
    await waitForNodeReady(agent);
    const after = await kubectlJson<Node>(["get", "node", nodeName]);
    // The garbage collector deletes the Lease the old Node owned; the agent writes it again
    // (a moment without one is expected), owned by the new Node.
    let lease: Lease | undefined;
    await waitFor("the lease to be owned by the new node", async () => {
      const r = await kubectlResult([
        "get",
        "lease",
        nodeName,
        "-n",
        "kube-node-lease",
        "-o",
        "json",
      ]);
      if (r.code !== 0) return false;
      lease = JSON.parse(r.stdout) as Lease;
      return lease.metadata?.ownerReferences?.[0]?.uid === after.metadata?.uid;
    }, { timeoutMs: 30_000 });
    assert(lease?.spec?.holderIdentity === nodeName);
  } finally {
    await agent.stop();
    await deleteNode(nodeName);
  }
});

Deno.test("conditions, labels and taints written by others survive the agent's updates", async () => {
  const nodeName = uniqueNodeName("vk-merge");
  const agent = await startAgent({
    nodeName,
    extraArgs: ["--node-status-update-frequency=1s"],
  });
  try {
    await waitForNodeReady(agent);
    await kubectl(["label", "node", nodeName, "team=edge"]);
    await kubectl(["taint", "node", nodeName, "dedicated=edge:NoSchedule"]);
    await kubectl([
      "patch",
      "node",
      nodeName,
      "--subresource=status",
      "--type=strategic",
      "-p",
      JSON.stringify({
        status: {
          conditions: [{
            type: "NetworkProblem",
            status: "False",
            reason: "NoProblem",
            message: "set by a test",
          }],
        },
      }),
    ]);
    // Several status updates later everything is still there.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const node = await kubectlJson<Node>(["get", "node", nodeName]);
    assertEquals(node.metadata?.labels?.team, "edge");
    assert(node.spec?.taints?.some((t) => t.key === "dedicated"));
    assert(node.spec?.taints?.some((t) => t.key === "virtual-kubelet.io/provider"));
    assertEquals(
      node.status?.conditions?.find((c) => c.type === "NetworkProblem")?.reason,
      "NoProblem",
    );
    assertEquals(node.status?.conditions?.find((c) => c.type === "Ready")?.status, "True");
  } finally {
    await agent.stop();
    await deleteNode(nodeName);
  }
});
