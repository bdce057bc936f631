/**
 * Benchmark: the limit the agent works against. The writes a pod start costs the agent
 * (one strategic-merge patch of `pods/<name>/status` to Running, one Event), made for 1000
 * pods by a client with no rate limit, with as many requests in flight as the agent's
 * status workers (50) or one at a time, on the same control plane in the same `make bench`
 * run as `bench/pod_scale.ts`. No agent runs meanwhile: the pods are bound to a node name
 * nobody serves.
 *
 *   deno run -A bench/api_limit.ts [--pods=1000] [--parallel=50]
 *
 * Prints one Markdown table; the README keeps the figures.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { Event, Pod, PodStatus } from "kubernetes-types/core/v1.d.ts";
import { EVENTS, formatTime, PODS } from "../lib/kube/mod.ts";
import { freshNamespace } from "../tests/_harness/cluster.ts";
import { boundPod, cleanUp, inParallel, unlimitedClient } from "./_scale.ts";
import { seconds } from "./_common.ts";

const { values } = parseArgs({
  options: {
    pods: { type: "string", default: "1000" },
    parallel: { type: "string", default: "50" },
  },
});
const count = Number(values.pods);
const parallel = Number(values.parallel);

/** A Running status like the one the mock provider reports for a new pod. */
function runningStatus(index: number): PodStatus {
  const now = formatTime(new Date());
  const ip = `10.${Math.floor(index / 65536) % 256}.${Math.floor(index / 256) % 256}.${
    index % 256
  }`;
  const condition = (type: string) => ({ type, status: "True", lastTransitionTime: now });
  return {
    phase: "Running",
    conditions: [
      condition("PodReadyToStartContainers"),
      condition("Initialized"),
      condition("Ready"),
      condition("ContainersReady"),
      condition("PodScheduled"),
    ],
    hostIP: "127.0.0.1",
    hostIPs: [{ ip: "127.0.0.1" }],
    podIP: ip,
    podIPs: [{ ip }],
    startTime: now,
    qosClass: "BestEffort",
    containerStatuses: [{
      name: "app",
      image: "nginx:1.27",
      imageID: "sha256:0000000000000000000000000000000000000000000000000000000000000000",
      containerID: `mock://limit/${index}`,
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: now } },
    }],
  };
}

function event(pod: Pod, namespace: string, index: number): Event {
  const now = formatTime(new Date());
  return {
    metadata: { name: `${pod.metadata!.name}.limit${index.toString(16)}`, namespace },
    involvedObject: {
      apiVersion: "v1",
      kind: "Pod",
      name: pod.metadata!.name,
      namespace,
      uid: pod.metadata!.uid,
    },
    type: "Normal",
    reason: "ProviderCreateSuccess",
    message: "Create pod in provider successfully",
    source: { component: "vkedge", host: "limit" },
    reportingComponent: "vkedge",
    reportingInstance: "limit",
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}

const kube = await unlimitedClient();
const rows: string[] = [];
try {
  for (const inFlight of [parallel, 1]) {
    const namespace = await freshNamespace(`limit-${inFlight}`);
    const nodeName = `limit-${Date.now().toString(36)}`;
    const created: Pod[] = [];
    await inParallel(
      Array.from({ length: count }, (_, i) => boundPod(`p${i}`, nodeName)),
      parallel,
      async (pod) => void created.push(await kube.resource<Pod>(PODS, namespace).create(pod)),
    );
    const indexed = created.map((pod, index) => ({ pod, index }));
    const patchStart = performance.now();
    await inParallel(indexed, inFlight, async ({ pod, index }) => {
      await kube.resource<Pod>(PODS, namespace).patchStatus(
        pod.metadata!.name!,
        { status: runningStatus(index) },
        { type: "strategic" },
      );
    });
    const patchMs = performance.now() - patchStart;
    const eventStart = performance.now();
    await inParallel(indexed, inFlight, async ({ pod, index }) => {
      await kube.resource<Event>(EVENTS, namespace).create(event(pod, namespace, index));
    });
    const eventMs = performance.now() - eventStart;
    rows.push(
      `| ${inFlight} | ${seconds(patchMs)} (${(count / patchMs * 1000).toFixed(0)}/s) | ${
        seconds(eventMs)
      } (${(count / eventMs * 1000).toFixed(0)}/s) | ${seconds(patchMs + eventMs)} |`,
    );
    await cleanUp(kube, namespace, nodeName);
  }
} finally {
  kube.close();
}
console.log(
  `\nthe limit: ${count} status patches to Running, then ${count} events, by a client with no rate limit\n`,
);
console.log("| requests in flight | status patches | events | both |");
console.log("| --- | --- | --- | --- |");
for (const row of rows) console.log(row);
