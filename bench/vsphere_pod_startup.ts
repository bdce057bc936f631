/**
 * Benchmark of `--provider=vsphere` against govmomi's vSphere simulator: how long from pod
 * creation to Running and Ready for 1 and 20 pods created at once (a clone, a power-on and
 * the guest reporting its IP after a fixed boot time), and how many SOAP calls each pod
 * costs to start, while it runs and to delete.
 *
 *   deno run -A bench/vsphere_pod_startup.ts [--sizes=1,20] [--guest-boot=2000]
 *     [--task-delay=0] [--steady-seconds=60]
 *
 * The simulator (the launcher in tests/vcsim, over govmomi v0.52.0's simulator package) runs
 * as a separate process on a free port over TLS, a vCenter with one cluster of three hosts
 * of 8 cores and 16 GiB; the agent is a real process with a provider config whose password
 * is in a file. SOAP calls are the launcher's `/__sim/stats` counters by method, read before
 * and after each phase. Uses the control plane of `make cluster-up` (or
 * `VKEDGE_TEST_CLUSTER_DIR`). Prints Markdown tables; the README keeps the figures.
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
import { podManifest } from "../tests/_harness/pods.ts";
import { startVcsim } from "../tests/_harness/vcsim.ts";
import { percentile, rssMiB, seconds, timePodsToRunning } from "./_common.ts";
import { holdMachine, withoutMachine } from "./_machine.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "1,20" },
    "guest-boot": { type: "string", default: "2000" },
    "task-delay": { type: "string", default: "0" },
    "steady-seconds": { type: "string", default: "60" },
  },
});

// Set-up and timed phases alone on the machine; steady windows let it go (bench/_machine.ts).
await holdMachine();

const sizes = values.sizes.split(",").map(Number);
const guestBootMs = Number(values["guest-boot"]);
const taskDelayMs = Number(values["task-delay"]);
const steadySeconds = Number(values["steady-seconds"]);

type Calls = Record<string, number>;

function difference(before: Calls, after: Calls): Calls {
  return Object.fromEntries(
    Object.entries(after).map(([method, count]) => [method, count - (before[method] ?? 0)] as const)
      .filter(([, count]) => count > 0),
  );
}

function total(calls: Calls): number {
  return Object.values(calls).reduce((sum, count) => sum + count, 0);
}

/** Counts by method, divided by `per`, largest first: `CloneVM_Task 1.0, ...`. */
function breakdown(calls: Calls, per: number): string {
  return Object.entries(calls)
    .sort(([, a], [, b]) => b - a)
    .map(([method, count]) => `\`${method}\` ${(count / per).toFixed(1)}`)
    .join(", ");
}

const sim = await startVcsim({ guestBootMs, taskDelayMs, hostCpuCores: 8, hostMemoryMiB: 16384 });
const calls = async () => (await sim.stats()).calls;
const kube = new KubeClient(await loadKubeConfig({ path: (await cluster()).kubeconfig }), {
  qps: 500,
  burst: 500,
});
const nodeName = uniqueNodeName("bench-vsphere");
const agent = await startAgent({
  nodeName,
  provider: "vsphere",
  providerConfig: await sim.providerConfig({ clusterName: "vkedge-bench", maxPods: 250 }),
  extraArgs: ["--log-level=info"],
});
const timeRows: string[] = [];
const callRows: string[] = [];
const detailRows: string[] = [];
try {
  await waitForNodeReady(agent);
  const idleRss = rssMiB(agent.child.pid);
  for (const size of sizes) {
    const ns = await freshNamespace(`bench-vsphere-${size}`);
    const pods = Array.from({ length: size }, (_, i) =>
      podManifest(`vm${i}`, nodeName, {
        containers: [{
          name: "vm",
          image: "vsphere/cirros",
          resources: { limits: { cpu: "1", memory: "256Mi" } },
        }],
      }));

    const beforeCreate = await calls();
    const times = await timePodsToRunning(kube, ns, pods);
    const created = difference(beforeCreate, await calls());
    const rss = rssMiB(agent.child.pid);

    const steady = await withoutMachine(async () => {
      const before = await calls();
      await new Promise((resolve) => setTimeout(resolve, steadySeconds * 1000));
      return difference(before, await calls());
    });
    const perMinute = total(steady) * 60 / steadySeconds;

    const beforeDelete = await calls();
    await kubectl(["delete", "pods", "--all", "-n", ns, "--wait=false"]);
    await waitFor(`the ${size} VMs destroyed`, async () => (await sim.vms()).length === 0, {
      timeoutMs: 300_000,
      intervalMs: 200,
    });
    await waitFor(`the ${size} pods deleted`, async () => {
      const list = await kube.resource<Pod>(PODS, ns).list();
      return list.items.length === 0;
    }, { timeoutMs: 300_000, intervalMs: 200 });
    const deleted = difference(beforeDelete, await calls());
    await kubectlResult(["delete", "namespace", ns, "--wait=false"]);

    timeRows.push(
      `| ${size} | ${seconds(percentile(times, 0.5))} | ${seconds(percentile(times, 0.95))} | ${
        seconds(times.at(-1)!)
      } | ${rss.toFixed(0)} MiB |`,
    );
    callRows.push(
      `| ${size} | ${(total(created) / size).toFixed(1)} | ${perMinute.toFixed(1)} | ${
        (perMinute / size).toFixed(2)
      } | ${(total(deleted) / size).toFixed(1)} |`,
    );
    detailRows.push(`| ${size} | create → Running | ${breakdown(created, size)} |`);
    detailRows.push(`| ${size} | steady, per minute | ${breakdown(steady, steadySeconds / 60)} |`);
    detailRows.push(`| ${size} | delete | ${breakdown(deleted, size)} |`);
  }
  console.log(
    `\nvkedge --provider=vsphere against govmomi's simulator (guest boot ${guestBootMs} ms, ` +
      `tasks ${taskDelayMs} ms): pod creation → Running and Ready (agent idle RSS ${
        idleRss.toFixed(0)
      } MiB)\n`,
  );
  console.log("| pods created at once | p50 | p95 | all Running | agent RSS after |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const row of timeRows) console.log(row);
  console.log(`\nSOAP calls (steady over ${steadySeconds} s)\n`);
  console.log(
    "| pods | per pod, create → Running | steady, per minute (all pods) | steady, per pod per minute | per pod, delete |",
  );
  console.log("| --- | --- | --- | --- | --- |");
  for (const row of callRows) console.log(row);
  console.log("\nBy method (per pod; steady: per minute for the node)\n");
  console.log("| pods | phase | calls |");
  console.log("| --- | --- | --- |");
  for (const row of detailRows) console.log(row);
} finally {
  await agent.stop();
  await kubectl(["delete", "node", nodeName, "--wait=false"]);
  kube.close();
  await sim.close();
}
