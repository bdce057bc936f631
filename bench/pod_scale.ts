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
 *     [--workloads=bound:100,bound:1000,created:1000] [--timeout=300] [--no-v8-flags]
 *
 * A run whose pods are not all Running after `--timeout` seconds still gets its row: how
 * many ran, `> ` the time waited for the others, and its ratios as lower bounds (`≥`); its requests,
 * RSS and CPU are those of the partial run.
 *
 * vkedge runs with the mock's state file (the harder case for memory) and the V8 flags it
 * ships with (lib/runtime_flags.ts; `--no-v8-flags` leaves them out). Upstream
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
    /** Run vkedge without the V8 flags it ships with (lib/runtime_flags.ts). */
    "no-v8-flags": { type: "boolean", default: false },
    /** Longest wait for one run's pods to be Running, in seconds. */
    timeout: { type: "string", default: "300" },
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
  if (name === "vkedge") {
    agents.push(vkedge({ stateFile: !values["no-state-file"], v8Flags: !values["no-v8-flags"] }));
  } else if (name === "virtual-kubelet") {
    agents.push(upstreamVirtualKubelet(await upstreamBinary()));
  } else throw new Error(`--agents: expected vkedge or virtual-kubelet, found "${name}"`);
}

const timeoutMs = Number(values.timeout) * 1000;
if (!(timeoutMs > 0)) throw new Error(`--timeout: expected seconds, found "${values.timeout}"`);

/** `2.31 s`, or `> 302.10 s (812 of 1000)` for a run whose pods did not all run in time. */
function allRunningText(result: ScaleResult): string {
  return result.running === result.pods
    ? seconds(result.allRunningMs)
    : `> ${seconds(result.allRunningMs)} (${result.running} of ${result.pods} Running)`;
}

/** A pod's time at `p`; `> 302.10 s` (the whole wait) for one not Running in time. */
function podTime(result: ScaleResult, p: number): string {
  const ms = percentile(result.podMs, p);
  return Number.isFinite(ms) ? seconds(ms) : `> ${seconds(result.allRunningMs)}`;
}

const kube = await unlimitedClient();
const results: ScaleResult[] = [];
try {
  const background = await backgroundRate(kube, 5000);
  for (const workload of workloads) {
    for (const agent of agents) {
      const result = await runScale({ kube, background, timeoutMs }, agent, workload);
      console.error(`${result.agent}, ${result.workload}: ${allRunningText(result)}`);
      results.push(result);
    }
  }
} finally {
  kube.close();
}

/** `a ÷ b`; `≥ …` when `a` is a lower bound (its run timed out), `–` when unknown. */
function ratio(a: number, b: number, lowerBound = false): string {
  if (!(b > 0) || !Number.isFinite(b)) return "–";
  if (!Number.isFinite(a)) return "–";
  return `${lowerBound ? "≥ " : ""}${(a / b).toFixed(1)}×`;
}

/** The pod time at `p`, the timeout for one not Running in time (a lower bound). */
function podPercentile(result: ScaleResult, p: number): number {
  const ms = percentile(result.podMs, p);
  return Number.isFinite(ms) ? ms : result.allRunningMs;
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
  console.log(
    `| ${result.agent} | ${result.workload} | ${allRunningText(result)} | ${
      podTime(result, 0.5)
    } | ${podTime(result, 0.99)} | ${perPodText(result.requests, result.pods)} | ${
      result.usage.peakRssMiB.toFixed(0)
    } MiB | ${result.usage.cpuSeconds.toFixed(1)} s | ${seconds(result.nodeReadyMs)} |`,
  );
}
for (const workload of new Set(results.map((result) => result.workload))) {
  const ours = results.find((r) => r.workload === workload && r.agent === "vkedge");
  const theirs = results.find((r) => r.workload === workload && r.agent === "virtual-kubelet");
  if (ours === undefined || theirs === undefined) continue;
  const late = theirs.running < theirs.pods;
  const lateAt = (p: number) => !Number.isFinite(percentile(theirs.podMs, p));
  console.log(
    `| virtual-kubelet ÷ vkedge | ${workload} | ${
      ratio(theirs.allRunningMs, ours.allRunningMs, late)
    } | ${ratio(podPercentile(theirs, 0.5), podPercentile(ours, 0.5), lateAt(0.5))} | ${
      ratio(podPercentile(theirs, 0.99), podPercentile(ours, 0.99), lateAt(0.99))
    } | ${ratio(total(theirs), total(ours))} | ${
      ratio(theirs.usage.peakRssMiB, ours.usage.peakRssMiB)
    } | ${ratio(theirs.usage.cpuSeconds, ours.usage.cpuSeconds)} | ${
      ratio(theirs.nodeReadyMs, ours.nodeReadyMs)
    } |`,
  );
}
