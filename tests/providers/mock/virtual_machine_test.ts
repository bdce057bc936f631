import assert from "node:assert/strict";
import {
  beginTransition,
  endTransition,
  isServing,
  migrationTargets,
  newVirtualMachine,
  powerOf,
  snapshotOf,
  stateOf,
} from "../../../providers/mock/virtual_machine.ts";

const start = Date.parse("2030-01-01T00:00:00Z");
const hosts = ["h1", "h2", "h3"];

Deno.test("a new VM runs on the host its seed hashes to, with a fresh id and generation 1", () => {
  const a = newVirtualMachine("uid-a", { hosts, now: start });
  const again = newVirtualMachine("uid-a", { hosts, now: start });
  assert.equal(a.host, again.host, "the same seed, the same host");
  assert.notEqual(a.id, again.id);
  assert.match(a.id, /^[0-9a-f-]{36}$/);
  assert.deepEqual([a.power, a.since, a.diskGeneration, a.snapshots], ["Running", start, 1, []]);
  const used = new Set(
    Array.from(
      { length: 30 },
      (_, index) => newVirtualMachine(`uid-${index}`, { hosts, now: start }).host,
    ),
  );
  assert.deepEqual([...used].sort(), hosts, "new VMs spread over every host");
});

Deno.test("an action shows its power state until it ends; a boot counts a disk generation", () => {
  const vm = newVirtualMachine("uid-a", { hosts, now: start });
  const stop = beginTransition(vm, { during: "Stopping", power: "Stopped", host: vm.host }, {
    now: start + 1_000,
    delayMs: 200,
  });
  assert.equal(stop.until, start + 1_200);
  assert.deepEqual([powerOf(vm), vm.power, isServing(vm), vm.since], [
    "Stopping",
    "Running",
    false,
    start + 1_000,
  ]);
  assert.equal(endTransition(vm, start + 1_200), stop);
  assert.deepEqual([powerOf(vm), vm.transition, vm.diskGeneration], ["Stopped", undefined, 1]);
  assert.equal(endTransition(vm, start + 1_300), undefined, "nothing in progress");

  beginTransition(vm, { during: "Starting", power: "Running", host: vm.host }, {
    now: start + 2_000,
    delayMs: 0,
  });
  endTransition(vm, start + 2_000);
  assert.deepEqual([powerOf(vm), vm.diskGeneration, vm.since], ["Running", 2, start + 2_000]);
});

Deno.test("a migration keeps the VM serving since it last started and ends on the new host", () => {
  const vm = newVirtualMachine("uid-a", { hosts, now: start });
  const targets = migrationTargets(vm, hosts);
  assert.deepEqual(targets, hosts.filter((host) => host !== vm.host));
  beginTransition(vm, { during: "Migrating", power: "Running", host: targets[0] }, {
    now: start + 5_000,
    delayMs: 100,
  });
  assert.deepEqual([powerOf(vm), isServing(vm), vm.since], ["Migrating", true, start]);
  endTransition(vm, start + 5_100);
  assert.deepEqual(stateOf(vm), {
    power: "Running",
    host: targets[0],
    id: vm.id,
    diskGeneration: 1,
  });
  assert.deepEqual(migrationTargets(vm, ["only"]), ["only"], "a host no longer configured");
});

Deno.test("the contract's view of a snapshot has an RFC 3339 creation time and its readiness", () => {
  assert.deepEqual(
    snapshotOf({
      id: "s-1",
      name: "nightly",
      createdAt: start + 500,
      readyAt: start + 700,
      ready: false,
      diskGeneration: 3,
    }),
    { id: "s-1", name: "nightly", createdAt: "2030-01-01T00:00:00Z", ready: false },
  );
});
