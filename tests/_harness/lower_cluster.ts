/**
 * The lower cluster of the kubernetes provider's tests: a second control plane from the
 * same binaries (tests/control_plane) on its own ports and folder, whose nodes and pod
 * lifecycles kwok simulates (tests/kwok builds it; its fast stages make pods Running, the
 * `pod-container-running-failed` chaos stage fails them on a label, its server answers
 * `pods/log` and `pods/exec` for its nodes through ClusterLogs, Logs and ClusterExec).
 *
 * `lowerCluster()` is the one every test file shares (started once, by whichever test
 * comes first, in `<upper cluster folder>-lower`; `tests/run.ts` stops it at the end);
 * `startLowerCluster(dir)` makes one of a test's own (the outage test stops its API
 * server).
 *
 * @module
 */

import { cluster, type CommandResult, repoRoot, waitFor } from "./cluster.ts";

/** A running lower cluster. */
export interface LowerCluster {
  /** Its folder (control plane state, kwok config and log, pod log files). */
  dir: string;
  /** Admin kubeconfig (client certificate). */
  kubeconfig: string;
  /** Admin kubeconfig with a bearer token. */
  tokenKubeconfig: string;
  /** API server URL. */
  server: string;
  /** Names of the kwok nodes. */
  nodes: string[];
  /** The log file every pod without a Logs object of its own shows. */
  defaultLogFile: string;
}

interface LowerState {
  kubeconfig: string;
  tokenKubeconfig: string;
  server: string;
  nodes: string[];
  kwokPid: number;
  defaultLogFile: string;
}

/** Allocatable of each kwok node. */
export const LOWER_NODE_ALLOCATABLE = { cpu: "16", memory: "64Gi", pods: "110" };

/** The toleration of the kwok nodes' taint, for the provider's `tolerations`. */
export const KWOK_TOLERATION = {
  key: "kwok.x-k8s.io/node",
  operator: "Exists" as const,
  effect: "NoSchedule" as const,
};

/**
 * A stage of our own: a Running pod whose Ready condition someone else turned False (the
 * node-lifecycle controller does so while a node's kubelet is unheard of, as during an API
 * server outage) is Ready again, as a real kubelet reports it once it is heard again.
 */
const POD_READY_AGAIN_STAGE = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-ready-again
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values:
      - 'Running'
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'In'
      values:
      - 'False'
    - key: '.status.containerStatuses.[].state.running.startedAt'
      operator: 'Exists'
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: ContainersReady
`;

/** Lines every pod's log starts with (the default log file). */
export const DEFAULT_LOG_LINES = [
  "lower log line one",
  "lower log line two",
  "lower log line three",
];

async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

async function mustRun(cmd: string, args: string[], env: Record<string, string> = {}) {
  const result = await run(cmd, args, env);
  if (result.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${result.code}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}

/** Builds (or finds cached) the control plane binaries and kwok; returns both folders. */
async function binaries(): Promise<{ controlPlane: string; kwok: string }> {
  const controlPlane = (await mustRun("bash", [`${repoRoot}/tests/control_plane/build.sh`])).trim();
  const kwok = (await mustRun("bash", [`${repoRoot}/tests/kwok/build.sh`])).trim();
  return { controlPlane, kwok };
}

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

async function readState(dir: string): Promise<LowerState | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(`${dir}/lower.json`)) as LowerState;
  } catch {
    return undefined;
  }
}

function asCluster(dir: string, state: LowerState): LowerCluster {
  return {
    dir,
    kubeconfig: state.kubeconfig,
    tokenKubeconfig: state.tokenKubeconfig,
    server: state.server,
    nodes: state.nodes,
    defaultLogFile: state.defaultLogFile,
  };
}

/** kubectl against a lower cluster, without throwing. */
export async function lowerKubectlResult(
  lower: Pick<LowerCluster, "kubeconfig">,
  args: string[],
  stdin?: string,
): Promise<CommandResult> {
  const child = new Deno.Command("kubectl", {
    args,
    env: { KUBECONFIG: lower.kubeconfig },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** kubectl against a lower cluster; throws with stderr on failure. */
export async function lowerKubectl(
  lower: Pick<LowerCluster, "kubeconfig">,
  args: string[],
  stdin?: string,
): Promise<string> {
  const result = await lowerKubectlResult(lower, args, stdin);
  if (result.code !== 0) {
    throw new Error(
      `kubectl (lower) ${args.join(" ")} exited ${result.code}: ${result.stderr.trim()}`,
    );
  }
  return result.stdout;
}

/** kubectl against a lower cluster, parsing its JSON output. */
export async function lowerKubectlJson<T>(lower: LowerCluster, args: string[]): Promise<T> {
  return JSON.parse(await lowerKubectl(lower, [...args, "-o", "json"])) as T;
}

/** A line of a CRI log file, as kwok reads them. */
export function criLogLine(text: string, at = new Date()): string {
  return `${at.toISOString().replace("Z", "000000Z")} stdout F ${text}\n`;
}

function kwokNode(name: string): unknown {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
      labels: {
        type: "kwok",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
      },
    },
    spec: { taints: [{ key: "kwok.x-k8s.io/node", value: "fake", effect: "NoSchedule" }] },
    status: { allocatable: LOWER_NODE_ALLOCATABLE, capacity: LOWER_NODE_ALLOCATABLE },
  };
}

/** Starts kwok for the lower cluster in `dir`, detached; returns its pid. */
async function startKwok(dir: string, kwokDir: string, kubeconfig: string): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const args = [
    `--kubeconfig=${kubeconfig}`,
    `--config=${dir}/kwok.yaml`,
    "--manage-all-nodes=false",
    "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
    "--cidr=10.244.0.0/16",
    "--node-ip=127.0.0.1",
    `--node-port=${port}`,
    "--node-lease-duration-seconds=40",
    "--enable-crds=Logs,ClusterLogs,Exec,ClusterExec",
  ].map((arg) => `'${arg}'`).join(" ");
  const script =
    `setsid '${kwokDir}/kwok' ${args} >>'${dir}/logs/kwok.log' 2>&1 < /dev/null & echo $!`;
  return Number((await mustRun("bash", ["-c", script])).trim());
}

/** Starts a lower cluster in `dir` (or reuses the one running there) with `nodes` kwok nodes. */
export async function startLowerCluster(dir: string, nodes = 2): Promise<LowerCluster> {
  const known = await readState(dir);
  if (known !== undefined && alive(known.kwokPid)) {
    const ready = await run("kubectl", ["get", "--raw", "/readyz"], {
      KUBECONFIG: known.kubeconfig,
    });
    if (ready.code === 0) return asCluster(dir, known);
  }
  await stopLowerCluster(dir);
  const bins = await binaries();
  await Deno.mkdir(dir, { recursive: true });
  const up = await run(`${bins.controlPlane}/controlplane`, [
    "up",
    "--dir",
    dir,
    "--bin",
    bins.controlPlane,
  ]);
  if (up.code !== 0) {
    throw new Error(`lower control plane in ${dir} did not start: ${up.stderr.trim()}`);
  }
  const plane = JSON.parse(await Deno.readTextFile(`${dir}/cluster.json`)) as {
    kubeconfig: string;
    tokenKubeconfig: string;
    server: string;
  };
  const lower = { kubeconfig: plane.kubeconfig };
  const stages: string[] = [];
  for (const part of ["node/fast", "pod/fast", "pod/chaos"]) {
    for await (const entry of Deno.readDir(`${bins.kwok}/stages/${part}`)) {
      if (part === "pod/chaos" && !entry.name.startsWith("pod-container-running-failed")) continue;
      stages.push(await Deno.readTextFile(`${bins.kwok}/stages/${part}/${entry.name}`));
    }
  }
  stages.push(POD_READY_AGAIN_STAGE);
  await Deno.writeTextFile(`${dir}/kwok.yaml`, stages.map((s) => `---\n${s}`).join("\n"));
  await lowerKubectl(lower, ["apply", "-f", `${bins.kwok}/crds/`]);
  const names = Array.from({ length: nodes }, (_, i) => `lower-node-${i + 1}`);
  for (const name of names) {
    await lowerKubectl(lower, ["apply", "-f", "-"], JSON.stringify(kwokNode(name)));
  }
  const defaultLogFile = `${dir}/pod-logs/default.log`;
  await Deno.mkdir(`${dir}/pod-logs`, { recursive: true });
  const start = new Date(Date.now() - 60_000);
  await Deno.writeTextFile(
    defaultLogFile,
    DEFAULT_LOG_LINES.map((line, i) => criLogLine(line, new Date(start.getTime() + i * 1000)))
      .join(""),
  );
  await lowerKubectl(
    lower,
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [
        {
          apiVersion: "kwok.x-k8s.io/v1alpha1",
          kind: "ClusterLogs",
          metadata: { name: "default" },
          spec: { logs: [{ logsFile: defaultLogFile, follow: true }] },
        },
        {
          apiVersion: "kwok.x-k8s.io/v1alpha1",
          kind: "ClusterExec",
          metadata: { name: "default" },
          spec: { execs: [{ local: { workDir: dir } }] },
        },
      ],
    }),
  );
  const kwokPid = await startKwok(dir, bins.kwok, plane.kubeconfig);
  const state: LowerState = {
    kubeconfig: plane.kubeconfig,
    tokenKubeconfig: plane.tokenKubeconfig,
    server: plane.server,
    nodes: names,
    kwokPid,
    defaultLogFile,
  };
  await waitFor("the kwok nodes Ready", async () => {
    const result = await lowerKubectlResult(lower, [
      "get",
      "nodes",
      "-o",
      "jsonpath={.items[*].status.conditions[?(@.type=='Ready')].status}",
    ]);
    return result.code === 0 && result.stdout.split(" ").filter((s) => s === "True").length ===
        names.length;
  }, { timeoutMs: 60_000, intervalMs: 500 });
  await Deno.writeTextFile(`${dir}/lower.json`, JSON.stringify(state, null, 2));
  return asCluster(dir, state);
}

/** Stops kwok and the control plane of the lower cluster in `dir` (nothing running is fine). */
export async function stopLowerCluster(dir: string): Promise<void> {
  const state = await readState(dir);
  if (state !== undefined && alive(state.kwokPid)) {
    try {
      Deno.kill(state.kwokPid, "SIGTERM");
    } catch {
      // gone meanwhile
    }
    for (let i = 0; i < 50 && alive(state.kwokPid); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (alive(state.kwokPid)) Deno.kill(state.kwokPid, "SIGKILL");
  }
  await Deno.remove(`${dir}/lower.json`).catch(() => undefined);
  try {
    await Deno.stat(`${dir}/cluster.json`);
  } catch {
    return;
  }
  const bin = `${repoRoot}/.local/control-plane-bin/controlplane`;
  await run(bin, ["down", "--dir", dir]);
}

/** The folder of the lower cluster shared by the test files of one run. */
export async function sharedLowerClusterDir(): Promise<string> {
  return `${(await cluster()).dir}-lower`;
}

let shared: Promise<LowerCluster> | undefined;

/** The lower cluster every test file shares, started by the first one that asks. */
export function lowerCluster(): Promise<LowerCluster> {
  shared ??= (async () => {
    const dir = await sharedLowerClusterDir();
    const lock = `${dir}.lock`;
    for (let attempt = 0;; attempt++) {
      try {
        const file = await Deno.open(lock, { createNew: true, write: true });
        file.close();
        break;
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
        const stat = await Deno.stat(lock).catch(() => undefined);
        if (stat?.mtime && Date.now() - stat.mtime.getTime() > 240_000) {
          await Deno.remove(lock).catch(() => undefined);
        } else if (attempt > 2400) {
          throw new Error(`${lock} is held for too long; remove it if no test run is starting`);
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    try {
      return await startLowerCluster(dir);
    } finally {
      await Deno.remove(lock).catch(() => undefined);
    }
  })();
  return shared;
}

/**
 * Stops the lower cluster's kube-apiserver alone (`controlplane apiserver-stop`: its
 * clients see refused connections; etcd, the controllers and kwok keep running) and
 * returns a function that starts it again with the same flags, port and certificates.
 */
export async function stopLowerApiServer(lower: LowerCluster): Promise<() => Promise<void>> {
  const { controlPlane } = await binaries();
  await mustRun(`${controlPlane}/controlplane`, ["apiserver-stop", "--dir", lower.dir]);
  return async () => {
    await mustRun(`${controlPlane}/controlplane`, ["apiserver-start", "--dir", lower.dir]);
  };
}
