/**
 * The pod lifecycle scenarios of upstream virtual-kubelet's library tests, run
 * against the real agent process: provider delete errors keep the pod
 * Terminating and are retried, terminal pods are never started, and provider
 * create failures are written to the pod and retried until they succeed. Faults
 * are injected with the mock provider's fault file.
 */

import { assert, assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import { freshNamespace, kubectl, kubectlResult, waitFor } from "../_harness/cluster.ts";
import {
  type AgentProcess,
  runningPods,
  startAgent,
  uniqueNodeName,
  waitForNodeReady,
} from "../_harness/agent.ts";
import {
  apply,
  getPod,
  podEvents as events,
  podExists,
  podManifest,
  PROVIDER_TOLERATION,
  waitForEvent,
  waitRunning,
} from "../_harness/pods.ts";

/** Runs `body` with an agent whose mock provider reads faults from `faultFile`. */
async function withFaultyAgent(
  prefix: string,
  body: (agent: AgentProcess, ns: string, faultFile: string) => Promise<void>,
): Promise<void> {
  const nodeName = uniqueNodeName(prefix);
  const dir = await Deno.makeTempDir({ prefix: `vkedge-${prefix}-` });
  const faultFile = `${dir}/faults`;
  const agent = await startAgent({ nodeName, providerConfig: { faultFile } });
  try {
    await waitForNodeReady(agent);
    const ns = await freshNamespace(prefix);
    await body(agent, ns, faultFile);
  } finally {
    await agent.stop();
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
    await Deno.remove(dir, { recursive: true }).catch(() => undefined);
  }
}

Deno.test("a failing provider delete keeps the pod Terminating and running, retried with warnings, until it succeeds", async () => {
  await withFaultyAgent("del-fault", async (agent, ns, faultFile) => {
    await apply(ns, podManifest("web", agent.nodeName));
    await waitRunning(ns, "web");
    await Deno.writeTextFile(faultFile, "delete\n");
    await kubectl(["delete", "pod", "web", "-n", ns, "--wait=false"]);

    const failed = await waitForEvent(
      ns,
      "web",
      "ProviderDeleteFailed",
      (event) => (event.count ?? 1) >= 2,
    );
    assertEquals(failed.type, "Warning");
    assertStringIncludes(failed.message ?? "", "fault injected");
    const terminating = await getPod(ns, "web");
    assert(terminating.metadata?.deletionTimestamp, "the pod stays Terminating");
    assertEquals(terminating.status?.phase, "Running");
    assert((await runningPods(agent)).includes(`${ns}/web`), "the provider still runs it");
    assertEquals(
      (await events(ns, "web")).some((e) => e.reason === "ProviderDeleteSuccess"),
      false,
    );

    await Deno.remove(faultFile);
    await waitFor("the pod gone from the provider", async () => {
      return !(await runningPods(agent)).includes(`${ns}/web`);
    }, { timeoutMs: 60_000 });
    await waitFor("the pod gone from the API", async () => !(await podExists(ns, "web")));
    await waitForEvent(ns, "web", "ProviderDeleteSuccess");
  });
});

Deno.test("terminal pods bound to the node before the agent starts are never created in the provider", async () => {
  const nodeName = uniqueNodeName("terminal");
  const dir = await Deno.makeTempDir({ prefix: "vkedge-terminal-" });
  let agent: AgentProcess | undefined;
  try {
    const ns = await freshNamespace("terminal");
    // Bound directly (no scheduler), finished before any agent ran the node.
    for (const [name, phase] of [["done", "Succeeded"], ["failed", "Failed"]]) {
      await apply(ns, {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name },
        spec: {
          nodeName,
          restartPolicy: "Never",
          tolerations: [PROVIDER_TOLERATION],
          containers: [{ name: "app", image: "busybox" }],
        },
      });
      await kubectl([
        "patch",
        "pod",
        name,
        "-n",
        ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        JSON.stringify({ status: { phase } }),
      ]);
      assertEquals((await getPod(ns, name)).status?.phase, phase);
    }

    agent = await startAgent({ nodeName, providerConfig: { stateFile: `${dir}/pods.json` } });
    await waitForNodeReady(agent);
    // A pod created after start-up runs, so the terminal ones were seen and passed over.
    await apply(ns, podManifest("later", nodeName));
    await waitRunning(ns, "later");

    assertEquals(await runningPods(agent), [`${ns}/later`]);
    for (const [name, phase] of [["done", "Succeeded"], ["failed", "Failed"]]) {
      const pod = await getPod(ns, name);
      assertEquals(pod.status?.phase, phase, `${name} keeps its terminal phase`);
      assertEquals(pod.status?.podIP, undefined, `${name} never got an IP`);
      const reasons = (await events(ns, name)).map((e) => e.reason);
      assertEquals(reasons.filter((r) => r?.startsWith("Provider")), [], `${name}: ${reasons}`);
    }
  } finally {
    await agent?.stop();
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
    await Deno.remove(dir, { recursive: true }).catch(() => undefined);
  }
});

Deno.test("a provider create failure is written to the pod with growing Warning events, and the pod runs once it clears", async () => {
  await withFaultyAgent("create-fault", async (agent, ns, faultFile) => {
    await Deno.writeTextFile(faultFile, "create\n");
    await apply(ns, podManifest("web", agent.nodeName));

    await waitFor("ProviderFailed in the pod status", async () => {
      const pod = await getPod(ns, "web");
      return pod.status?.reason === "ProviderFailed";
    });
    const pending = await getPod(ns, "web");
    assertEquals(pending.status?.phase, "Pending");
    assertStringIncludes(pending.status?.message ?? "", "fault injected");
    assertStringIncludes(pending.status?.message ?? "", "create");
    const first = await waitForEvent(ns, "web", "ProviderCreateFailed");
    assertEquals(first.type, "Warning");
    assertEquals(first.message, pending.status?.message);
    await waitForEvent(
      ns,
      "web",
      "ProviderCreateFailed",
      (e) => (e.count ?? 1) > (first.count ?? 1),
    );
    assert(!(await runningPods(agent)).includes(`${ns}/web`), "the provider does not run it");

    await Deno.remove(faultFile);
    const running = await waitRunning(ns, "web", 60_000);
    assertEquals(running.status?.reason, undefined, "the failure is cleared");
    assertEquals(running.status?.message, undefined);
    assert((await runningPods(agent)).includes(`${ns}/web`));
    await waitForEvent(ns, "web", "ProviderCreateSuccess");
  });
});
