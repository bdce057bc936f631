/**
 * Two upper clusters sharing one lower cluster: the test control plane and a second one
 * started here, each with an agent for a node of the same name, running pods of the same
 * namespace and name. Each agent's pods run below in its own namespaces, and deleting,
 * restarting or cleaning up on one side never touches the other's.
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals } from "../_harness/assert.ts";
import { type AgentProcess, startAgent } from "../_harness/agent.ts";
import { type Cluster, cluster, kubectl, kubectlResult, waitFor } from "../_harness/cluster.ts";
import { startPrivateCluster } from "../_harness/private_cluster.ts";
import { isRunning, PROVIDER_TOLERATION } from "../_harness/pods.ts";
import {
  KWOK_TOLERATION,
  lowerCluster,
  lowerKubectlJson,
  lowerKubectlResult,
} from "../_harness/lower_cluster.ts";

interface Upper {
  name: string;
  cluster: Cluster;
  kubeconfig: string;
  agent?: AgentProcess;
}

async function kubectlOn(upper: Upper, args: string[], stdin?: string): Promise<string> {
  return await kubectl(args, { kubeconfig: upper.kubeconfig, ...(stdin ? { stdin } : {}) });
}

async function podOf(upper: Upper, ns: string, name: string): Promise<Pod | undefined> {
  const result = await kubectlResult(["get", "pod", name, "-n", ns, "-o", "json"], {
    kubeconfig: upper.kubeconfig,
  });
  return result.code === 0 ? JSON.parse(result.stdout) as Pod : undefined;
}

Deno.test("kubernetes e2e: two upper clusters sharing one lower cluster never touch each other's pods", async () => {
  const lower = await lowerCluster();
  const id = crypto.randomUUID().slice(0, 6);
  const shared = await cluster();
  const secondPlane = await startPrivateCluster("vkedge-k8s-second-upper");
  const first: Upper = { name: `alpha-${id}`, cluster: shared, kubeconfig: shared.kubeconfig };
  const second: Upper = {
    name: `beta-${id}`,
    cluster: secondPlane,
    kubeconfig: secondPlane.kubeconfig,
  };
  const ns = `twins-${id}`;
  const nodeName = `twin-${id}`;
  const uppers = [first, second];
  try {
    for (const upper of uppers) {
      await kubectlOn(upper, ["create", "namespace", ns]);
      await waitFor(`default ServiceAccount in ${upper.name}`, async () => {
        const r = await kubectlResult(["get", "serviceaccount", "default", "-n", ns], {
          kubeconfig: upper.kubeconfig,
        });
        return r.code === 0;
      });
    }
    const start = async (upper: Upper) => {
      upper.agent = await startAgent({
        nodeName,
        provider: "kubernetes",
        providerConfig: {
          clusterName: upper.name,
          kubeconfig: lower.kubeconfig,
          tolerations: [KWOK_TOLERATION],
        },
        cluster: upper.cluster,
      });
    };
    for (const upper of uppers) await start(upper);
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web", namespace: ns },
      spec: {
        nodeSelector: { "kubernetes.io/hostname": nodeName },
        tolerations: [PROVIDER_TOLERATION],
        containers: [{ name: "app", image: "busybox:1.36" }],
      },
    };
    for (const upper of uppers) {
      await kubectlOn(upper, ["apply", "-f", "-"], JSON.stringify(pod));
      await kubectlOn(
        upper,
        ["apply", "-f", "-"],
        JSON.stringify({
          ...pod,
          metadata: { ...pod.metadata, name: "api" },
        }),
      );
    }
    for (const upper of uppers) {
      for (const name of ["web", "api"]) {
        await waitFor(`${upper.name} ${name} Running`, async () => {
          const found = await podOf(upper, ns, name);
          return found !== undefined && isRunning(found);
        }, { timeoutMs: 90_000, intervalMs: 500 });
      }
    }
    const lowerPods = async (upper: Upper) =>
      (await lowerKubectlJson<{ items: Pod[] }>(lower, [
        "get",
        "pods",
        "-A",
        "-l",
        `vkedge.io/cluster=${upper.name}`,
      ])).items;
    for (const upper of uppers) {
      const pods = await lowerPods(upper);
      assertEquals(pods.map((p) => p.metadata?.name).sort(), ["api", "web"]);
      assertEquals(
        new Set(pods.map((p) => p.metadata?.namespace)),
        new Set([`${upper.name}-${ns}`]),
      );
      const above = await podOf(upper, ns, "web");
      assertEquals(
        pods.find((p) => p.metadata?.name === "web")?.metadata?.labels?.["vkedge.io/pod-uid"],
        above?.metadata?.uid,
      );
    }
    const betaBefore = await lowerPods(second);

    // One side deletes a pod and restarts its agent with SIGKILL: the other side's are untouched.
    await kubectlOn(first, ["delete", "pod", "web", "-n", ns, "--wait=true", "--timeout=60s"]);
    await first.agent!.kill();
    await kubectlOn(first, ["delete", "pod", "api", "-n", ns, "--grace-period=0", "--force"]);
    await start(first);
    await waitFor("alpha's lower pods gone", async () => (await lowerPods(first)).length === 0, {
      timeoutMs: 90_000,
      intervalMs: 1000,
    });
    await second.agent!.kill();
    await start(second);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const betaAfter = await lowerPods(second);
    assertEquals(
      betaAfter.map((p) => p.metadata?.uid).sort(),
      betaBefore.map((p) => p.metadata?.uid).sort(),
    );
    for (const name of ["web", "api"]) {
      const found = await podOf(second, ns, name);
      assert(found !== undefined && isRunning(found), `beta's ${name} still Running`);
    }
  } finally {
    for (const upper of uppers) await upper.agent?.stop();
    await kubectlResult(["delete", "namespace", ns, "--wait=false"]);
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
    for (const upper of uppers) {
      await lowerKubectlResult(lower, [
        "delete",
        "namespace",
        `${upper.name}-${ns}`,
        "--wait=false",
      ]);
    }
    await secondPlane.down();
  }
});
