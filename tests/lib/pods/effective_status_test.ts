// The status the agent writes from the provider's report: probe results, back-off and the
// kubelet's phase from restartPolicy, with stable transition times.

import assert from "node:assert/strict";
import type { ContainerStatus, Pod, PodStatus } from "kubernetes-types/core/v1.d.ts";
import {
  effectivePodStatus,
  phaseOf,
  type StatusInputs,
} from "../../../lib/pods/effective_status.ts";

const running = (name: string): ContainerStatus => ({
  name,
  image: "x",
  imageID: "x",
  ready: true,
  started: true,
  restartCount: 0,
  state: { running: { startedAt: "2026-01-01T00:00:00Z" } },
});
const ended = (name: string, exitCode: number): ContainerStatus => ({
  ...running(name),
  ready: false,
  started: false,
  state: { terminated: { exitCode, reason: exitCode === 0 ? "Completed" : "Error" } },
});

function pod(restartPolicy: string, status?: PodStatus): Pod {
  return {
    metadata: { namespace: "ns", name: "web", uid: "u1" },
    spec: { restartPolicy, containers: [{ name: "a" }, { name: "b" }] },
    status,
  };
}

function reported(statuses: ContainerStatus[]): PodStatus {
  return {
    phase: "Running",
    conditions: [
      { type: "Ready", status: "True", lastTransitionTime: "2026-01-01T00:00:00Z" },
      { type: "ContainersReady", status: "True", lastTransitionTime: "2026-01-01T00:00:00Z" },
    ],
    containerStatuses: statuses,
  };
}

const inputs = (over: Partial<StatusInputs> = {}): StatusInputs => ({
  probes: () => ({}),
  backOff: () => undefined,
  ended: () => undefined,
  ownsLifecycle: true,
  now: new Date("2026-01-01T00:05:00Z"),
  ...over,
});

Deno.test("effective status: a failing readiness probe makes the container and the pod not ready", () => {
  const status = effectivePodStatus(
    pod("Always"),
    reported([running("a"), running("b")]),
    inputs({
      probes: (name) => name === "b" ? { ready: false } : {},
    }),
  );
  assert.deepEqual(status.containerStatuses?.map((each) => each.ready), [true, false]);
  const ready = status.conditions?.find((each) => each.type === "Ready");
  assert.deepEqual(ready, {
    type: "Ready",
    status: "False",
    reason: "ContainersNotReady",
    message: "containers with unready status: [b]",
    lastTransitionTime: "2026-01-01T00:05:00Z",
  });
  const again = effectivePodStatus(pod("Always", status), reported([running("a"), running("b")]), {
    ...inputs({ probes: (name) => name === "b" ? { ready: false } : {} }),
    now: new Date("2026-01-01T00:09:00Z"),
  });
  assert.deepEqual(again, status, "unchanged inputs give an unchanged status (no write)");
});

Deno.test("effective status: a startup probe not yet passed leaves the container not started", () => {
  const status = effectivePodStatus(
    pod("Always"),
    reported([running("a"), running("b")]),
    inputs({
      probes: (name) => name === "a" ? { started: false, ready: true } : {},
    }),
  );
  assert.deepEqual(status.containerStatuses?.map((each) => [each.started, each.ready]), [
    [false, false],
    [true, true],
  ]);
});

Deno.test("effective status: the phase follows restartPolicy as the kubelet's getPhase", () => {
  const done = [ended("a", 0), ended("b", 0)];
  const oneFailed = [ended("a", 0), ended("b", 1)];
  assert.equal(phaseOf(pod("Never"), done), "Succeeded");
  assert.equal(phaseOf(pod("Never"), oneFailed), "Failed");
  assert.equal(phaseOf(pod("OnFailure"), done), "Succeeded");
  assert.equal(phaseOf(pod("OnFailure"), oneFailed), "Running");
  assert.equal(phaseOf(pod("Always"), done), "Running");
  assert.equal(phaseOf(pod("Never"), [running("a"), ended("b", 1)]), "Running");
  const status = effectivePodStatus(pod("Never"), reported(done), inputs());
  assert.equal(status.phase, "Succeeded");
  assert.deepEqual(
    status.conditions?.map((each) => [each.type, each.status, each.reason]),
    [["Ready", "False", "PodCompleted"], ["ContainersReady", "False", "PodCompleted"]],
  );
});

Deno.test("effective status: a VM-Pod's stopped VM keeps its phase; back-off shows CrashLoopBackOff", () => {
  const vm = effectivePodStatus(
    pod("Always"),
    reported([ended("a", 0), ended("b", 0)]),
    inputs({
      ownsLifecycle: false,
    }),
  );
  assert.equal(vm.phase, "Running");
  const backing = effectivePodStatus(
    pod("Always"),
    reported([ended("a", 1), running("b")]),
    inputs({
      backOff: (status) => status.name === "a" ? { delaySeconds: 20 } : undefined,
    }),
  );
  const a = backing.containerStatuses?.[0];
  assert.equal(a?.state?.waiting?.reason, "CrashLoopBackOff");
  assert.equal(
    a?.state?.waiting?.message,
    "back-off 20s restarting failed container=a pod=web_ns(u1)",
  );
  assert.equal(a?.lastState?.terminated?.exitCode, 1);
  assert.equal(backing.phase, "Running");
});

Deno.test("effective status: restartCount never goes below what the API object shows", () => {
  const api: PodStatus = { containerStatuses: [{ ...running("a"), restartCount: 4 }] };
  const status = effectivePodStatus(pod("Always", api), reported([running("a")]), inputs());
  assert.equal(status.containerStatuses?.[0].restartCount, 4);
});
