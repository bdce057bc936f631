// The restart bookkeeping on a fake provider and clock: what restartPolicy restarts, the
// kubelet's back-off between restarts, Killing for a liveness failure, and Never.

import assert from "node:assert/strict";
import type { ContainerStatus, Pod } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import { ContainerRestarts } from "../../../lib/pods/container_restarts.ts";
import type { EventRecorder } from "../../../lib/events.ts";
import type { Provider } from "../../../lib/provider.ts";
import { probeSpecOf } from "../../../lib/probes/mod.ts";

function setup() {
  const restarts: string[] = [];
  const events: string[] = [];
  const clock = { now: 1_000_000 };
  const stop = new AbortController();
  const provider = {
    name: "fake",
    restartContainer: (ref: { container: string }, options: { reason: string }) => {
      restarts.push(`${ref.container}: ${options.reason}`);
      return Promise.resolve();
    },
  } as unknown as Provider;
  const recorder = {
    record: (_pod: unknown, type: string, reason: string, message: string) =>
      events.push(`${type} ${reason}: ${message}`),
  } as unknown as EventRecorder;
  const subject = new ContainerRestarts({
    provider,
    events: recorder,
    log: getLogger(["test"]),
    resync: () => {},
    signal: stop.signal,
    now: () => clock.now,
  });
  return { subject, restarts, events, clock, stop };
}

function pod(restartPolicy: string): Pod {
  return {
    metadata: { namespace: "ns", name: "web", uid: "u1" },
    spec: { restartPolicy, containers: [{ name: "app" }] },
  };
}

function exited(exitCode: number, restartCount: number): ContainerStatus {
  return {
    name: "app",
    image: "x",
    imageID: "x",
    ready: false,
    restartCount,
    state: {
      terminated: {
        exitCode,
        startedAt: "2026-01-01T00:00:00Z",
        finishedAt: "2026-01-01T00:00:01Z",
      },
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("restarts: OnFailure restarts a failure at once, then waits 10 s, then 20 s", async () => {
  const { subject, restarts, clock, stop } = setup();
  const web = pod("OnFailure");
  subject.apply(web, [exited(0, 0)]);
  assert.deepEqual(restarts, [], "exit 0 is done under OnFailure");
  subject.apply(web, [exited(1, 0)]);
  await settle();
  assert.deepEqual(restarts, ["app: restart policy OnFailure"]);
  subject.apply(web, [exited(1, 1)]);
  await settle();
  assert.equal(restarts.length, 1, "in back-off");
  assert.deepEqual(subject.backOff(web, exited(1, 1)), { delaySeconds: 10 });
  clock.now += 10_000;
  subject.apply(web, [exited(1, 1)]);
  await settle();
  assert.equal(restarts.length, 2);
  subject.apply(web, [exited(1, 2)]);
  assert.deepEqual(subject.backOff(web, exited(1, 2)), { delaySeconds: 20 });
  stop.abort();
});

Deno.test("restarts: Never leaves an ended container; a liveness failure under Never ends it for good", async () => {
  const { subject, restarts, events, stop } = setup();
  const web = pod("Never");
  subject.apply(web, [exited(1, 0)]);
  await settle();
  assert.deepEqual(restarts, []);
  const spec = probeSpecOf(
    { name: "app", livenessProbe: { exec: { command: ["x"] } } },
    "liveness",
  )!;
  subject.unhealthy(
    { pod: web, container: "app", kind: "liveness", spec, message: "no" },
    undefined,
  );
  assert.deepEqual(events, [
    "Normal Killing: Container app failed liveness probe, will be restarted",
  ]);
  assert.equal(subject.ended(web, "app")?.exitCode, 137);
  assert.deepEqual(restarts, []);
  stop.abort();
});

Deno.test("restarts: a liveness failure under Always restarts at once with Killing", async () => {
  const { subject, restarts, events, stop } = setup();
  const spec = probeSpecOf(
    { name: "app", livenessProbe: { exec: { command: ["x"] } } },
    "liveness",
  )!;
  subject.unhealthy(
    { pod: pod("Always"), container: "app", kind: "liveness", spec, message: "no" },
    undefined,
  );
  await settle();
  assert.deepEqual(restarts, ["app: failed liveness probe"]);
  assert.equal(events.length, 1);
  stop.abort();
});
