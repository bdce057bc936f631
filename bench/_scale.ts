/**
 * The workloads of the scale benchmarks, run the same way against vkedge and upstream
 * virtual-kubelet (both with their mock provider, each a real process for a node of its
 * own on the same control plane): pods bound to the node before the agent starts, or
 * created at full API speed by parallel clients while it runs. Each run reports the time
 * to all Running, per-pod percentiles, the API requests the agent made by verb and
 * resource (from the API server's `apiserver_request_total`), the agent's peak RSS and CPU
 * seconds, and the time from start to Node Ready.
 *
 * @module
 */

import type { Node, Pod } from "kubernetes-types/core/v1.d.ts";
import { Informer, KubeClient, loadKubeConfig, NODES, PODS } from "../lib/kube/mod.ts";
import { startAgent } from "../tests/_harness/agent.ts";
import { agentV8FlagsArgument } from "../lib/runtime_flags.ts";
import { cluster, freshNamespace, kubectlResult, repoRoot } from "../tests/_harness/cluster.ts";
import { isRunning } from "../tests/_harness/pods.ts";
import {
  apiRequestCounts,
  countsBetween,
  phaseRequests,
  type RequestCounts,
} from "./_api_requests.ts";
import { type ProcessUsage, processUsage } from "./_process_usage.ts";

/** An agent process started for one node. */
export interface StartedAgent {
  /** The process id (whose `/proc` entry is read). */
  pid: number;
  /** Stops it (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Its output so far. */
  output(): Promise<string>;
}

/** An implementation of a virtual kubelet the benchmarks start. */
export interface AgentUnderTest {
  /** Its name in the tables. */
  name: string;
  /** Starts it for `nodeName`; `stateDir` is a fresh folder of its own. */
  start(nodeName: string, stateDir: string): Promise<StartedAgent>;
}

/** Capacity large enough for every benchmark's pods. */
const CAPACITY = { cpu: "4000", memory: "8Ti", pods: "5000" };

/**
 * vkedge with its defaults, the mock provider and its state file (`stateDir/mock.json`),
 * run with the V8 flags it ships with (lib/runtime_flags.ts) unless `v8Flags` is false.
 */
export function vkedge(
  options: { extraArgs?: string[]; stateFile?: boolean; v8Flags?: boolean } = {},
): AgentUnderTest {
  return {
    name: "vkedge",
    async start(nodeName, stateDir) {
      const agent = await startAgent({
        nodeName,
        denoFlags: options.v8Flags === false ? [] : [agentV8FlagsArgument()],
        providerConfig: {
          capacity: CAPACITY,
          ...(options.stateFile === false ? {} : { stateFile: `${stateDir}/mock.json` }),
        },
        extraArgs: ["--log-level=info", ...(options.extraArgs ?? [])],
      });
      if (Deno.env.get("BENCH_KEEP_LOGS")) console.error(`${nodeName}: log in ${agent.logFile}`);
      return {
        pid: agent.child.pid,
        stop: async () => void await agent.stop(),
        output: agent.output,
      };
    },
  };
}

/** Builds (or finds in the cache) upstream virtual-kubelet and returns its path. */
export async function upstreamBinary(): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: [`${repoRoot}/bench/build_virtual_kubelet.sh`],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`bench/build_virtual_kubelet.sh exited ${out.code}`);
  return new TextDecoder().decode(out.stdout).trim();
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Upstream virtual-kubelet at `binary` with its defaults and its mock provider. */
export function upstreamVirtualKubelet(binary: string): AgentUnderTest {
  return {
    name: "virtual-kubelet",
    async start(nodeName, stateDir) {
      const { kubeconfig, dir } = await cluster();
      const config = `${stateDir}/mock.json`;
      await Deno.writeTextFile(config, JSON.stringify({ [nodeName]: CAPACITY }));
      const logFile = `${stateDir}/virtual-kubelet.log`;
      const log = await Deno.open(logFile, { write: true, create: true, append: true });
      const child = new Deno.Command(binary, {
        args: [
          "--provider=mock",
          `--provider-config=${config}`,
          `--nodename=${nodeName}`,
          `--kubeconfig=${kubeconfig}`,
          `--metrics-addr=127.0.0.1:${freePort()}`,
        ],
        env: {
          VKUBELET_POD_IP: "127.0.0.1",
          KUBELET_PORT: String(freePort()),
          // It serves its kubelet API with a key pair it is given; any pair will do.
          APISERVER_CERT_LOCATION: `${dir}/pki/apiserver.crt`,
          APISERVER_KEY_LOCATION: `${dir}/pki/apiserver.key`,
        },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const copied = Promise.all(
        [child.stdout, child.stderr].map((stream) =>
          stream.pipeTo(new WritableStream({ write: (chunk) => void log.writeSync(chunk) }))
            .catch(() => undefined)
        ),
      ).finally(() => log.close());
      return {
        pid: child.pid,
        async stop() {
          try {
            child.kill("SIGTERM");
          } catch {
            // exited already
          }
          await child.status;
          await copied;
        },
        output: () => Deno.readTextFile(logFile),
      };
    },
  };
}

/** A pod bound to `nodeName` at creation (no scheduler involved). */
export function boundPod(name: string, nodeName: string): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { bench: "scale" } },
    spec: {
      nodeName,
      containers: [{ name: "app", image: "nginx:1.27" }],
      terminationGracePeriodSeconds: 0,
    },
  };
}

/** A client without a client-side rate limit, for the benchmark's own requests. */
export async function unlimitedClient(): Promise<KubeClient> {
  return new KubeClient(await loadKubeConfig({ path: (await cluster()).kubeconfig }), {
    qps: Infinity,
  });
}

/** Runs `work` on every item with at most `parallel` at once. */
export async function inParallel<T>(
  items: readonly T[],
  parallel: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
}

/** Watches one namespace's pods and one node, noting when each pod and the node got ready. */
class Observer {
  readonly runningAt = new Map<string, number>();
  nodeReadyAt: number | undefined;
  readonly #stop = new AbortController();
  readonly #pods: Informer<Pod>;
  readonly #node: Informer<Node>;
  readonly #runs: Promise<void>[];
  #waiters: (() => void)[] = [];

  constructor(kube: KubeClient, namespace: string, nodeName: string) {
    this.#pods = new Informer<Pod>(kube.resource<Pod>(PODS, namespace), { name: "bench-pods" });
    this.#node = new Informer<Node>(kube.resource<Node>(NODES), {
      name: "bench-node",
      fieldSelector: `metadata.name=${nodeName}`,
    });
    const onPod = (pod: Pod) => {
      const name = pod.metadata?.name ?? "";
      if (!this.runningAt.has(name) && isRunning(pod)) {
        this.runningAt.set(name, performance.now());
        this.#notify();
      }
    };
    this.#pods.addHandlers({ onAdd: onPod, onUpdate: (_old, pod) => onPod(pod) });
    const onNode = (node: Node) => {
      const ready = node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
      if (ready && this.nodeReadyAt === undefined) {
        this.nodeReadyAt = performance.now();
        this.#notify();
      }
    };
    this.#node.addHandlers({ onAdd: onNode, onUpdate: (_old, node) => onNode(node) });
    this.#runs = [this.#pods.run(this.#stop.signal), this.#node.run(this.#stop.signal)];
  }

  async synced(): Promise<void> {
    await this.#pods.waitForSync(this.#stop.signal);
    await this.#node.waitForSync(this.#stop.signal);
  }

  /** Resolves once `done()` holds, or rejects after `timeoutMs`. */
  async until(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!done()) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#runs);
  }
}

/** What one run of a workload measured. */
export interface ScaleResult {
  agent: string;
  workload: string;
  pods: number;
  /**
   * From the start (of the agent, or of the first creation) to the last pod Running, or
   * to the end of the wait when not every pod ran within the timeout.
   */
  allRunningMs: number;
  /** How many pods were Running at the end (`pods` unless the wait timed out). */
  running: number;
  /**
   * Per pod, ascending: from the agent's start (bound pods) or the pod's creation;
   * `Infinity` for a pod not Running when the wait timed out.
   */
  podMs: number[];
  /** The agent's requests (background and the benchmark's own taken out). */
  requests: RequestCounts;
  usage: ProcessUsage;
  /** From the agent's start to its Node Ready. */
  nodeReadyMs: number;
}

/** Shared by every run: the client, and the control plane's background request rate. */
export interface ScaleContext {
  kube: KubeClient;
  background: RequestCounts;
  /** Longest wait for all pods to run (default 10 min). */
  timeoutMs?: number;
}

/** Creates `pods` with `parallel` requests in flight; returns when each creation started. */
async function createPods(
  namespace: string,
  pods: Pod[],
  parallel: number,
): Promise<Map<string, number>> {
  const startedAt = new Map<string, number>();
  const clients = await Promise.all(
    Array.from({ length: parallel }, () => unlimitedClient()),
  );
  try {
    // One client (one connection) per parallel creator, each creating its share in turn.
    await Promise.all(clients.map(async (client, index) => {
      for (let i = index; i < pods.length; i += parallel) {
        startedAt.set(pods[i].metadata!.name!, performance.now());
        await client.resource<Pod>(PODS, namespace).create(pods[i]);
      }
    }));
  } finally {
    for (const client of clients) client.close();
  }
  return startedAt;
}

/** Waits until the agent's requests stop (a second with no more than background). */
async function settledCounts(kube: KubeClient, background: RequestCounts): Promise<RequestCounts> {
  const idle = [...background.values()].reduce((sum, rate) => sum + rate, 0) + 2;
  let last = await apiRequestCounts(kube);
  for (let attempt = 0; attempt < 60; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = await apiRequestCounts(kube);
    const grown = [...countsBetween(last, now).values()].reduce((sum, value) => sum + value, 0);
    last = now;
    if (grown <= idle) break;
  }
  return last;
}

/** Force-deletes the pods of `namespace`, then the namespace (waiting until it is gone) and the node. */
export async function cleanUp(
  kube: KubeClient,
  namespace: string,
  nodeName: string,
): Promise<void> {
  const pods = await kube.resource<Pod>(PODS, namespace).listAll({});
  await inParallel(pods.items, 32, async (pod) => {
    await kube.resource<Pod>(PODS, namespace).delete(pod.metadata!.name!, {
      gracePeriodSeconds: 0,
    }).catch(() => undefined);
  });
  await kubectlResult(["delete", "namespace", namespace, "--timeout=120s"]);
  await kubectlResult(["delete", "node", nodeName, "--timeout=60s"]);
}

/** Options of {@linkcode runScale}. */
export interface ScaleWorkload {
  /** `bound`: pods bound before the agent starts; `created`: created while it runs. */
  kind: "bound" | "created";
  pods: number;
  /** Parallel creating clients (default 8). */
  clients?: number;
}

/** Runs one workload against one agent and measures it. */
export async function runScale(
  context: ScaleContext,
  agent: AgentUnderTest,
  workload: ScaleWorkload,
): Promise<ScaleResult> {
  const { kube } = context;
  const timeoutMs = context.timeoutMs ?? 600_000;
  const namespace = await freshNamespace(`scale-${workload.kind}-${workload.pods}`);
  const nodeName = `scale-${agent.name}-${Date.now().toString(36)}`;
  const stateDir = await Deno.makeTempDir({ prefix: "vkedge-bench-scale-" });
  const clients = workload.clients ?? 8;
  const pods = Array.from({ length: workload.pods }, (_, i) => boundPod(`p${i}`, nodeName));
  const observer = new Observer(kube, namespace, nodeName);
  let started: StartedAgent | undefined;
  try {
    if (workload.kind === "bound") await createPods(namespace, pods, clients);
    await observer.synced();
    const before = await apiRequestCounts(kube);
    const beforeAt = performance.now();
    const agentStart = performance.now();
    started = await agent.start(nodeName, stateDir);
    await observer.until(
      `node ${nodeName} Ready`,
      () => observer.nodeReadyAt !== undefined,
      120_000,
    );
    let createdAt = new Map<string, number>();
    let start = agentStart;
    if (workload.kind === "created") {
      start = performance.now();
      createdAt = await createPods(namespace, pods, clients);
    }
    // A slow agent's run still counts: what ran within the timeout, and its requests.
    const allRan = await observer.until(
      `${workload.pods} pods Running`,
      () => observer.runningAt.size >= workload.pods,
      timeoutMs,
    ).then(() => true, () => false);
    const running = observer.runningAt.size;
    const lastRunning = allRan ? Math.max(...observer.runningAt.values()) : performance.now();
    const after = await settledCounts(kube, context.background);
    const seconds = (performance.now() - beforeAt) / 1000;
    const usage = processUsage(started.pid);
    const own: RequestCounts = new Map();
    if (workload.kind === "created") own.set("POST pods", workload.pods);
    const podMs = [...observer.runningAt].map(([name, at]) =>
      at - (createdAt.get(name) ?? agentStart)
    ).sort((a, b) => a - b);
    while (podMs.length < workload.pods) podMs.push(Infinity);
    return {
      agent: agent.name,
      workload: workload.kind === "bound"
        ? `${workload.pods} bound before the start`
        : `${workload.pods} created by ${clients} clients`,
      pods: workload.pods,
      allRunningMs: lastRunning - start,
      running,
      podMs,
      requests: phaseRequests(countsBetween(before, after), {
        background: context.background,
        seconds,
        own,
      }),
      usage,
      nodeReadyMs: observer.nodeReadyAt! - agentStart,
    };
  } catch (error) {
    const tail = (await started?.output().catch(() => "") ?? "").split("\n").slice(-20).join("\n");
    throw new Error(`${agent.name}: ${error instanceof Error ? error.message : error}\n${tail}`, {
      cause: error,
    });
  } finally {
    await started?.stop();
    await observer.stop();
    await cleanUp(kube, namespace, nodeName);
    await Deno.remove(stateDir, { recursive: true }).catch(() => undefined);
  }
}
