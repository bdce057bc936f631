/**
 * Benchmark: restarting vkedge (as cron or systemd does) with 1000 pods Running. The agent
 * (mock provider with its state file, so the pods outlive it) runs 1000 bound pods, is
 * stopped with SIGTERM and started again; measured from the second start: the time until
 * it says it is ready (its Node status written, its caches synced and every pod adopted),
 * and the API requests of the restart and the 5 s after it, pod writes apart (there should
 * be none: the pods run as specified and their status is unchanged).
 *
 *   deno run -A bench/restart.ts [--pods=1000] [--no-v8-flags]
 *
 * The agent runs with the V8 flags it ships with (lib/runtime_flags.ts) unless
 * `--no-v8-flags` is given.
 *
 * Prints one Markdown table; the README keeps the figures.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { freshNamespace } from "../tests/_harness/cluster.ts";
import {
  apiRequestCounts,
  backgroundRate,
  countsBetween,
  perPodText,
  phaseRequests,
} from "./_api_requests.ts";
import { processUsage } from "./_process_usage.ts";
import {
  boundPod,
  cleanUp,
  inParallel,
  type StartedAgent,
  unlimitedClient,
  vkedge,
} from "./_scale.ts";
import { PODS } from "../lib/kube/mod.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { isRunning } from "../tests/_harness/pods.ts";
import { seconds } from "./_common.ts";

const { values } = parseArgs({
  options: {
    pods: { type: "string", default: "1000" },
    "no-v8-flags": { type: "boolean", default: false },
  },
});
const count = Number(values.pods);
const SETTLE_MS = 5000;

/** Resolves once `agent`'s log says it is ready (after its start), or throws after 2 min. */
async function readyLine(agent: StartedAgent): Promise<void> {
  const deadline = performance.now() + 120_000;
  while (!/node "?[\w.-]+"? is ready/.test(await agent.output())) {
    if (performance.now() > deadline) throw new Error("the agent did not say it is ready");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function allRunning(namespace: string): Promise<boolean> {
  const pods = await kube.resource<Pod>(PODS, namespace).listAll({});
  return pods.items.length === count && pods.items.every(isRunning);
}

const kube = await unlimitedClient();
const agent = vkedge({ v8Flags: !values["no-v8-flags"] });
const namespace = await freshNamespace(`restart-${count}`);
const nodeName = `restart-${Date.now().toString(36)}`;
const stateDir = await Deno.makeTempDir({ prefix: "vkedge-bench-restart-" });
let running: StartedAgent | undefined;
let row: string;
try {
  const background = await backgroundRate(kube, 5000);
  await inParallel(
    Array.from({ length: count }, (_, i) => boundPod(`p${i}`, nodeName)),
    8,
    async (pod) => void await kube.resource<Pod>(PODS, namespace).create(pod),
  );
  running = await agent.start(nodeName, stateDir);
  const deadline = performance.now() + 600_000;
  while (!(await allRunning(namespace))) {
    if (performance.now() > deadline) throw new Error(`${count} pods not Running after 10 min`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS)); // its events go last
  await running.stop();
  running = undefined;

  const before = await apiRequestCounts(kube);
  const start = performance.now();
  running = await agent.start(nodeName, stateDir);
  await readyLine(running);
  const readyMs = performance.now() - start;
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const after = await apiRequestCounts(kube);
  const usage = processUsage(running.pid);
  const requests = phaseRequests(countsBetween(before, after), {
    background,
    seconds: (performance.now() - start) / 1000,
  });
  const podWrites = [...requests].filter(([key]) =>
    /^(POST|PUT|PATCH|APPLY|DELETE|DELETECOLLECTION) pods(\/|$)/.test(key)
  ).reduce((sum, [, value]) => sum + value, 0);
  if (!(await allRunning(namespace))) {
    throw new Error("pods were not all Running after the restart");
  }
  row = `| ${count} | ${seconds(readyMs)} | ${podWrites} | ${perPodText(requests, count)} | ${
    usage.peakRssMiB.toFixed(0)
  } MiB | ${usage.cpuSeconds.toFixed(1)} s |`;
} finally {
  await running?.stop();
  await cleanUp(kube, namespace, nodeName);
  await Deno.remove(stateDir, { recursive: true }).catch(() => undefined);
  kube.close();
}
console.log(
  `\nvkedge restarted with ${count} Running pods (mock provider, state file): start → ready, and the ${
    SETTLE_MS / 1000
  } s after\n`,
);
console.log(
  "| pods | start → ready | pod writes | API requests per pod: total: by verb and resource | peak RSS | CPU |",
);
console.log("| --- | --- | --- | --- | --- | --- |");
console.log(row);
