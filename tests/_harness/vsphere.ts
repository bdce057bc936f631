/**
 * A virtual node on the vsphere provider for the end-to-end tests: govmomi's simulator as a
 * separate process (tests/_harness/vcsim.ts), a fresh namespace, and an agent with
 * `--provider=vsphere` that can be killed and started again on the same node.
 *
 * @module
 */

import type { Container, Pod } from "kubernetes-types/core/v1.d.ts";
import { freshNamespace, kubectlResult } from "./cluster.ts";
import { podManifest } from "./pods.ts";
import { type AgentProcess, freePort, startAgent, uniqueNodeName } from "./agent.ts";
import { startVcsim, type StartVcsimOptions, type VcsimProcess, type VcsimVm } from "./vcsim.ts";
import { stopAgent, tail, waitForAgentReady } from "./zstack.ts";

/** A node backed by its own simulator. */
export interface VsphereNode {
  readonly nodeName: string;
  readonly ns: string;
  readonly sim: VcsimProcess;
  /** The agent started last. */
  agent?: AgentProcess;
  /** Starts an agent (same node, config and kubelet port each time) and waits until it is ready. */
  start(options?: { waitReady?: boolean }): Promise<AgentProcess>;
  /** The VMs whose extraConfig names this node. */
  vms(): Promise<VcsimVm[]>;
}

/** Options of {@linkcode withVsphereNode}. */
export interface VsphereNodeOptions {
  sim?: StartVcsimOptions;
  /** Fields over the provider configuration `providerConfig` writes. */
  config?: Record<string, unknown>;
  /** More agent flags (`--provider-ping-interval=2s` is always given). */
  extraArgs?: string[];
}

/** A pod of one VM on `nodeName`, cloned from template `cirros` (1 vCPU, 256 MiB). */
export function vspherePod(
  name: string,
  nodeName: string,
  options: { image?: string; container?: Partial<Container> } = {},
): Pod {
  return podManifest(name, nodeName, {
    containers: [{
      name: "vm",
      image: options.image ?? "vsphere/cirros",
      resources: { limits: { cpu: "1", memory: "256Mi" } },
      ...options.container,
    }],
  });
}

/**
 * Runs `body` with a simulator, a namespace and a node of its own, then stops the agent,
 * deletes node and namespace and stops the simulator; a failure gets the agent's and the
 * simulator's log tails appended.
 */
export async function withVsphereNode(
  prefix: string,
  body: (node: VsphereNode) => Promise<void>,
  options: VsphereNodeOptions = {},
): Promise<void> {
  const nodeName = uniqueNodeName(prefix);
  const kubeletPort = freePort();
  const sim = await startVcsim(options.sim);
  const clusterName = "e2e";
  let node: VsphereNode | undefined;
  let ns: string | undefined;
  try {
    const providerConfig = await sim.providerConfig({ clusterName, ...options.config });
    ns = await freshNamespace(prefix);
    const self: VsphereNode = {
      nodeName,
      ns,
      sim,
      async start(startOptions = {}) {
        self.agent = await startAgent({
          nodeName,
          provider: "vsphere",
          kubeletPort,
          providerConfig,
          extraArgs: ["--provider-ping-interval=2s", ...(options.extraArgs ?? [])],
        });
        if (startOptions.waitReady !== false) await waitForAgentReady(self.agent);
        return self.agent;
      },
      async vms() {
        return (await sim.vms()).filter((vm) =>
          vm.extraConfig["guestinfo.vkedge.node"] === `${clusterName}/${nodeName}`
        );
      },
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
    await sim.close();
  }
}
