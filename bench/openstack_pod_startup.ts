/**
 * Benchmark of `--provider=openstack` against the real Nova API of the OpenStack test stack
 * (tests/openstack: Keystone, Nova with its fake hypervisor on two compute hosts, Glance,
 * Neutron, Placement): how long from pod creation to Running and Ready for 1 and 20 pods
 * created at once, and how many API calls each pod costs by service (Keystone, compute,
 * image, network), to start, while it runs and to delete.
 *
 *   deno run -A bench/openstack_pod_startup.ts [--sizes=1,20] [--poll-interval=5]
 *     [--steady-seconds=60]
 *
 * The stack is the harness's (`.local/openstack-<pid>`, stopped when the benchmark exits;
 * `VKEDGE_TEST_OPENSTACK_DIR` reuses a running one); the agent is a real process with a
 * provider config whose password is in a file and `--log-level=debug`, and the calls are
 * what its OpenStack client logged (one line per HTTP exchange: method, service, path,
 * status), counted before and after each phase. Uses the control plane of
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
import {
  nodeServers,
  openstackStack,
  providerConfigFor,
  removeNodeServers,
  serverPod,
  stackAdmin,
} from "../tests/_harness/openstack.ts";
import { percentile, rssMiB, seconds, timePodsToRunning } from "./_common.ts";
import { holdMachine, withoutMachine } from "./_machine.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "1,20" },
    "poll-interval": { type: "string", default: "5" },
    "steady-seconds": { type: "string", default: "60" },
  },
});

// Set-up and timed phases alone on the machine; steady windows let it go (bench/_machine.ts).
await holdMachine();

const sizes = values.sizes.split(",").map(Number);
const pollIntervalSeconds = Number(values["poll-interval"]);
const steadySeconds = Number(values["steady-seconds"]);

/** One logged HTTP exchange of the agent's OpenStack client. */
const exchange =
  /"(GET|POST|PUT|DELETE)" "(identity|compute|image|network|placement)" "([^"]+)" → (\d{3}|error)/;

/** Calls by `service` and by `service method path` (ids replaced), from log text. */
function countCalls(
  text: string,
): { byService: Record<string, number>; byEndpoint: Record<string, number> } {
  const byService: Record<string, number> = {};
  const byEndpoint: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const match = exchange.exec(line);
    if (match === null) continue;
    const [, method, service, path] = match;
    byService[service] = (byService[service] ?? 0) + 1;
    const shape = path.replace(
      /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g,
      "{id}",
    );
    const key = `${service} ${method} ${shape}`;
    byEndpoint[key] = (byEndpoint[key] ?? 0) + 1;
  }
  return { byService, byEndpoint };
}

const services = ["identity", "compute", "image", "network", "placement"];

function perPod(counts: Record<string, number>, per: number): string {
  return services.map((service) => ((counts[service] ?? 0) / per).toFixed(1)).join(" / ");
}

function breakdown(counts: Record<string, number>, per: number): string {
  return Object.entries(counts).sort(([, a], [, b]) => b - a)
    .map(([endpoint, count]) => `\`${endpoint}\` ${(count / per).toFixed(1)}`).join(", ");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const stack = await openstackStack();
console.error(
  `OpenStack stack ready (${stack.startSeconds ?? "?"} s to start): ${stack.authUrl}`,
);
const dir = await Deno.makeTempDir({ prefix: "vkedge-bench-openstack-" });
const nodeName = uniqueNodeName("bench-openstack");
const providerConfig = await providerConfigFor(stack, {
  dir,
  clusterName: "vkedge-bench",
  extra: { pollIntervalSeconds, capacityRefreshSeconds: 60 },
});
const kube = new KubeClient(await loadKubeConfig({ path: (await cluster()).kubeconfig }), {
  qps: 500,
  burst: 500,
});
const agent = await startAgent({
  nodeName,
  provider: "openstack",
  providerConfig,
  extraArgs: ["--log-level=debug"],
});
const logSince = async (offset: number) => (await agent.output()).slice(offset);
const timeRows: string[] = [];
const callRows: string[] = [];
const detailRows: string[] = [];
try {
  await waitForNodeReady(agent, 120_000);
  const idleRss = rssMiB(agent.child.pid);
  const admin = await stackAdmin(stack);
  for (const size of sizes) {
    const ns = await freshNamespace(`bench-openstack-${size}`);
    const pods = Array.from({ length: size }, (_, i) => serverPod(`vm${i}`, nodeName));

    let mark = (await agent.output()).length;
    const times = await timePodsToRunning(kube, ns, pods);
    const created = countCalls(await logSince(mark));
    const rss = rssMiB(agent.child.pid);

    const steady = await withoutMachine(async () => {
      const from = (await agent.output()).length;
      await sleep(steadySeconds * 1000);
      return countCalls(await logSince(from));
    });
    const perMinute = 60 / steadySeconds;

    mark = (await agent.output()).length;
    await kubectl(["delete", "pods", "--all", "-n", ns, "--wait=false"]);
    await waitFor(
      `the ${size} servers deleted`,
      async () => (await nodeServers(admin, nodeName)).length === 0,
      {
        timeoutMs: 300_000,
        intervalMs: 500,
      },
    );
    await waitFor(`the ${size} pods deleted`, async () => {
      const list = await kube.resource<Pod>(PODS, ns).list();
      return list.items.length === 0;
    }, { timeoutMs: 300_000, intervalMs: 500 });
    const deleted = countCalls(await logSince(mark));
    await kubectlResult(["delete", "namespace", ns, "--wait=false"]);

    timeRows.push(
      `| ${size} | ${seconds(percentile(times, 0.5))} | ${seconds(percentile(times, 0.95))} | ${
        seconds(times.at(-1)!)
      } | ${rss.toFixed(0)} MiB |`,
    );
    const steadyTotal = Object.values(steady.byService).reduce((a, b) => a + b, 0) * perMinute;
    callRows.push(
      `| ${size} | ${perPod(created.byService, size)} | ${steadyTotal.toFixed(0)} | ${
        perPod(deleted.byService, size)
      } |`,
    );
    detailRows.push(`| ${size} | create → Running | ${breakdown(created.byEndpoint, size)} |`);
    detailRows.push(
      `| ${size} | steady, per minute | ${breakdown(steady.byEndpoint, steadySeconds / 60)} |`,
    );
    detailRows.push(`| ${size} | delete | ${breakdown(deleted.byEndpoint, size)} |`);
  }
  console.log(
    `\nvkedge --provider=openstack against the OpenStack test stack (Nova's fake hypervisor, pollIntervalSeconds ${pollIntervalSeconds}): pod creation → Running (agent idle RSS ${
      idleRss.toFixed(0)
    } MiB)\n`,
  );
  console.log("| pods created at once | p50 | p95 | all Running | agent RSS after |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const row of timeRows) console.log(row);
  console.log(
    `\nAPI calls per pod by service (Keystone, compute, image, network, placement), as the agent's client made them; steady over ${steadySeconds} s\n`,
  );
  console.log(
    "| pods | per pod, create → Running (identity / compute / image / network / placement) | steady, calls per minute (all pods) | per pod, delete (same order) |",
  );
  console.log("| --- | --- | --- | --- |");
  for (const row of callRows) console.log(row);
  console.log("\nBy endpoint (per pod; steady: per minute for the node)\n");
  console.log("| pods | phase | calls |");
  console.log("| --- | --- | --- |");
  for (const row of detailRows) console.log(row);
} finally {
  await agent.stop();
  await kubectl(["delete", "node", nodeName, "--wait=false"]);
  kube.close();
  await removeNodeServers(stack, nodeName).catch(() => undefined);
  await Deno.remove(dir, { recursive: true }).catch(() => undefined);
}
