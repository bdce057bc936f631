/**
 * Pods on the virtual node as a user sees them with kubectl: scheduled by the
 * real scheduler, Running with an IP, updated, deleted gracefully or by
 * force, with events for each provider action and env errors that say why.
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { Deployment } from "kubernetes-types/apps/v1.d.ts";
import { assert, assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import {
  freshNamespace,
  kubectl,
  kubectlJson,
  kubectlResult,
  waitFor,
} from "../_harness/cluster.ts";
import {
  type AgentProcess,
  runningPods,
  startAgent,
  uniqueNodeName,
  waitForNodeReady,
} from "../_harness/agent.ts";
import { apply, getPod, podManifest, waitForEvent, waitRunning } from "../_harness/pods.ts";

async function withAgent(prefix: string, body: (agent: AgentProcess, ns: string) => Promise<void>) {
  const nodeName = uniqueNodeName(prefix);
  const agent = await startAgent({ nodeName });
  try {
    await waitForNodeReady(agent);
    const ns = await freshNamespace(prefix);
    await body(agent, ns);
  } finally {
    await agent.stop();
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
  }
}

Deno.test("a tolerating pod is scheduled onto the virtual node and becomes Running with an IP", async () => {
  await withAgent("pod-run", async (agent, ns) => {
    await apply(ns, podManifest("web", agent.nodeName));
    const pod = await waitRunning(ns, "web");
    assertEquals(pod.spec?.nodeName, agent.nodeName);
    assert(/^\d+\.\d+\.\d+\.\d+$/.test(pod.status?.podIP ?? ""), `podIP ${pod.status?.podIP}`);
    assertEquals(pod.status?.hostIP, "127.0.0.1");
    assertEquals(pod.status?.containerStatuses?.[0]?.name, "app");
    assertEquals(pod.status?.containerStatuses?.[0]?.ready, true);
    await waitForEvent(ns, "web", "ProviderCreateSuccess");
  });
});

Deno.test("a Deployment's pods all become Running on the virtual node", async () => {
  await withAgent("deploy", async (agent, ns) => {
    const deployment: Deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: podManifest("x", agent.nodeName).spec!,
        },
      },
    };
    await apply(ns, deployment);
    await waitFor("3 available replicas", async () => {
      const d = await kubectlJson<Deployment>(["get", "deployment", "web", "-n", ns]);
      return d.status?.availableReplicas === 3;
    }, { timeoutMs: 60_000 });
    const pods = await kubectlJson<{ items: Pod[] }>(["get", "pods", "-n", ns, "-l", "app=web"]);
    assertEquals(pods.items.length, 3);
    for (const pod of pods.items) {
      assertEquals(pod.spec?.nodeName, agent.nodeName);
      assertEquals(pod.status?.phase, "Running");
    }
    const ips = new Set(pods.items.map((p) => p.status?.podIP));
    assertEquals(ips.size, 3, "every pod has its own IP");
  });
});

Deno.test("a spec change of a running pod is applied in the provider without recreating it", async () => {
  await withAgent("pod-upd", async (agent, ns) => {
    await apply(ns, podManifest("web", agent.nodeName));
    const before = await waitRunning(ns, "web");
    await kubectl(["set", "image", "-n", ns, "pod/web", "app=nginx:1.28"]);
    await waitForEvent(ns, "web", "ProviderUpdateSuccess");
    await waitFor("the new image in the status", async () => {
      const pod = await getPod(ns, "web");
      return pod.status?.containerStatuses?.[0]?.image === "nginx:1.28";
    });
    const after = await getPod(ns, "web");
    assertEquals(after.metadata?.uid, before.metadata?.uid);
    assertEquals(after.status?.podIP, before.status?.podIP);
  });
});

Deno.test("graceful delete stops the pod in the provider, then removes it", async () => {
  await withAgent("pod-del", async (agent, ns) => {
    await apply(ns, podManifest("web", agent.nodeName));
    await waitRunning(ns, "web");
    await kubectl(["delete", "pod", "web", "-n", ns, "--wait=false"]);
    await waitFor("the pod to be gone", async () => {
      return (await kubectlResult(["get", "pod", "web", "-n", ns])).code !== 0;
    }, { timeoutMs: 30_000 });
    await waitForEvent(ns, "web", "ProviderDeleteSuccess");
  });
});

Deno.test("force delete removes the pod from the provider too", async () => {
  await withAgent("pod-force", async (agent, ns) => {
    await apply(ns, podManifest("web", agent.nodeName));
    await waitRunning(ns, "web");
    assert((await runningPods(agent)).includes(`${ns}/web`));
    await kubectl(["delete", "pod", "web", "-n", ns, "--grace-period=0", "--force"]);
    await waitFor("the pod to be gone from the API", async () => {
      return (await kubectlResult(["get", "pod", "web", "-n", ns])).code !== 0;
    });
    await waitFor("the provider to drop the pod", async () => {
      return !(await runningPods(agent)).includes(`${ns}/web`);
    });
  });
});

Deno.test("a missing mandatory ConfigMap keeps the pod out of the provider with an event, until it appears", async () => {
  await withAgent("env-cm", async (agent, ns) => {
    await apply(
      ns,
      podManifest("web", agent.nodeName, {
        containers: [{
          name: "app",
          image: "nginx",
          env: [{
            name: "SETTING",
            valueFrom: { configMapKeyRef: { name: "settings", key: "mode" } },
          }],
        }],
      }),
    );
    const event = await waitForEvent(ns, "web", "MandatoryConfigMapNotFound");
    assertEquals(event.type, "Warning");
    await waitFor("the reason in the pod status", async () => {
      const pod = await getPod(ns, "web");
      return pod.status?.reason === "CreateContainerConfigError";
    });
    assert(!(await runningPods(agent)).includes(`${ns}/web`), "the provider must not run it");
    const pending = await getPod(ns, "web");
    assertEquals(pending.status?.phase, "Pending");
    assertStringIncludes(pending.status?.message ?? "", "settings");
    await kubectl(["create", "configmap", "settings", "-n", ns, "--from-literal=mode=fast"]);
    await waitRunning(ns, "web");
  });
});

Deno.test("a missing optional Secret only warns and the pod runs", async () => {
  await withAgent("env-sec", async (agent, ns) => {
    await apply(
      ns,
      podManifest("web", agent.nodeName, {
        containers: [{
          name: "app",
          image: "nginx",
          env: [{
            name: "TOKEN",
            valueFrom: { secretKeyRef: { name: "absent", key: "token", optional: true } },
          }],
        }],
      }),
    );
    await waitRunning(ns, "web");
    await waitForEvent(ns, "web", "OptionalSecretNotFound");
  });
});
