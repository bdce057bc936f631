import assert from "node:assert/strict";
import type { PodRecord } from "../../../providers/mock/pod_records.ts";
import { statsSummary } from "../../../providers/mock/stats_summary.ts";
import type { NodeUsage, PodUsage } from "../../../providers/mock/usage_model.ts";

const now = Date.parse("2030-01-01T00:01:00.700Z");
const gibibyte = 2 ** 30;

const node: NodeUsage = {
  cpuNanoCores: 50_000_000,
  cpuNanoSeconds: 3_000_000_000,
  workingSetBytes: 512 * 2 ** 20,
  diskUsedBytes: 2 * gibibyte,
  rxBytes: 1000.4,
  txBytes: 500.6,
};

function pod(name: string, options: { claim?: boolean } = {}): PodUsage {
  const record = {
    pod: { metadata: { namespace: "default", name } },
    uid: `uid-${name}`,
    startTime: Date.parse("2030-01-01T00:00:00Z"),
  } as PodRecord;
  return {
    record,
    containers: [
      {
        name: "a",
        startTime: record.startTime,
        cpuNanoCores: 1e7,
        cpuNanoSeconds: 6e8,
        workingSetBytes: 8192,
        limitBytes: 20_000,
        rootfsBytes: 10_000,
        logBytes: 300,
      },
      {
        name: "b",
        startTime: record.startTime,
        cpuNanoCores: 2e7,
        cpuNanoSeconds: 1.2e9,
        workingSetBytes: 4096,
        rootfsBytes: 20_000,
        logBytes: 300,
      },
    ],
    cpuNanoSeconds: 2e9,
    rxBytes: 100,
    txBytes: 50,
    volumes: [
      { name: "cache", usedBytes: 5000, sizeLimitBytes: 10_000 },
      ...(options.claim ? [{ name: "data", usedBytes: 7000, claimName: "data-0" }] : []),
    ],
  };
}

const options = {
  nodeName: "edge-1",
  startTime: Date.parse("2030-01-01T00:00:00Z"),
  now,
  memoryBytes: 4 * gibibyte,
  diskBytes: 10 * gibibyte,
};

Deno.test("node totals are the node's own usage plus every pod's", () => {
  const summary = statsSummary(node, [pod("one"), pod("two", { claim: true })], options);
  assert.equal(summary.node.nodeName, "edge-1");
  assert.equal(summary.node.startTime, "2030-01-01T00:00:00Z");
  assert.equal(summary.node.cpu?.time, "2030-01-01T00:01:00Z");
  assert.equal(summary.node.cpu?.usageNanoCores, 50_000_000 + 2 * 3e7);
  assert.equal(summary.node.cpu?.usageCoreNanoSeconds, 3e9 + 2 * 2e9);
  const workingSet = 512 * 2 ** 20 + 2 * 12_288;
  assert.equal(summary.node.memory?.workingSetBytes, workingSet);
  assert.equal(summary.node.memory?.availableBytes, 4 * gibibyte - workingSet);
  assert.equal(summary.node.network?.rxBytes, 1200);
  assert.equal(summary.node.network?.txBytes, 601);
  assert.deepEqual(summary.node.network?.interfaces?.map((i) => i.name), ["eth0"]);
  // Each pod: rootfs and logs of both containers plus its emptyDir; the claim is not local.
  const ephemeral = 10_000 + 300 + 20_000 + 300 + 5000;
  const diskUsed = 2 * gibibyte + 2 * ephemeral;
  assert.equal(summary.node.fs?.usedBytes, diskUsed);
  assert.equal(summary.node.fs?.availableBytes, 10 * gibibyte - diskUsed);
  assert.equal(summary.node.runtime?.imageFs?.usedBytes, gibibyte);
  assert.equal(summary.node.rlimit?.curproc, 68);
});

Deno.test("pod and container stats: sums, memory limits, disk availability, claims", () => {
  const summary = statsSummary(node, [pod("one"), pod("two", { claim: true })], options);
  const [one, two] = summary.pods;
  assert.deepEqual(one.podRef, { name: "one", namespace: "default", uid: "uid-one" });
  assert.equal(one.cpu?.usageNanoCores, 3e7);
  assert.equal(one.cpu?.usageCoreNanoSeconds, 2e9);
  assert.equal(one.memory?.workingSetBytes, 12_288);
  assert.equal(one.memory?.availableBytes, undefined);
  assert.equal(one.process_stats?.process_count, 2);
  assert.equal(one["ephemeral-storage"]?.usedBytes, 35_600);
  assert.deepEqual(one.containers.map((c) => c.name), ["a", "b"]);
  const [a, b] = one.containers;
  assert.equal(a.memory?.availableBytes, 20_000 - 8192);
  assert.equal(b.memory?.availableBytes, undefined);
  assert.equal(a.memory?.usageBytes, Math.round(8192 * 1.1));
  assert.equal(a.rootfs?.usedBytes, 10_000);
  assert.equal(a.logs?.usedBytes, 300);
  assert.equal(a.rootfs?.availableBytes, summary.node.fs?.availableBytes, "one disk for all");
  assert.deepEqual(one.volume?.map((v) => [v.name, v.capacityBytes, v.availableBytes]), [
    ["cache", 10_000, 5000],
  ]);
  const data = two.volume?.find((v) => v.name === "data");
  assert.deepEqual(data?.pvcRef, { name: "data-0", namespace: "default" });
  assert.equal(data?.capacityBytes, 10 * gibibyte, "without a size limit, the node's disk");
  assert.equal(two["ephemeral-storage"]?.usedBytes, 35_600, "the claim is not ephemeral");
});

Deno.test("a node without pods reports only its own usage", () => {
  const summary = statsSummary(node, [], options);
  assert.deepEqual(summary.pods, []);
  assert.equal(summary.node.cpu?.usageNanoCores, 50_000_000);
  assert.equal(summary.node.fs?.usedBytes, 2 * gibibyte);
  assert.equal(summary.node.rlimit?.curproc, 64);
});
