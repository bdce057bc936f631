/**
 * Benchmark: vkedge beside upstream virtual-kubelet v1.14.1, both with their defaults and
 * mock providers, on the same control plane in the same run: 100 and 1000 pods bound to
 * the node before the agent starts, and 1000 pods created at full API speed by 8 parallel
 * clients while it runs. For each: time to all Running, p50/p99 per pod, the agent's API
 * requests per pod by verb and resource (counted by the API server for the agent's own
 * ServiceAccount, `_agent_requests.ts`), peak RSS, CPU seconds and time to Node Ready;
 * then the ratio of the two.
 *
 *   deno run -A bench/pod_scale.ts [--agents=vkedge,virtual-kubelet]
 *     [--workloads=bound:100,bound:1000,created:1000] [--timeout=300] [--no-v8-flags]
 *     [--sequential] [--save=FILE] [--compare=FILE]
 *
 * vkedge's runs go one after the other, each holding the machine (bench/_machine.ts).
 * Upstream's runs then go at the same time, each for a node and namespace of its own:
 * client-go's 5 QPS makes each last minutes while using little of the machine, and one after
 * the other they would take most of `make bench`'s time. Their bursts (set-up with the pod
 * creations, start to Node Ready, clean-up) go one at a time, holding the machine.
 * `--sequential` runs them one after the other, each holding the machine throughout.
 * `make bench` (bench/run.ts) runs vkedge's part alone on the machine with `--save`, and
 * upstream's part later beside the provider benchmarks with `--compare`, which prints
 * both with their ratios.
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
import { perPodText } from "./_api_requests.ts";
import {
  AgentExited,
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
import { onMachine } from "./_machine.ts";

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
    /** Run upstream's workloads one after the other, not at the same time. */
    sequential: { type: "boolean", default: false },
    /** Write this run's results to this file (JSON), for a later `--compare`. */
    save: { type: "string" },
    /** Print the results saved in this file by an earlier run beside this run's. */
    compare: { type: "string" },
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

/**
 * One burst at a time among runs that go at the same time: each run's set-up, start and
 * clean-up wait for the others' (ScaleContext.alone), so that one run's 1000 creations do
 * not slow another's Node Ready.
 */
function oneAtATime(): <T>(work: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return (work) => {
    const next = last.then(() => onMachine(work));
    last = next.catch(() => undefined);
    return next;
  };
}

/** Runs of an agent that exited on its own before its pods ran (then run again). */
const MAX_ATTEMPTS = 3;
const crashes: string[] = [];

const kube = await unlimitedClient();
const alone = oneAtATime();
/** Results by workload, then by agent, in the order given. */
const byWorkload: ScaleResult[][] = workloads.map(() => []);
try {
  const run = async (agentIndex: number, workloadIndex: number, together: boolean) => {
    const [agent, workload] = [agents[agentIndex], workloads[workloadIndex]];
    for (let attempt = 1;; attempt++) {
      try {
        // A run alone holds the machine throughout; runs together only for their bursts.
        const result = together
          ? await runScale({ kube, timeoutMs, alone }, agent, workload)
          : await onMachine(() => runScale({ kube, timeoutMs }, agent, workload));
        console.error(`${result.agent}, ${result.workload}: ${allRunningText(result)}`);
        byWorkload[workloadIndex][agentIndex] = result;
        return;
      } catch (error) {
        // Upstream's mock provider reads and writes its pod map with no lock (mock.go: GetPod,
        // CreatePod, UpdatePod), and the Go runtime may end the process for that ("fatal
        // error: concurrent map read and map write"): a run it did not live through is redone.
        if (!(error instanceof AgentExited) || attempt === MAX_ATTEMPTS) throw error;
        console.error(`${error.message}; running ${workload.kind}:${workload.pods} again`);
        crashes.push(`${agent.name}, ${workload.kind}:${workload.pods}: ${error.message}`);
      }
    }
  };
  for (const [agentIndex, agent] of agents.entries()) {
    if (agent.name === "vkedge" || values.sequential) {
      for (const workloadIndex of workloads.keys()) await run(agentIndex, workloadIndex, false);
    } else {
      // Every run ends (and cleans up) before a failure of one is reported.
      const settled = await Promise.allSettled(
        workloads.map((_, workloadIndex) => run(agentIndex, workloadIndex, true)),
      );
      const failure = settled.find((outcome) => outcome.status === "rejected");
      if (failure !== undefined) throw failure.reason;
    }
  }
} finally {
  kube.close();
}
/** A result as JSON: `Infinity` (a pod not Running in time) as null, the requests as pairs. */
type SavedResult = Omit<ScaleResult, "podMs" | "requests"> & {
  podMs: (number | null)[];
  requests: [string, number][];
};

const ran = byWorkload.flat();
if (values.save !== undefined) {
  const saved: SavedResult[] = ran.map((result) => ({
    ...result,
    podMs: result.podMs.map((ms) => Number.isFinite(ms) ? ms : null),
    requests: [...result.requests],
  }));
  await Deno.writeTextFile(values.save, JSON.stringify(saved));
}
const earlier: ScaleResult[] = values.compare === undefined
  ? []
  : (JSON.parse(await Deno.readTextFile(values.compare)) as SavedResult[]).map((result) => ({
    ...result,
    podMs: result.podMs.map((ms) => ms ?? Infinity),
    requests: new Map(result.requests),
  }));
/** Every result, by workload (in the order first seen), the earlier run's first. */
const results = [...new Set([...earlier, ...ran].map((result) => result.workload))].flatMap((
  workload,
) => [...earlier, ...ran].filter((result) => result.workload === workload));

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

console.log(
  `\nmock provider, defaults; API requests counted by the API server per agent${
    values.sequential ? "" : "; upstream's runs at the same time"
  }${
    values.compare === undefined
      ? ""
      : `; ${[...new Set(earlier.map((r) => r.agent))].join(", ")} from its own run before`
  }\n`,
);
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
if (crashes.length > 0) {
  console.log(
    `\nRun again after the agent exited on its own:\n${crashes.map((c) => `- ${c}`).join("\n")}`,
  );
}
