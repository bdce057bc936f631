/**
 * Probes, restarts and Jobs on the mock provider, as a user sees them through kubectl
 * against the real control plane: readiness keeps a Deployment out of its Service until
 * its endpoint is flipped (annotation `mock.vkedge.io/http-status`), a liveness failure
 * restarts the container with the kubelet's events, a startup probe holds readiness, Jobs
 * complete or fail as Kubernetes says, and OnFailure restarts back off.
 */

import type { Event, Pod } from "kubernetes-types/core/v1.d.ts";
import type { Deployment } from "kubernetes-types/apps/v1.d.ts";
import type { Job } from "kubernetes-types/batch/v1.d.ts";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.d.ts";
import { assert, assertEquals, assertMatch } from "../_harness/assert.ts";
import {
  freshNamespace,
  kubectl,
  kubectlJson,
  kubectlResult,
  waitFor,
} from "../_harness/cluster.ts";
import {
  type AgentProcess,
  startAgent,
  uniqueNodeName,
  waitForNodeReady,
} from "../_harness/agent.ts";
import { apply, getPod, podEvents, podSpec, waitForEvent } from "../_harness/pods.ts";

async function withAgent(prefix: string, body: (agent: AgentProcess, ns: string) => Promise<void>) {
  const nodeName = uniqueNodeName(prefix);
  const agent = await startAgent({ nodeName });
  try {
    await waitForNodeReady(agent);
    const ns = await freshNamespace(prefix);
    await body(agent, ns);
  } finally {
    await agent.stop();
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
  }
}

function ready(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
}

async function podsOf(ns: string, selector: string): Promise<Pod[]> {
  return (await kubectlJson<{ items: Pod[] }>(["get", "pods", "-n", ns, "-l", selector])).items;
}

Deno.test("a Deployment with a failing readiness probe stays out of its Service until its endpoint is flipped", async () => {
  await withAgent("probe-ready", async (agent, ns) => {
    const deployment: Deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: {
            labels: { app: "web" },
            annotations: { "mock.vkedge.io/http-status": "503" },
          },
          spec: podSpec(agent.nodeName, {
            containers: [{
              name: "web",
              image: "nginx:1.27",
              ports: [{ name: "http", containerPort: 8080 }],
              readinessProbe: { httpGet: { path: "/ready", port: "http" }, periodSeconds: 1 },
            }],
          }),
        },
      },
    };
    await apply(ns, deployment);
    await apply(ns, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web" },
      spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: "http" }] },
    });
    await waitFor("2 Running pods", async () => {
      const pods = await podsOf(ns, "app=web");
      return pods.length === 2 && pods.every((pod) => pod.status?.phase === "Running");
    }, { timeoutMs: 30_000 });
    const [first] = await podsOf(ns, "app=web");
    const unhealthy = await waitForEvent(ns, first.metadata!.name!, "Unhealthy");
    assertEquals(
      unhealthy.message,
      "Readiness probe failed: HTTP probe failed with statuscode: 503",
    );
    // Several periods later: still not Ready, and the Service has no ready endpoint.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    for (const pod of await podsOf(ns, "app=web")) {
      assert(!ready(pod), `${pod.metadata?.name} must not be Ready`);
      const reason = pod.status?.conditions?.find((c) => c.type === "Ready")?.reason;
      assertEquals(reason, "ContainersNotReady");
    }
    const slices = async () =>
      (await kubectlJson<{ items: EndpointSlice[] }>([
        "get",
        "endpointslices",
        "-n",
        ns,
        "-l",
        "kubernetes.io/service-name=web",
      ])).items.flatMap((slice) => slice.endpoints ?? []);
    assert(
      (await slices()).every((endpoint) => endpoint.conditions?.ready !== true),
      "no ready endpoint while the probe fails",
    );
    for (const pod of await podsOf(ns, "app=web")) {
      await kubectl([
        "annotate",
        "pod",
        "-n",
        ns,
        pod.metadata!.name!,
        "mock.vkedge.io/http-status=200",
        "--overwrite",
      ]);
    }
    await waitFor("both pods Ready", async () => (await podsOf(ns, "app=web")).every(ready), {
      timeoutMs: 20_000,
    });
    await waitFor(
      "2 ready endpoints",
      async () =>
        (await slices()).filter((endpoint) => endpoint.conditions?.ready === true).length === 2,
      {
        timeoutMs: 20_000,
      },
    );
    const d = await kubectlJson<Deployment>(["get", "deployment", "web", "-n", ns]);
    await waitFor(
      "the Deployment available",
      async () =>
        (await kubectlJson<Deployment>(["get", "deployment", "web", "-n", ns])).status
          ?.availableReplicas === 2,
      { timeoutMs: 20_000 },
    );
    assert(d.metadata?.name === "web");
  });
});

Deno.test("a failing liveness probe restarts the container: restartCount 1, Unhealthy and Killing events", async () => {
  await withAgent("probe-live", async (agent, ns) => {
    await apply(ns, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "live", annotations: { "mock.vkedge.io/http-status-8080": "500" } },
      spec: podSpec(agent.nodeName, {
        containers: [{
          name: "app",
          image: "nginx:1.27",
          ports: [{ containerPort: 8080 }],
          livenessProbe: {
            httpGet: { path: "/healthz", port: 8080 },
            periodSeconds: 1,
            failureThreshold: 2,
          },
        }],
      }),
    });
    await waitFor(
      "restartCount 1",
      async () =>
        ((await getPod(ns, "live")).status?.containerStatuses?.[0].restartCount ?? 0) >= 1,
      {
        timeoutMs: 30_000,
      },
    );
    const status = (await getPod(ns, "live")).status?.containerStatuses?.[0];
    assertEquals(status?.lastState?.terminated?.exitCode, 137);
    const killing = await waitForEvent(ns, "live", "Killing");
    assertEquals(killing.message, "Container app failed liveness probe, will be restarted");
    const unhealthy = await waitForEvent(ns, "live", "Unhealthy");
    assertEquals(
      unhealthy.message,
      "Liveness probe failed: HTTP probe failed with statuscode: 500",
    );
  });
});

Deno.test("a startup probe holds readiness until it passes", async () => {
  await withAgent("probe-start", async (agent, ns) => {
    await apply(ns, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "slow" },
      spec: podSpec(agent.nodeName, {
        containers: [{
          name: "app",
          image: "busybox",
          command: ["sh", "-c", "sleep 4; touch /tmp/started; sleep infinity"],
          startupProbe: {
            exec: { command: ["cat", "/tmp/started"] },
            periodSeconds: 1,
            failureThreshold: 30,
          },
          readinessProbe: { exec: { command: ["true"] }, periodSeconds: 1 },
        }],
      }),
    });
    const created = Date.now();
    await waitFor("Running", async () => (await getPod(ns, "slow")).status?.phase === "Running");
    const early = (await getPod(ns, "slow")).status?.containerStatuses?.[0];
    assertEquals([early?.started, early?.ready], [false, false]);
    await waitFor("Ready", async () => ready(await getPod(ns, "slow")), { timeoutMs: 20_000 });
    assert(Date.now() - created >= 4_000, "not Ready before the startup probe could pass");
    const later = (await getPod(ns, "slow")).status?.containerStatuses?.[0];
    assertEquals([later?.started, later?.ready, later?.restartCount], [true, true, 0]);
  });
});

async function job(ns: string, name: string, nodeName: string, script: string, backoffLimit = 6) {
  const manifest: Job = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name },
    spec: {
      backoffLimit,
      template: {
        spec: podSpec(nodeName, {
          restartPolicy: "Never",
          containers: [{ name: "task", image: "busybox", command: ["sh", "-c", script] }],
        }),
      },
    },
  };
  await apply(ns, manifest);
}

function jobCondition(j: Job, type: string) {
  return j.status?.conditions?.find((c) => c.type === type && c.status === "True");
}

Deno.test("a Job of sh -c 'sleep 2; exit 0' completes; one of exit 1 with backoffLimit 1 fails", async () => {
  await withAgent("probe-job", async (agent, ns) => {
    await job(ns, "ok", agent.nodeName, "echo working; sleep 2; exit 0");
    await job(ns, "bad", agent.nodeName, "echo failing; exit 1", 1);
    await waitFor(
      "Job ok Complete",
      async () =>
        jobCondition(await kubectlJson<Job>(["get", "job", "ok", "-n", ns]), "Complete") !==
          undefined,
      { timeoutMs: 60_000 },
    );
    const okPod = (await podsOf(ns, "job-name=ok"))[0];
    assertEquals(okPod.status?.phase, "Succeeded");
    assertEquals(okPod.status?.containerStatuses?.[0].state?.terminated?.reason, "Completed");
    const log = await kubectl(["logs", "-n", ns, okPod.metadata!.name!]);
    assertEquals(log, "working\n");
    await waitFor(
      "Job bad Failed",
      async () =>
        jobCondition(await kubectlJson<Job>(["get", "job", "bad", "-n", ns]), "Failed") !==
          undefined,
      { timeoutMs: 90_000 },
    );
    const bad = await kubectlJson<Job>(["get", "job", "bad", "-n", ns]);
    assertEquals(jobCondition(bad, "Failed")?.reason, "BackoffLimitExceeded");
    const badPods = await podsOf(ns, "job-name=bad");
    assertEquals(badPods.length, 2, "the first try and one retry");
    for (const pod of badPods) {
      assertEquals(pod.status?.phase, "Failed");
      assertEquals(pod.status?.containerStatuses?.[0].state?.terminated?.exitCode, 1);
    }
  });
});

Deno.test("restartPolicy OnFailure restarts a failing container with the kubelet's back-off", async () => {
  await withAgent("probe-backoff", async (agent, ns) => {
    await apply(ns, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "crash" },
      spec: podSpec(agent.nodeName, {
        restartPolicy: "OnFailure",
        containers: [{ name: "app", image: "busybox", command: ["sh", "-c", "echo boom; exit 1"] }],
      }),
    });
    const seen: { count: number; at: number }[] = [];
    let backOff: string | undefined;
    await waitFor("restartCount 2", async () => {
      const status = (await getPod(ns, "crash")).status?.containerStatuses?.[0];
      const count = status?.restartCount ?? 0;
      if (seen.at(-1)?.count !== count) seen.push({ count, at: Date.now() });
      if (status?.state?.waiting?.reason === "CrashLoopBackOff") {
        backOff ??= status.state.waiting.message;
      }
      return count >= 2;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    assertMatch(backOff ?? "", /^back-off 10s restarting failed container=app pod=crash_/);
    const first = seen.find((s) => s.count === 1)!;
    const second = seen.find((s) => s.count === 2)!;
    assert(second.at - first.at >= 8_000, `second restart after ${second.at - first.at} ms`);
    const events: Event[] = await podEvents(ns, "crash");
    assert(events.some((e) => e.reason === "BackOff"), "a BackOff event");
    assertEquals((await getPod(ns, "crash")).status?.phase, "Running");
  });
});
