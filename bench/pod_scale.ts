/**
 * Benchmark: vkedge beside upstream virtual-kubelet v1.14.1, both with their defaults and
 * mock providers, on the same control plane in the same run: 100 and 1000 pods bound to
 * the node before the agent starts, and 1000 pods created at full API speed by 8 parallel
 * clients while it runs. For each: time to all Running, p50/p99 per pod, the agent's API
 * requests per pod by verb and resource (from the API server's `apiserver_request_total`,
 * less the control plane's background rate), peak RSS, CPU seconds and time to Node Ready;
 * then the ratio of the two.
 *
 *   deno run -A bench/pod_scale.ts [--agents=vkedge,virtual-kubelet]
 *     [--workloads=bound:100,bound:1000,created:1000]
 *
 * vkedge runs with the mock's state file (the harder case for memory). Upstream
 * virtual-kubelet is built from its Go module (`bench/build_virtual_kubelet.sh`, cached).
 * Prints one Markdown table; the README keeps the figures.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { backgroundRate, perPodText } from "./_api_requests.ts";
import {
  type AgentUnderTest,
  runScale,
  type ScaleResult,
  type ScaleWorkload,
  unlimitedClient,
  upstreamBinary,
  upstreamVirtualKubelet,
  vkedge,
} from "./_scale.ts";
import { percentile, seconds } from "./_common.ts";

const { values } = parseArgs({
  options: {
    agents: { type: "string", default: "vkedge,virtual-kubelet" },
    workloads: { type: "string", default: "bound:100,bound:1000,created:1000" },
    /** Run vkedge's mock without its state file. */
    "no-state-file": { type: "boolean", default: false },
  },
});
const workloads: ScaleWorkload[] = values.workloads.split(",").map((text) => {
  const [kind, pods] = text.split(":");
  if ((kind !== "bound" && kind !== "created") || !(Number(pods) > 0)) {
    throw new Error(`--workloads: expected bound:N or created:N, found "${text}"`);
  }
  return { kind, pods: Number(pods) };
});
const agents: AgentUnderTest[] = [];
for (const name of values.agents.split(",")) {
  if (name === "vkedge") agents.push(vkedge({ stateFile: !values["no-state-file"] }));
  else if (name === "virtual-kubelet") agents.push(upstreamVirtualKubelet(await upstreamBinary()));
  else throw new Error(`--agents: expected vkedge or virtual-kubelet, found "${name}"`);
}

const kube = await unlimitedClient();
const results: ScaleResult[] = [];
try {
  const background = await backgroundRate(kube, 5000);
  for (const workload of workloads) {
    for (const agent of agents) {
      const result = await runScale({ kube, background }, agent, workload);
      console.error(
        `${result.agent}, ${result.workload}: all Running after ${seconds(result.allRunningMs)}`,
      );
      results.push(result);
    }
  }
} finally {
  kube.close();
}

function ratio(a: number, b: number): string {
  return b > 0 ? `${(a / b).toFixed(1)}×` : "–";
}

function total(result: ScaleResult): number {
  return [...result.requests.values()].reduce((sum, value) => sum + value, 0);
}

console.log("\nmock provider, defaults; API requests from apiserver_request_total\n");
console.log(
  "| agent | pods | all Running | p50 | p99 | API requests per pod: total: by verb and resource | peak RSS | CPU | Node Ready |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const result of results) {
  const { podMs } = result;
  console.log(
    `| ${result.agent} | ${result.workload} | ${seconds(result.allRunningMs)} | ${
      seconds(percentile(podMs, 0.5))
    } | ${seconds(percentile(podMs, 0.99))} | ${perPodText(result.requests, result.pods)} | ${
      result.usage.peakRssMiB.toFixed(0)
    } MiB | ${result.usage.cpuSeconds.toFixed(1)} s | ${seconds(result.nodeReadyMs)} |`,
  );
}
for (const workload of new Set(results.map((result) => result.workload))) {
  const ours = results.find((r) => r.workload === workload && r.agent === "vkedge");
  const theirs = results.find((r) => r.workload === workload && r.agent === "virtual-kubelet");
  if (ours === undefined || theirs === undefined) continue;
  console.log(
    `| virtual-kubelet ÷ vkedge | ${workload} | ${
      ratio(theirs.allRunningMs, ours.allRunningMs)
    } | ${ratio(percentile(theirs.podMs, 0.5), percentile(ours.podMs, 0.5))} | ${
      ratio(percentile(theirs.podMs, 0.99), percentile(ours.podMs, 0.99))
    } | ${ratio(total(theirs), total(ours))} | ${
      ratio(theirs.usage.peakRssMiB, ours.usage.peakRssMiB)
    } | ${ratio(theirs.usage.cpuSeconds, ours.usage.cpuSeconds)} | ${
      ratio(theirs.nodeReadyMs, ours.nodeReadyMs)
    } |`,
  );
}
