import assert from "node:assert/strict";
import type { Container, Pod, Volume } from "kubernetes-types/core/v1.d.ts";
import { parseMockConfig } from "../../../providers/mock/config.ts";
import { type PodRecord, PodRecords } from "../../../providers/mock/pod_records.ts";
import { UsageModel } from "../../../providers/mock/usage_model.ts";

const start = Date.parse("2030-01-01T00:00:00Z");
const mebibyte = 2 ** 20;

function makePod(name: string, containers: Container[], volumes: Volume[] = []): Pod {
  return {
    metadata: { namespace: "default", name, uid: `uid-${name}` },
    spec: { containers, volumes },
  };
}

async function recordOf(pod: Pod): Promise<PodRecord> {
  return await new PodRecords(parseMockConfig({}).podCidr).create(pod, start);
}

function model(): UsageModel {
  return new UsageModel({ startTime: start, heartbeatSeconds: 30 });
}

Deno.test("memory follows the limit, else the request, else a default band, in whole pages", async () => {
  const record = await recordOf(makePod("web", [
    { name: "limited", image: "a", resources: { limits: { memory: "100Mi", cpu: "500m" } } },
    { name: "requested", image: "b", resources: { requests: { memory: "64Mi" } } },
    { name: "plain", image: "c" },
  ]));
  const usage = model().podUsage(record, start + 60_000);
  const [limited, requested, plain] = usage.containers;
  assert.ok(limited.workingSetBytes >= 20 * mebibyte && limited.workingSetBytes <= 60 * mebibyte);
  assert.equal(limited.limitBytes, 100 * mebibyte);
  assert.ok(
    requested.workingSetBytes >= 32 * mebibyte && requested.workingSetBytes <= 64 * mebibyte,
  );
  assert.equal(requested.limitBytes, undefined);
  assert.ok(plain.workingSetBytes >= 16 * mebibyte && plain.workingSetBytes <= 128 * mebibyte);
  for (const container of usage.containers) assert.equal(container.workingSetBytes % 4096, 0);
  // CPU is 5 % to 30 % of the limit (else the request, else 0.1 core).
  assert.ok(limited.cpuNanoCores >= 0.025e9 && limited.cpuNanoCores <= 0.15e9);
  assert.ok(plain.cpuNanoCores >= 0.005e9 && plain.cpuNanoCores <= 0.03e9);
  assert.equal(limited.cpuNanoSeconds, limited.cpuNanoCores * 60);
  assert.equal(limited.logBytes, 300, "100 bytes per log line: start and two heartbeats");
});

Deno.test("usage is the same for the same pod UID and grows with time, not memory", async () => {
  const containers = [{ name: "app", image: "nginx" }];
  const first = model().podUsage(await recordOf(makePod("web", containers)), start + 10_000);
  const again = model().podUsage(await recordOf(makePod("web", containers)), start + 10_000);
  assert.deepEqual({ ...again, record: undefined }, { ...first, record: undefined });
  const later = model().podUsage(await recordOf(makePod("web", containers)), start + 20_000);
  assert.ok(later.cpuNanoSeconds > first.cpuNanoSeconds);
  assert.ok(later.rxBytes > first.rxBytes && later.txBytes > first.txBytes);
  assert.ok(later.txBytes < later.rxBytes, "a pod sends less than it receives");
  assert.equal(later.containers[0].workingSetBytes, first.containers[0].workingSetBytes);
  const other = model().podUsage(await recordOf(makePod("db", containers)), start + 10_000);
  assert.notEqual(other.containers[0].workingSetBytes, first.containers[0].workingSetBytes);
});

Deno.test("volumes: emptyDir size limits, claims named, usage between 4 KiB and 10 MiB", async () => {
  const record = await recordOf(makePod("web", [{ name: "app", image: "nginx" }], [
    { name: "cache", emptyDir: { sizeLimit: "1Gi" } },
    { name: "data", persistentVolumeClaim: { claimName: "data-0" } },
  ]));
  const [cache, data] = model().podUsage(record, start).volumes;
  assert.equal(cache.sizeLimitBytes, 2 ** 30);
  assert.equal(cache.claimName, undefined);
  assert.equal(data.claimName, "data-0");
  for (const volume of [cache, data]) {
    assert.ok(volume.usedBytes >= 4096 && volume.usedBytes <= 4096 + 10 * mebibyte);
  }
});

Deno.test("retired runs and pods keep the node's counters growing", async () => {
  const usage = model();
  const record = await recordOf(makePod("web", [{ name: "app", image: "nginx" }]));
  const container = record.containers.get("app")!;
  const run = usage.containerUsage(record, container, start + 30_000);
  usage.retireContainer(record, container, start + 30_000);
  assert.equal(record.retiredCpuNanoSeconds, run.cpuNanoSeconds);
  const pod = usage.podUsage(record, start + 30_000);
  const before = usage.nodeUsage(start + 30_000);
  usage.retirePod(record, start + 30_000);
  const after = usage.nodeUsage(start + 30_000);
  assert.equal(after.cpuNanoSeconds, before.cpuNanoSeconds + record.retiredCpuNanoSeconds);
  assert.equal(after.rxBytes, before.rxBytes + pod.rxBytes);
  assert.equal(after.txBytes, before.txBytes + pod.txBytes);
  const idle = model().nodeUsage(start + 10_000);
  assert.equal(idle.cpuNanoCores, 0.05e9);
  assert.equal(idle.cpuNanoSeconds, 0.05e9 * 10);
  assert.equal(idle.rxBytes, 2048 * 10);
  assert.equal(idle.txBytes, 1024 * 10);
  assert.equal(idle.workingSetBytes, 512 * mebibyte);
  assert.equal(idle.diskUsedBytes, 2 * 2 ** 30);
});
