/**
 * The agent holds exactly one watch per resource type it reads, however many controllers
 * read it: an agent in this process (mock provider, 20 pods) with one more controller that
 * reads the same pods, Services, ConfigMaps and Secrets through the shared informers.
 * Watches are counted by the Kubernetes client's `vkedge_kube_watches` gauge, which every
 * watch request passes through (bench/watch_count.ts counts the same from the API server's
 * `apiserver_longrunning_requests`).
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals } from "../_harness/assert.ts";
import { installCrds } from "../../lib/vm/crd_install.ts";
import { cluster, freshNamespace, kubectlResult, waitFor } from "../_harness/cluster.ts";
import { freePort, uniqueNodeName } from "../_harness/agent.ts";
import { apply, podManifest, waitRunning } from "../_harness/pods.ts";
import { runAgent } from "../../lib/agent.ts";
import { parseCommandLine } from "../../lib/config.ts";
import { type Controller, readiness } from "../../lib/controller.ts";
import { type AgentRuntime, CONTROLLERS } from "../../lib/controllers.ts";
import {
  CONFIG_MAPS,
  KubeClient,
  loadKubeConfig,
  PODS,
  SECRETS,
  SERVICES,
} from "../../lib/kube/mod.ts";
import { metricsRegistry } from "../../lib/metrics/mod.ts";
import mockModule from "../../providers/mock/mod.ts";

/** Open watches by resource, from the client's gauge. */
async function openWatches(): Promise<Record<string, number>> {
  const gauge = metricsRegistry.getSingleMetric("vkedge_kube_watches");
  assert(gauge !== undefined, "the client registers vkedge_kube_watches");
  const open: Record<string, number> = {};
  for (const { labels, value } of (await gauge.get()).values) {
    if (value !== 0) open[String(labels.resource)] = value;
  }
  return open;
}

/** A second reader of what the pod controller reads, as the VM and endpoint controllers will be. */
function secondReader(runtime: AgentRuntime, seenPods: Set<string>): Controller {
  const { ready, markReady } = readiness();
  const nodeName = runtime.config.nodeName;
  return {
    name: "second-reader",
    ready,
    async start(signal) {
      const pods = runtime.informers.informer<Pod>(PODS, {
        fieldSelector: `spec.nodeName=${nodeName}`,
      });
      for (const descriptor of [SERVICES, CONFIG_MAPS, SECRETS]) {
        runtime.informers.informer(descriptor).addHandlers({});
      }
      pods.addHandlers({ onAdd: (pod) => void seenPods.add(pod.metadata?.name ?? "") });
      markReady();
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    },
  };
}

Deno.test("one watch per resource type, with a second controller reading pods, Services, ConfigMaps and Secrets", async () => {
  const c = await cluster();
  const nodeName = uniqueNodeName("watches");
  const command = parseCommandLine([
    "--provider=mock",
    `--nodename=${nodeName}`,
    `--kubeconfig=${c.kubeconfig}`,
    "--address=127.0.0.1",
    `--kubelet-port=${freePort()}`,
  ], {});
  assert(command.kind === "run");
  const config = command.config;
  const client = new KubeClient(await loadKubeConfig({ path: c.kubeconfig }));
  // With the VM lifecycle CRDs served, their controllers watch too: one each.
  await installCrds(client);
  const stop = new AbortController();
  const provider = await mockModule.create({
    nodeName,
    operatingSystem: "linux",
    internalIp: "127.0.0.1",
    daemonPort: config.kubeletPort,
    config: {},
    signal: stop.signal,
  });
  const seenPods = new Set<string>();
  const agent = runAgent({
    config,
    client,
    provider,
    nodeIp: "127.0.0.1",
    controllers: [...CONTROLLERS, {
      name: "second-reader",
      create: (runtime) => secondReader(runtime, seenPods),
    }],
  }, stop.signal);
  const ns = await freshNamespace("watches");
  try {
    await waitFor("the node Ready", async () => {
      const result = await kubectlResult([
        "get",
        "node",
        nodeName,
        "-o",
        "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
      ]);
      return result.stdout === "True";
    });
    for (let i = 0; i < 20; i++) await apply(ns, podManifest(`p${i}`, nodeName));
    for (let i = 0; i < 20; i++) await waitRunning(ns, `p${i}`);
    await waitFor("the second controller seeing all 20 pods", () => seenPods.size === 20);
    // The VM lifecycle controllers start their informers once the CRDs are served.
    await waitFor(
      "the VM lifecycle watches",
      async () => "endpointslices.discovery.k8s.io" in await openWatches(),
    );
    const watches = await openWatches();
    const expected = [
      "configmaps",
      "nodes",
      "pods",
      "secrets",
      "services",
      "endpointslices.discovery.k8s.io",
      "virtualmachines.vkedge.io",
      "virtualmachinesnapshots.vkedge.io",
      "virtualmachinerestores.vkedge.io",
      "virtualmachinemigrations.vkedge.io",
    ];
    for (const resource of expected) {
      assert(resource in watches, `a watch on ${resource}: ${JSON.stringify(watches)}`);
    }
    // One per resource type, whatever else the provider's capabilities add (volumes: claims,
    // volumes and classes).
    for (const [resource, count] of Object.entries(watches)) {
      assertEquals(count, 1, `one watch on ${resource}: ${JSON.stringify(watches)}`);
    }
  } finally {
    stop.abort();
    await agent;
    client.close();
    await kubectlResult(["delete", "namespace", ns, "--wait=false"]);
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
  }
  assertEquals(await openWatches(), {}, "every watch closed once the agent stopped");
});
