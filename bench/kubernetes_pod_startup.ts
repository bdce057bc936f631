/**
 * Benchmark of `--provider=kubernetes`: how long from pod creation to Running for 1, 10 and
 * 100 upper pods created at once, each run as a lower pod in a second control plane whose
 * nodes kwok simulates, and how many API requests the agent sends to each cluster per pod
 * (to start, while they run, to delete).
 *
 *   deno run -A bench/kubernetes_pod_startup.ts [--sizes=1,10,100] [--steady-seconds=60]
 *     [--lower-qps=20] [--lower-burst=40] [--kube-api-qps=50]
 *
 * The agent runs as a real process with the rights of deploy/rbac.yaml above and of
 * deploy/kubernetes-lower-rbac.yaml below, each a ServiceAccount token. Its requests are
 * counted by the API servers themselves: a FlowSchema on each side matches only that
 * ServiceAccount, and `apiserver_flowcontrol_dispatched_requests_total` of that FlowSchema
 * (watches included) is read before and after each phase. Uses the control plane of `make
 * cluster-up` (or `VKEDGE_TEST_CLUSTER_DIR`) and starts the lower cluster in a folder of
 * its own beside it. Prints Markdown tables; the README keeps the figures.
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
  repoRoot,
  waitFor,
} from "../tests/_harness/cluster.ts";
import { startAgent, uniqueNodeName, waitForNodeReady } from "../tests/_harness/agent.ts";
import { podManifest } from "../tests/_harness/pods.ts";
import { lowerRbacKubeconfig, serviceAccountKubeconfig } from "../tests/_harness/kubernetes.ts";
import {
  KWOK_TOLERATION,
  type LowerCluster,
  lowerKubectl,
  lowerKubectlResult,
  startLowerCluster,
  stopLowerCluster,
} from "../tests/_harness/lower_cluster.ts";
import { percentile, rssMiB, seconds, timePodsToRunning } from "./_common.ts";
import { holdMachine, withoutMachine } from "./_machine.ts";
import { dispatchedByFlowSchema, flowSchema } from "./_agent_requests.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "1,10,100" },
    "steady-seconds": { type: "string", default: "60" },
    /** The provider's `qps` and `burst` towards the lower cluster (default: the provider's). */
    "lower-qps": { type: "string" },
    "lower-burst": { type: "string" },
    /** The agent's --kube-api-qps (and burst) towards the upper cluster (default: the agent's). */
    "kube-api-qps": { type: "string" },
  },
});

// Set-up and timed phases alone on the machine; steady windows let it go (bench/_machine.ts).
await holdMachine();

const sizes = values.sizes.split(",").map(Number);
const steadySeconds = Number(values["steady-seconds"]);

const FLOW_SCHEMA = "vkedge-bench-agent";

/** A FlowSchema matching only the ServiceAccount `namespace/name`, every request of it. */
function agentFlowSchema(namespace: string, name: string): unknown {
  return flowSchema({
    name: FLOW_SCHEMA,
    serviceAccount: { namespace, name },
    precedence: 100,
    priorityLevel: "workload-high",
    verbs: ["*"],
    resources: ["*"],
  });
}

/** Requests the API server of `kubeconfig` dispatched for the bench FlowSchema so far. */
async function dispatched(kubeconfig: string): Promise<number> {
  const metrics = await kubectl(["get", "--raw", "/metrics"], { kubeconfig });
  return dispatchedByFlowSchema(metrics).get(FLOW_SCHEMA) ?? 0;
}

/** Counts of both sides. */
interface Counts {
  upper: number;
  lower: number;
}

async function counts(upper: string, lower: LowerCluster): Promise<Counts> {
  return { upper: await dispatched(upper), lower: await dispatched(lower.kubeconfig) };
}

function minus(after: Counts, before: Counts): Counts {
  return { upper: after.upper - before.upper, lower: after.lower - before.lower };
}

function perPod(value: number, pods: number): string {
  return (value / pods).toFixed(1);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const upperCluster = await cluster();
const lowerDir = `${upperCluster.dir}-bench-lower`;
const dir = await Deno.makeTempDir({ prefix: "vkedge-bench-kubernetes-" });
const lower = await startLowerCluster(lowerDir, 2);
const kube = new KubeClient(await loadKubeConfig({ path: upperCluster.kubeconfig }), {
  qps: 500,
  burst: 500,
});
const nodeName = uniqueNodeName("bench-k8s");
const timeRows: string[] = [];
const callRows: string[] = [];
let agent: Awaited<ReturnType<typeof startAgent>> | undefined;
try {
  await kubectl(["apply", "-f", `${repoRoot}/deploy/rbac.yaml`]);
  await kubectl(["apply", "-f", "-"], {
    stdin: JSON.stringify(agentFlowSchema("kube-system", "vkedge")),
  });
  const upperKubeconfig = await serviceAccountKubeconfig({
    admin: upperCluster.kubeconfig,
    server: upperCluster.server,
    caFile: upperCluster.caFile,
    namespace: "kube-system",
    name: "vkedge",
    path: `${dir}/upper.kubeconfig`,
  });
  const lowerKubeconfig = await lowerRbacKubeconfig(lower, `${dir}/lower.kubeconfig`);
  await lowerKubectl(
    lower,
    ["apply", "-f", "-"],
    JSON.stringify(agentFlowSchema("kube-system", "vkedge-upper")),
  );
  agent = await startAgent({
    nodeName,
    provider: "kubernetes",
    providerConfig: {
      clusterName: "bench",
      kubeconfig: lowerKubeconfig,
      tolerations: [KWOK_TOLERATION],
      ...(values["lower-qps"] ? { qps: Number(values["lower-qps"]) } : {}),
      ...(values["lower-burst"] ? { burst: Number(values["lower-burst"]) } : {}),
    },
    extraArgs: [
      "--log-level=info",
      `--kubeconfig=${upperKubeconfig}`,
      ...(values["kube-api-qps"]
        ? [`--kube-api-qps=${values["kube-api-qps"]}`, `--kube-api-burst=${values["kube-api-qps"]}`]
        : []),
    ],
  });
  await waitForNodeReady(agent, 90_000);
  const idleRss = rssMiB(agent.child.pid);
  const idle = await withoutMachine(async () => {
    const before = await counts(upperCluster.kubeconfig, lower);
    await sleep(steadySeconds * 1000);
    return minus(await counts(upperCluster.kubeconfig, lower), before);
  });
  for (const size of sizes) {
    const ns = await freshNamespace(`bench-k8s-${size}`);
    const pods = Array.from({ length: size }, (_, i) => podManifest(`p${i}`, nodeName));
    const beforeCreate = await counts(upperCluster.kubeconfig, lower);
    const times = await timePodsToRunning(kube, ns, pods);
    const created = minus(await counts(upperCluster.kubeconfig, lower), beforeCreate);
    const rss = rssMiB(agent.child.pid);
    const steady = await withoutMachine(async () => {
      const before = await counts(upperCluster.kubeconfig, lower);
      await sleep(steadySeconds * 1000);
      return minus(await counts(upperCluster.kubeconfig, lower), before);
    });

    const beforeDelete = await counts(upperCluster.kubeconfig, lower);
    await Promise.all(
      pods.map((pod) => kube.resource<Pod>(PODS, ns).delete(pod.metadata!.name!)),
    );
    await waitFor(`${size} pods gone on both sides`, async () => {
      const above = await kube.resource<Pod>(PODS, ns).list();
      const below = await lowerKubectlResult(lower, [
        "get",
        "pods",
        "-A",
        "-l",
        "vkedge.io/cluster=bench",
        "-o",
        "name",
      ]);
      return above.items.length === 0 && below.stdout.trim() === "";
    }, { timeoutMs: 300_000, intervalMs: 500 });
    // The copies and status writes of the last deletions land within a moment.
    await sleep(2_000);
    const deleted = minus(await counts(upperCluster.kubeconfig, lower), beforeDelete);
    timeRows.push(
      `| ${size} | ${seconds(percentile(times, 0.5))} | ${seconds(percentile(times, 0.95))} | ${
        seconds(times.at(-1)!)
      } | ${rss.toFixed(0)} MiB |`,
    );
    callRows.push(
      `| ${size} | ${perPod(created.upper, size)} / ${
        perPod(created.lower, size)
      } | ${steady.upper} / ${steady.lower} | ${perPod(deleted.upper, size)} / ${
        perPod(deleted.lower, size)
      } |`,
    );
    await kubectlResult(["delete", "namespace", ns, "--wait=false"]);
  }
  console.log(
    `\nvkedge --provider=kubernetes (lower cluster: a second control plane, 2 kwok nodes): pod creation → Running (agent idle RSS ${
      idleRss.toFixed(0)
    } MiB)\n`,
  );
  console.log("| pods created at once | p50 | p95 | all Running | agent RSS after |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const row of timeRows) console.log(row);
  console.log(
    `\nAPI requests of the agent, upper / lower (as each API server counted them; idle node: ${idle.upper} / ${idle.lower} in ${steadySeconds} s)\n`,
  );
  console.log(
    `| pods | per pod, creation → Running | steady, ${steadySeconds} s, whole node | per pod, deletion |`,
  );
  console.log("| --- | --- | --- | --- |");
  for (const row of callRows) console.log(row);
} finally {
  await agent?.stop();
  await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
  await kubectlResult(["delete", "flowschema", FLOW_SCHEMA]);
  kube.close();
  await stopLowerCluster(lowerDir);
  await Deno.remove(lowerDir, { recursive: true }).catch(() => undefined);
  await Deno.remove(dir, { recursive: true }).catch(() => undefined);
}
