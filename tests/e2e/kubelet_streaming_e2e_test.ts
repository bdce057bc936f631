/**
 * `kubectl exec`, `attach` and `port-forward` with the real kubectl through the real API
 * server to the agent's kubelet API (mock provider): SPDY/3.1 on the API server → kubelet
 * leg (kubectl's WebSocket translated by the API server, or kubectl's own SPDY), kubectl's
 * WebSocket passed through when the node declares `ExtendWebSocketsToKubelet`, a v4
 * WebSocket client through the API server, authorization, and the idle timeout.
 */

import { Buffer } from "node:buffer";
// @ts-types="@types/ws"
import WebSocket from "ws";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../_harness/assert.ts";
import {
  cluster,
  freshNamespace,
  kubectl,
  kubectlJson,
  kubectlResult,
} from "../_harness/cluster.ts";
import {
  type AgentProcess,
  startAgent,
  uniqueNodeName,
  waitForNodeReady,
} from "../_harness/agent.ts";
import { apply, podManifest, waitRunning } from "../_harness/pods.ts";
import {
  echoRoundTrip,
  kubectlRun,
  patternBytes,
  rawUpgrade,
  startPortForward,
} from "../_harness/streaming.ts";

const MiB = 1024 * 1024;
const decoder = new TextDecoder();

/** An agent (mock provider, 1 s heartbeats) with pod `web`: container app, ports 80 and 8080. */
async function agentWithPod(
  prefix: string,
  extraArgs: string[] = [],
): Promise<{ agent: AgentProcess; ns: string; cleanup: () => Promise<void> }> {
  const nodeName = uniqueNodeName(prefix);
  const agent = await startAgent({
    nodeName,
    providerConfig: { logHeartbeatSeconds: 1 },
    extraArgs,
  });
  try {
    await waitForNodeReady(agent);
    const ns = await freshNamespace(prefix);
    const pod: Pod = podManifest("web", nodeName, {
      containers: [{
        name: "app",
        image: "nginx:1.27",
        stdin: true,
        env: [{ name: "GREETING", value: "hello" }],
        ports: [{ containerPort: 80 }, { containerPort: 8080 }],
      }],
    });
    await apply(ns, pod);
    await waitRunning(ns, "web");
    return {
      agent,
      ns,
      async cleanup() {
        await agent.stop();
        await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
      },
    };
  } catch (error) {
    await agent.stop();
    throw error;
  }
}

/** How many sessions of each kind the agent logged (`SPDY/3.1 session`, `WebSocket, …`). */
async function sessionsLogged(agent: AgentProcess, pattern: RegExp): Promise<number> {
  return (await agent.output()).split("\n").filter((line) => pattern.test(line)).length;
}

async function assertExecWorks(ns: string, env: Record<string, string>, what: string) {
  const echo = await kubectlRun(["exec", "-n", ns, "web", "--", "echo", "hi"], { env });
  assertEquals([echo.code, decoder.decode(echo.stdout)], [0, "hi\n"], `${what}: ${echo.stderr}`);
  const exit = await kubectlRun(["exec", "-n", ns, "web", "--", "sh", "-c", "exit 3"], { env });
  assertEquals(exit.code, 3, `${what}: exit code (${exit.stderr})`);
  assertStringIncludes(exit.stderr, "command terminated with exit code 3");
  const input = patternBytes(MiB, 7);
  const cat = await kubectlRun(["exec", "-i", "-n", ns, "web", "--", "cat"], { env, stdin: input });
  assertEquals(cat.code, 0, `${what}: cat (${cat.stderr})`);
  assertEquals(cat.stdout.length, MiB, `${what}: bytes back`);
  assert(Buffer.from(cat.stdout).equals(Buffer.from(input)), `${what}: byte-exact`);
}

Deno.test("kubectl exec: echo, exit 3 and 1 MiB through cat over SPDY, whether kubectl speaks WebSocket or SPDY", async () => {
  const { agent, ns, cleanup } = await agentWithPod("vk-exec");
  try {
    for (const websockets of ["true", "false"]) {
      await assertExecWorks(
        ns,
        { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: websockets },
        `websockets=${websockets}`,
      );
    }
    assertEquals(await sessionsLogged(agent, /exec .*WebSocket/), 0, "no WebSocket reached it");
    assert(await sessionsLogged(agent, /SPDY\/3\.1 session, protocol "v4\.channel\.k8s\.io"/) >= 6);
    const env = await kubectlRun(["exec", "-n", ns, "web", "--", "env"]);
    assertStringIncludes(decoder.decode(env.stdout), "GREETING=hello\n");
    const missing = await kubectlRun(["exec", "-n", ns, "web", "--", "tar", "cf", "-", "/"]);
    assertEquals(missing.code, 127);
    assertStringIncludes(missing.stderr, "mock: tar: command not found");
  } finally {
    await cleanup();
  }
});

Deno.test("kubectl exec -it under tmux: a terminal whose resizes reach the command; kubectl attach", async () => {
  const { ns, cleanup } = await agentWithPod("vk-tty");
  const c = await cluster();
  const socket = `vkedge-${crypto.randomUUID().slice(0, 8)}`;
  const tmux = (...args: string[]) =>
    new Deno.Command("tmux", { args: ["-L", socket, ...args], stdout: "piped", stderr: "piped" })
      .output();
  const screen = async () => decoder.decode((await tmux("capture-pane", "-p", "-t", "t")).stdout);
  try {
    await tmux(
      "new-session",
      "-d",
      "-s",
      "t",
      "-x",
      "120",
      "-y",
      "40",
      "-e",
      `KUBECONFIG=${c.kubeconfig}`,
      `kubectl exec -it -n ${ns} web -- sh; echo kubectl-exit=$?; sleep 60`,
    );
    // As long as kubectlRun's limit: kubectl's start and its first request can take seconds
    // on a loaded machine.
    const waitScreen = async (pattern: RegExp, retype?: string) => {
      const deadline = Date.now() + 60_000;
      while (!pattern.test(await screen())) {
        if (Date.now() > deadline) {
          throw new Error(`expected ${pattern} on the terminal, found:\n${await screen()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, retype ? 1000 : 200));
        if (retype) await tmux("send-keys", "-t", "t", retype, "Enter");
      }
    };
    await waitScreen(/^\$ ?$/m);
    await tmux("send-keys", "-t", "t", "stty size", "Enter");
    await waitScreen(/^40 120$/m);
    await tmux("resize-window", "-t", "t", "-x", "100", "-y", "30");
    // kubectl sends the new size on its resize stream and the typed line on stdin, two
    // streams with no order between them (as with any kubelet): ask again until it arrived.
    await tmux("send-keys", "-t", "t", "stty size", "Enter");
    await waitScreen(/^30 100$/m, "stty size");
    await tmux("send-keys", "-t", "t", "echo $TERM; exit 4", "Enter");
    await waitScreen(/kubectl-exit=4/);
    assertMatch(await screen(), /^xterm$/m);
  } finally {
    await tmux("kill-server");
  }
  try {
    const attach = await kubectlRun(["attach", "-i", "-n", ns, "web"], {
      stdin: new TextEncoder().encode("typed into the container\n"),
      timeoutMs: 4_000,
    });
    const seen = decoder.decode(attach.stdout);
    assertStringIncludes(seen, "typed into the container\n", `attach output: ${attach.stderr}`);
    assertMatch(seen, /mock: container app of pod .*\/web heartbeat \d+/);
  } finally {
    await cleanup();
  }
});

async function assertPortForward(ns: string, env: Record<string, string>, what: string) {
  const forward = await startPortForward(ns, "web", [80, 8080], { env });
  try {
    const trips = await Promise.all(
      Array.from(
        { length: 20 },
        (_, index) => echoRoundTrip(forward.localPorts[index % 2], patternBytes(10 * MiB, index)),
      ),
    );
    for (const [index, trip] of trips.entries()) {
      assert(trip.exact, `${what}: connection ${index}: ${trip.received} of ${trip.sent} bytes`);
    }
  } finally {
    await forward.stop();
  }
}

Deno.test("kubectl port-forward: two ports, 20 concurrent connections, 10 MiB each way byte-exact, WebSocket or SPDY kubectl", async () => {
  const { ns, cleanup } = await agentWithPod("vk-pf");
  try {
    for (const websockets of ["true", "false"]) {
      await assertPortForward(
        ns,
        { KUBECTL_PORT_FORWARD_WEBSOCKETS: websockets },
        `websockets=${websockets}`,
      );
    }
    const forward = await startPortForward(ns, "web", [81]);
    try {
      const refused = await echoRoundTrip(forward.localPorts[0], new Uint8Array(10));
      assertEquals(refused.received, 0);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assertStringIncludes(
        forward.output(),
        "does not listen on port 81 (the mock echoes on its declared containerPorts: 80, 8080)",
      );
    } finally {
      await forward.stop();
    }
  } finally {
    await cleanup();
  }
});

Deno.test("--extend-websockets-to-kubelet: the Node declares it and kubectl's WebSocket exec and port-forward tunnel reach the agent", async () => {
  const { agent, ns, cleanup } = await agentWithPod("vk-ws", ["--extend-websockets-to-kubelet"]);
  try {
    const node = await kubectlJson<{ status: { declaredFeatures?: string[] } }>([
      "get",
      "node",
      agent.nodeName,
    ]);
    assertEquals(node.status.declaredFeatures, ["ExtendWebSocketsToKubelet"]);
    await assertExecWorks(ns, {}, "v5 WebSocket");
    assertEquals(
      await sessionsLogged(agent, /exec .*WebSocket, protocol "v5\.channel\.k8s\.io"/),
      3,
      "kubectl's v5 WebSocket reached the agent",
    );
    await assertPortForward(ns, {}, "tunnel");
    assert(await sessionsLogged(agent, /port-forward .*WebSocket tunnel of a SPDY session/) >= 1);
    // kubectl's SPDY still works next to it.
    await assertExecWorks(ns, { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: "false" }, "SPDY");
  } finally {
    await cleanup();
  }
});

Deno.test("a v4.channel.k8s.io WebSocket client through the API server reaches the agent unchanged", async () => {
  const { agent, ns, cleanup } = await agentWithPod("vk-v4");
  const c = await cluster();
  try {
    const query = "command=sh&command=-c&command=echo%20$GREETING%3B%20exit%205&stdout=true";
    const ws = new WebSocket(
      `${c.server.replace(/^https/, "wss")}/api/v1/namespaces/${ns}/pods/web/exec?${query}`,
      ["v4.channel.k8s.io"],
      {
        ca: await Deno.readTextFile(c.caFile),
        cert: await Deno.readTextFile(`${c.dir}/pki/admin.crt`),
        key: await Deno.readTextFile(`${c.dir}/pki/admin.key`),
      },
    );
    const channels = new Map<number, string>();
    ws.on("message", (data: Buffer) => {
      channels.set(data[0], (channels.get(data[0]) ?? "") + data.subarray(1).toString());
    });
    const code = await new Promise<number>((resolve, reject) => {
      ws.once("close", (closeCode: number) => resolve(closeCode));
      ws.once("error", reject);
    });
    assertEquals(ws.protocol, "v4.channel.k8s.io");
    assertEquals(code, 1000);
    assertEquals(channels.get(1), "hello\n");
    const status = JSON.parse(channels.get(3) ?? "{}");
    assertEquals(status.reason, "NonZeroExitCode");
    assertEquals(status.details.causes, [{ reason: "ExitCode", message: "5" }]);
    assertEquals(await sessionsLogged(agent, /WebSocket, protocol "v4\.channel\.k8s\.io"/), 1);
  } finally {
    await cleanup();
  }
});

Deno.test("authorization: a user without nodes/proxy gets 403 from the agent, an anonymous caller 401", async () => {
  const { agent, ns, cleanup } = await agentWithPod("vk-authz");
  try {
    await kubectl(["create", "serviceaccount", "nobody", "-n", ns]);
    const token = (await kubectl(["create", "token", "nobody", "-n", ns])).trim();
    const path = `/exec/${ns}/web/app?command=echo&command=hi&output=1`;
    const forbidden = await rawUpgrade(agent.kubeletPort, path, { token });
    assertEquals(forbidden.status, 403);
    const status = JSON.parse(forbidden.body);
    assertEquals(status.reason, "Forbidden");
    assertStringIncludes(
      status.message,
      `Forbidden (user=system:serviceaccount:${ns}:nobody, verb=create, resource=nodes, subresource=proxy)`,
    );
    const anonymous = await rawUpgrade(agent.kubeletPort, path);
    assertEquals(anonymous.status, 401);
    const forward = await rawUpgrade(agent.kubeletPort, `/portForward/${ns}/web`, { token });
    assertEquals(forward.status, 403);
    // Through the API server the same user is stopped there already, by RBAC on pods/exec.
    const c = await cluster();
    const viaApi = await kubectlRun([
      `--server=${c.server}`,
      `--certificate-authority=${c.caFile}`,
      `--token=${token}`,
      "exec",
      "-n",
      ns,
      "web",
      "--",
      "echo",
      "hi",
    ], { env: { KUBECONFIG: "/dev/null" } });
    assertEquals(viaApi.code, 1);
    assertMatch(viaApi.stderr, /is forbidden: User "system:serviceaccount:.*:nobody" cannot/);
  } finally {
    await cleanup();
  }
});

Deno.test("--stream-idle-timeout: a silent exec session and an idle port-forward are closed", async () => {
  const { ns, cleanup } = await agentWithPod("vk-idle", ["--stream-idle-timeout=3s"]);
  try {
    for (const websockets of ["false", "true"]) {
      const child = new Deno.Command("kubectl", {
        args: ["exec", "-i", "-n", ns, "web", "--", "cat"],
        env: {
          KUBECONFIG: (await cluster()).kubeconfig,
          KUBECTL_REMOTE_COMMAND_WEBSOCKETS: websockets,
        },
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(30_000),
      }).spawn();
      const started = Date.now();
      // stdin stays open and silent.
      const output = await child.output();
      const ms = Date.now() - started;
      assert(ms >= 2_500 && ms < 10_000, `websockets=${websockets}: closed after ${ms} ms`);
      assertEquals(output.code, 1);
      assertStringIncludes(decoder.decode(output.stderr), "stream idle timeout: no data for 3s");
      await child.stdin.close().catch(() => {});
    }
    const forward = await startPortForward(ns, "web", [80]);
    const started = Date.now();
    const code = await Promise.race([
      forward.exited,
      new Promise<number>((resolve) => setTimeout(() => resolve(-1), 15_000)),
    ]);
    await forward.stop();
    assert(code !== -1, "kubectl port-forward kept running past the idle timeout");
    assert(Date.now() - started < 12_000);
    assertStringIncludes(forward.output(), "lost connection to pod");
  } finally {
    await cleanup();
  }
});
