/**
 * Benchmark: how long from pod creation to Running on a vkedge node, for 1,
 * 10 and 100 pods created at once, and how much memory the agent holds with
 * them. Runs against the control plane of `make cluster-up` (or
 * `VKEDGE_TEST_CLUSTER_DIR`) with the agent as a real process.
 *
 *   deno run -A bench/pod_startup.ts [--provider=mock] [--provider-config=FILE] [--sizes=1,10,100]
 *
 * Prints a Markdown table; the README keeps the figures.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { parse as parseYaml } from "yaml";
import { KubeClient, loadKubeConfig, PODS } from "../lib/kube/mod.ts";
import { cluster, freshNamespace, kubectl, kubectlResult } from "../tests/_harness/cluster.ts";
import { startAgent, uniqueNodeName, waitForNodeReady } from "../tests/_harness/agent.ts";
import { isRunning, podManifest } from "../tests/_harness/pods.ts";

const { values } = parseArgs({
  options: {
    provider: { type: "string", default: "mock" },
    "provider-config": { type: "string" },
    sizes: { type: "string", default: "1,10,100" },
  },
});
const sizes = values.sizes.split(",").map(Number);
const providerConfig = values["provider-config"]
  ? parseYaml(await Deno.readTextFile(values["provider-config"]))
  : { capacity: { pods: "500" } };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

function rssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? "0");
  return kb / 1024;
}

const kube = new KubeClient(await loadKubeConfig({ path: (await cluster()).kubeconfig }), {
  qps: 500,
  burst: 500,
});
const nodeName = uniqueNodeName("bench");
const agent = await startAgent({
  nodeName,
  provider: values.provider,
  providerConfig,
  extraArgs: ["--log-level=info"],
});
const rows: string[] = [];
try {
  await waitForNodeReady(agent);
  const idleRss = rssMiB(agent.child.pid);
  for (const size of sizes) {
    const ns = await freshNamespace(`bench-${size}`);
    const pods = Array.from({ length: size }, (_, i) => podManifest(`p${i}`, nodeName));
    const start = performance.now();
    await Promise.all(pods.map((pod) => kube.resource<Pod>(PODS, ns).create(pod)));
    const runningAt = new Map<string, number>();
    const watcher = new AbortController();
    const timeout = setTimeout(() => watcher.abort(), 600_000);
    // Re-list and re-watch until every pod was seen Running (a watch may end early).
    while (runningAt.size < size && !watcher.signal.aborted) {
      const stream = await kube.resource<Pod>(PODS, ns).watch({ signal: watcher.signal });
      for await (const event of stream) {
        const name = event.object.metadata?.name ?? "";
        if (!runningAt.has(name) && isRunning(event.object)) {
          runningAt.set(name, performance.now() - start);
          if (runningAt.size === size) break;
        }
      }
    }
    watcher.abort();
    clearTimeout(timeout);
    if (runningAt.size < size) throw new Error(`${size} pods not Running after 10 minutes`);
    const times = [...runningAt.values()].sort((a, b) => a - b);
    const rss = rssMiB(agent.child.pid);
    rows.push(
      `| ${size} | ${(percentile(times, 0.5) / 1000).toFixed(2)} s | ${
        (percentile(times, 0.95) / 1000).toFixed(2)
      } s | ${(times.at(-1)! / 1000).toFixed(2)} s | ${rss.toFixed(0)} MiB |`,
    );
    await kubectlResult(["delete", "namespace", ns, "--wait=false"]);
  }
  console.log(
    `\nvkedge --provider=${values.provider}: pod creation → Running (agent idle RSS ${
      idleRss.toFixed(0)
    } MiB)\n`,
  );
  console.log("| pods created at once | p50 | p95 | all Running | agent RSS after |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const row of rows) console.log(row);
} finally {
  await agent.stop();
  await kubectl(["delete", "node", nodeName, "--wait=false"]);
  kube.close();
}
