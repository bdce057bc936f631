/**
 * Benchmark: what readiness probes cost the Kubernetes API once their results stop
 * changing. 100 mock pods, each with an `httpGet` readiness probe every 2 s against its
 * declared port, are created and waited for until Ready; then, for one minute, the pods'
 * resourceVersions (any write to a pod changes it) and the API server's request counters
 * for pods and events are read before and after. The agent runs as a real process.
 *
 *   deno run -A bench/probe_cost.ts [--pods=100] [--period=2] [--minutes=1]
 *
 * Prints a Markdown table; the README keeps the figures.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { KubeClient, loadKubeConfig } from "../lib/kube/mod.ts";
import {
  cluster,
  freshNamespace,
  kubectl,
  kubectlJson,
  kubectlResult,
} from "../tests/_harness/cluster.ts";
import { startAgent, uniqueNodeName, waitForNodeReady } from "../tests/_harness/agent.ts";
import { podManifest } from "../tests/_harness/pods.ts";
import { rssMiB, seconds, timePodsToRunning } from "./_common.ts";

const { values } = parseArgs({
  options: {
    pods: { type: "string", default: "100" },
    period: { type: "string", default: "2" },
    minutes: { type: "string", default: "1" },
  },
});
const size = Number(values.pods);
const periodSeconds = Number(values.period);
const windowMs = Number(values.minutes) * 60_000;

/** The API server's request counts by verb for `resource` (all subresources), from /metrics. */
async function apiRequests(resource: string): Promise<Record<string, number>> {
  const text = await kubectl(["get", "--raw", "/metrics"]);
  const counts: Record<string, number> = {};
  for (const line of text.split("\n")) {
    if (!line.startsWith("apiserver_request_total{")) continue;
    if (!line.includes(`resource="${resource}"`)) continue;
    const verb = /verb="([A-Z]+)"/.exec(line)?.[1] ?? "?";
    counts[verb] = (counts[verb] ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return counts;
}

function writes(before: Record<string, number>, after: Record<string, number>): number {
  return ["POST", "PUT", "PATCH", "DELETE"].reduce(
    (sum, verb) => sum + (after[verb] ?? 0) - (before[verb] ?? 0),
    0,
  );
}

async function versions(ns: string): Promise<Map<string, string>> {
  const list = await kubectlJson<{ items: Pod[] }>(["get", "pods", "-n", ns]);
  return new Map(list.items.map((pod) => [pod.metadata!.name!, pod.metadata!.resourceVersion!]));
}

const kube = new KubeClient(await loadKubeConfig({ path: (await cluster()).kubeconfig }), {
  qps: 500,
  burst: 500,
});
const nodeName = uniqueNodeName("bench-probes");
const agent = await startAgent({
  nodeName,
  providerConfig: { capacity: { pods: "500" } },
  extraArgs: ["--log-level=info"],
});
try {
  await waitForNodeReady(agent);
  const ns = await freshNamespace("bench-probes");
  const pods = Array.from({ length: size }, (_, i) =>
    podManifest(`p${i}`, nodeName, {
      containers: [{
        name: "web",
        image: "nginx:1.27",
        ports: [{ containerPort: 8080 }],
        readinessProbe: { httpGet: { path: "/ready", port: 8080 }, periodSeconds },
      }],
    }));
  const times = await timePodsToRunning(kube, ns, pods);
  // Let the last status writes and events of the start land.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  const before = { pods: await apiRequests("pods"), events: await apiRequests("events") };
  const versionsBefore = await versions(ns);
  const rssBefore = rssMiB(agent.child.pid);
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const after = { pods: await apiRequests("pods"), events: await apiRequests("events") };
  const versionsAfter = await versions(ns);
  const changed = [...versionsBefore].filter(([name, version]) =>
    versionsAfter.get(name) !== version
  ).length;
  const probes = size * (windowMs / 1000 / periodSeconds);
  console.log(
    `\nvkedge --provider=mock: ${size} pods with an httpGet readiness probe every ${periodSeconds} s, ` +
      `all Ready after ${seconds(times.at(-1)!)}; then ${windowMs / 60_000} min\n`,
  );
  console.log("| measured over the window | value |");
  console.log("| --- | --- |");
  console.log(`| probes run (${size} × ${windowMs / 1000 / periodSeconds}) | ~${probes} |`);
  console.log(`| pods whose resourceVersion changed | ${changed} |`);
  console.log(
    `| pod writes at the API server (all clients) | ${writes(before.pods, after.pods)} |`,
  );
  console.log(`| event writes at the API server | ${writes(before.events, after.events)} |`);
  console.log(
    `| agent RSS | ${rssBefore.toFixed(0)} → ${rssMiB(agent.child.pid).toFixed(0)} MiB |`,
  );
  await kubectlResult(["delete", "namespace", ns, "--wait=false"]);
} finally {
  await agent.stop();
  await kubectl(["delete", "node", nodeName, "--wait=false"]);
  kube.close();
}
