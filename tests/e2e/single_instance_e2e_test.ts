/**
 * One agent per node, as cron and a second host would start them: a second start on the
 * same host (same lock folder) exits 0 at once with one line; a second "host" (another
 * lock folder, same node) waits as a standby, serves /readyz 503 and drives nothing, and
 * takes over within the lease duration (plus one retry period) after the leader is
 * killed -9; a leader whose Lease is taken from it exits 1.
 */

import type { Lease } from "kubernetes-types/coordination/v1.d.ts";
import { assert, assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import {
  cluster,
  freshNamespace,
  kubectl,
  kubectlJson,
  kubectlResult,
  waitFor,
} from "../_harness/cluster.ts";
import {
  agentEntry,
  freePort,
  startAgent,
  uniqueNodeName,
  waitForNodeReady,
} from "../_harness/agent.ts";
import { runOnNode, waitRunning } from "../_harness/pods.ts";

/** Short election timings, so that a takeover fits in a test. */
const LEASE_SECONDS = 6;
const RETRY_SECONDS = 1;
const ELECTION = [
  `--leader-elect-lease-duration=${LEASE_SECONDS}s`,
  "--leader-elect-renew-deadline=4s",
  `--leader-elect-retry-period=${RETRY_SECONDS}s`,
];

async function electionLease(nodeName: string): Promise<Lease | undefined> {
  const result = await kubectlResult([
    "get",
    "lease",
    `vkedge-${nodeName}`,
    "-n",
    "kube-node-lease",
    "-o",
    "json",
  ]);
  return result.code === 0 ? JSON.parse(result.stdout) as Lease : undefined;
}

async function holderPid(nodeName: string): Promise<number | undefined> {
  const holder = (await electionLease(nodeName))?.spec?.holderIdentity ?? "";
  const match = /_(\d+)_[0-9a-f]+$/.exec(holder);
  return match ? Number(match[1]) : undefined;
}

Deno.test("a second start for the same node on the same host exits 0 at once with one line", async () => {
  const nodeName = uniqueNodeName("vk-once");
  const lockDir = await Deno.makeTempDir({ prefix: "vkedge-locks-" });
  const first = await startAgent({ nodeName, extraArgs: [`--lock-dir=${lockDir}`] });
  try {
    await waitForNodeReady(first);
    const started = performance.now();
    const second = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        agentEntry(),
        "--provider=mock",
        `--nodename=${nodeName}`,
        `--kubelet-port=${freePort()}`,
        `--lock-dir=${lockDir}`,
        `--kubeconfig=${(await cluster()).kubeconfig}`,
      ],
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const seconds = (performance.now() - started) / 1000;
    const stderr = new TextDecoder().decode(second.stderr);
    assertEquals(second.code, 0, stderr);
    assert(seconds < 5, `the second start took ${seconds.toFixed(1)} s`);
    assertEquals(stderr.trim().split("\n").length, 1, stderr);
    assertStringIncludes(
      stderr,
      `vkedge: node ${nodeName} is already driven from this host (pid ${first.child.pid}, since `,
    );
    assertEquals(await holderPid(nodeName), first.child.pid, "the first agent still leads");
    assertEquals(await first.stop(), 0);
  } finally {
    await first.kill();
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
    await Deno.remove(lockDir, { recursive: true });
  }
});

Deno.test("two hosts for one node: one drives it, the other waits as a standby and takes over within the lease duration after a kill -9", async () => {
  const nodeName = uniqueNodeName("vk-2host");
  const [lockA, lockB] = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  const metricsPort = freePort();
  const a = await startAgent({ nodeName, extraArgs: [`--lock-dir=${lockA}`, ...ELECTION] });
  let b;
  try {
    await waitForNodeReady(a);
    const ns = await freshNamespace("twohost");
    const pod = await runOnNode(ns, "web", nodeName);
    b = await startAgent({
      nodeName,
      extraArgs: [
        `--lock-dir=${lockB}`,
        `--metrics-addr=127.0.0.1:${metricsPort}`,
        ...ELECTION,
      ],
    });
    const standby = b;
    await waitFor("the second agent is a standby", async () => {
      // Text log lines quote string values.
      return (await standby.output()).includes(
        `standby: the lease "kube-node-lease/vkedge-${nodeName}" is held by`,
      );
    }, { timeoutMs: 30_000 });
    const readyz = await fetch(`http://127.0.0.1:${metricsPort}/readyz`);
    assertEquals(readyz.status, 503);
    assertStringIncludes(await readyz.text(), "standby: the lease");
    // A few renewals later, still only the first drives the node.
    await new Promise((resolve) => setTimeout(resolve, 2 * RETRY_SECONDS * 1000));
    assertEquals(await holderPid(nodeName), a.child.pid);
    const standbyLog = await b.output();
    for (const driving of ["pod controller ready", "registered node", "is ready (provider"]) {
      assertEquals(standbyLog.includes(driving), false, `a standby logged "${driving}"`);
    }

    const killedAt = Date.now();
    await a.kill();
    await waitFor("the standby holds the lease", async () => {
      return (await holderPid(nodeName)) === standby.child.pid;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    // When the standby took it, by its own clock (this machine's): the Lease's acquireTime.
    const acquired = Date.parse((await electionLease(nodeName))?.spec?.acquireTime ?? "");
    const tookOver = (acquired - killedAt) / 1000;
    // client-go semantics: the standby saw the last renewal at most one retry period (with
    // jitter) late; a second more for a loaded machine.
    const limit = LEASE_SECONDS + 1.2 * RETRY_SECONDS + 1;
    assert(
      tookOver <= limit,
      `took over ${tookOver.toFixed(1)} s after the kill (limit ${limit} s)`,
    );
    await waitForNodeReady(b);
    await waitFor("/readyz of the new leader", async () => {
      return (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status === 200;
    });
    const after = await waitRunning(ns, "web");
    assertEquals(after.metadata?.uid, pod.metadata?.uid, "the pod was not recreated");
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
    console.error(`standby took over ${tookOver.toFixed(1)} s after the leader was killed`);
  } finally {
    await a.kill();
    if (b) await b.stop();
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
    await kubectlResult(["delete", "lease", `vkedge-${nodeName}`, "-n", "kube-node-lease"]);
    for (const dir of [lockA, lockB]) await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a leader whose Lease is taken from it stops driving the node and exits 1", async () => {
  const nodeName = uniqueNodeName("vk-lost");
  const lockDir = await Deno.makeTempDir();
  const agent = await startAgent({ nodeName, extraArgs: [`--lock-dir=${lockDir}`, ...ELECTION] });
  try {
    await waitForNodeReady(agent);
    // Another holder writes the Lease; the leader renews every second, so retry on conflict.
    await waitFor("the Lease taken by another holder", async () => {
      const lease = await kubectlJson<Lease>([
        "get",
        "lease",
        `vkedge-${nodeName}`,
        "-n",
        "kube-node-lease",
      ]);
      const replaced = await kubectlResult(["replace", "-f", "-"], {
        stdin: JSON.stringify({
          ...lease,
          spec: { ...lease.spec, holderIdentity: "another-host_1_00000000" },
        }),
      });
      return replaced.code === 0;
    }, { timeoutMs: 10_000, intervalMs: 100 });
    const code = await Promise.race([
      agent.child.status.then((s) => s.code),
      new Promise<string>((resolve) => setTimeout(() => resolve("still running"), 15_000)),
    ]);
    assertEquals(code, 1);
    assertStringIncludes(
      await agent.output(),
      `lost the lease kube-node-lease/vkedge-${nodeName}: now held by another-host_1_00000000`,
    );
  } finally {
    await agent.kill();
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
    await kubectlResult(["delete", "lease", `vkedge-${nodeName}`, "-n", "kube-node-lease"]);
    await Deno.remove(lockDir, { recursive: true });
  }
});
