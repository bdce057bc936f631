/**
 * `kubectl exec` and `kubectl port-forward` through the API server reach the agent's kubelet
 * API as connection upgrades (SPDY/3.1 on the API server → kubelet leg, whether kubectl
 * itself speaks WebSocket or SPDY). Until the streaming protocols exist they end at once
 * with an error that says what is missing, instead of hanging; `kubectl logs` keeps working.
 */

import { assert, assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import { cluster, freshNamespace, kubectl, kubectlResult } from "../_harness/cluster.ts";
import { startAgent, uniqueNodeName, waitForNodeReady } from "../_harness/agent.ts";
import { runOnNode } from "../_harness/pods.ts";

/** What a kubectl run printed and how it ended. */
interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs kubectl with extra environment, killed after `timeoutMs` (exit code then non-zero). */
async function kubectlTimed(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Outcome> {
  const c = await cluster();
  const started = Date.now();
  const output = await new Deno.Command("kubectl", {
    args,
    env: { KUBECONFIG: c.kubeconfig, ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    ms: Date.now() - started,
  };
}

function assertPromptFailure(outcome: Outcome, expected: string, what: string): void {
  assertEquals(outcome.code, 1, `${what}: exit code (stderr: ${outcome.stderr.trim()})`);
  assertStringIncludes(outcome.stderr, expected, `${what}: message`);
  assert(outcome.ms < 15_000, `${what} ended after ${outcome.ms} ms: expected it not to hang`);
}

Deno.test("kubectl exec and port-forward end at once saying the provider lacks exec; logs still work", async () => {
  const nodeName = uniqueNodeName("vk-stream");
  const agent = await startAgent({ nodeName });
  try {
    await waitForNodeReady(agent);
    const ns = await freshNamespace("stream");
    await runOnNode(ns, "web", nodeName);

    // kubectl's default (WebSocket, translated to SPDY by the API server) and plain SPDY.
    for (const websockets of ["true", "false"]) {
      const exec = await kubectlTimed(["exec", "web", "-n", ns, "--", "ls", "/"], {
        env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: websockets },
      });
      assertPromptFailure(
        exec,
        'provider "mock" does not implement ExecInContainer: /exec is not available',
        `kubectl exec (websockets=${websockets})`,
      );
      assertEquals(exec.stdout, "");

      const forward = await kubectlTimed(["port-forward", "-n", ns, "pod/web", ":80"], {
        env: { KUBECTL_PORT_FORWARD_WEBSOCKETS: websockets },
      });
      assertPromptFailure(
        forward,
        'provider "mock" does not implement ExecInContainer: /portForward is not available',
        `kubectl port-forward (websockets=${websockets})`,
      );
    }

    const attach = await kubectlTimed(["attach", "web", "-n", ns]);
    assertPromptFailure(
      attach,
      'provider "mock" does not implement ExecInContainer: /attach is not available',
      "kubectl attach",
    );

    const logs = await kubectl(["logs", "web", "-n", ns]);
    assertStringIncludes(logs, "started from image nginx:1.27");
  } finally {
    await agent.stop();
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
  }
});
