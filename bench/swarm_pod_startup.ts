/**
 * Benchmark of `--provider=swarm` against a real dockerd in swarm mode (the test Swarm of
 * `tests/_harness/swarm.ts`, in a network namespace of its own): how long from pod
 * creation to Running for 20 pods created at once (busybox, one container each), and how
 * many Engine API calls each pod costs to start, while it runs and to delete.
 *
 *   deno run -A bench/swarm_pod_startup.ts [--sizes=20] [--steady-seconds=60]
 *
 * API calls are counted by dockerd itself: started with `--debug`, it logs one
 * `Calling METHOD PATH` line per request; the lines between two moments are the calls in
 * between (the agent is the only client then). Uses the control plane of
 * `make cluster-up` (or `VKEDGE_TEST_CLUSTER_DIR`). Prints Markdown tables; the README
 * keeps the figures.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { KubeClient, loadKubeConfig, PODS } from "../lib/kube/mod.ts";
import {
  cluster,
  freshNamespace,
  kubectl,
  kubectlResult,
  waitFor,
} from "../tests/_harness/cluster.ts";
import { startAgent, uniqueNodeName, waitForNodeReady } from "../tests/_harness/agent.ts";
import { startSwarm } from "../tests/_harness/swarm.ts";
import { swarmPod } from "../tests/_harness/swarm_node.ts";
import { percentile, rssMiB, seconds, timePodsToRunning } from "./_common.ts";
import { holdMachine, withoutMachine } from "./_machine.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "20" },
    "steady-seconds": { type: "string", default: "60" },
  },
});

// Set-up and timed phases alone on the machine; steady windows let it go (bench/_machine.ts).
await holdMachine();

const sizes = values.sizes.split(",").map(Number);
const steadySeconds = Number(values["steady-seconds"]);

/** The Engine API calls dockerd logged, as `METHOD /path` with IDs and queries left out. */
function calls(log: string): string[] {
  return [...log.matchAll(/msg="Calling (\w+) (?:https?:\/\/[^/]+)?([^"?\s]+)/g)].map((
    [, method, path],
  ) =>
    `${method} ${
      path.replace(/^\/v[\d.]+/, "").replace(
        /\/(services|tasks|exec|containers)\/(?!create$)[^/]+/,
        "/$1/{id}",
      )
    }`
  );
}

/** Counts by call, divided by `per`, largest first. */
function breakdown(list: string[], per: number): string {
  const counts = new Map<string, number>();
  for (const call of list) counts.set(call, (counts.get(call) ?? 0) + 1);
  return [...counts].sort(([, a], [, b]) => b - a)
    .map(([call, count]) => `\`${call}\` ${(count / per).toFixed(1)}`).join(", ");
}

const swarm = await startSwarm({ name: "bench", debug: true });
let logOffset = 0;
/**
 * The calls logged since the last mark. A mark is a request of this benchmark's own with a
 * unique query, waited for in the log, so that lines still on their way are not missed.
 */
async function sinceMark(): Promise<string[]> {
  const mark = `vkedge-bench-mark=${crypto.randomUUID()}`;
  await (await swarm.api(`/v1.41/_ping?${mark}`)).body?.cancel();
  let log = "";
  await waitFor("the mark in dockerd's log", async () => {
    log = await swarm.log();
    return log.includes(mark);
  }, { timeoutMs: 10_000, intervalMs: 50 });
  const end = log.indexOf("\n", log.indexOf(mark));
  const fresh = log.slice(logOffset, end);
  logOffset = end;
  return calls(fresh).slice(0, -1); // the mark itself is the last
}

const kube = new KubeClient(await loadKubeConfig({ path: (await cluster()).kubeconfig }), {
  qps: 500,
  burst: 500,
});
const nodeName = uniqueNodeName("bench-swarm");
const agent = await startAgent({
  nodeName,
  provider: "swarm",
  providerConfig: { endpoint: swarm.endpoint, clusterName: "bench", maxPods: 250 },
  extraArgs: ["--log-level=info"],
});
const timeRows: string[] = [];
const callRows: string[] = [];
const detailRows: string[] = [];
try {
  await waitForNodeReady(agent);
  const idleRss = rssMiB(agent.child.pid);
  for (const size of sizes) {
    const ns = await freshNamespace(`bench-swarm-${size}`);
    const pods: Pod[] = Array.from(
      { length: size },
      (_, i) => swarmPod(`task${i}`, nodeName, "exec sleep 3600"),
    );
    await sinceMark();
    const times = await timePodsToRunning(kube, ns, pods);
    const created = await sinceMark();
    const rss = rssMiB(agent.child.pid);

    const steady = await withoutMachine(async () => {
      await new Promise((resolve) => setTimeout(resolve, steadySeconds * 1000));
      return await sinceMark();
    });
    const perMinute = steady.length * 60 / steadySeconds;

    await kubectl(["delete", "pods", "--all", "-n", ns, "--wait=false"]);
    await waitFor(`the ${size} pods deleted`, async () => {
      const list = await kube.resource<Pod>(PODS, ns).list();
      return list.items.length === 0;
    }, { timeoutMs: 300_000, intervalMs: 200 });
    const deleted = await sinceMark();
    await kubectlResult(["delete", "namespace", ns, "--wait=false"]);

    timeRows.push(
      `| ${size} | ${seconds(percentile(times, 0.5))} | ${seconds(percentile(times, 0.95))} | ${
        seconds(times.at(-1)!)
      } | ${rss.toFixed(0)} MiB |`,
    );
    callRows.push(
      `| ${size} | ${(created.length / size).toFixed(1)} | ${perMinute.toFixed(1)} | ${
        (perMinute / size).toFixed(2)
      } | ${(deleted.length / size).toFixed(1)} |`,
    );
    detailRows.push(`| ${size} | create → Running, per pod | ${breakdown(created, size)} |`);
    detailRows.push(
      `| ${size} | steady, per minute | ${breakdown(steady, steadySeconds / 60)} |`,
    );
    detailRows.push(`| ${size} | delete, per pod | ${breakdown(deleted, size)} |`);
  }
  console.log(
    `\nvkedge --provider=swarm against dockerd ${
      (await swarm.json<{ Version: string }>("/version")).Version
    } in swarm mode (one node): pod creation → Running (agent idle RSS ${
      idleRss.toFixed(0)
    } MiB)\n`,
  );
  console.log("| pods created at once | p50 | p95 | all Running | agent RSS after |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const row of timeRows) console.log(row);
  console.log(`\nEngine API calls (as dockerd logged them; steady over ${steadySeconds} s)\n`);
  console.log(
    "| pods | per pod, create → Running | steady, per minute (all pods) | steady, per pod per minute | per pod, delete |",
  );
  console.log("| --- | --- | --- | --- | --- |");
  for (const row of callRows) console.log(row);
  console.log("\nBy call\n");
  console.log("| pods | phase | calls |");
  console.log("| --- | --- | --- |");
  for (const row of detailRows) console.log(row);
} finally {
  await agent.stop();
  await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
  await swarm.close();
}
