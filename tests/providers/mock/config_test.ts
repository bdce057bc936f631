import assert from "node:assert/strict";
import { parseMockConfig } from "../../../providers/mock/config.ts";
import { InvalidInputError } from "../../../lib/provider.ts";
import { parseQuantity } from "../../../lib/provider_kit/mod.ts";

Deno.test("mock config without a file takes upstream defaults plus ephemeral storage", () => {
  const config = parseMockConfig(undefined);
  assert.deepEqual(config.capacity, {
    cpu: "20",
    memory: "100Gi",
    pods: "20",
    "ephemeral-storage": "100Gi",
  });
  assert.equal(config.podCidr.text, "10.233.0.0/16");
  assert.equal(config.logHeartbeatSeconds, 30);
  assert.equal(config.faultFile, undefined);
  assert.deepEqual(config.volumes, {
    createDelayMs: 200,
    capacity: "1Ti",
    diskOfferings: ["standard"],
  });
});

Deno.test("mock config volumes take a delay, a capacity quantity and offering names", () => {
  const config = parseMockConfig({
    volumes: { createDelayMs: 0, capacity: "20Gi", diskOfferings: ["fast", "slow"] },
  });
  assert.deepEqual(config.volumes, {
    createDelayMs: 0,
    capacity: "20Gi",
    diskOfferings: ["fast", "slow"],
  });
  const cases: Array<[unknown, RegExp]> = [
    [{ volumes: { capacity: "lots" } }, /field "volumes\.capacity".*found "lots"/],
    [{ volumes: { diskOfferings: [] } }, /field "volumes\.diskOfferings"/],
    [{ volumes: { diskOfferings: ["a b"] } }, /disk offering name.*found "a b"/],
  ];
  for (const [raw, message] of cases) {
    assert.throws(() => parseMockConfig(raw), (error: Error) => {
      assert.ok(error instanceof InvalidInputError);
      assert.match(error.message, message);
      return true;
    });
  }
});

Deno.test("mock config reads YAML text, numbers as quantities and extra resources", () => {
  const config = parseMockConfig(
    "capacity:\n  cpu: 4\n  memory: 8Gi\n  nvidia.com/gpu: 2\npodCidr: 10.10.0.0/24\nfaultFile: /tmp/faults\n",
  );
  assert.equal(config.capacity.cpu, "4");
  assert.equal(config.capacity.memory, "8Gi");
  assert.equal(config.capacity.pods, "20");
  assert.equal(config.capacity["nvidia.com/gpu"], "2");
  assert.equal(config.podCidr.prefix, 24);
  assert.equal(config.faultFile, "/tmp/faults");
});

Deno.test("mock config errors name the offending field and what was found", () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ capacity: { memory: "lots" } }, /field "capacity\.memory".*quantity.*found "lots"/],
    [{ podCidr: "10.0.0.1/16" }, /field "podCidr".*network address/],
    [{ podCidr: "banana" }, /field "podCidr".*IPv4 CIDR.*found "banana"/],
    [{ logHeartbeatSeconds: 0 }, /field "logHeartbeatSeconds"/],
    [{ capcity: {} }, /capcity/],
    [{ nodeInfo: { kernel: "x" } }, /field "nodeInfo".*kernel/],
    ["capacity: [unclosed", /expected YAML or JSON text/],
  ];
  for (const [raw, pattern] of cases) {
    assert.throws(() => parseMockConfig(raw), (error: unknown) => {
      assert.ok(error instanceof InvalidInputError, `expected InvalidInputError for ${raw}`);
      assert.match(error.message, pattern);
      return true;
    });
  }
});

Deno.test("quantities the mock computes with convert with binary and decimal suffixes", () => {
  assert.equal(parseQuantity("100Mi"), 100 * 2 ** 20);
  assert.equal(parseQuantity("250m"), 0.25);
  assert.equal(parseQuantity("2k"), 2000);
  assert.equal(parseQuantity("1e3"), 1000);
  assert.throws(() => parseQuantity("1.5 GB"), /expected a Kubernetes quantity/);
  assert.throws(() => parseMockConfig({ capacity: { memory: "1.5 GB" } }), /capacity\.memory/);
});

Deno.test("mock config: VM latencies and hosts default small, and bad ones are named", () => {
  assert.deepEqual(parseMockConfig(undefined).vm, {
    powerDelayMs: 200,
    snapshotDelayMs: 200,
    migrationDelayMs: 200,
    hosts: ["mock-host-1", "mock-host-2"],
  });
  const config = parseMockConfig("vm:\n  powerDelayMs: 0\n  hosts: [rack-1, rack-2, rack-3]\n");
  assert.equal(config.vm.powerDelayMs, 0);
  assert.equal(config.vm.snapshotDelayMs, 200);
  assert.deepEqual(config.vm.hosts, ["rack-1", "rack-2", "rack-3"]);
  const cases: Array<[unknown, RegExp]> = [
    [{ vm: { powerDelayMs: -1 } }, /field "vm\.powerDelayMs"/],
    [{ vm: { migrationDelayMs: 1.5 } }, /field "vm\.migrationDelayMs"/],
    [{ vm: { hosts: [] } }, /field "vm\.hosts"/],
    [{ vm: { hosts: ["a", "a"] } }, /field "vm\.hosts".*distinct host names/],
    [{ vm: { hosts: ["bad host"] } }, /field "vm\.hosts\.0".*host name.*found "bad host"/],
    [{ vm: { delay: 5 } }, /field "vm".*delay/],
  ];
  for (const [raw, pattern] of cases) {
    assert.throws(() => parseMockConfig(raw), (error: unknown) => {
      assert.ok(
        error instanceof InvalidInputError,
        `expected InvalidInputError for ${JSON.stringify(raw)}`,
      );
      assert.match(error.message, pattern);
      return true;
    });
  }
});
