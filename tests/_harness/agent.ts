/**
 * Runs the agent as a real process against the test control plane: the
 * bundle `make bundle` wrote (dist/vkedge.js), or mod.ts when there is none.
 *
 * @module
 */

import https from "node:https";
import { Buffer } from "node:buffer";
import { type Cluster, cluster, kubectlJson, repoRoot, waitFor } from "./cluster.ts";

/** A running agent process. */
export interface AgentProcess {
  nodeName: string;
  /** The control plane the agent joined. */
  cluster: Cluster;
  kubeletPort: number;
  /** The log file of the process (stderr and stdout). */
  logFile: string;
  child: Deno.ChildProcess;
  /** SIGTERM, then wait for the exit code. */
  stop(): Promise<number>;
  /** SIGKILL, then wait. */
  kill(): Promise<void>;
  /** The process's output so far. */
  output(): Promise<string>;
}

/** Options of {@linkcode startAgent}. */
export interface StartAgentOptions {
  nodeName: string;
  provider?: string;
  /** Provider config written to a temporary file and passed with --provider-config. */
  providerConfig?: unknown;
  /** Address the kubelet API binds and the node reports (default 127.0.0.1). */
  address?: string;
  kubeletPort?: number;
  extraArgs?: string[];
  /** Flags for `deno run` itself, before the entry point (such as `--v8-flags=…`). */
  denoFlags?: string[];
  env?: Record<string, string>;
  /** The control plane to join (default: the shared one of the test run). */
  cluster?: Cluster;
}

/**
 * Returns a free TCP port on `hostname` for a process to bind a moment later. It is picked
 * below the kernel's ephemeral range (32768–60999 by default), from which every outgoing
 * connection of the parallel tests takes its local port too: a port the kernel hands out
 * can be taken by such a connection before the agent binds it (EADDRINUSE).
 */
export function freePort(hostname = "127.0.0.1"): number {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    try {
      Deno.listen({ hostname, port }).close();
      return port;
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    }
  }
  const listener = Deno.listen({ hostname, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * The entry point the tests run: `$VKEDGE_AGENT` (tests/run.ts sets it to the
 * fresh bundle), else mod.ts.
 */
export function agentEntry(): string {
  return Deno.env.get("VKEDGE_AGENT") ?? `${repoRoot}/mod.ts`;
}

/** Starts the agent with `--provider` (default mock) for a node of its own. */
export async function startAgent(options: StartAgentOptions): Promise<AgentProcess> {
  const c = options.cluster ?? await cluster();
  const dir = await Deno.makeTempDir({ prefix: `vkedge-agent-${options.nodeName}-` });
  const address = options.address ?? "127.0.0.1";
  const kubeletPort = options.kubeletPort ?? freePort(address);
  const args = [
    "run",
    "-A",
    ...(options.denoFlags ?? []),
    agentEntry(),
    `--provider=${options.provider ?? "mock"}`,
    `--nodename=${options.nodeName}`,
    `--kubeconfig=${c.kubeconfig}`,
    `--address=${address}`,
    `--node-ip=${address}`,
    `--kubelet-port=${kubeletPort}`,
    "--log-level=debug",
    // One lock folder per test control plane: agents of other runs on this machine never
    // meet, and a restarted agent finds its predecessor's lock (extraArgs may override).
    `--lock-dir=${c.dir}/agent-locks`,
  ];
  if (options.providerConfig !== undefined) {
    const file = `${dir}/provider.json`;
    await Deno.writeTextFile(file, JSON.stringify(options.providerConfig));
    args.push(`--provider-config=${file}`);
  }
  args.push(...(options.extraArgs ?? []));
  const logFile = `${dir}/agent.log`;
  const log = await Deno.open(logFile, { write: true, create: true, append: true });
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const copies = Promise.all([child.stdout, child.stderr].map((stream) =>
    stream.pipeTo(
      new WritableStream({ write: (chunk) => void log.writeSync(chunk) }),
    ).catch(() => undefined)
  )).finally(() => log.close());
  let exited = false;
  const status = child.status.then(async (s) => {
    exited = true;
    await copies;
    return s;
  });
  return {
    nodeName: options.nodeName,
    cluster: c,
    kubeletPort,
    logFile,
    child,
    async stop() {
      if (!exited) child.kill("SIGTERM");
      return (await status).code;
    },
    async kill() {
      if (!exited) child.kill("SIGKILL");
      await status;
    },
    output: () => Deno.readTextFile(logFile),
  };
}

/** Node condition of the given type, or undefined; `kubeconfig` picks another control plane. */
export async function nodeCondition(
  nodeName: string,
  type = "Ready",
  options: { kubeconfig?: string } = {},
): Promise<{ status: string; reason?: string; message?: string } | undefined> {
  const node = await kubectlJson<{ status?: { conditions?: { type: string; status: string }[] } }>(
    ["get", "node", nodeName],
    options,
  );
  return node.status?.conditions?.find((c) => c.type === type);
}

/** Waits until the node is Ready=True, or throws with the agent's log. */
export async function waitForNodeReady(agent: AgentProcess, timeoutMs = 60_000): Promise<void> {
  try {
    await waitFor(`node ${agent.nodeName} Ready`, async () => {
      const options = { kubeconfig: agent.cluster.kubeconfig };
      return (await nodeCondition(agent.nodeName, "Ready", options))?.status === "True";
    }, { timeoutMs, intervalMs: 500 });
  } catch (error) {
    const tail = (await agent.output()).split("\n").slice(-30).join("\n");
    throw new Error(`${error instanceof Error ? error.message : error}\nagent log tail:\n${tail}`);
  }
}

/** A unique node name for one test. */
export function uniqueNodeName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1296).toString(36)}`;
}

/** GETs a kubelet API path of the agent directly, as its cluster's admin (client certificate). */
export async function kubeletGet(
  agent: AgentProcess,
  path: string,
  options: { address?: string; anonymous?: boolean; bearerToken?: string } = {},
): Promise<Response> {
  const c = agent.cluster;
  const credentials = options.anonymous || options.bearerToken ? {} : {
    cert: await Deno.readTextFile(`${c.dir}/pki/admin.crt`),
    key: await Deno.readTextFile(`${c.dir}/pki/admin.key`),
  };
  return await new Promise<Response>((resolve, reject) => {
    const request = https.request({
      host: options.address ?? "127.0.0.1",
      port: agent.kubeletPort,
      path,
      method: "GET",
      headers: options.bearerToken ? { Authorization: `Bearer ${options.bearerToken}` } : {},
      ...credentials,
      // The agent's serving certificate is self-signed; the API server does not check it either.
      rejectUnauthorized: false,
    }, (response) => {
      const chunks: Uint8Array[] = [];
      response.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      response.on("end", () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (typeof value === "string") headers.set(name, value);
        }
        resolve(new Response(Buffer.concat(chunks), { status: response.statusCode, headers }));
      });
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end();
  });
}

/** Names (`namespace/name`) of the pods the provider runs, from `/runningpods/`. */
export async function runningPods(agent: AgentProcess): Promise<string[]> {
  const response = await kubeletGet(agent, "/runningpods/");
  if (!response.ok) {
    throw new Error(`/runningpods/ answered ${response.status}: ${await response.text()}`);
  }
  const list = await response.json() as {
    items: { metadata: { namespace: string; name: string } }[];
  };
  return list.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
}
