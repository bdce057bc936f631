/**
 * `--provider=kubernetes` end to end: the agent as a process on the test control plane,
 * the lower cluster a second real control plane whose nodes and pods kwok simulates.
 * Checked with kubectl on both levels: a Deployment's pods run below with their status
 * and IPs mirrored up; ConfigMaps and Secrets are copied below and removed with the pod;
 * a lower pod deleted or failed below shows up; a kill -9 and restart recreates nothing;
 * `kubectl logs -f` and `kubectl exec` (exit code, stdin) go through both API servers.
 */

import type { ConfigMap, Pod, Secret } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import { cluster, kubectl, kubectlJson, kubectlResult, waitFor } from "../_harness/cluster.ts";
import { apply, getPod, isRunning, PROVIDER_TOLERATION, waitRunning } from "../_harness/pods.ts";
import { withKubernetesNode } from "../_harness/kubernetes.ts";
import {
  criLogLine,
  lowerKubectl,
  lowerKubectlJson,
  lowerKubectlResult,
} from "../_harness/lower_cluster.ts";

function podOn(name: string, nodeName: string, extra: Partial<NonNullable<Pod["spec"]>> = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: {
      nodeSelector: { "kubernetes.io/hostname": nodeName },
      tolerations: [PROVIDER_TOLERATION],
      containers: [{ name: "app", image: "busybox:1.36" }],
      ...extra,
    },
  };
}

async function upperPods(ns: string): Promise<Pod[]> {
  return (await kubectlJson<{ items: Pod[] }>(["get", "pods", "-n", ns])).items;
}

Deno.test("kubernetes e2e: a Deployment of 5 runs as 5 lower pods, statuses and IPs mirrored up; probes are the lower kubelet's", async () => {
  await withKubernetesNode("k8s-deploy", async (node) => {
    await node.start();
    await apply(node.ns, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: {
        replicas: 5,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          // Probes run below (kwok passes them); the agent, which cannot reach lower pod IPs,
          // must not probe too, or the pods would never be Ready above.
          spec: podOn("x", node.nodeName, {
            containers: [{
              name: "app",
              image: "busybox:1.36",
              readinessProbe: { httpGet: { path: "/ready", port: 8080 }, periodSeconds: 1 },
              livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1, failureThreshold: 1 },
            }],
          }).spec,
        },
      },
    });
    await waitFor("5 upper pods Running", async () => {
      const pods = await upperPods(node.ns);
      return pods.length === 5 && pods.every(isRunning);
    }, { timeoutMs: 60_000, intervalMs: 500 });
    const lower = await node.lowerPods();
    assertEquals(lower.size, 5);
    for (const pod of await upperPods(node.ns)) {
      const below = lower.get(pod.metadata!.name!);
      assert(below !== undefined, `lower pod of ${pod.metadata?.name}`);
      assertEquals(below.status?.phase, "Running");
      assertEquals(pod.status?.podIP, below.status?.podIP);
      assertEquals(pod.status?.hostIP, below.status?.hostIP);
      assert(/^10\.244\./.test(pod.status?.podIP ?? ""), `kwok pod IP: ${pod.status?.podIP}`);
      assertEquals(below.metadata?.labels?.["vkedge.io/pod-uid"], pod.metadata?.uid);
      assertEquals(below.metadata?.labels?.app, "web");
      assertEquals(below.spec?.nodeName?.startsWith("lower-node-"), true);
      assertEquals(pod.status?.containerStatuses?.[0].ready, true);
      assertEquals(below.spec?.containers[0].readinessProbe?.httpGet?.port, 8080, "probe below");
    }
    await new Promise((resolve) => setTimeout(resolve, 3000)); // several probe periods
    for (const pod of await upperPods(node.ns)) {
      assertEquals(pod.status?.containerStatuses?.[0].ready, true, "still Ready above");
      assertEquals(pod.status?.containerStatuses?.[0].restartCount, 0, "nothing restarted");
    }
    const unhealthy = await kubectl([
      "get",
      "events",
      "-n",
      node.ns,
      "--field-selector",
      "reason=Unhealthy",
      "-o",
      "name",
    ]);
    assertEquals(unhealthy.trim(), "", "the agent probed nothing");
    const upperNode = await kubectlJson<{ status: { allocatable: Record<string, string> } }>([
      "get",
      "node",
      node.nodeName,
    ]);
    assert(Number(upperNode.status.allocatable.pods) > 0, "the node has room for pods");
  });
});

Deno.test("kubernetes e2e: ConfigMap and Secret env are copied below with their values and removed with the pod", async () => {
  // The agent reaches the lower cluster with only deploy/kubernetes-lower-rbac.yaml.
  await withKubernetesNode("k8s-config", async (node) => {
    await node.start();
    await kubectl(["create", "configmap", "settings", "-n", node.ns, "--from-literal=color=blue"]);
    await kubectl([
      "create",
      "secret",
      "generic",
      "creds",
      "-n",
      node.ns,
      "--from-literal=password=s3cret",
    ]);
    await apply(
      node.ns,
      podOn("configured", node.nodeName, {
        containers: [{
          name: "app",
          image: "busybox:1.36",
          env: [
            { name: "COLOR", valueFrom: { configMapKeyRef: { name: "settings", key: "color" } } },
            { name: "PASSWORD", valueFrom: { secretKeyRef: { name: "creds", key: "password" } } },
          ],
          envFrom: [{ configMapRef: { name: "settings" }, prefix: "ALL_" }],
        }],
      }),
    );
    await waitRunning(node.ns, "configured", 60_000);
    const copy = await lowerKubectlJson<ConfigMap>(node.lower, [
      "get",
      "configmap",
      "settings",
      "-n",
      node.lowerNs,
    ]);
    assertEquals(copy.data, { color: "blue" });
    const secret = await lowerKubectlJson<Secret>(node.lower, [
      "get",
      "secret",
      "creds",
      "-n",
      node.lowerNs,
    ]);
    assertEquals(atob(secret.data!.password), "s3cret");
    const lowerPod = (await node.lowerPods()).get("configured")!;
    const env = Object.fromEntries(lowerPod.spec!.containers[0].env!.map((v) => [v.name, v]));
    assertEquals(env.COLOR.valueFrom?.configMapKeyRef, { name: "settings", key: "color" });
    assertEquals(env.PASSWORD.valueFrom?.secretKeyRef, { name: "creds", key: "password" });
    assertEquals(env.ALL_color.valueFrom?.configMapKeyRef, { name: "settings", key: "color" });
    assert(!JSON.stringify(lowerPod).includes("s3cret"), "no Secret value in the lower pod");
    assertEquals(lowerPod.spec?.automountServiceAccountToken, false);
    assertEquals(
      (lowerPod.spec?.volumes ?? []).some((v) => v.name.startsWith("kube-api-access")),
      false,
    );

    // An upper change reaches the copy while the pod uses it.
    await kubectl([
      "patch",
      "configmap",
      "settings",
      "-n",
      node.ns,
      "-p",
      '{"data":{"color":"green"}}',
    ]);
    await waitFor("the copy updated", async () => {
      const now = await lowerKubectlJson<ConfigMap>(node.lower, [
        "get",
        "configmap",
        "settings",
        "-n",
        node.lowerNs,
      ]);
      return now.data?.color === "green";
    }, { timeoutMs: 20_000 });

    await kubectl(["delete", "pod", "configured", "-n", node.ns, "--wait=true", "--timeout=60s"]);
    await waitFor("lower pod and copies gone", async () => {
      const left = await lowerKubectlResult(node.lower, [
        "get",
        "pods,configmaps,secrets",
        "-n",
        node.lowerNs,
        "-l",
        "vkedge.io/cluster",
        "-o",
        "name",
      ]);
      return left.code === 0 && left.stdout.trim() === "";
    }, { timeoutMs: 30_000 });
  }, { lowerRbac: true });
});

Deno.test("kubernetes e2e: a lower pod deleted below or failed by kwok shows in the upper status", async () => {
  await withKubernetesNode("k8s-kill", async (node) => {
    await node.start();
    await apply(node.ns, podOn("victim", node.nodeName));
    await apply(node.ns, podOn("crasher", node.nodeName));
    await waitRunning(node.ns, "victim", 60_000);
    await waitRunning(node.ns, "crasher", 60_000);

    await lowerKubectl(node.lower, ["delete", "pod", "victim", "-n", node.lowerNs]);
    await waitFor(
      "victim Failed",
      async () => (await getPod(node.ns, "victim")).status?.phase === "Failed",
      {
        timeoutMs: 30_000,
      },
    );
    const victim = await getPod(node.ns, "victim");
    assertEquals(victim.status?.reason, "LowerPodDeleted");
    assertStringIncludes(
      victim.status?.message ?? "",
      `pod ${node.lowerNs}/victim of the lower cluster was deleted`,
    );
    assertEquals((await node.lowerPods()).has("victim"), false, "not created again below");

    await lowerKubectl(node.lower, [
      "annotate",
      "pod",
      "crasher",
      "-n",
      node.lowerNs,
      "pod-container-running-failed.stage.kwok.x-k8s.io/exit-code=42",
      "pod-container-running-failed.stage.kwok.x-k8s.io/delay=0",
    ]);
    await lowerKubectl(node.lower, [
      "label",
      "pod",
      "crasher",
      "-n",
      node.lowerNs,
      "pod-container-running-failed.stage.kwok.x-k8s.io=true",
    ]);
    await waitFor(
      "crasher Failed",
      async () => (await getPod(node.ns, "crasher")).status?.phase === "Failed",
      {
        timeoutMs: 30_000,
      },
    );
    const crasher = await getPod(node.ns, "crasher");
    assertEquals(crasher.status?.containerStatuses?.[0].state?.terminated?.exitCode, 42);
    assertEquals(crasher.status?.containerStatuses?.[0].ready, false);
  });
});

Deno.test("kubernetes e2e: kill -9 and restart of the agent recreates and updates no lower pod", async () => {
  await withKubernetesNode("k8s-restart", async (node) => {
    const first = await node.start();
    for (const name of ["one", "two", "three"]) await apply(node.ns, podOn(name, node.nodeName));
    for (const name of ["one", "two", "three"]) await waitRunning(node.ns, name, 60_000);
    const before = await node.lowerPods();
    await first.kill();
    // A pod deleted while the agent is away is deleted below when it is back.
    await kubectl(["delete", "pod", "three", "-n", node.ns, "--grace-period=0", "--force"]);
    await node.start();
    await waitFor(
      "the lower pod of the deleted pod gone",
      async () => !(await node.lowerPods()).has("three"),
      {
        timeoutMs: 60_000,
      },
    );
    // Give the restarted agent a resync's worth of time to do anything it would do.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const after = await node.lowerPods();
    for (const name of ["one", "two"]) {
      assertEquals(after.get(name)?.metadata?.uid, before.get(name)?.metadata?.uid, `${name} kept`);
      assertEquals(
        after.get(name)?.metadata?.generation,
        before.get(name)?.metadata?.generation,
        `${name} not updated`,
      );
      assert(isRunning(await getPod(node.ns, name)), `${name} still Running above`);
    }
    const events = await kubectlJson<
      { items: { reason?: string; involvedObject?: { name?: string } }[] }
    >([
      "get",
      "events",
      "-n",
      node.ns,
    ]);
    const creates = events.items.filter((e) => e.reason === "ProviderCreateSuccess");
    assertEquals(creates.length, 3, "one create per pod, none after the restart");
    assertEquals(events.items.filter((e) => e.reason === "ProviderUpdateSuccess").length, 0);
  });
});

Deno.test("kubernetes e2e: kubectl logs -f reads the lower pod's log through both API servers", async () => {
  await withKubernetesNode("k8s-logs", async (node) => {
    await node.start();
    await apply(node.ns, podOn("talker", node.nodeName));
    await waitRunning(node.ns, "talker", 60_000);
    const file = `${node.lower.dir}/pod-logs/${node.lowerNs}-talker.log`;
    await Deno.writeTextFile(file, criLogLine("hello from below"));
    await lowerKubectl(
      node.lower,
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "kwok.x-k8s.io/v1alpha1",
        kind: "Logs",
        metadata: { name: "talker", namespace: node.lowerNs },
        spec: { logs: [{ logsFile: file, follow: true }] },
      }),
    );
    await waitFor("the pod's own log", async () => {
      const result = await kubectlResult(["logs", "talker", "-n", node.ns]);
      return result.stdout === "hello from below\n";
    }, { timeoutMs: 20_000 });
    assertEquals(
      await kubectl(["logs", "talker", "-n", node.ns, "--timestamps"]),
      `${(await Deno.readTextFile(file)).split(" ")[0]} hello from below\n`,
    );
    const c = await cluster();
    const follow = new Deno.Command("kubectl", {
      args: ["logs", "-f", "talker", "-n", node.ns],
      env: { KUBECONFIG: c.kubeconfig },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = follow.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let streamed = "";
    const read = async (wanted: string) => {
      const deadline = Date.now() + 20_000;
      while (!streamed.includes(wanted) && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        streamed += value;
      }
    };
    await read("hello from below\n");
    await Deno.writeTextFile(file, criLogLine("a line written later"), { append: true });
    await read("a line written later\n");
    follow.kill("SIGTERM");
    await reader.cancel().catch(() => undefined);
    await follow.status;
    await follow.stderr.cancel().catch(() => undefined);
    assertEquals(streamed, "hello from below\na line written later\n");
  }, { lowerRbac: true });
});

Deno.test("kubernetes e2e: kubectl exec runs in the lower pod through both API servers", async () => {
  await withKubernetesNode("k8s-exec", async (node) => {
    await node.start();
    await apply(node.ns, podOn("shell", node.nodeName));
    await waitRunning(node.ns, "shell", 60_000);
    const result = await kubectlResult([
      "exec",
      "shell",
      "-n",
      node.ns,
      "--",
      "sh",
      "-c",
      "echo from-below; exit 3",
    ]);
    assertEquals([result.code, result.stdout], [3, "from-below\n"]);
    // stdin through both levels (kwok never closes a command's stdin: read one line).
    const echoed = await kubectlResult([
      "exec",
      "-i",
      "shell",
      "-n",
      node.ns,
      "--",
      "sh",
      "-c",
      'read line; echo "got $line"',
    ], { stdin: "typed above\n" });
    assertEquals([echoed.code, echoed.stdout], [0, "got typed above\n"]);
  });
});
