/**
 * End-to-end set-up for `--provider=kubernetes`: an agent process on the upper (test)
 * control plane whose provider configuration points at a lower cluster
 * (`lower_cluster.ts`), with a cluster name, node and lower namespace prefix of its own.
 *
 * @module
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { type AgentProcess, startAgent, uniqueNodeName, waitForNodeReady } from "./agent.ts";
import { freshNamespace, kubectlResult, repoRoot } from "./cluster.ts";
import {
  KWOK_TOLERATION,
  type LowerCluster,
  lowerCluster,
  lowerKubectl,
  lowerKubectlJson,
  lowerKubectlResult,
} from "./lower_cluster.ts";

/** Where a ServiceAccount kubeconfig points and who it is. */
export interface ServiceAccountKubeconfigOptions {
  /** An admin kubeconfig of the cluster, to ask for the token with. */
  admin: string;
  /** The API server URL. */
  server: string;
  /** The cluster's CA certificate file. */
  caFile: string;
  namespace: string;
  name: string;
  /** Where to write the kubeconfig. */
  path: string;
}

/** Writes a kubeconfig holding only a token of the ServiceAccount; returns its path. */
export async function serviceAccountKubeconfig(
  options: ServiceAccountKubeconfigOptions,
): Promise<string> {
  const token = (await lowerKubectl({ kubeconfig: options.admin }, [
    "create",
    "token",
    options.name,
    "-n",
    options.namespace,
    "--duration=2h",
  ])).trim();
  const ca = btoa(await Deno.readTextFile(options.caFile));
  await Deno.writeTextFile(
    options.path,
    [
      "apiVersion: v1",
      "kind: Config",
      `clusters:\n- name: c\n  cluster:\n    server: ${options.server}\n    certificate-authority-data: ${ca}`,
      `users:\n- name: ${options.name}\n  user:\n    token: ${token}`,
      "contexts:\n- name: c\n  context:\n    cluster: c\n    user: " + options.name,
      "current-context: c",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  return options.path;
}

/**
 * Applies deploy/kubernetes-lower-rbac.yaml to `lower` and writes a kubeconfig of its
 * ServiceAccount (what an operator gives the agent) to `path`.
 */
export async function lowerRbacKubeconfig(lower: LowerCluster, path: string): Promise<string> {
  await lowerKubectl(lower, ["apply", "-f", `${repoRoot}/deploy/kubernetes-lower-rbac.yaml`]);
  return await serviceAccountKubeconfig({
    admin: lower.kubeconfig,
    server: lower.server,
    caFile: `${lower.dir}/pki/ca.crt`,
    namespace: "kube-system",
    name: "vkedge-upper",
    path,
  });
}

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
  /** Reach the lower cluster with only the rules of deploy/kubernetes-lower-rbac.yaml. */
  lowerRbac?: boolean;
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
  const kubeconfig = options.lowerRbac
    ? await lowerRbacKubeconfig(lower, await Deno.makeTempFile({ suffix: ".kubeconfig" }))
    : lower.kubeconfig;
  const providerConfig = {
    clusterName,
    kubeconfig,
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
