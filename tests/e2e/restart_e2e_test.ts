/**
 * Restart safety as an operator sees it: the agent is killed with SIGKILL while
 * its provider (the mock with a state file, standing in for an IaaS whose
 * machines outlive the agent) keeps running the pods. A new agent for the same
 * node adopts them without recreating anything, deletes in the provider what
 * Kubernetes deleted meanwhile, and cleans up provider pods Kubernetes never
 * knew, but only its own node's.
 */

import type { Event, Pod } from "kubernetes-types/core/v1.d.ts";
import type { Deployment } from "kubernetes-types/apps/v1.d.ts";
import { assert, assertEquals } from "../_harness/assert.ts";
import {
  freshNamespace,
  kubectl,
  kubectlJson,
  kubectlResult,
  waitFor,
} from "../_harness/cluster.ts";
import {
  type AgentProcess,
  freePort,
  runningPods,
  startAgent,
  uniqueNodeName,
  waitForNodeReady,
} from "../_harness/agent.ts";
import {
  apply,
  isRunning,
  podExists,
  podManifest,
  podSpec,
  waitRunning,
} from "../_harness/pods.ts";
import { MockProvider, parseMockConfig } from "../../providers/mock/mod.ts";
import { readStateFile } from "../../providers/mock/state_file.ts";

const PROVIDER_EVENTS = ["ProviderCreateSuccess", "ProviderUpdateSuccess", "ProviderDeleteSuccess"];

async function listPods(ns: string): Promise<Pod[]> {
  return (await kubectlJson<{ items: Pod[] }>(["get", "pods", "-n", ns])).items;
}

/** What must not change about a pod across an agent restart. */
interface Fingerprint {
  uid?: string;
  /** Unchanged means nobody wrote the object, not even a status patch. */
  resourceVersion?: string;
  podIP?: string;
  startTime?: string;
  phase?: string;
  ready: boolean;
}

async function fingerprints(ns: string): Promise<Map<string, Fingerprint>> {
  const result = new Map<string, Fingerprint>();
  for (const pod of await listPods(ns)) {
    result.set(pod.metadata!.name!, {
      uid: pod.metadata?.uid,
      resourceVersion: pod.metadata?.resourceVersion,
      podIP: pod.status?.podIP,
      startTime: pod.status?.startTime,
      phase: pod.status?.phase,
      ready: isRunning(pod),
    });
  }
  return result;
}

/** Provider events per pod name and reason, counting repeats. */
async function providerEvents(ns: string): Promise<Map<string, number>> {
  const events = (await kubectlJson<{ items: Event[] }>(["get", "events", "-n", ns])).items;
  const counts = new Map<string, number>();
  for (const event of events) {
    if (!PROVIDER_EVENTS.includes(event.reason ?? "")) continue;
    const key = `${event.involvedObject.name} ${event.reason}`;
    counts.set(key, (counts.get(key) ?? 0) + (event.count ?? 1));
  }
  return counts;
}

function eventsOf(counts: Map<string, number>, names: Iterable<string>): Map<string, number> {
  const wanted = new Set(names);
  return new Map([...counts].filter(([key]) => wanted.has(key.split(" ")[0])));
}

/** Lines of the agent's log in which the mock created, updated or deleted one of `names`. */
async function providerChangesInLog(
  agent: AgentProcess,
  ns: string,
  names: Iterable<string>,
): Promise<string[]> {
  const wanted = new Set([...names].map((name) => `"${ns}/${name}"`));
  return (await agent.output()).split("\n").filter((line) =>
    /vkedge\.provider\.mock: (created|updated|deleted) pod "/.test(line) &&
    wanted.has(line.match(/pod ("[^"]+")/)?.[1] ?? "")
  );
}

/** Waits until the agent reports its controllers ready (start-up reconciliation done) and the node is Ready. */
async function waitForAgentReady(agent: AgentProcess): Promise<void> {
  try {
    await waitFor(`agent for ${agent.nodeName} ready`, async () => {
      return (await agent.output()).includes("is ready (provider");
    }, { timeoutMs: 60_000 });
  } catch (error) {
    const tail = (await agent.output()).split("\n").slice(-30).join("\n");
    throw new Error(`${error instanceof Error ? error.message : error}\nagent log tail:\n${tail}`);
  }
  await waitForNodeReady(agent);
}

/** SIGTERM; an agent that does not exit within 30 s is killed and the test fails. */
async function stopOrFail(agent: AgentProcess): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    agent.stop().then(() => true),
    new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), 30_000)),
  ]);
  clearTimeout(timer);
  if (!exited) {
    await agent.kill();
    throw new Error(`agent for ${agent.nodeName} did not exit within 30 s of SIGTERM`);
  }
}

/** A node whose mock provider keeps its pods in a state file across agent processes. */
interface RestartableNode {
  nodeName: string;
  stateFile: string;
  kubeletPort: number;
  agent?: AgentProcess;
  start(): Promise<AgentProcess>;
}

async function withRestartableNode(
  prefix: string,
  body: (node: RestartableNode, ns: string) => Promise<void>,
): Promise<void> {
  const nodeName = uniqueNodeName(prefix);
  const dir = await Deno.makeTempDir({ prefix: `vkedge-${prefix}-` });
  const node: RestartableNode = {
    nodeName,
    stateFile: `${dir}/pods.json`,
    kubeletPort: freePort(),
    async start() {
      node.agent = await startAgent({
        nodeName,
        kubeletPort: node.kubeletPort,
        providerConfig: { stateFile: node.stateFile, capacity: { pods: "110" } },
      });
      await waitForAgentReady(node.agent);
      return node.agent;
    },
  };
  let ns: string | undefined;
  try {
    ns = await freshNamespace(prefix);
    await body(node, ns);
  } finally {
    if (node.agent) await stopOrFail(node.agent);
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
    if (ns) await kubectlResult(["delete", "namespace", ns, "--wait=false"]);
    await Deno.remove(dir, { recursive: true }).catch(() => undefined);
  }
}

function savedPodCount(stateFile: string): number {
  return readStateFile(stateFile).length;
}

Deno.test("kill -9 and restart with 50 running pods recreates nothing", async () => {
  await withRestartableNode("restart50", async (node, ns) => {
    const first = await node.start();
    const deployment: Deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: {
        replicas: 50,
        selector: { matchLabels: { app: "web" } },
        template: { metadata: { labels: { app: "web" } }, spec: podSpec(node.nodeName) },
      },
    };
    await apply(ns, deployment);
    await waitFor("50 available replicas", async () => {
      const d = await kubectlJson<Deployment>(["get", "deployment", "web", "-n", ns]);
      return d.status?.availableReplicas === 50;
    }, { timeoutMs: 120_000, intervalMs: 1000 });
    const before = await fingerprints(ns);
    assertEquals(before.size, 50);
    for (const [name, pod] of before) assert(pod.ready && pod.podIP && pod.startTime, name);
    assertEquals(new Set([...before.values()].map((p) => p.podIP)).size, 50);
    await waitFor("50 ProviderCreateSuccess events", async () => {
      const counts = await providerEvents(ns);
      return [...before.keys()].every((name) => counts.get(`${name} ProviderCreateSuccess`) === 1);
    });
    const eventsBefore = await providerEvents(ns);
    assertEquals(eventsBefore.size, 50, "only one create event per pod before the restart");
    assertEquals((await runningPods(first)).length, 50);

    await first.kill();
    assertEquals(savedPodCount(node.stateFile), 50);
    const second = await node.start();

    // Give the new agent's queues time to act on all 50 pods, had they wanted to.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assertEquals(await fingerprints(ns), before, "same UIDs, IPs, start times, still Running");
    assertEquals(
      (await runningPods(second)).sort(),
      [...before.keys()].map((name) => `${ns}/${name}`).sort(),
    );
    assertEquals(await providerEvents(ns), eventsBefore, "no provider create/update/delete");
    assertEquals(await providerChangesInLog(second, ns, before.keys()), []);

    // Status keeps flowing in both directions.
    const [victim, ...kept] = [...before.keys()];
    await kubectl(["delete", "pod", victim, "-n", ns, "--wait=false"]);
    await waitFor(`${victim} gone from the API`, async () => !(await podExists(ns, victim)));
    await waitFor(`${victim} gone from /runningpods/`, async () => {
      return !(await runningPods(second)).includes(`${ns}/${victim}`);
    });
    await apply(ns, podManifest("extra", node.nodeName));
    await waitRunning(ns, "extra");
    await waitFor("the Deployment's replacement pod Running", async () => {
      const d = await kubectlJson<Deployment>(["get", "deployment", "web", "-n", ns]);
      return d.status?.availableReplicas === 50;
    }, { timeoutMs: 60_000 });

    const after = await fingerprints(ns);
    for (const name of kept) assertEquals(after.get(name), before.get(name), name);
    assertEquals(
      eventsOf(await providerEvents(ns), kept),
      eventsOf(eventsBefore, kept),
      "the 49 untouched pods got no provider events",
    );
    assertEquals(await providerChangesInLog(second, ns, kept), []);
  });
});

Deno.test("pods deleted while the agent was down are deleted in the provider on start", async () => {
  await withRestartableNode("restart-del", async (node, ns) => {
    const first = await node.start();
    const names = ["keep-0", "keep-1", "keep-2", "force-0", "force-1", "graceful"];
    for (const name of names) await apply(ns, podManifest(name, node.nodeName));
    for (const name of names) await waitRunning(ns, name);
    const before = await fingerprints(ns);
    await waitFor("create events for all", async () => (await providerEvents(ns)).size === 6);
    const eventsBefore = await providerEvents(ns);

    await first.kill();
    await kubectl(["delete", "pod", "force-0", "force-1", "-n", ns, "--grace-period=0", "--force"]);
    await kubectl(["delete", "pod", "graceful", "-n", ns, "--wait=false"]);
    const terminating = await kubectlJson<Pod>(["get", "pod", "graceful", "-n", ns]);
    assert(terminating.metadata?.deletionTimestamp, "nobody runs the node: it stays Terminating");
    assert(!(await podExists(ns, "force-0")) && !(await podExists(ns, "force-1")));

    const second = await node.start();
    await waitFor("force-deleted pods gone from /runningpods/", async () => {
      const running = await runningPods(second);
      return !running.includes(`${ns}/force-0`) && !running.includes(`${ns}/force-1`);
    });
    await waitFor("the Terminating pod deleted in the provider", async () => {
      return (await providerEvents(ns)).get("graceful ProviderDeleteSuccess") === 1;
    });
    await waitFor("the Terminating pod gone from the API", async () => {
      return !(await podExists(ns, "graceful"));
    });
    assert(!(await runningPods(second)).includes(`${ns}/graceful`));

    const keep = ["keep-0", "keep-1", "keep-2"];
    const after = await fingerprints(ns);
    assertEquals([...after.keys()].sort(), keep);
    for (const name of keep) assertEquals(after.get(name), before.get(name), name);
    assertEquals(
      (await runningPods(second)).sort(),
      keep.map((name) => `${ns}/${name}`),
    );
    assertEquals(eventsOf(await providerEvents(ns), keep), eventsOf(eventsBefore, keep));
    assertEquals(await providerChangesInLog(second, ns, keep), []);
  });
});

Deno.test("a provider pod Kubernetes does not know is cleaned up only after the informer synced and only for this node", async () => {
  await withRestartableNode("dangling", async (node, ns) => {
    const first = await node.start();
    await apply(ns, podManifest("known", node.nodeName));
    await waitRunning(ns, "known");
    const known = (await fingerprints(ns)).get("known");
    await first.kill();

    // Machines the IaaS runs without Kubernetes knowing: one of this node, one of another.
    const otherNode = `${node.nodeName}-other`;
    const seeder = new MockProvider(
      parseMockConfig({ stateFile: node.stateFile, capacity: { pods: "110" } }),
      { nodeName: node.nodeName, operatingSystem: "linux", internalIp: "127.0.0.1", daemonPort: 1 },
    );
    const signal = new AbortController().signal;
    for (const [name, nodeName] of [["orphan", node.nodeName], ["elsewhere", otherNode]]) {
      await seeder.createPod({
        metadata: { namespace: ns, name, uid: crypto.randomUUID() },
        spec: { nodeName, containers: [{ name: "app", image: "nginx:1.27" }] },
      }, signal);
    }
    assertEquals(savedPodCount(node.stateFile), 3);

    const second = await node.start();
    await waitFor("the orphan gone from /runningpods/", async () => {
      return !(await runningPods(second)).includes(`${ns}/orphan`);
    });
    // A later change goes through, so start-up is over; then nothing else went.
    await apply(ns, podManifest("later", node.nodeName));
    await waitRunning(ns, "later");
    assertEquals(
      (await runningPods(second)).sort(),
      [`${ns}/elsewhere`, `${ns}/known`, `${ns}/later`],
    );
    assertEquals((await fingerprints(ns)).get("known"), known);
    assertEquals((await providerEvents(ns)).get("known ProviderCreateSuccess"), 1);
    assertEquals(await providerChangesInLog(second, ns, ["known", "elsewhere"]), []);
    assertEquals((await providerChangesInLog(second, ns, ["orphan"])).length, 1);
  });
});
