/**
 * Benchmark of `--provider=zstack` against the ZStack simulator: how long from pod
 * creation to Running for 1, 10 and 100 pods created at once, with a fixed VM boot time,
 * and how many ZStack API calls each pod costs (to start, while it runs, to delete).
 *
 *   deno run -A bench/zstack_pod_startup.ts [--sizes=1,10,100] [--vm-boot=2000]
 *     [--job-duration=100] [--poll-interval=5] [--steady-seconds=60] [--pod-sync-workers=N]
 *
 * The simulator (tests/zstack_sim/main.ts) runs as a separate process on a free port, with
 * the default seed whose hosts offer 8 vCPUs per core (so that 100 one-vCPU VMs fit), and
 * the agent as a real process with a provider config file whose password is in a file.
 * API calls are the simulator's `/__sim/stats` counters (job polls included), read before
 * and after each phase. Uses the control plane of `make cluster-up` (or
 * `VKEDGE_TEST_CLUSTER_DIR`). Prints Markdown tables; the README keeps the figures.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { parse as parseYaml } from "yaml";
import { KubeClient, loadKubeConfig, PODS } from "../lib/kube/mod.ts";
import {
  cluster,
  freshNamespace,
  kubectl,
  kubectlResult,
  repoRoot,
  waitFor,
} from "../tests/_harness/cluster.ts";
import { startAgent, uniqueNodeName, waitForNodeReady } from "../tests/_harness/agent.ts";
import { podManifest } from "../tests/_harness/pods.ts";
import { percentile, rssMiB, seconds, timePodsToRunning } from "./_common.ts";
import { holdMachine, withoutMachine } from "./_machine.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "1,10,100" },
    "vm-boot": { type: "string", default: "2000" },
    "job-duration": { type: "string", default: "100" },
    "poll-interval": { type: "string", default: "5" },
    "steady-seconds": { type: "string", default: "60" },
    /** The agent's --pod-sync-workers (default: the agent's, 10). */
    "pod-sync-workers": { type: "string" },
  },
});

// Set-up and timed phases alone on the machine; steady windows let it go (bench/_machine.ts).
await holdMachine();

const sizes = values.sizes.split(",").map(Number);
const vmBootMs = Number(values["vm-boot"]);
const jobDurationMs = Number(values["job-duration"]);
const pollIntervalSeconds = Number(values["poll-interval"]);
const steadySeconds = Number(values["steady-seconds"]);
const workers = values["pod-sync-workers"];

/** `GET /__sim/stats` of the simulator. */
interface SimStats {
  total: number;
  endpoints: Record<string, number>;
  apis: Record<string, number>;
}

/** The ZStack simulator as a child process. */
interface SimProcess {
  url: string;
  origin: string;
  stats(): Promise<SimStats>;
  vmCount(): Promise<number>;
  stop(): Promise<void>;
}

async function startSim(dir: string): Promise<SimProcess> {
  // The default inventory, with CPU over-provisioning on its hosts as ZStack allows it.
  const seed = parseYaml(
    await Deno.readTextFile(`${repoRoot}/tests/zstack_sim/seed.yaml`),
  ) as { hosts: { cpuNum: number; totalCpuCapacity?: number }[] };
  for (const host of seed.hosts) host.totalCpuCapacity = host.cpuNum * 8;
  const seedFile = `${dir}/seed.json`;
  await Deno.writeTextFile(seedFile, JSON.stringify(seed));
  const log = await Deno.open(`${dir}/sim.log`, { write: true, create: true, append: true });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${repoRoot}/tests/zstack_sim/main.ts`,
      "--port=0",
      `--seed=${seedFile}`,
      `--vm-boot=${vmBootMs}`,
      `--job-duration=${jobDurationMs}`,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderrCopy = child.stderr.pipeTo(
    new WritableStream({ write: (chunk) => void log.writeSync(chunk) }),
  ).catch(() => undefined);
  // The first line on stdout is the base URL; the rest goes to the log.
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  while (!buffered.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) {
      await stderrCopy;
      log.close();
      throw new Error(`the simulator exited: ${await Deno.readTextFile(`${dir}/sim.log`)}`);
    }
    buffered += value;
  }
  const url = buffered.slice(0, buffered.indexOf("\n")).trim();
  const stdoutCopy = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      log.writeSync(new TextEncoder().encode(value));
    }
  })().catch(() => undefined);
  const origin = new URL(url).origin;
  const admin = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${origin}/__sim/${path}`);
    if (!response.ok) throw new Error(`/__sim/${path}: ${response.status}`);
    return await response.json() as T;
  };
  return {
    url,
    origin,
    stats: () => admin<SimStats>("stats"),
    vmCount: async () => (await admin<{ vms: unknown[] }>("state")).vms.length,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      await child.status;
      await Promise.all([stderrCopy, stdoutCopy]);
      log.close();
    },
  };
}

/** `after - before` of every counter. */
function difference(before: SimStats, after: SimStats): SimStats {
  const minus = (a: Record<string, number>, b: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(a).map(([key, count]) => [key, count - (b[key] ?? 0)] as const)
        .filter(([, count]) => count > 0),
    );
  return {
    total: after.total - before.total,
    endpoints: minus(after.endpoints, before.endpoints),
    apis: minus(after.apis, before.apis),
  };
}

/** Counts by endpoint, divided by `per`, largest first: `POST /v1/vm-instances 1.0, ...`. */
function breakdown(stats: SimStats, per: number): string {
  return Object.entries(stats.endpoints)
    .sort(([, a], [, b]) => b - a)
    .map(([endpoint, count]) => `\`${endpoint}\` ${(count / per).toFixed(1)}`)
    .join(", ");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const dir = await Deno.makeTempDir({ prefix: "vkedge-bench-zstack-" });
const sim = await startSim(dir);
const passwordFile = `${dir}/zstack-password`;
await Deno.writeTextFile(passwordFile, "password\n", { mode: 0o600 });
const providerConfig = {
  endpoint: sim.url,
  auth: { account: { name: "admin", passwordFile } },
  clusterName: "vkedge-bench",
  placement: { zone: "zone-1", cluster: "cluster-1" },
  networks: { default: ["l3-default"] },
  maxPods: 250,
  pollIntervalSeconds,
};

const kube = new KubeClient(await loadKubeConfig({ path: (await cluster()).kubeconfig }), {
  qps: 500,
  burst: 500,
});
const nodeName = uniqueNodeName("bench-zstack");
const agent = await startAgent({
  nodeName,
  provider: "zstack",
  providerConfig,
  extraArgs: ["--log-level=info", ...(workers ? [`--pod-sync-workers=${workers}`] : [])],
});
const timeRows: string[] = [];
const callRows: string[] = [];
const detailRows: string[] = [];
try {
  await waitForNodeReady(agent);
  const idleRss = rssMiB(agent.child.pid);
  for (const size of sizes) {
    const ns = await freshNamespace(`bench-zstack-${size}`);
    const pods = Array.from({ length: size }, (_, i) =>
      podManifest(`vm${i}`, nodeName, {
        containers: [{
          name: "vm",
          image: "zstack/cirros",
          resources: { limits: { cpu: "1", memory: "256Mi" } },
        }],
      }));

    const beforeCreate = await sim.stats();
    const times = await timePodsToRunning(kube, ns, pods);
    const created = difference(beforeCreate, await sim.stats());
    const rss = rssMiB(agent.child.pid);

    const steady = await withoutMachine(async () => {
      const before = await sim.stats();
      await sleep(steadySeconds * 1000);
      return difference(before, await sim.stats());
    });
    const perMinute = steady.total * 60 / steadySeconds;

    const beforeDelete = await sim.stats();
    await kubectl(["delete", "pods", "--all", "-n", ns, "--wait=false"]);
    await waitFor(`the ${size} VMs expunged`, async () => await sim.vmCount() === 0, {
      timeoutMs: 300_000,
      intervalMs: 200,
    });
    await waitFor(`the ${size} pods deleted`, async () => {
      const list = await kube.resource<Pod>(PODS, ns).list();
      return list.items.length === 0;
    }, { timeoutMs: 300_000, intervalMs: 200 });
    const deleted = difference(beforeDelete, await sim.stats());
    await kubectlResult(["delete", "namespace", ns, "--wait=false"]);

    timeRows.push(
      `| ${size} | ${seconds(percentile(times, 0.5))} | ${seconds(percentile(times, 0.95))} | ${
        seconds(times.at(-1)!)
      } | ${rss.toFixed(0)} MiB |`,
    );
    callRows.push(
      `| ${size} | ${(created.total / size).toFixed(1)} | ${perMinute.toFixed(1)} | ${
        (perMinute / size).toFixed(2)
      } | ${(deleted.total / size).toFixed(1)} |`,
    );
    detailRows.push(`| ${size} | create → Running | ${breakdown(created, size)} |`);
    detailRows.push(`| ${size} | steady, per minute | ${breakdown(steady, steadySeconds / 60)} |`);
    detailRows.push(`| ${size} | delete | ${breakdown(deleted, size)} |`);
  }
  console.log(
    `\nvkedge --provider=zstack against the simulator (VM boot ${vmBootMs} ms, job ${jobDurationMs} ms, ` +
      `pollIntervalSeconds ${pollIntervalSeconds}, --pod-sync-workers=${
        workers ?? 10
      }): pod creation → Running (agent idle RSS ${idleRss.toFixed(0)} MiB)\n`,
  );
  console.log("| pods created at once | p50 | p95 | all Running | agent RSS after |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const row of timeRows) console.log(row);
  console.log(
    `\nZStack API calls (HTTP requests, job polls included; steady over ${steadySeconds} s)\n`,
  );
  console.log(
    "| pods | per pod, create → Running | steady, per minute (all pods) | steady, per pod per minute | per pod, delete |",
  );
  console.log("| --- | --- | --- | --- | --- |");
  for (const row of callRows) console.log(row);
  console.log("\nBy endpoint (per pod; steady: per minute for the node)\n");
  console.log("| pods | phase | calls |");
  console.log("| --- | --- | --- |");
  for (const row of detailRows) console.log(row);
} finally {
  await agent.stop();
  await kubectl(["delete", "node", nodeName, "--wait=false"]);
  kube.close();
  await sim.stop();
  await Deno.remove(dir, { recursive: true }).catch(() => undefined);
}
