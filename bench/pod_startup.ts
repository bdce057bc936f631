/**
 * Benchmark: how long from pod creation to Running on a vkedge node, for 1,
 * 10 and 100 pods created at once, and how much memory the agent holds with
 * them. Runs against the control plane of `make cluster-up` (or
 * `VKEDGE_TEST_CLUSTER_DIR`) with the agent as a real process.
 *
 *   deno run -A bench/pod_startup.ts [--provider=mock] [--provider-config=FILE] [--sizes=1,10,100]
 *
 * Prints a Markdown table; the README keeps the figures. `bench/zstack_pod_startup.ts` does
 * the same against the ZStack simulator and counts the ZStack API calls.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { KubeClient, loadKubeConfig } from "../lib/kube/mod.ts";
import { cluster, freshNamespace, kubectl, kubectlResult } from "../tests/_harness/cluster.ts";
import { startAgent, uniqueNodeName, waitForNodeReady } from "../tests/_harness/agent.ts";
import { podManifest } from "../tests/_harness/pods.ts";
import { percentile, rssMiB, seconds, timePodsToRunning } from "./_common.ts";

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
    const times = await timePodsToRunning(kube, ns, pods);
    const rss = rssMiB(agent.child.pid);
    rows.push(
      `| ${size} | ${seconds(percentile(times, 0.5))} | ${seconds(percentile(times, 0.95))} | ${
        seconds(times.at(-1)!)
      } | ${rss.toFixed(0)} MiB |`,
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
