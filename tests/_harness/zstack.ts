/**
 * The ZStack simulator (tests/zstack_sim) as a separate process for the end-to-end tests of
 * the zstack provider: started on 127.0.0.1 with a free port and short job and boot
 * durations, read through `/__sim/state` (VMs, tags, hosts, data volumes with their tags and
 * attachments), driven through `/__sim/faults`, and a provider configuration file for an
 * agent that uses it (the password in a file of its own).
 *
 * @module
 */

import type { Container, Pod } from "kubernetes-types/core/v1.d.ts";
import type { FaultRequest } from "../zstack_sim/faults.ts";
import type { StatsSnapshot } from "../zstack_sim/stats.ts";
import { freshNamespace, kubectlResult, repoRoot, waitFor } from "./cluster.ts";
import { type AgentProcess, freePort, startAgent, uniqueNodeName } from "./agent.ts";
import { podManifest } from "./pods.ts";

/** The simulator's admin password (it stores `sha512("password")`). */
export const SIM_PASSWORD = "password";

/** A NIC of a VM as `/__sim/state` shows it. */
export interface SimNic {
  uuid: string;
  l3NetworkUuid: string;
  ip?: string;
  deviceId: number;
}

/** A VM as `/__sim/state` shows it (dates are text on the wire). */
export interface SimVm {
  uuid: string;
  name: string;
  description?: string;
  state: string;
  hostUuid?: string;
  lastHostUuid?: string;
  imageUuid: string;
  defaultL3NetworkUuid?: string;
  cpuNum: number;
  memorySize: number;
  vmNics: SimNic[];
}

/** A tag as `/__sim/state` shows it. */
export interface SimTag {
  uuid: string;
  resourceUuid: string;
  resourceType: string;
  tag: string;
  type: "User" | "System";
}

/** A volume as `/__sim/state` shows it. */
export interface SimVolume {
  uuid: string;
  name: string;
  description?: string;
  type: "Root" | "Data";
  /** Bytes. */
  size: number;
  state: string;
  /** `Creating`, `Ready`, `NotInstantiated`, `Deleted` (until expunged), … */
  status: string;
  /** The VM it is attached to, if any. */
  vmInstanceUuid?: string;
  lastVmInstanceUuid?: string;
  diskOfferingUuid?: string;
  primaryStorageUuid?: string;
  deviceId?: number;
}

/** A data volume with the user tags vkedge gave it. */
export interface TaggedVolume extends SimVolume {
  userTags: string[];
  /** The PV name from tag `vkedge.io/pv:`, if any. */
  pv?: string;
  /** `namespace/name` from tag `vkedge.io/claim:`, if any. */
  claim?: string;
  /** The node from tag `vkedge.io/node:<cluster>/<node>`, if any. */
  node?: string;
}

/** A host as `/__sim/state` shows it. */
export interface SimHost {
  uuid: string;
  name: string;
  managementIp: string;
  availableCpuCapacity: number;
  availableMemoryCapacity: number;
}

/** A named resource (image, L3 network, zone, ...) as `/__sim/state` shows it. */
export interface SimNamed {
  uuid: string;
  name: string;
}

/** The part of `GET /__sim/state` the tests read. */
export interface SimState {
  vms: SimVm[];
  volumes: SimVolume[];
  tags: SimTag[];
  hosts: SimHost[];
  images: SimNamed[];
  l3Networks: SimNamed[];
  sessions: number;
}

/** A VM with the user tags vkedge gave it. */
export interface TaggedVm extends SimVm {
  userTags: string[];
  /** The pod UID from tag `vkedge.io/pod-uid:`, if any. */
  podUid?: string;
  /** `namespace/name` from tags `vkedge.io/namespace:` and `vkedge.io/pod:`, if any. */
  podKey?: string;
}

/** Options of {@linkcode startZStackSim}. */
export interface StartZStackSimOptions {
  /** The least time an async job takes (default 20 ms). */
  jobDurationMs?: number;
  /** How long a VM stays Starting (default 300 ms). */
  vmBootMs?: number;
  /** Session timeout in seconds (default 7200). */
  sessionTimeoutSeconds?: number;
  /** How long Stopping, a data volume's Creating, … last (default the job duration). */
  transitionMs?: number;
  /** ZStack's `dataVolume.deleteOnVmDestroy` (default false). */
  dataVolumeDeleteOnVmDestroy?: boolean;
  /** Inventory file (`--seed`) instead of the simulator's default seed.yaml. */
  seed?: string;
}

/** Options of {@linkcode ZStackSimProcess.writeProviderConfig}. */
export interface ProviderConfigOptions {
  /** `clusterName` (default `e2e`). */
  clusterName?: string;
  /** `pollIntervalSeconds` (default 0.5). */
  pollIntervalSeconds?: number;
  /** More fields, merged over the defaults. */
  extra?: Record<string, unknown>;
}

/** A simulator running as a child process. */
export interface ZStackSimProcess extends AsyncDisposable {
  /** Base URL with the context path, `http://127.0.0.1:PORT/zstack`. */
  readonly url: string;
  /** `http://127.0.0.1:PORT`, where `/__sim` lives. */
  readonly origin: string;
  readonly port: number;
  /** Folder of the log, password and provider config files. */
  readonly dir: string;
  /** The process's output so far. */
  output(): Promise<string>;
  /** The whole inventory. */
  state(): Promise<SimState>;
  /** Every VM (Destroyed ones included until expunged). */
  vms(): Promise<SimVm[]>;
  /** VMs carrying the node tag of `nodeName` in `clusterName`, with their user tags. */
  nodeVms(nodeName: string, clusterName?: string): Promise<TaggedVm[]>;
  /**
   * Every data volume (Deleted ones until expunged) with its user tags, PV, claim and node,
   * and the VM it is attached to (`vmInstanceUuid`).
   */
  volumes(): Promise<TaggedVolume[]>;
  /** `POST /__sim/faults`; answers the faults in force. */
  faults(request: FaultRequest): Promise<Record<string, unknown>>;
  /**
   * Takes the management node down for `forMs` (`refuse`: nothing listens, the admin
   * endpoints included, until it is up again; `close`: connections are closed unanswered)
   * and resolves once it is.
   */
  down(forMs: number, mode?: "refuse" | "close"): Promise<void>;
  /** API call counts. */
  stats(): Promise<StatsSnapshot>;
  /**
   * Writes the password file and a provider configuration (JSON) pointing at this
   * simulator; returns the configuration file's path.
   */
  writeProviderConfig(options?: ProviderConfigOptions): Promise<string>;
  /** SIGTERM, then wait; idempotent. */
  stop(): Promise<void>;
}

/** The last `lines` lines of a process output without debug lines, for error messages. */
export function tail(text: string, lines = 30): string {
  return text.split("\n").filter((line) => !line.includes(" [DBG] ")).slice(-lines).join("\n");
}

/**
 * Starts `tests/zstack_sim/main.ts` as a separate process on 127.0.0.1 with a free port
 * and waits for `/__sim/health`. Retries with another port when the chosen one was taken
 * meanwhile.
 */
export async function startZStackSim(
  options: StartZStackSimOptions = {},
): Promise<ZStackSimProcess> {
  const dir = await Deno.makeTempDir({ prefix: "vkedge-zstack-sim-" });
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(dir, freePort(), options);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startOnce(
  dir: string,
  port: number,
  options: StartZStackSimOptions,
): Promise<ZStackSimProcess> {
  const args = [
    "run",
    "--allow-net",
    "--allow-read",
    "--allow-env",
    `${repoRoot}/tests/zstack_sim/main.ts`,
    "--hostname",
    "127.0.0.1",
    "--port",
    String(port),
    "--job-duration",
    String(options.jobDurationMs ?? 20),
    "--vm-boot",
    String(options.vmBootMs ?? 300),
  ];
  if (options.sessionTimeoutSeconds !== undefined) {
    args.push("--session-timeout", String(options.sessionTimeoutSeconds));
  }
  if (options.transitionMs !== undefined) args.push("--transition", String(options.transitionMs));
  if (options.dataVolumeDeleteOnVmDestroy) args.push("--data-volume-delete-on-vm-destroy");
  if (options.seed !== undefined) args.push("--seed", options.seed);
  const logFile = `${dir}/sim-${port}.log`;
  const log = await Deno.open(logFile, { write: true, create: true, append: true });
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const copies = Promise.all(
    [child.stdout, child.stderr].map((stream) =>
      stream.pipeTo(new WritableStream({ write: (chunk) => void log.writeSync(chunk) }))
        .catch(() => undefined)
    ),
  ).finally(() => log.close());
  let exited = false;
  const status = child.status.then(async (s) => {
    exited = true;
    await copies;
    return s;
  });
  const origin = `http://127.0.0.1:${port}`;
  const output = () => Deno.readTextFile(logFile);

  async function stop(): Promise<void> {
    if (!exited) {
      try {
        child.kill("SIGTERM");
      } catch {
        // exited meanwhile
      }
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = await Promise.race([
      status.then(() => true),
      new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), 10_000)),
    ]);
    clearTimeout(timer);
    if (!done) {
      try {
        child.kill("SIGKILL");
      } catch {
        // exited meanwhile
      }
      await status;
    }
  }

  const deadline = Date.now() + 30_000;
  while (true) {
    if (exited) {
      await status;
      throw new Error(`the simulator on port ${port} exited: ${tail(await output())}`);
    }
    try {
      const response = await fetch(`${origin}/__sim/health`);
      if (response.ok && (await response.json() as { ok?: boolean }).ok === true) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the simulator on port ${port} did not answer /__sim/health within 30 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${origin}/__sim${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } }),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`${method} /__sim${path} answered ${response.status}: ${text}`);
    }
    return JSON.parse(text) as T;
  }

  const state = () => admin<SimState>("GET", "/state");

  /** User tags by resource uuid. */
  function userTagsByResource(tags: SimTag[]): Map<string, string[]> {
    const byResource = new Map<string, string[]>();
    for (const tag of tags) {
      if (tag.type !== "User") continue;
      const list = byResource.get(tag.resourceUuid) ?? [];
      list.push(tag.tag);
      byResource.set(tag.resourceUuid, list);
    }
    return byResource;
  }

  const sim: ZStackSimProcess = {
    url: `${origin}/zstack`,
    origin,
    port,
    dir,
    output,
    state,
    vms: async () => (await state()).vms,
    async nodeVms(nodeName, clusterName = "e2e") {
      const { vms, tags } = await state();
      const nodeTag = `vkedge.io/node:${clusterName}/${nodeName}`;
      const userTags = userTagsByResource(tags);
      const value = (list: string[], key: string) =>
        list.find((tag) => tag.startsWith(`vkedge.io/${key}:`))?.slice(`vkedge.io/${key}:`.length);
      return vms.flatMap((vm) => {
        const list = userTags.get(vm.uuid) ?? [];
        if (!list.includes(nodeTag)) return [];
        const namespace = value(list, "namespace");
        const pod = value(list, "pod");
        return [{
          ...vm,
          userTags: list,
          podUid: value(list, "pod-uid"),
          podKey: namespace !== undefined && pod !== undefined ? `${namespace}/${pod}` : undefined,
        }];
      });
    },
    async volumes() {
      const { volumes, tags } = await state();
      const userTags = userTagsByResource(tags);
      const value = (list: string[], key: string) =>
        list.find((tag) => tag.startsWith(`vkedge.io/${key}:`))?.slice(`vkedge.io/${key}:`.length);
      return volumes.filter((volume) => volume.type === "Data").map((volume) => {
        const list = userTags.get(volume.uuid) ?? [];
        return {
          ...volume,
          userTags: list,
          pv: value(list, "pv"),
          claim: value(list, "claim"),
          node: value(list, "node")?.split("/").slice(1).join("/"),
        };
      });
    },
    faults: (request) => admin("POST", "/faults", request),
    async down(forMs, mode = "refuse") {
      if (mode === "close") {
        await admin("POST", "/faults", { down: { forMs, mode } });
        return;
      }
      // The listener closes while it answers, so the answer may not arrive.
      await admin("POST", "/faults", { down: { forMs, mode } }).catch((error) => {
        if (!(error instanceof TypeError)) throw error;
      });
      await waitFor("the simulator refusing connections", async () => {
        try {
          await fetch(`${origin}/__sim/health`, { signal: AbortSignal.timeout(1_000) })
            .then((response) => response.body?.cancel());
          return false;
        } catch {
          return true;
        }
      }, { timeoutMs: 5_000, intervalMs: 50 });
    },
    stats: () => admin("GET", "/stats"),
    async writeProviderConfig(config = {}) {
      const passwordFile = `${dir}/password`;
      await Deno.writeTextFile(passwordFile, `${SIM_PASSWORD}\n`, { mode: 0o600 });
      const file = `${dir}/zstack-${crypto.randomUUID().slice(0, 8)}.json`;
      await Deno.writeTextFile(
        file,
        JSON.stringify({
          endpoint: sim.url,
          auth: { account: { name: "admin", passwordFile } },
          clusterName: config.clusterName ?? "e2e",
          placement: { zone: "zone-1", cluster: "cluster-1" },
          networks: { default: ["l3-default"] },
          pollIntervalSeconds: config.pollIntervalSeconds ?? 0.5,
          capacityRefreshSeconds: 5,
          requestTimeoutSeconds: 5,
          jobTimeoutSeconds: 60,
          ...config.extra,
        }),
      );
      return file;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
  return sim;
}

/** The IP of the VM's default NIC (the one on its default L3 network), if allocated. */
export function defaultNicIp(vm: SimVm): string | undefined {
  const nics = [...vm.vmNics].sort((a, b) => a.deviceId - b.deviceId);
  return (nics.find((nic) => nic.l3NetworkUuid === vm.defaultL3NetworkUuid) ?? nics[0])?.ip;
}

/** A pod of one VM from ZStack image `image` (default `zstack/cirros`). */
export function vmPod(
  name: string,
  nodeName: string,
  options: {
    image?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    container?: Partial<Container>;
  } = {},
): Pod {
  const pod = podManifest(name, nodeName, {
    containers: [{ name: "vm", image: options.image ?? "zstack/cirros", ...options.container }],
  });
  pod.metadata = {
    ...pod.metadata,
    ...(options.annotations ? { annotations: options.annotations } : {}),
    ...(options.labels ? { labels: options.labels } : {}),
  };
  return pod;
}

/** A virtual node backed by its own simulator, with an agent that can be restarted. */
export interface ZStackNode {
  readonly nodeName: string;
  /** A fresh namespace of the test. */
  readonly ns: string;
  readonly sim: ZStackSimProcess;
  /** The provider configuration file every agent of this node uses. */
  readonly configFile: string;
  /** The agent started last. */
  agent?: AgentProcess;
  /** Starts an agent (same node, config and kubelet port each time) and waits until it is ready. */
  start(): Promise<AgentProcess>;
  /** The VMs tagged for this node. */
  vms(): Promise<TaggedVm[]>;
}

/** Options of {@linkcode withZStackNode}. */
export interface ZStackNodeOptions {
  sim?: StartZStackSimOptions;
  config?: ProviderConfigOptions;
  /** More agent flags (`--provider-ping-interval=2s` is always given). */
  extraArgs?: string[];
}

/** Waits until the agent logged that it is ready and its node is Ready. */
export async function waitForAgentReady(agent: AgentProcess, timeoutMs = 60_000): Promise<void> {
  await waitFor(`agent for ${agent.nodeName} ready`, async () => {
    if (!(await agent.output()).includes("is ready (provider")) return false;
    const { stdout } = await kubectlResult([
      "get",
      "node",
      agent.nodeName,
      "-o",
      `jsonpath={.status.conditions[?(@.type=="Ready")].status}`,
    ]);
    return stdout.trim() === "True";
  }, { timeoutMs, intervalMs: 300 });
}

/**
 * Runs `body` with a simulator process, a fresh namespace and a node of its own, then
 * stops the agent (SIGKILL if SIGTERM does not end it within 30 s), deletes the node and
 * the namespace, and stops the simulator. A failure gets the agent's and simulator's log
 * tails appended.
 */
export async function withZStackNode(
  prefix: string,
  body: (node: ZStackNode) => Promise<void>,
  options: ZStackNodeOptions = {},
): Promise<void> {
  const nodeName = uniqueNodeName(prefix);
  const clusterName = options.config?.clusterName ?? "e2e";
  const kubeletPort = freePort();
  const sim = await startZStackSim(options.sim);
  let node: ZStackNode | undefined;
  let ns: string | undefined;
  try {
    const configFile = await sim.writeProviderConfig(options.config);
    ns = await freshNamespace(prefix);
    const self: ZStackNode = {
      nodeName,
      ns,
      sim,
      configFile,
      async start() {
        self.agent = await startAgent({
          nodeName,
          provider: "zstack",
          kubeletPort,
          extraArgs: [
            `--provider-config=${configFile}`,
            "--provider-ping-interval=2s",
            ...(options.extraArgs ?? []),
          ],
        });
        await waitForAgentReady(self.agent);
        return self.agent;
      },
      vms: () => sim.nodeVms(nodeName, clusterName),
    };
    node = self;
    await body(self);
  } catch (error) {
    const agentLog = node?.agent ? tail(await node.agent.output().catch(() => ""), 40) : "";
    const simLog = tail(await sim.output().catch(() => ""), 10);
    throw new Error(
      `${
        error instanceof Error ? error.stack ?? error.message : error
      }\n--- agent log tail:\n${agentLog}\n--- simulator log tail:\n${simLog}`,
      { cause: error },
    );
  } finally {
    if (node?.agent) await stopAgent(node.agent);
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
    if (ns) await kubectlResult(["delete", "namespace", ns, "--wait=false"]);
    await sim.stop();
    await Deno.remove(sim.dir, { recursive: true }).catch(() => undefined);
  }
}

/** SIGTERM; an agent that has not exited after 30 s is killed. */
export async function stopAgent(agent: AgentProcess): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    agent.stop().then(() => true),
    new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), 30_000)),
  ]);
  clearTimeout(timer);
  if (!exited) await agent.kill();
}
