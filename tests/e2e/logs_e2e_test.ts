/**
 * `kubectl logs` through the API server reaches the agent's kubelet API and
 * returns the provider's log lines, with --tail and -f.
 */

import { assert, assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import { cluster, freshNamespace, kubectl, kubectlResult } from "../_harness/cluster.ts";
import { startAgent, uniqueNodeName, waitForNodeReady } from "../_harness/agent.ts";
import { runOnNode } from "../_harness/pods.ts";

Deno.test("kubectl logs returns the mock's lines, honours --tail, and -f streams new lines", async () => {
  const nodeName = uniqueNodeName("vk-logs");
  const agent = await startAgent({ nodeName, providerConfig: { logHeartbeatSeconds: 1 } });
  try {
    await waitForNodeReady(agent);
    const ns = await freshNamespace("logs");
    await runOnNode(ns, "web", nodeName);
    const all = await kubectl(["logs", "web", "-n", ns]);
    assertStringIncludes(all, "started from image nginx:1.27");

    // Let a few heartbeat lines accumulate, then ask for the last one only.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const tail = (await kubectl(["logs", "web", "-n", ns, "--tail=1"])).trimEnd().split("\n");
    assertEquals(tail.length, 1);

    const c = await cluster();
    const follow = new Deno.Command("kubectl", {
      args: ["logs", "-f", "web", "-n", ns, "--tail=0"],
      env: { KUBECONFIG: c.kubeconfig },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = follow.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let streamed = "";
    const deadline = Date.now() + 10_000;
    while (streamed.split("\n").filter((l) => l.trim()).length < 2 && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      streamed += value;
    }
    follow.kill("SIGTERM");
    await reader.cancel().catch(() => undefined);
    await follow.status;
    await follow.stderr.cancel().catch(() => undefined);
    const lines = streamed.split("\n").filter((l) => l.trim());
    assert(lines.length >= 2, `expected streamed lines, got ${JSON.stringify(streamed)}`);
  } finally {
    await agent.stop();
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
  }
});
