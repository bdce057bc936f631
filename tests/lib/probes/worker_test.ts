// The prober worker's rules, one tick at a time: thresholds, the initial delay, the startup
// gate, a new run resetting the result, and an unsupported probe never passing.

import assert from "node:assert/strict";
import type { ContainerStatus } from "kubernetes-types/core/v1.d.ts";
import {
  type AttemptResult,
  type ProbeKind,
  type ProbeResult,
  probeSpecOf,
  ProbeWorker,
} from "../../../lib/probes/mod.ts";

const signal = new AbortController().signal;

function harness(kind: ProbeKind, probe: Record<string, number> = {}) {
  const spec = probeSpecOf({
    name: "app",
    [`${kind}Probe`]: { exec: { command: ["check"] }, ...probe },
  }, kind)!;
  const state = {
    now: 100_000,
    started: true,
    outcomes: [] as AttemptResult[],
    changes: [] as ProbeResult[],
    reports: [] as string[],
    unhealthy: 0,
    status: {
      name: "app",
      image: "x",
      imageID: "x",
      ready: true,
      restartCount: 0,
      containerID: "mock://a/app",
      state: { running: { startedAt: new Date(100_000).toISOString() } },
    } as ContainerStatus,
  };
  const worker = new ProbeWorker(spec, {
    status: () => state.status,
    started: () => state.started,
    paused: () => false,
    attempt: () => Promise.resolve(state.outcomes.shift() ?? { result: "success", message: "" }),
    changed: (result) => state.changes.push(result),
    report: ({ kind, message }) => state.reports.push(`${kind}: ${message}`),
    unhealthy: () => state.unhealthy++,
    now: () => state.now,
  });
  return { worker, state };
}

const fail = (message = "no"): AttemptResult => ({ result: "failure", message });

Deno.test("probe worker: readiness starts failed and passes after successThreshold passes", async () => {
  const { worker, state } = harness("readiness", { successThreshold: 2 });
  assert.equal(worker.result.result, "failure");
  await worker.probeOnce(signal);
  assert.equal(worker.result.result, "failure", "one pass of two");
  await worker.probeOnce(signal);
  assert.equal(worker.result.result, "success");
  state.outcomes.push(fail(), fail(), fail());
  for (let i = 0; i < 2; i++) await worker.probeOnce(signal);
  assert.equal(worker.result.result, "success", "two failures of three");
  await worker.probeOnce(signal);
  assert.equal(worker.result.result, "failure");
  assert.deepEqual(state.reports, ["failed: no", "failed: no", "failed: no"]);
  assert.deepEqual(state.changes, ["success", "failure"]);
});

Deno.test("probe worker: liveness fails after failureThreshold, calls unhealthy once and holds until a new run", async () => {
  const { worker, state } = harness("liveness", { failureThreshold: 2 });
  state.outcomes.push(fail(), fail(), fail(), fail());
  await worker.probeOnce(signal);
  await worker.probeOnce(signal);
  assert.equal(state.unhealthy, 1);
  await worker.probeOnce(signal);
  await worker.probeOnce(signal);
  assert.equal(state.unhealthy, 1, "held while the restart is underway");
  state.status = {
    ...state.status,
    restartCount: 1,
    state: { running: { startedAt: new Date(200_000).toISOString() } },
  };
  assert.equal((await Promise.resolve(worker.probeOnce(signal)), worker.result.result), "success");
});

Deno.test("probe worker: waits initialDelaySeconds from the container's start, and for the startup probe", async () => {
  const { worker, state } = harness("readiness", { initialDelaySeconds: 5 });
  state.now = 103_000;
  await worker.probeOnce(signal);
  assert.equal(worker.result.result, "failure", "still in the initial delay");
  state.now = 106_000;
  state.started = false;
  await worker.probeOnce(signal);
  assert.equal(worker.result.result, "failure", "startup has not passed");
  state.started = true;
  await worker.probeOnce(signal);
  assert.equal(worker.result.result, "success");
});

Deno.test("probe worker: an unsupported probe is reported once and never passes", async () => {
  const { worker, state } = harness("readiness");
  const unsupported: AttemptResult = { result: "error", message: "no route", unsupported: true };
  state.outcomes.push(unsupported, unsupported, unsupported);
  for (let i = 0; i < 3; i++) await worker.probeOnce(signal);
  assert.equal(worker.result.result, "failure");
  assert.deepEqual(state.reports, ["errored: no route"]);
});
