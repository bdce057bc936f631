/**
 * `--provider=kubernetes` while the lower cluster's API server is down for 60 s (a lower
 * cluster of the test's own, whose kube-apiserver is killed and started again): the upper
 * node says so (ProviderAvailable False with the reason, tainted NoSchedule, but Ready, so
 * the control plane evicts nothing), nothing is deleted on either level, a pod created
 * meanwhile waits, and everything recovers once the API is back.
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import { nodeCondition } from "../_harness/agent.ts";
import { cluster, kubectlJson, waitFor } from "../_harness/cluster.ts";
import { apply, isRunning, PROVIDER_TOLERATION, waitRunning } from "../_harness/pods.ts";
import { withKubernetesNode } from "../_harness/kubernetes.ts";
import {
  startLowerCluster,
  stopLowerApiServer,
  stopLowerCluster,
} from "../_harness/lower_cluster.ts";

function podOn(name: string, nodeName: string): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: {
      nodeSelector: { "kubernetes.io/hostname": nodeName },
      tolerations: [PROVIDER_TOLERATION],
      containers: [{ name: "app", image: "busybox:1.36" }],
    },
  };
}

async function taints(nodeName: string): Promise<string[]> {
  const node = await kubectlJson<{ spec?: { taints?: { key: string; effect: string }[] } }>([
    "get",
    "node",
    nodeName,
  ]);
  return (node.spec?.taints ?? []).map((taint) => `${taint.key}:${taint.effect}`);
}

Deno.test("kubernetes e2e: the lower API down for 60 s makes the node say so and taint itself, deletes nothing, and recovers", async () => {
  const dir = `${(await cluster()).dir}-lower-outage-${Deno.pid}`;
  const lower = await startLowerCluster(dir, 1);
  try {
    await withKubernetesNode("k8s-outage", async (node) => {
      await node.start();
      const names = ["a", "b", "c"];
      for (const name of names) await apply(node.ns, podOn(name, node.nodeName));
      for (const name of names) await waitRunning(node.ns, name, 60_000);
      const before = await node.lowerPods();

      const restart = await stopLowerApiServer(lower);
      const downAt = Date.now();
      await waitFor("the node saying the provider is unavailable", async () => {
        const available = await nodeCondition(node.nodeName, "ProviderAvailable");
        return available?.status === "False" &&
          available.reason === "KubernetesProviderUnreachable";
      }, { timeoutMs: 45_000, intervalMs: 1000 });
      const available = await nodeCondition(node.nodeName, "ProviderAvailable");
      assertStringIncludes(available?.message ?? "", new URL(lower.server).host);
      assertEquals((await nodeCondition(node.nodeName))?.status, "True", "Ready: nothing evicted");
      assert(
        (await taints(node.nodeName)).includes("vkedge.io/provider-unavailable:NoSchedule"),
        "tainted NoSchedule",
      );
      await apply(node.ns, podOn("during", node.nodeName));
      while (Date.now() - downAt < 60_000) {
        const pods = (await kubectlJson<{ items: Pod[] }>(["get", "pods", "-n", node.ns])).items;
        for (const name of names) {
          const pod = pods.find((p) => p.metadata?.name === name);
          assert(
            pod !== undefined && pod.metadata?.deletionTimestamp === undefined,
            `${name} kept`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 5_000));
      }
      await restart();

      await waitFor("the provider available again, the taint gone", async () => {
        return (await nodeCondition(node.nodeName, "ProviderAvailable"))?.status === "True" &&
          !(await taints(node.nodeName)).includes("vkedge.io/provider-unavailable:NoSchedule");
      }, { timeoutMs: 90_000, intervalMs: 1000 });
      await waitRunning(node.ns, "during", 90_000);
      const after = await node.lowerPods();
      for (const name of names) {
        assertEquals(
          after.get(name)?.metadata?.uid,
          before.get(name)?.metadata?.uid,
          `${name} kept below`,
        );
        assert(
          isRunning(await kubectlJson<Pod>(["get", "pod", name, "-n", node.ns])),
          `${name} Running`,
        );
      }
      assertEquals(after.size, names.length + 1);
    }, { lower });
  } finally {
    await stopLowerCluster(dir);
    await Deno.remove(dir, { recursive: true }).catch(() => undefined);
  }
});
