import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { AlreadyExistsError, InvalidInputError, NotFoundError } from "../../../lib/provider.ts";
import { parseMockConfig } from "../../../providers/mock/config.ts";
import {
  bootContainers,
  PodRecords,
  powerOffContainers,
  terminateContainers,
  updateRecord,
  validatePod,
} from "../../../providers/mock/pod_records.ts";
import { WORKLOAD_UID_ANNOTATION } from "../../../lib/provider_kit/mod.ts";
import type { ContainerRecord } from "../../../providers/mock/state_file.ts";

const start = Date.parse("2030-01-01T00:00:00Z");

function makePod(name: string, image = "nginx:1.27"): Pod {
  return {
    metadata: { namespace: "default", name, uid: `uid-${name}` },
    spec: {
      initContainers: [
        { name: "setup", image: "busybox" },
        { name: "proxy", image: "envoy", restartPolicy: "Always" },
      ],
      containers: [{ name: "app", image }, { name: "log", image: "fluent" }],
    },
    status: { phase: "Pending" },
  };
}

function records(podCidr = "10.233.0.0/16"): PodRecords {
  return new PodRecords(parseMockConfig({ podCidr }).podCidr);
}

Deno.test("validatePod names what a pod lacks", () => {
  assert.deepEqual(validatePod(makePod("web")), { namespace: "default", name: "web" });
  const cases: Array<[Pod, RegExp]> = [
    [{ metadata: { name: "web" }, spec: { containers: [] } }, /metadata\.namespace.*namespace ""/],
    [
      { metadata: { namespace: "default", name: "web" }, spec: { containers: [] } },
      /spec\.containers/,
    ],
    [
      { metadata: { namespace: "default", name: "web" }, spec: { containers: [{ name: "app" }] } },
      /a name and an image, found name "app" and image ""/,
    ],
  ];
  for (const [pod, pattern] of cases) {
    assert.throws(() => validatePod(pod), (error: unknown) => {
      assert.ok(error instanceof InvalidInputError);
      assert.match(error.message, pattern);
      return true;
    });
  }
});

Deno.test("a created record holds the pod without status and containers by kind", async () => {
  const pods = records();
  const record = await pods.create(makePod("web"), start);
  assert.equal(record.pod.status, undefined);
  assert.equal(record.seed, "uid-web");
  assert.equal(record.startTime, start);
  const kinds = [...record.containers.values()].map((c) => [c.name, c.kind]);
  assert.deepEqual(kinds, [["setup", "init"], ["proxy", "sidecar"], ["app", "app"], [
    "log",
    "app",
  ]]);
  assert.equal(record.containers.get("setup")?.current.finishedAt, start);
  assert.equal(record.containers.get("proxy")?.current.finishedAt, undefined);
  assert.equal(record.containers.get("app")?.current.containerId, "mock://uid-web/app");
  assert.equal(pods.get("default", "web"), record);
  assert.equal(pods.size, 1);
  await assert.rejects(pods.create(makePod("web"), start), AlreadyExistsError);
});

Deno.test("find and container lookups say what is missing", async () => {
  const pods = records();
  await pods.create(makePod("web"), start);
  assert.ok(pods.find("default", "web", "uid-web"));
  assert.ok(pods.find("default", "web", undefined));
  assert.throws(() => pods.find("default", "web", "uid-other"), /it runs uid "uid-web"/);
  assert.throws(() => pods.find("default", "ghost", undefined), NotFoundError);
  const ref = { namespace: "default", pod: "web", container: "app" };
  assert.equal(pods.container(ref).container.name, "app");
  assert.throws(
    () => pods.container({ ...ref, container: "nope" }),
    /container "nope" not found in pod "default\/web": expected one of "setup", "proxy", "app", "log"/,
  );
  assert.throws(() => pods.container({ ...ref, pod: "ghost" }), NotFoundError);
});

Deno.test("an update restarts only running containers whose image changed, retiring their run first", async () => {
  const pods = records();
  const record = await pods.create(makePod("web"), start);
  const retired: string[] = [];
  const changed = makePod("web", "nginx:2");
  changed.spec!.initContainers = [
    { name: "setup", image: "busybox:2" },
    { name: "proxy", image: "envoy:2", restartPolicy: "Always" },
  ];
  const now = start + 60_000;
  await updateRecord(record, changed, {
    now,
    retire: (container: ContainerRecord) => {
      assert.equal(container.current.finishedAt, undefined, "retired before it ends");
      retired.push(container.name);
    },
  });
  assert.deepEqual(retired, ["proxy", "app"]);
  const app = record.containers.get("app");
  assert.equal(app?.restartCount, 1);
  assert.equal(app?.current.image, "nginx:2");
  assert.equal(app?.current.startedAt, now);
  assert.equal(app?.previous?.finishedAt, now);
  assert.match(app?.previous?.exitMessage ?? "", /change its image to nginx:2/);
  assert.equal(record.containers.get("setup")?.current.image, "busybox", "init containers stay");
  assert.equal(record.containers.get("log")?.restartCount, 0);
  assert.equal(record.pod.spec?.containers[0].image, "nginx:2");
  assert.equal(record.pod.status, undefined);
});

Deno.test("terminating ends every running container once and removing frees the name and IP", async () => {
  const pods = records("10.60.0.0/30");
  const record = await pods.create(makePod("one"), start);
  await pods.create(makePod("two"), start);
  await assert.rejects(
    pods.create(makePod("three"), start),
    /no free pod IP left in 10\.60\.0\.0\/30/,
  );
  const retired: string[] = [];
  const options = { now: start + 5_000, retire: (c: ContainerRecord) => retired.push(c.name) };
  terminateContainers(record, options);
  terminateContainers(record, options);
  assert.deepEqual(retired, ["proxy", "app", "log"]);
  for (const container of record.containers.values()) {
    assert.ok(container.current.finishedAt !== undefined, container.name);
  }
  assert.equal(record.containers.get("setup")?.current.finishedAt, start);
  pods.remove(record);
  assert.equal(record.deleted.signal.aborted, true);
  assert.equal(pods.get("default", "one"), undefined);
  assert.ok(await pods.create(makePod("three"), start), "its IP is free again");
});

Deno.test("saved records restore with the same content, and duplicates are refused", async () => {
  const pods = records();
  await pods.create(makePod("web"), start);
  await pods.create(makePod("db"), start);
  const saved = pods.saved();
  const restored = records();
  for (const entry of saved) restored.restore(entry, "/state.json");
  assert.deepEqual(restored.all(), pods.all());
  assert.throws(() => restored.restore(saved[0], "/state.json"), /found default\/web twice/);
  const sameIp = { ...saved[0], pod: makePod("other") };
  assert.throws(
    () => restored.restore(sameIp, "/state.json"),
    /state file \/state\.json: expected distinct pod IPs, found 10\.233\.\d+\.\d+ again for default\/other/,
  );
});

function workloadPod(name: string, uid: string): Pod {
  const pod = makePod(name);
  pod.metadata = { ...pod.metadata, uid, annotations: { [WORKLOAD_UID_ANNOTATION]: "vm-1" } };
  return pod;
}

Deno.test("a record of a workload is found by its annotation whatever the pod UID and name", async () => {
  const pods = records();
  const record = await pods.create(workloadPod("vm", "pod-1"), start);
  assert.equal(record.seed, "vm-1", "stable traits follow the workload, not the pod object");
  assert.equal(record.containers.get("app")?.current.containerId, "mock://vm-1/app");
  await pods.create(makePod("plain"), start);
  assert.equal(pods.adoptable(workloadPod("vm", "pod-2")), record);
  assert.equal(
    pods.adoptable(makePod("vm")),
    undefined,
    "a pod without the annotation adopts none",
  );
  assert.equal(pods.serving(workloadPod("vm", "pod-1")), record);
  assert.equal(pods.serving(workloadPod("renamed", "pod-3")), record);
  assert.equal(pods.serving(makePod("plain")), pods.get("default", "plain"));
  const stale = makePod("plain");
  stale.metadata = { ...stale.metadata, uid: "an-older-incarnation" };
  assert.equal(pods.serving(stale), undefined, "a plain pod must match by UID");

  pods.rebind(record, workloadPod("renamed", "pod-3"));
  assert.equal(pods.get("default", "vm"), undefined);
  assert.equal(pods.get("default", "renamed"), record);
  assert.equal(record.uid, "pod-3");
  assert.throws(
    () => pods.rebind(record, workloadPod("plain", "pod-4")),
    (error: unknown) =>
      error instanceof AlreadyExistsError &&
      /pod default\/plain already exists/.test(error.message),
  );
  assert.equal(pods.get("default", "renamed"), record, "a refused rebind moves nothing");
});

Deno.test("a power-off ends app and sidecar runs with VMStopped; a boot starts new runs, a reboot ends the old", async () => {
  const record = await records().create(makePod("web"), start);
  const retired: string[] = [];
  const retire = (container: ContainerRecord) => retired.push(container.name);
  powerOffContainers(record, { now: start + 1_000, retire, message: "the VM was stopped" });
  assert.deepEqual(retired, ["proxy", "app", "log"]);
  const app = record.containers.get("app")!;
  assert.deepEqual(
    [app.current.finishedAt, app.current.exitReason, app.current.exitMessage],
    [start + 1_000, "VMStopped", "the VM was stopped"],
  );
  assert.equal(record.containers.get("setup")?.current.exitReason, "Completed");

  bootContainers(record, { now: start + 2_000, retire, message: "the VM was rebooted" });
  assert.equal(retired.length, 3, "stopped runs were retired already");
  assert.equal(app.restartCount, 1);
  assert.equal(app.previous?.exitReason, "VMStopped");
  assert.deepEqual([app.current.startedAt, app.current.finishedAt], [start + 2_000, undefined]);

  bootContainers(record, { now: start + 3_000, retire, message: "the VM was rebooted" });
  assert.deepEqual(retired.slice(3), ["proxy", "app", "log"]);
  assert.equal(app.restartCount, 2);
  assert.deepEqual(
    [app.previous?.finishedAt, app.previous?.exitReason, app.previous?.exitMessage],
    [start + 3_000, "VMRebooted", "the VM was rebooted"],
  );
  assert.equal(app.current.containerId, "mock://uid-web/app");
  assert.equal(record.containers.get("setup")?.restartCount, 0, "init containers do not rerun");
});
