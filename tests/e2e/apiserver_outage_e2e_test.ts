/**
 * The API server away for 90 s while the agent runs 5 mock pods, on a control plane of the
 * test's own (`controlplane apiserver-stop` and `apiserver-start`: etcd, the
 * controller-manager and the scheduler keep running, and the API server comes back on the
 * same port with the same certificates). The agent must not exit, must back off to a cap
 * rather than hammer the server, must not delete or recreate anything, and once the server
 * is back its watches resume, the node is Ready again and the 5 pods get no writes but
 * the one that undoes the node-lifecycle controller marking them NotReady, when it did.
 */

import type { Event, Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals } from "../_harness/assert.ts";
import { freshNamespace, kubectl, kubectlResult, waitFor } from "../_harness/cluster.ts";
import {
  type AgentProcess,
  runningPods,
  startAgent,
  uniqueNodeName,
  waitForNodeReady,
} from "../_harness/agent.ts";
import { apply, getPod, isRunning, podManifest, waitRunning } from "../_harness/pods.ts";
import { type PrivateCluster, withPrivateCluster } from "../_harness/private_cluster.ts";

const OUTAGE_MS = 90_000;
/** The reflectors' and watches' longest delay between attempts (lib/kube defaults). */
const MAX_BACKOFF_SECONDS = 30;
const NS = "default";

/** What an outage must not change about a pod: the same object, the same workload, Running. */
interface Fingerprint {
  uid?: string;
  podIP?: string;
  startedAt?: string;
  running: boolean;
}

async function listPods(c: PrivateCluster, names: string[]): Promise<Map<string, Pod>> {
  const pods = (await c.kubectlJson<{ items: Pod[] }>([
    "get",
    "pods",
    "-n",
    NS,
  ])).items;
  return new Map(
    pods.filter((pod) => names.includes(pod.metadata!.name!)).map((pod) => [
      pod.metadata!.name!,
      pod,
    ]),
  );
}

function fingerprint(pod: Pod): Fingerprint {
  return {
    uid: pod.metadata?.uid,
    podIP: pod.status?.podIP,
    startedAt: pod.status?.containerStatuses?.[0]?.state?.running?.startedAt,
    running: isRunning(pod),
  };
}

async function fingerprints(c: PrivateCluster, names: string[]): Promise<Map<string, Fingerprint>> {
  const pods = await listPods(c, names);
  return new Map([...pods].map(([name, pod]) => [name, fingerprint(pod)]));
}

/**
 * Whether the node-lifecycle controller found the node's heartbeats missing since `since`
 * (its `NodeNotReady` event): it then marks every pod of the node `Ready=False`, which the
 * agent has to undo with one status write per pod.
 */
async function markedNotReady(c: PrivateCluster, nodeName: string, since: number) {
  const events = (await c.kubectlJson<{ items: Event[] }>([
    "get",
    "events",
    "-A",
    "--field-selector",
    `involvedObject.name=${nodeName},reason=NodeNotReady`,
  ])).items;
  return events.some((event) =>
    event.source?.component === "node-controller" &&
    new Date(event.lastTimestamp ?? event.eventTime ?? 0).getTime() >= since - 1000
  );
}

async function waitPodRunning(c: PrivateCluster, name: string, timeoutMs: number): Promise<void> {
  await waitFor(`pod ${name} Running`, async () => {
    return isRunning(await c.kubectlJson<Pod>(["get", "pod", name, "-n", NS]));
  }, { timeoutMs, intervalMs: 500 });
}

/** The agent's log from `offset` on, split in lines. */
async function logSince(agent: AgentProcess, offset: number): Promise<string[]> {
  return (await agent.output()).slice(offset).split("\n");
}

/** Delays (seconds) the reflectors and watches logged between attempts. */
function backoffDelays(lines: string[]): number[] {
  return lines.flatMap((line) => {
    const match = line.match(
      /(list and watch failed|watch could not be established), retrying in ([\d.]+)s/,
    );
    return match ? [Number(match[2])] : [];
  });
}

/** The agent's requests (debug log of the client) that wrote one of `names` or its status. */
function podWrites(lines: string[], names: string[]): string[] {
  return lines.filter((line) => {
    const match = line.match(
      /"?(PATCH|PUT|POST|DELETE)"? "?\/api\/v1\/namespaces\/[^/]+\/pods\/([^/"]+)/,
    );
    return match !== null && names.includes(match[2]);
  });
}

/** The mock provider's create and delete lines for `names`. */
function providerChanges(lines: string[], names: string[]): string[] {
  const wanted = new Set(names.map((name) => `"${NS}/${name}"`));
  return lines.filter((line) =>
    /vkedge\.provider\.mock: (created|deleted) pod "/.test(line) &&
    wanted.has(line.match(/pod ("[^"]+")/)?.[1] ?? "")
  );
}

Deno.test("API server stopped for 90 s: the agent keeps running with a capped back-off, deletes and recreates nothing, its watches resume, the node is Ready again and the 5 pods get no writes", async () => {
  await withPrivateCluster("vkedge-apiserver-outage", async (c) => {
    const nodeName = uniqueNodeName("apiserver-outage");
    const agent = await startAgent({
      nodeName,
      cluster: c,
      providerConfig: { capacity: { pods: "110" } },
    });
    let exited = false;
    agent.child.status.then(() => exited = true);
    try {
      await waitForNodeReady(agent);
      const names = ["p-0", "p-1", "p-2", "p-3", "p-4"];
      for (const name of names) {
        await c.kubectl(["apply", "-n", NS, "-f", "-"], {
          stdin: JSON.stringify(podManifest(name, nodeName)),
        });
      }
      for (const name of names) await waitPodRunning(c, name, 60_000);
      const before = await fingerprints(c, names);
      assertEquals(before.size, 5);
      for (const [name, pod] of before) assert(pod.running && pod.startedAt, name);
      const running = (await runningPods(agent)).sort();
      assertEquals(running, names.map((name) => `${NS}/${name}`));
      // Let the status writes of the start settle, so that what follows is the outage's doing.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const settled = await listPods(c, names);
      assertEquals(await fingerprints(c, names), before, "settled before the outage");

      const mark = (await agent.output()).length;
      const downAt = Date.now();
      await c.stopApiServer();
      assertEquals((await c.kubectlResult(["get", "nodes"])).code === 0, false, "server down");
      while (Date.now() - downAt < OUTAGE_MS) {
        assert(!exited, "the agent exited while the API server was away");
        await new Promise((resolve) => setTimeout(resolve, 5000));
      }
      const outage = await logSince(agent, mark);
      await c.startApiServer();
      const upAt = Date.now();

      await waitForNodeReady(agent, 120_000);
      const readyAt = Date.now();
      // A pod created after the outage runs: the pod watch resumed.
      await c.kubectl(["apply", "-n", NS, "-f", "-"], {
        stdin: JSON.stringify(podManifest("after-outage", nodeName)),
      });
      await waitPodRunning(c, "after-outage", 90_000);
      const recovered = Date.now();
      // The node's heartbeat goes on, and nothing else comes late.
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      await waitForNodeReady(agent, 30_000);

      const delays = backoffDelays(outage);
      assert(delays.length > 0, "the agent logged its retries while the server was away");
      assert(
        delays.every((seconds) => seconds <= MAX_BACKOFF_SECONDS),
        `every delay at most ${MAX_BACKOFF_SECONDS} s, found ${delays.join(", ")}`,
      );
      assert(
        Math.max(...delays) >= MAX_BACKOFF_SECONDS / 2,
        `the delays grew to the cap (with jitter at least ${
          MAX_BACKOFF_SECONDS / 2
        } s), found at most ${Math.max(...delays)} s`,
      );
      // 13 watches retrying with a back-off make a few dozen attempts in 90 s, not thousands.
      assert(delays.length < 200, `${delays.length} retries logged in 90 s`);

      const pods = await listPods(c, names);
      const after = new Map([...pods].map(([name, pod]) => [name, fingerprint(pod)]));
      assertEquals(after, before, "same UIDs, IPs and start times, Running");
      const since = await logSince(agent, mark);
      // Only what someone else changed is written back, once per pod; else nothing is written.
      const marked = await markedNotReady(c, nodeName, downAt);
      for (const name of names) {
        const writes = podWrites(since, [name]);
        const unchanged = pods.get(name)!.metadata?.resourceVersion ===
          settled.get(name)!.metadata?.resourceVersion;
        assertEquals(
          { writes: writes.length, unchanged },
          marked ? { writes: 1, unchanged: false } : { writes: 0, unchanged: true },
          `${name} (node-lifecycle controller marked the pods NotReady: ${marked}); agent writes:\n${
            writes.join("\n")
          }`,
        );
      }
      assertEquals(providerChanges(since, names), [], "nothing deleted or created in the provider");
      assertEquals(
        (await runningPods(agent)).sort(),
        [...names, "after-outage"].map((name) => `${NS}/${name}`).sort(),
      );
      assert(!exited, "the agent never exited");
      assertEquals(await agent.stop(), 0, "and stops cleanly");
      console.log(
        `outage ${Math.round((upAt - downAt) / 1000)} s, pods marked NotReady: ${marked}, ` +
          `${delays.length} retries logged ` +
          `(longest ${Math.max(...delays)} s), node Ready ${
            Math.round((readyAt - upAt) / 1000)
          } s and a new pod Running ${
            Math.round((recovered - upAt) / 1000)
          } s after the server returned`,
      );
    } finally {
      await agent.kill();
    }
  });
});

Deno.test("a node and a pod someone else marks not ready, as the node-lifecycle controller does after missed heartbeats, are made Ready again at once, the pod with one status write", async () => {
  const nodeName = uniqueNodeName("status-drift");
  const agent = await startAgent({ nodeName });
  let ns: string | undefined;
  try {
    await waitForNodeReady(agent);
    ns = await freshNamespace("status-drift");
    await apply(ns, podManifest("web", nodeName));
    await waitRunning(ns, "web");
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const mark = (await agent.output()).length;
    await kubectl([
      "patch",
      "pod",
      "web",
      "-n",
      ns,
      "--subresource=status",
      "--type=strategic",
      "-p",
      JSON.stringify({ status: { conditions: [{ type: "Ready", status: "False" }] } }),
    ]);
    const restored = await waitRunning(ns, "web");
    assertEquals(restored.status?.phase, "Running");
    // Any further write would come at once, from the agent's own update event.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const writes = podWrites(await logSince(agent, mark), ["web"]);
    assertEquals(writes.length, 1, writes.join("\n"));
    assert(isRunning(await getPod(ns, "web")));

    // The node's status is otherwise written once a minute; this must not wait for it.
    await kubectl([
      "patch",
      "node",
      nodeName,
      "--subresource=status",
      "--type=strategic",
      "-p",
      JSON.stringify({
        status: {
          conditions: [{ type: "Ready", status: "Unknown", reason: "NodeStatusUnknown" }],
        },
      }),
    ]);
    await waitForNodeReady(agent, 10_000);
  } finally {
    await agent.stop();
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
    if (ns) await kubectlResult(["delete", "namespace", ns, "--wait=false"]);
  }
});
