/**
 * deploy/rbac.yaml is enough: an agent whose kubeconfig holds only the
 * vkedge ServiceAccount's token registers its node and runs a pod.
 */

import { assertEquals } from "../_harness/assert.ts";
import {
  cluster,
  freshNamespace,
  kubectl,
  kubectlResult,
  repoRoot,
  waitFor,
} from "../_harness/cluster.ts";
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

    // A VirtualMachine (its VM-Pod, status, finalizer, power) and a Service naming it
    // (an EndpointSlice), then its deletion: all within the same rules.
    await kubectl(["apply", "-f", `${repoRoot}/deploy/crds/`]);
    await kubectl(["apply", "-n", ns, "-f", "-"], {
      stdin: JSON.stringify({
        apiVersion: "vkedge.io/v1alpha1",
        kind: "VirtualMachine",
        metadata: { name: "vm" },
        spec: { nodeName, image: "vm-image" },
      }),
    });
    await kubectl(["apply", "-n", ns, "-f", "-"], {
      stdin: JSON.stringify({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "vm", annotations: { "vkedge.io/virtual-machines": "vm" } },
        spec: { ports: [{ port: 22 }] },
      }),
    });
    await waitFor(
      "the VirtualMachine Running",
      async () =>
        (await kubectl([
          "get",
          "vm",
          "vm",
          "-n",
          ns,
          "-o",
          "jsonpath={.status.printableStatus}",
        ])) ===
          "Running",
      { timeoutMs: 90_000 },
    );
    await kubectl([
      "patch",
      "vm",
      "vm",
      "-n",
      ns,
      "--type=merge",
      "-p",
      '{"spec":{"action":{"id":"1","type":"Restart"}}}',
    ]);
    await waitFor(
      "the restart acknowledged",
      async () =>
        (await kubectl([
          "get",
          "vm",
          "vm",
          "-n",
          ns,
          "-o",
          "jsonpath={.status.lastAction.phase}",
        ])) ===
          "Succeeded",
      { timeoutMs: 60_000 },
    );
    await waitFor(
      "the Service's EndpointSlice",
      async () =>
        (await kubectl([
          "get",
          "endpointslices",
          "-n",
          ns,
          "-l",
          "kubernetes.io/service-name=vm",
          "-o",
          "name",
        ]))
          .trim() !== "",
      { timeoutMs: 30_000 },
    );
    await kubectl(["delete", "vm", "vm", "-n", ns, "--timeout=60s"]);
    const forbidden = (await agent.output()).split("\n").filter((l) => /forbidden/i.test(l));
    assertEquals(forbidden, [], "the agent hit a permission it lacks");
  } finally {
    await agent.stop();
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
    await Deno.remove(kubeconfig);
  }
});
