/**
 * End-to-end set-up for `--provider=kubernetes`: an agent process on the upper (test)
 * control plane whose provider configuration points at a lower cluster
 * (`lower_cluster.ts`), with a cluster name, node and lower namespace prefix of its own.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { type AgentProcess, startAgent, uniqueNodeName, waitForNodeReady } from "./agent.ts";
import { freshNamespace, kubectlResult } from "./cluster.ts";
import {
  KWOK_TOLERATION,
  type LowerCluster,
  lowerCluster,
  lowerKubectlJson,
  lowerKubectlResult,
} from "./lower_cluster.ts";

/** One test's upper node over a lower cluster. */
export interface KubernetesNode {
  lower: LowerCluster;
  /** The upper namespace of the test. */
  ns: string;
  nodeName: string;
  clusterName: string;
  /** The lower namespace of `ns`. */
  lowerNs: string;
  /** The provider configuration the agent runs with. */
  providerConfig: Record<string, unknown>;
  /** Starts an agent for the node (a second call is a restart) and waits until it is Ready. */
  start(options?: { extraArgs?: string[] }): Promise<AgentProcess>;
  /** The lower pods of the test's namespace, by name. */
  lowerPods(): Promise<Map<string, Pod>>;
}

/** Options of {@linkcode withKubernetesNode}. */
export interface KubernetesNodeOptions {
  /** The lower cluster (default: the shared one). */
  lower?: LowerCluster;
  /** Extra provider configuration. */
  config?: Record<string, unknown>;
  /** The cluster name (default: unique). */
  clusterName?: string;
  /** The upper namespace (default: a fresh one). */
  ns?: string;
}

/** Runs `body` with an upper node over a lower cluster; stops its agents and cleans up after. */
export async function withKubernetesNode(
  prefix: string,
  body: (node: KubernetesNode) => Promise<void>,
  options: KubernetesNodeOptions = {},
): Promise<void> {
  const lower = options.lower ?? await lowerCluster();
  const ns = options.ns ?? await freshNamespace(prefix);
  const nodeName = uniqueNodeName(prefix);
  const clusterName = options.clusterName ?? `up-${crypto.randomUUID().slice(0, 8)}`;
  const namespacePrefix = `${clusterName}-`;
  const lowerNs = `${namespacePrefix}${ns}`.slice(0, 63);
  const providerConfig = {
    clusterName,
    kubeconfig: lower.kubeconfig,
    namespaces: { prefix: namespacePrefix },
    tolerations: [KWOK_TOLERATION],
    ...options.config,
  };
  const agents: AgentProcess[] = [];
  const node: KubernetesNode = {
    lower,
    ns,
    nodeName,
    clusterName,
    lowerNs,
    providerConfig,
    async start(startOptions = {}) {
      const agent = await startAgent({
        nodeName,
        provider: "kubernetes",
        providerConfig,
        extraArgs: startOptions.extraArgs,
      });
      agents.push(agent);
      await waitForNodeReady(agent, 90_000);
      return agent;
    },
    async lowerPods() {
      const list = await lowerKubectlJson<{ items: Pod[] }>(lower, ["get", "pods", "-n", lowerNs]);
      return new Map(list.items.map((pod) => [pod.metadata!.name!, pod]));
    },
  };
  try {
    await body(node);
  } finally {
    for (const agent of agents) await agent.stop();
    await kubectlResult(["delete", "namespace", ns, "--wait=false"]);
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
    await lowerKubectlResult(lower, ["delete", "namespace", lowerNs, "--wait=false"]);
  }
}
