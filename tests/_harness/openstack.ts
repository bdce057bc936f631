/**
 * The OpenStack test stack (tests/openstack) for the tests of the openstack provider: one
 * stack per test run, started by the first test that needs it in a folder of its own
 * (`.local/openstack-<pid of the test run>`, or `VKEDGE_TEST_OPENSTACK_DIR`), shared by
 * every OpenStack test of the run (they run in one process, and a lock file makes one of
 * them the starter), and stopped by its supervisor once the test run's process is gone.
 * Debian's OpenStack packages are installed first when they are missing, as
 * `make setup` does.
 *
 * @module
 */

import type { Container, Pod } from "kubernetes-types/core/v1.d.ts";
import { freshNamespace, kubectlResult, repoRoot } from "./cluster.ts";
import { type AgentProcess, freePort, startAgent, uniqueNodeName } from "./agent.ts";
import { podManifest } from "./pods.ts";
import { stopAgent, tail, waitForAgentReady } from "./zstack.ts";
import type { StackInfo } from "../openstack/stack.ts";
import {
  type AdminSession,
  authenticate,
  call,
  listServers,
  type NovaServer,
} from "../openstack/admin_api.ts";

export type { StackInfo };

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

async function readInfo(dir: string): Promise<StackInfo | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(`${dir}/stack.json`)) as StackInfo;
  } catch {
    return undefined;
  }
}

async function run(args: string[]): Promise<{ code: number; output: string }> {
  const output = await new Deno.Command(args[0], {
    args: args.slice(1),
    cwd: repoRoot,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    output: decoder.decode(output.stdout) + decoder.decode(output.stderr),
  };
}

/** Installs Debian's OpenStack packages when some are missing (as `make setup` does). */
async function ensurePackages(): Promise<void> {
  const check = await run([Deno.execPath(), "run", "-A", "tests/openstack/main.ts", "check"]);
  if (check.code === 0) return;
  console.error(`installing the OpenStack packages for the tests: ${check.output.trim()}`);
  const install = await run(["bash", "tests/openstack/install.sh"]);
  if (install.code !== 0) {
    throw new Error(`tests/openstack/install.sh failed:\n${install.output.slice(-2000)}`);
  }
}

async function tailOf(file: string, lines = 20): Promise<string> {
  try {
    return (await Deno.readTextFile(file)).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * The stack of this test run, started when no test started it yet; waits until it is
 * ready (a server boots), at most 15 minutes (the first run on a machine builds the
 * template too).
 */
export async function openstackStack(): Promise<StackInfo> {
  const dir = Deno.env.get("VKEDGE_TEST_OPENSTACK_DIR") ??
    `${repoRoot}/.local/openstack-${Deno.pid}`;
  const ready = await readInfo(dir);
  if (ready?.state === "ready" && alive(ready.pid)) return ready;
  await Deno.mkdir(`${repoRoot}/.local`, { recursive: true });
  const lock = await Deno.open(`${dir}.lock`, { create: true, write: true });
  try {
    await lock.lock(true);
    let info = await readInfo(dir);
    if (!(info !== undefined && alive(info.pid) && info.state !== "failed")) {
      await ensurePackages();
      await Deno.remove(dir, { recursive: true }).catch(() => undefined);
      await Deno.mkdir(dir, { recursive: true });
      const supervisor = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          `${repoRoot}/tests/openstack/main.ts`,
          "up",
          "--dir",
          dir,
          "--until-pid",
          String(Deno.pid),
          "--keep",
        ],
        stdin: "null",
        stdout: "null",
        stderr: "null",
        detached: true,
      }).spawn();
      supervisor.unref();
      console.error(`OpenStack test stack starting in ${dir} (supervisor pid ${supervisor.pid})`);
    }
    const deadline = Date.now() + 15 * 60_000;
    while (true) {
      info = await readInfo(dir);
      if (info?.state === "ready") return info;
      if (info?.state === "failed" || (info !== undefined && !alive(info.pid))) {
        throw new Error(
          `the OpenStack test stack in ${dir} failed: ${
            info.error ?? "its supervisor exited"
          }\n${await tailOf(
            `${dir}/logs/nova-compute-compute-1.log`,
          )}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(`the OpenStack test stack in ${dir} is not ready after 15 min`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    await lock.unlock().catch(() => undefined);
    lock.close();
  }
}

/** An admin session of the stack (token and catalog), for looking at what the provider did. */
export async function stackAdmin(stack: StackInfo): Promise<AdminSession> {
  return await authenticate(stack.authUrl, stack.admin);
}

/** The servers of the stack whose metadata names `nodeName` (every project, admin view). */
export async function nodeServers(
  admin: AdminSession,
  nodeName: string,
): Promise<NovaServer[]> {
  return (await listServers(admin)).filter((server) =>
    server.metadata["vkedge.io:node"] === nodeName
  );
}

/** Stops (`stop`) or starts (`start`) one daemon of the stack through its supervisor. */
export async function controlService(
  stack: StackInfo,
  service: string,
  action: "stop" | "start",
): Promise<void> {
  const response = await fetch(`${stack.controlUrl}/services/${service}/${action}`, {
    method: "POST",
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${action} ${service}: ${response.status} ${text}`);
}

/** A provider configuration for the stack: the admin (or `member`) user, password in a file. */
export async function providerConfigFor(
  stack: StackInfo,
  options: {
    dir: string;
    clusterName?: string;
    member?: boolean;
    extra?: Record<string, unknown>;
  },
): Promise<Record<string, unknown>> {
  const user = options.member ? stack.member : stack.admin;
  const passwordFile = `${options.dir}/openstack-password`;
  await Deno.writeTextFile(passwordFile, `${user.password}\n`, { mode: 0o600 });
  return {
    auth: {
      url: stack.authUrl,
      password: { username: user.user, passwordFile, project: user.project },
    },
    region: stack.region,
    clusterName: options.clusterName ?? "e2e",
    networks: { default: [stack.networks[0]] },
    pollIntervalSeconds: 0.5,
    capacityRefreshSeconds: 5,
    // A boot's POST /servers takes Nova seconds; on a loaded machine more than 30.
    requestTimeoutSeconds: 90,
    ...options.extra,
  };
}

/** A pod of one server from image `image` (default `openstack/tiny`, 1 CPU, 256 MiB). */
export function serverPod(
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
    containers: [{
      name: "vm",
      image: options.image ?? "openstack/tiny",
      resources: { limits: { cpu: "1", memory: "256Mi" } },
      ...options.container,
    }],
  });
  pod.metadata = {
    ...pod.metadata,
    ...(options.annotations ? { annotations: options.annotations } : {}),
    ...(options.labels ? { labels: options.labels } : {}),
  };
  return pod;
}

/** A virtual node on the shared stack, with an agent that can be restarted. */
export interface OpenStackNode {
  readonly nodeName: string;
  /** A fresh namespace of the test. */
  readonly ns: string;
  readonly stack: StackInfo;
  /** The provider configuration file every agent of this node uses. */
  readonly configFile: string;
  /** The agent started last. */
  agent?: AgentProcess;
  /** Starts an agent (same node, config and kubelet port each time) and waits until it is ready. */
  start(options?: { waitReady?: boolean }): Promise<AgentProcess>;
  /** The servers whose metadata names this node (admin view). */
  servers(): Promise<NovaServer[]>;
  /** An admin session of the stack. */
  admin(): Promise<AdminSession>;
}

/** Options of {@linkcode withOpenStackNode}. */
export interface OpenStackNodeOptions {
  /** `clusterName` (default `e2e`). */
  clusterName?: string;
  /** Provider config fields merged over the defaults. */
  extra?: Record<string, unknown>;
  /** The non-admin user (project `vkedge`). */
  member?: boolean;
  /** More agent flags (`--provider-ping-interval=2s` is always given). */
  extraArgs?: string[];
  /**
   * Servers of this node are "slow" on the stack: their power, snapshot and migration
   * actions take seconds (the namespace, and so each server's name, starts with `slow-`).
   */
  slow?: boolean;
}

/**
 * Runs `body` with the shared stack, a fresh namespace and a node of its own, then stops
 * the agent, deletes the node, the namespace and every server of the node. A failure gets
 * the agent's log tail appended.
 */
export async function withOpenStackNode(
  prefix: string,
  body: (node: OpenStackNode) => Promise<void>,
  options: OpenStackNodeOptions = {},
): Promise<void> {
  const stack = await openstackStack();
  const nodeName = uniqueNodeName(prefix);
  const kubeletPort = freePort();
  const dir = await Deno.makeTempDir({ prefix: `vkedge-os-${prefix}-` });
  let node: OpenStackNode | undefined;
  let ns: string | undefined;
  try {
    const config = await providerConfigFor(stack, {
      dir,
      clusterName: options.clusterName,
      member: options.member,
      extra: options.extra,
    });
    const configFile = `${dir}/openstack-provider.json`;
    await Deno.writeTextFile(configFile, JSON.stringify(config));
    ns = await freshNamespace(options.slow ? `slow-${prefix}` : prefix);
    let admin: AdminSession | undefined;
    const self: OpenStackNode = {
      nodeName,
      ns,
      stack,
      configFile,
      async start(startOptions = {}) {
        self.agent = await startAgent({
          nodeName,
          provider: "openstack",
          kubeletPort,
          extraArgs: [
            `--provider-config=${configFile}`,
            "--provider-ping-interval=2s",
            ...(options.extraArgs ?? []),
          ],
        });
        if (startOptions.waitReady !== false) await waitForAgentReady(self.agent, 120_000);
        return self.agent;
      },
      async admin() {
        admin ??= await stackAdmin(stack);
        return admin;
      },
      async servers() {
        return await nodeServers(await self.admin(), nodeName);
      },
    };
    node = self;
    await body(self);
  } catch (error) {
    const agentLog = node?.agent ? tail(await node.agent.output().catch(() => ""), 40) : "";
    throw new Error(
      `${
        error instanceof Error ? error.stack ?? error.message : error
      }\n--- agent log tail:\n${agentLog}`,
      { cause: error },
    );
  } finally {
    if (node?.agent) {
      if (ns) await kubectlResult(["delete", "vm", "--all", "-n", ns, "--timeout=60s"]);
      await stopAgent(node.agent);
    }
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
    if (ns) await kubectlResult(["delete", "namespace", ns, "--wait=false"]);
    await removeNodeServers(stack, nodeName).catch((error) =>
      console.error(`cleaning up the servers of ${nodeName}: ${error}`)
    );
    await Deno.remove(dir, { recursive: true }).catch(() => undefined);
  }
}

/** Deletes every server whose metadata names `nodeName`, and their snapshots; waits until gone. */
export async function removeNodeServers(stack: StackInfo, nodeName: string): Promise<void> {
  const admin = await stackAdmin(stack);
  const mine = await nodeServers(admin, nodeName);
  for (const server of mine) {
    const images = await call<{ images: { id: string }[] }>(
      admin,
      "GET",
      `${admin.endpoints.image}/v2/images?vkedge_server=${server.id}`,
    );
    for (const image of images.images) {
      await call(admin, "DELETE", `${admin.endpoints.image}/v2/images/${image.id}`, {
        expect: [204, 404],
      });
    }
    await call(admin, "DELETE", `${admin.endpoints.compute}/servers/${server.id}`, {
      expect: [204, 404],
    });
  }
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const left = (await listServers(admin)).filter((server) =>
      mine.some((m) => m.id === server.id)
    );
    if (left.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Makes every Keystone token issued so far invalid (fernet keys rotated), as an expiry would. */
export async function invalidateTokens(stack: StackInfo): Promise<void> {
  const response = await fetch(`${stack.controlUrl}/keystone/invalidate-tokens`, {
    method: "POST",
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`invalidating tokens: ${response.status} ${text}`);
}

/**
 * Starts another nova-api of the stack's Nova for one test and returns its name (for
 * {@linkcode controlService}) and compute endpoint (for the provider config's
 * `endpoints.compute`), so that the test can take it down without the others noticing.
 */
export async function extraNovaApi(stack: StackInfo): Promise<{ name: string; url: string }> {
  const response = await fetch(`${stack.controlUrl}/extra/nova-api`, { method: "POST" });
  const text = await response.text();
  if (!response.ok) throw new Error(`starting another nova-api: ${response.status} ${text}`);
  return JSON.parse(text) as { name: string; url: string };
}
