/**
 * deploy/rbac.yaml is enough: an agent whose kubeconfig holds only the
 * vkedge ServiceAccount's token registers its node and runs a pod.
 */

import { assertEquals } from "../_harness/assert.ts";
import { cluster, freshNamespace, kubectl, kubectlResult, repoRoot } from "../_harness/cluster.ts";
import { startAgent, uniqueNodeName, waitForNodeReady } from "../_harness/agent.ts";
import { waitRunning } from "../_harness/pods.ts";

Deno.test("the agent runs with only the permissions of deploy/rbac.yaml", async () => {
  const c = await cluster();
  await kubectl(["apply", "-f", `${repoRoot}/deploy/rbac.yaml`]);
  const token = (await kubectl(["create", "token", "vkedge", "-n", "kube-system", "--duration=1h"]))
    .trim();
  const kubeconfig = await Deno.makeTempFile({ suffix: ".kubeconfig" });
  const ca = btoa(await Deno.readTextFile(c.caFile));
  await Deno.writeTextFile(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      `- name: test\n  cluster:\n    server: ${c.server}\n    certificate-authority-data: ${ca}`,
      "users:",
      `- name: vkedge\n  user:\n    token: ${token}`,
      "contexts:",
      "- name: vkedge\n  context:\n    cluster: test\n    user: vkedge",
      "current-context: vkedge",
      "",
    ].join("\n"),
  );
  const nodeName = uniqueNodeName("vk-rbac");
  const agent = await startAgent({ nodeName, extraArgs: [`--kubeconfig=${kubeconfig}`] });
  try {
    await waitForNodeReady(agent);
    const ns = await freshNamespace("rbac");
    await kubectl(["create", "configmap", "settings", "-n", ns, "--from-literal=mode=edge"]);
    await kubectl([
      "run",
      "web",
      "-n",
      ns,
      "--image=nginx",
      `--overrides=${
        JSON.stringify({
          spec: {
            nodeName,
            containers: [{
              name: "web",
              image: "nginx",
              env: [{
                name: "MODE",
                valueFrom: { configMapKeyRef: { name: "settings", key: "mode" } },
              }],
            }],
          },
        })
      }`,
    ]);
    await waitRunning(ns, "web");
    const logs = await kubectl(["logs", "web", "-n", ns]);
    assertEquals(logs.includes("started from image nginx"), true);
    const forbidden = (await agent.output()).split("\n").filter((l) => /forbidden/i.test(l));
    assertEquals(forbidden, [], "the agent hit a permission it lacks");
  } finally {
    await agent.stop();
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
    await Deno.remove(kubeconfig);
  }
});
