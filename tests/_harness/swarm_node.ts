/**
 * An agent with `--provider=swarm` on a node of its own, over a test Swarm
 * (`swarm.ts`), in a fresh namespace, for the end-to-end tests; everything is removed
 * afterwards, and a failure carries the tails of the agent's and dockerd's logs.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { type AgentProcess, freePort, startAgent, uniqueNodeName } from "./agent.ts";
import { freshNamespace, kubectlResult } from "./cluster.ts";
import { PROVIDER_TOLERATION } from "./pods.ts";
import { BUSYBOX_IMAGE, startSwarm, type SwarmDaemon } from "./swarm.ts";
import { stopAgent, tail, waitForAgentReady } from "./zstack.ts";

/** A node served by the swarm provider. */
export interface SwarmNode {
  nodeName: string;
  ns: string;
  swarm: SwarmDaemon;
  /** The provider configuration file. */
  configFile: string;
  /** The running agent, once started. */
  agent?: AgentProcess;
  /** Starts the agent (again) and waits until the node is Ready. */
  start(): Promise<AgentProcess>;
  /** This node's services as the Engine lists them: name → ID. */
  services(): Promise<Map<string, string>>;
  /** This node's tasks: ID → state. */
  tasks(): Promise<Map<string, string>>;
}

/** Options of {@linkcode withSwarmNode}. */
export interface SwarmNodeOptions {
  /** Extra fields of the provider configuration. */
  config?: Record<string, unknown>;
  /** Extra agent flags. */
  extraArgs?: string[];
  /** dockerd `--debug` (a log line per API call). */
  debug?: boolean;
}

/** A busybox pod for `nodeName` running `script`, removed at once when deleted. */
export function swarmPod(
  name: string,
  nodeName: string,
  script: string,
  extra: Partial<NonNullable<Pod["spec"]>> = {},
): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: {
      nodeName,
      tolerations: [PROVIDER_TOLERATION],
      terminationGracePeriodSeconds: 1,
      containers: [{ name: "main", image: BUSYBOX_IMAGE, command: ["sh", "-c", script] }],
      ...extra,
    },
  };
}

/** Runs `body` with a Swarm, a namespace and an agent for a node of its own. */
export async function withSwarmNode(
  prefix: string,
  body: (node: SwarmNode) => Promise<void>,
  options: SwarmNodeOptions = {},
): Promise<void> {
  const nodeName = uniqueNodeName(prefix);
  const kubeletPort = freePort();
  const swarm = await startSwarm({ name: prefix, debug: options.debug });
  let node: SwarmNode | undefined;
  let ns: string | undefined;
  const filter = encodeURIComponent(
    JSON.stringify({ label: [`vkedge.io/node=e2e/${nodeName}`] }),
  );
  try {
    const configFile = `${swarm.dir}/swarm-provider.json`;
    await Deno.writeTextFile(
      configFile,
      JSON.stringify({
        endpoint: swarm.endpoint,
        clusterName: "e2e",
        restartDelaySeconds: 1,
        ...options.config,
      }),
    );
    ns = await freshNamespace(prefix);
    const self: SwarmNode = {
      nodeName,
      ns,
      swarm,
      configFile,
      async start() {
        self.agent = await startAgent({
          nodeName,
          provider: "swarm",
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
      async services() {
        const list = await swarm.json<{ ID: string; Spec: { Name: string } }[]>(
          `/v1.41/services?filters=${filter}`,
        );
        return new Map(list.map((service) => [service.Spec.Name, service.ID]));
      },
      async tasks() {
        const list = await swarm.json<{ ID: string; Status: { State: string } }[]>(
          `/v1.41/tasks?filters=${filter}`,
        );
        return new Map(list.map((task) => [task.ID, task.Status.State]));
      },
    };
    node = self;
    await body(self);
  } catch (error) {
    const agentLog = node?.agent ? tail(await node.agent.output().catch(() => ""), 40) : "";
    const daemonLog = tail(await swarm.log().catch(() => ""), 15);
    throw new Error(
      `${
        error instanceof Error ? error.stack ?? error.message : error
      }\n--- agent log tail:\n${agentLog}\n--- dockerd log tail:\n${daemonLog}`,
      { cause: error },
    );
  } finally {
    if (node?.agent) await stopAgent(node.agent);
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
    if (ns) await kubectlResult(["delete", "namespace", ns, "--wait=false"]);
    await swarm.close();
  }
}
