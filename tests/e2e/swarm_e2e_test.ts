/**
 * The agent with `--provider=swarm` against a real dockerd in swarm mode (Debian's
 * docker.io in a network namespace of its own), checked with kubectl and the Engine API:
 * a pod becomes a running task and Running with an IP; env from a ConfigMap and a Secret
 * reaches the process; exit 3 with `Never` is Failed with exit code 3; `OnFailure` counts
 * restarts; `kubectl logs -f` follows and ends with the container; a pod's containers
 * resolve each other; a pod no Swarm node can take says why in its status and an event;
 * `kubectl exec`; delete removes the services.
 */

import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../_harness/assert.ts";
import { cluster, kubectl, kubectlResult, waitFor } from "../_harness/cluster.ts";
import { apply, getPod, podExists, waitForEvent, waitRunning } from "../_harness/pods.ts";
import { BUSYBOX_IMAGE } from "../_harness/swarm.ts";
import { swarmPod, withSwarmNode } from "../_harness/swarm_node.ts";

async function waitPhase(
  ns: string,
  name: string,
  phase: string,
  timeoutMs = 60_000,
): Promise<Pod> {
  await waitFor(
    `pod ${ns}/${name} ${phase}`,
    async () => (await getPod(ns, name)).status?.phase === phase,
    {
      timeoutMs,
      intervalMs: 500,
    },
  );
  return await getPod(ns, name);
}

/** `kubectl logs` once it has at least `lines` lines. */
async function logsOf(
  ns: string,
  name: string,
  lines: number,
  args: string[] = [],
): Promise<string[]> {
  let out: string[] = [];
  await waitFor(`${lines} log lines of ${ns}/${name}`, async () => {
    const result = await kubectlResult(["logs", "-n", ns, name, ...args]);
    out = result.stdout.trimEnd().split("\n").filter((line) => line !== "");
    return result.code === 0 && out.length >= lines;
  }, { timeoutMs: 30_000, intervalMs: 500 });
  return out;
}

Deno.test("swarm: pods as Swarm services on a real dockerd, through kubectl", async (t) => {
  await withSwarmNode("swarm-e2e", async (node) => {
    const { ns, nodeName } = node;
    await node.start();

    await t.step(
      "the node describes the Swarm: capacity from its node, condition, runtime",
      async () => {
        const described = JSON.parse(await kubectl(["get", "node", nodeName, "-o", "json"]));
        assertMatch(described.status.capacity.memory, /^\d+Ki$/);
        assertEquals(described.status.capacity.cpu, String(navigator.hardwareConcurrency));
        const swarmReady = described.status.conditions.find((c: { type: string }) =>
          c.type === "SwarmNodesReady"
        );
        assertEquals(swarmReady?.status, "True");
        assertMatch(described.status.nodeInfo.containerRuntimeVersion, /^docker:\/\/20\.10\./);
      },
    );

    await t.step("a pod becomes a running task and is Running with its IP", async () => {
      await apply(ns, swarmPod("web", nodeName, "echo started; exec sleep 3600"));
      const pod = await waitRunning(ns, "web", 60_000);
      assertMatch(pod.status?.podIP ?? "", /^\d+\.\d+\.\d+\.\d+$/);
      assertEquals(pod.status?.hostIP, "127.0.0.1");
      const tasks = [...(await node.tasks()).values()];
      assert(tasks.includes("running"), `a running task, found ${tasks.join(", ")}`);
      assertEquals(await logsOf(ns, "web", 1), ["started"]);
    });

    await t.step("env from a ConfigMap and a Secret reaches the process", async () => {
      await kubectl(["create", "configmap", "settings", "-n", ns, "--from-literal=COLOR=teal"]);
      await kubectl([
        "create",
        "secret",
        "generic",
        "creds",
        "-n",
        ns,
        "--from-literal=token=t0p-s3cret",
      ]);
      const pod = swarmPod("env", nodeName, 'echo "color=$COLOR token=$TOKEN"; exec sleep 3600');
      pod.spec!.containers[0].env = [
        { name: "COLOR", valueFrom: { configMapKeyRef: { name: "settings", key: "COLOR" } } },
        { name: "TOKEN", valueFrom: { secretKeyRef: { name: "creds", key: "token" } } },
      ];
      await apply(ns, pod);
      await waitRunning(ns, "env", 60_000);
      assertEquals(await logsOf(ns, "env", 1), ["color=teal token=t0p-s3cret"]);
      const agentLog = await node.agent!.output();
      assert(!agentLog.includes("t0p-s3cret"), "the secret value is not in the agent's log");
    });

    await t.step("restartPolicy Never and exit 3: Failed with exit code 3", async () => {
      await apply(ns, swarmPod("exit3", nodeName, "echo bye; exit 3", { restartPolicy: "Never" }));
      const pod = await waitPhase(ns, "exit3", "Failed");
      assertEquals(pod.status?.containerStatuses?.[0].state?.terminated?.exitCode, 3);
    });

    await t.step("restartPolicy OnFailure: the restart count grows", async () => {
      await apply(
        ns,
        swarmPod("crashy", nodeName, "sleep 1; exit 1", { restartPolicy: "OnFailure" }),
      );
      await waitFor("two restarts", async () => {
        const pod = await getPod(ns, "crashy");
        return (pod.status?.containerStatuses?.[0].restartCount ?? 0) >= 2;
      }, { timeoutMs: 60_000, intervalMs: 500 });
      const pod = await getPod(ns, "crashy");
      assertEquals(pod.status?.containerStatuses?.[0].lastState?.terminated?.exitCode, 1);
    });

    await t.step("kubectl logs -f follows new lines and ends with the container", async () => {
      await apply(
        ns,
        swarmPod("ticker", nodeName, "for i in 1 2 3 4 5; do echo tick $i; sleep 1; done", {
          restartPolicy: "Never",
        }),
      );
      await waitFor(
        "ticker started",
        async () => (await getPod(ns, "ticker")).status?.phase !== "Pending",
        {
          timeoutMs: 60_000,
        },
      );
      const c = await cluster();
      const started = Date.now();
      const follow = new Deno.Command("kubectl", {
        args: ["logs", "-f", "-n", ns, "ticker"],
        env: { KUBECONFIG: c.kubeconfig },
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(40_000),
      }).spawn();
      const seen: { line: string; at: number }[] = [];
      let buffered = "";
      for await (const chunk of follow.stdout.pipeThrough(new TextDecoderStream())) {
        buffered += chunk;
        const parts = buffered.split("\n");
        buffered = parts.pop()!;
        for (const line of parts) seen.push({ line, at: Date.now() - started });
      }
      const status = await follow.status;
      assertEquals(status.code, 0, "kubectl logs -f ended by itself");
      assertEquals(seen.map((s) => s.line), ["tick 1", "tick 2", "tick 3", "tick 4", "tick 5"]);
      assert(
        seen.at(-1)!.at - seen[0].at >= 1_500,
        `lines arrived as they were written: ${JSON.stringify(seen)}`,
      );
    });

    await t.step(
      "a pod's containers resolve each other by name and share its hostname",
      async () => {
        const pod = swarmPod("duo", nodeName, "exec sleep 3600");
        pod.spec!.containers.push({
          name: "probe",
          image: BUSYBOX_IMAGE,
          command: [
            "sh",
            "-c",
            "hostname; until nslookup main >/tmp/out 2>&1; do sleep 0.5; done; echo resolved; exec sleep 3600",
          ],
        });
        await apply(ns, pod);
        await waitRunning(ns, "duo", 60_000);
        assertEquals(await logsOf(ns, "duo", 2, ["-c", "probe"]), ["duo", "resolved"]);
      },
    );

    await t.step(
      "a pod no Swarm node can take: Pending, a status that says why, and an event",
      async () => {
        const pod = swarmPod("huge", nodeName, "exec sleep 3600");
        pod.spec!.containers[0].resources = { requests: { memory: "64Ti" } };
        await apply(ns, pod);
        const event = await waitForEvent(ns, "huge", "FailedScheduling", undefined, 60_000);
        assertStringIncludes(event.message ?? "", "no suitable node");
        assertEquals(event.type, "Warning");
        const got = await getPod(ns, "huge");
        assertEquals(got.status?.phase, "Pending");
        assertEquals(got.status?.containerStatuses?.[0].state?.waiting?.reason, "Unschedulable");
        assertStringIncludes(got.status?.message ?? "", "insufficient resources");
      },
    );

    await t.step("kubectl exec -- cat /etc/hostname", async () => {
      const result = await kubectlResult(["exec", "-n", ns, "web", "--", "cat", "/etc/hostname"]);
      assertEquals([result.code, result.stdout], [0, "web\n"], result.stderr);
    });

    await t.step("delete removes the pod's Swarm services", async () => {
      const before = await node.services();
      const web = [...before.keys()].filter((name) => name.includes("-web-main"));
      assertEquals(web.length, 1, [...before.keys()].join(", "));
      await kubectl(["delete", "pod", "web", "-n", ns, "--wait=false"]);
      await waitFor("the pod gone", async () => !(await podExists(ns, "web")), {
        timeoutMs: 60_000,
      });
      assert(!(await node.services()).has(web[0]), "the service was removed");
    });
  });
});
