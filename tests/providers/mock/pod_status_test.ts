import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { parseMockConfig } from "../../../providers/mock/config.ts";
import {
  PodRecords,
  powerOffContainers,
  terminateContainers,
  updateRecord,
} from "../../../providers/mock/pod_records.ts";
import { podStatusOf } from "../../../providers/mock/pod_status.ts";
import { beginTransition, endTransition } from "../../../providers/mock/virtual_machine.ts";

const start = Date.parse("2030-01-01T00:00:00.400Z");
const hostIp = "192.0.2.10";

function makePod(init: boolean, image = "nginx:1.27"): Pod {
  return {
    metadata: { namespace: "default", name: "web", uid: "uid-web" },
    spec: {
      initContainers: init ? [{ name: "setup", image: "busybox" }] : [],
      containers: [{
        name: "app",
        image,
        resources: { limits: { cpu: "1", memory: "1Gi" } },
      }],
    },
  };
}

async function recordOf(init = true) {
  return await new PodRecords(parseMockConfig({}).podCidr).create(makePod(init), start);
}

Deno.test("a running pod's status: Running, IPs, true conditions, a running app container", async () => {
  const record = await recordOf();
  const status = podStatusOf(record, { hostIp });
  assert.equal(status.phase, "Running");
  assert.equal(status.reason, undefined);
  assert.equal(status.hostIP, hostIp);
  assert.deepEqual(status.hostIPs, [{ ip: hostIp }]);
  assert.match(status.podIP ?? "", /^10\.233\.\d+\.\d+$/);
  assert.deepEqual(status.podIPs, [{ ip: status.podIP }]);
  assert.equal(status.startTime, "2030-01-01T00:00:00Z");
  assert.equal(status.qosClass, "Burstable", "the init container has no limits");
  for (const condition of status.conditions ?? []) {
    assert.equal(condition.status, "True", condition.type);
    assert.equal(condition.lastTransitionTime, "2030-01-01T00:00:00Z");
  }
  const [app] = status.containerStatuses ?? [];
  assert.deepEqual(app.state, { running: { startedAt: "2030-01-01T00:00:00Z" } });
  assert.deepEqual(app.lastState, {});
  assert.equal(app.ready, true);
  const [setup] = status.initContainerStatuses ?? [];
  assert.equal(setup.state?.terminated?.reason, "Completed");
  assert.equal(setup.ready, true);
  assert.equal(setup.started, false);
  assert.deepEqual(podStatusOf(record, { hostIp }), status, "the same record, the same status");
});

Deno.test("a restarted container reports its last run as terminated", async () => {
  const record = await recordOf();
  await updateRecord(record, makePod(true, "nginx:2"), {
    now: start + 60_000,
    retire: () => {},
  });
  const [app] = podStatusOf(record, { hostIp }).containerStatuses ?? [];
  assert.equal(app.restartCount, 1);
  assert.equal(app.state?.running?.startedAt, "2030-01-01T00:01:00Z");
  assert.deepEqual(app.lastState?.terminated, {
    exitCode: 0,
    reason: "Completed",
    message: "mock provider restarted the container to change its image to nginx:2",
    startedAt: "2030-01-01T00:00:00Z",
    finishedAt: "2030-01-01T00:01:00Z",
    containerID: "mock://uid-web/app",
  });
});

Deno.test("a deleted pod's status is Succeeded with false conditions since the deletion", async () => {
  const record = await recordOf(false);
  const deletedAt = start + 30_000;
  terminateContainers(record, { now: deletedAt, retire: () => {} });
  const status = podStatusOf(record, { hostIp, deletedAt });
  assert.equal(status.phase, "Succeeded");
  assert.equal(status.reason, "MockProviderPodDeleted");
  assert.equal(status.message, "mock provider deleted the pod");
  const conditions = Object.fromEntries((status.conditions ?? []).map((c) => [c.type, c]));
  for (const type of ["PodReadyToStartContainers", "Ready", "ContainersReady"]) {
    assert.equal(conditions[type].status, "False", type);
    assert.equal(conditions[type].reason, "PodCompleted", type);
    assert.equal(conditions[type].lastTransitionTime, "2030-01-01T00:00:30Z", type);
  }
  assert.equal(conditions.PodScheduled.status, "True");
  const [app] = status.containerStatuses ?? [];
  assert.equal(app.ready, false);
  assert.equal(app.state?.terminated?.finishedAt, "2030-01-01T00:00:30Z");
  assert.ok(!("initContainerStatuses" in status), "absent without init containers");
});

Deno.test("a stopped VM's pod: Running, not Ready since the stop, containers terminated with VMStopped", async () => {
  const record = await recordOf();
  const stoppedAt = start + 10_000;
  beginTransition(record.vm, { during: "Stopping", power: "Stopped", host: record.vm.host }, {
    now: stoppedAt - 1_000,
    delayMs: 1_000,
  });
  const stopping = podStatusOf(record, { hostIp });
  const stoppingReady = stopping.conditions?.find((c) => c.type === "Ready");
  assert.deepEqual(
    [stoppingReady?.status, stoppingReady?.reason, stoppingReady?.lastTransitionTime],
    ["False", "VMStopping", "2030-01-01T00:00:09Z"],
  );
  assert.ok(stopping.containerStatuses?.[0].state?.running, "the guest runs until it is off");
  assert.equal(stopping.containerStatuses?.[0].ready, false);

  endTransition(record.vm, stoppedAt);
  powerOffContainers(record, { now: stoppedAt, retire: () => {}, message: "stopped by a test" });
  const status = podStatusOf(record, { hostIp });
  assert.equal(status.phase, "Running");
  assert.equal(status.reason, undefined);
  const conditions = Object.fromEntries((status.conditions ?? []).map((c) => [c.type, c]));
  for (const type of ["Ready", "ContainersReady"]) {
    assert.equal(conditions[type].status, "False", type);
    assert.equal(conditions[type].reason, "VMStopped", type);
    assert.match(conditions[type].message ?? "", new RegExp(`VM ${record.vm.id} is Stopped`));
    assert.equal(conditions[type].lastTransitionTime, "2030-01-01T00:00:10Z", type);
  }
  assert.equal(conditions.PodReadyToStartContainers.status, "True");
  const [app] = status.containerStatuses ?? [];
  assert.equal(app.ready, false);
  assert.equal(app.started, false);
  assert.deepEqual(app.state?.terminated?.reason, "VMStopped");
  assert.equal(status.podIP, podStatusOf(await recordOf(), { hostIp }).podIP, "the IP stays");
  assert.equal(status.initContainerStatuses?.[0].ready, true, "init containers stay done");

  beginTransition(record.vm, { during: "Starting", power: "Running", host: record.vm.host }, {
    now: stoppedAt + 5_000,
    delayMs: 1_000,
  });
  const [booting] = podStatusOf(record, { hostIp }).containerStatuses ?? [];
  assert.equal(booting.state?.waiting?.reason, "VMStarting");
  assert.equal(booting.lastState?.terminated?.reason, "VMStopped");
});
