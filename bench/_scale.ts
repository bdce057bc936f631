/**
 * The workloads of the scale benchmarks, run the same way against vkedge and upstream
 * virtual-kubelet (both with their mock provider, each a real process for a node of its
 * own on the same control plane): pods bound to the node before the agent starts, or
 * created at full API speed by parallel clients while it runs. Each run reports the time
 * to all Running, per-pod percentiles, the API requests the agent made by verb and
 * resource (counted by the API server for the agent's own ServiceAccount,
 * `_agent_requests.ts`, so runs can share the control plane at the same time), the agent's
 * peak RSS and CPU seconds, and the time from start to Node Ready.
 *
 * @module
 */

import type { Node, Pod } from "kubernetes-types/core/v1.d.ts";
import { Informer, KubeClient, loadKubeConfig, NODES, PODS } from "../lib/kube/mod.ts";
import { startAgent } from "../tests/_harness/agent.ts";
import { agentV8FlagsArgument } from "../lib/runtime_flags.ts";
import { cluster, freshNamespace, kubectlResult, repoRoot } from "../tests/_harness/cluster.ts";
import { isRunning } from "../tests/_harness/pods.ts";
import { countsBetween, type RequestCounts } from "./_api_requests.ts";
import { type CountedIdentity, countedIdentity } from "./_agent_requests.ts";
import { type ProcessUsage, processUsage } from "./_process_usage.ts";

/** An agent process started for one node. */
export interface StartedAgent {
  /** The process id (whose `/proc` entry is read). */
  pid: number;
  /** Its exit code once it has exited on its own or been stopped, else undefined. */
  exitCode(): number | undefined;
  /** Stops it (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Its output so far. */
  output(): Promise<string>;
}

/** An implementation of a virtual kubelet the benchmarks start. */
export interface AgentUnderTest {
  /** Its name in the tables. */
  name: string;
  /**
   * Starts it for `nodeName`; `stateDir` is a fresh folder of its own, `kubeconfig` the
   * identity it runs as (default: the control plane's admin).
   */
  start(nodeName: string, stateDir: string, kubeconfig?: string): Promise<StartedAgent>;
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
    async start(nodeName, stateDir, kubeconfig) {
      const c = await cluster();
      const agent = await startAgent({
        nodeName,
        cluster: { ...c, kubeconfig: kubeconfig ?? c.kubeconfig },
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
        exitCode: exitCodeOf(agent.child),
        stop: async () => void await agent.stop(),
        output: agent.output,
      };
    },
  };
}

/** A reader of `child`'s exit code (undefined while it runs). */
function exitCodeOf(child: Deno.ChildProcess): () => number | undefined {
  let code: number | undefined;
  child.status.then((status) => code = status.code, () => undefined);
  return () => code;
}

/** The agent process ended during a run; `line` is the first line of its crash, if any. */
export class AgentExited extends Error {
  constructor(readonly agent: string, readonly code: number, readonly line: string | undefined) {
    super(`${agent} exited with code ${code} during the run${line ? `: ${line}` : ""}`);
  }
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
    async start(nodeName, stateDir, kubeconfig) {
      const { kubeconfig: admin, dir } = await cluster();
      const config = `${stateDir}/mock.json`;
      await Deno.writeTextFile(config, JSON.stringify({ [nodeName]: CAPACITY }));
      const logFile = `${stateDir}/virtual-kubelet.log`;
      const log = await Deno.open(logFile, { write: true, create: true, append: true });
      const child = new Deno.Command(binary, {
        args: [
          "--provider=mock",
          `--provider-config=${config}`,
          `--nodename=${nodeName}`,
          `--kubeconfig=${kubeconfig ?? admin}`,
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
        exitCode: exitCodeOf(child),
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

  /**
   * Resolves once `done()` holds; rejects after `timeoutMs`, or at once with what
   * `failed()` throws (checked at least every second).
   */
  async until(
    what: string,
    done: () => boolean,
    timeoutMs: number,
    failed: () => void = () => {},
  ): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!done()) {
      failed();
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
  /** The agent's requests, as the API server counted them for its identity. */
  requests: RequestCounts;
  usage: ProcessUsage;
  /** From the agent's start to its Node Ready. */
  nodeReadyMs: number;
}

/** Shared by every run: the benchmark's own client. */
export interface ScaleContext {
  kube: KubeClient;
  /**
   * Runs a burst of the run's work (its set-up and start: pod creations, the agent's start
   * to Node Ready; its clean-up) while no other run's burst goes on, for runs that share
   * the control plane at the same time (default: at once).
   */
  alone?: <T>(work: () => Promise<T>) => Promise<T>;
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

/** Waits until the agent's requests stop (a second with no more than its heartbeats, 2). */
async function settledCounts(identity: CountedIdentity): Promise<RequestCounts> {
  let last = await identity.counts();
  for (let attempt = 0; attempt < 60; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = await identity.counts();
    const grown = [...countsBetween(last, now).values()].reduce((sum, value) => sum + value, 0);
    last = now;
    if (grown <= 2) break;
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
  const alone = context.alone ?? ((work) => work());
  const timeoutMs = context.timeoutMs ?? 600_000;
  // Unique also among runs started at the same time.
  const nodeName = `scale-${agent.name}-${workload.kind}${workload.pods}-${
    Date.now().toString(36)
  }`;
  const clients = workload.clients ?? 8;
  const pods = Array.from({ length: workload.pods }, (_, i) => boundPod(`p${i}`, nodeName));
  const stateDir = await Deno.makeTempDir({ prefix: "vkedge-bench-scale-" });
  let namespace: string | undefined;
  let identity: CountedIdentity | undefined;
  let observer: Observer | undefined;
  let started: StartedAgent | undefined;
  const exited = () => {
    const code = started?.exitCode();
    if (code !== undefined) throw new AgentExited(agent.name, code, undefined);
  };
  try {
    const { before, agentStart, start, createdAt } = await alone(async () => {
      namespace = await freshNamespace(`scale-${workload.kind}-${workload.pods}`);
      identity = await countedIdentity(kube, nodeName, stateDir);
      observer = new Observer(kube, namespace, nodeName);
      if (workload.kind === "bound") await createPods(namespace, pods, clients);
      await observer.synced();
      const before = await identity.counts();
      const agentStart = performance.now();
      started = await agent.start(nodeName, stateDir, identity.kubeconfig);
      await observer.until(
        `node ${nodeName} Ready`,
        () => observer!.nodeReadyAt !== undefined,
        120_000,
        exited,
      );
      if (workload.kind === "bound") {
        return { before, agentStart, start: agentStart, createdAt: new Map<string, number>() };
      }
      const start = performance.now();
      return { before, agentStart, start, createdAt: await createPods(namespace, pods, clients) };
    });
    if (observer === undefined || identity === undefined || started === undefined) {
      throw new Error("the run's start ended without an agent");
    }
    const seen = observer;
    // A slow agent's run still counts: what ran within the timeout, and its requests.
    const allRan = await seen.until(
      `${workload.pods} pods Running`,
      () => seen.runningAt.size >= workload.pods,
      timeoutMs,
      exited,
    ).then(() => true, (error) => {
      if (error instanceof AgentExited) throw error;
      return false;
    });
    const running = seen.runningAt.size;
    const lastRunning = allRan ? Math.max(...seen.runningAt.values()) : performance.now();
    const after = await settledCounts(identity);
    const usage = processUsage(started.pid);
    const podMs = [...seen.runningAt].map(([name, at]) => at - (createdAt.get(name) ?? agentStart))
      .sort((a, b) => a - b);
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
      requests: countsBetween(before, after),
      usage,
      nodeReadyMs: seen.nodeReadyAt! - agentStart,
    };
  } catch (error) {
    if (error instanceof AgentExited) {
      const output = await started?.output().catch(() => "") ?? "";
      const crash = output.split("\n").find((line) => /^(fatal error|panic):/.test(line));
      throw new AgentExited(agent.name, error.code, crash);
    }
    const tail = (await started?.output().catch(() => "") ?? "").split("\n").slice(-20).join("\n");
    throw new Error(`${agent.name}: ${error instanceof Error ? error.message : error}\n${tail}`, {
      cause: error,
    });
  } finally {
    await started?.stop();
    await observer?.stop();
    await alone(async () => {
      if (namespace !== undefined) await cleanUp(kube, namespace, nodeName);
      await identity?.remove();
    });
    await Deno.remove(stateDir, { recursive: true }).catch(() => undefined);
  }
}
