import type { Lease } from "kubernetes-types/coordination/v1.d.ts";
import { assert, assertEquals, assertRejects } from "../../_harness/assert.ts";
import {
  KubeAlreadyExistsError,
  KubeConflictError,
  KubeNotFoundError,
  KubeUnavailableError,
} from "../../../lib/kube/mod.ts";
import {
  LeaderElector,
  LeadershipLostError,
  type LeaseAccess,
  runAsLeader,
} from "../../../lib/instance/mod.ts";

function status(code: number, reason: string) {
  return { kind: "Status", code, reason, message: reason };
}

/** An API server's Lease collection in memory, with resourceVersion compare-and-swap. */
class MemoryLeases implements LeaseAccess {
  lease: Lease | undefined;
  writes = 0;
  down = false;
  #version = 0;

  get(name: string): Promise<Lease> {
    if (this.down) return Promise.reject(new KubeUnavailableError(503, status(503, "down")));
    if (this.lease?.metadata?.name !== name) {
      return Promise.reject(new KubeNotFoundError(404, status(404, "NotFound")));
    }
    return Promise.resolve(structuredClone(this.lease));
  }

  create(lease: Lease): Promise<Lease> {
    if (this.down) return Promise.reject(new KubeUnavailableError(503, status(503, "down")));
    if (this.lease) {
      return Promise.reject(new KubeAlreadyExistsError(409, status(409, "AlreadyExists")));
    }
    return Promise.resolve(this.#store(lease));
  }

  update(lease: Lease): Promise<Lease> {
    if (this.down) return Promise.reject(new KubeUnavailableError(503, status(503, "down")));
    if (lease.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) {
      return Promise.reject(new KubeConflictError(409, status(409, "Conflict")));
    }
    return Promise.resolve(this.#store(lease));
  }

  #store(lease: Lease): Lease {
    this.writes++;
    this.lease = structuredClone({
      ...lease,
      metadata: { ...lease.metadata, resourceVersion: String(++this.#version) },
    });
    return structuredClone(this.lease);
  }
}

class Clock {
  ms = 1_000_000;
  now = () => this.ms;
}

function elector(leases: LeaseAccess, clock: Clock, identity: string, deadHolders: string[] = []) {
  return new LeaderElector(leases, {
    namespace: "kube-node-lease",
    name: "vkedge-edge-1",
    identity,
    leaseDurationMs: 40_000,
    renewDeadlineMs: 30_000,
    retryPeriodMs: 10_000,
    deadHolders,
    now: clock.now,
  });
}

Deno.test("leader election: the first candidate creates the Lease and holds it; renewals keep acquireTime", async () => {
  const leases = new MemoryLeases();
  const clock = new Clock();
  const a = elector(leases, clock, "host-a_1_aa");
  assert(await a.tryAcquireOrRenew());
  assertEquals(leases.lease?.spec?.holderIdentity, "host-a_1_aa");
  assertEquals(leases.lease?.spec?.leaseDurationSeconds, 40);
  assertEquals(leases.lease?.spec?.leaseTransitions, 0);
  const acquired = leases.lease?.spec?.acquireTime;
  assertEquals(acquired?.length, "2026-12-01T10:00:00.000000Z".length);
  clock.ms += 10_000;
  assert(await a.tryAcquireOrRenew());
  assertEquals(leases.lease?.spec?.acquireTime, acquired);
  assertEquals(leases.lease?.spec?.renewTime !== acquired, true);
  assertEquals(leases.writes, 2);
});

Deno.test("leader election: a standby takes over only after the Lease stayed unrenewed for its duration on its own clock", async () => {
  const leases = new MemoryLeases();
  const clock = new Clock();
  const a = elector(leases, clock, "host-a_1_aa");
  const b = elector(leases, clock, "host-b_2_bb");
  assert(await a.tryAcquireOrRenew());
  assertEquals(await b.tryAcquireOrRenew(), false);
  assertEquals(b.holder, "host-a_1_aa");
  clock.ms += 20_000;
  assert(await a.tryAcquireOrRenew(), "the holder renews");
  clock.ms += 30_000; // 50 s after b first looked, 30 s after the renewal it has not seen yet
  assertEquals(await b.tryAcquireOrRenew(), false, "b saw a change now: the wait starts again");
  clock.ms += 39_000;
  assertEquals(await b.tryAcquireOrRenew(), false);
  clock.ms += 2_000;
  assert(await b.tryAcquireOrRenew(), "unchanged for longer than 40 s: b takes over");
  assertEquals(leases.lease?.spec?.holderIdentity, "host-b_2_bb");
  assertEquals(leases.lease?.spec?.leaseTransitions, 1);
  assertEquals(await a.tryAcquireOrRenew(), false, "the old holder finds it taken");
  assertEquals(a.isLeader, false);
});

Deno.test("leader election: a released Lease, or one whose holder is known dead, is taken at once", async () => {
  const leases = new MemoryLeases();
  const clock = new Clock();
  const a = elector(leases, clock, "host-a_1_aa");
  assert(await a.tryAcquireOrRenew());
  await a.release();
  assertEquals(leases.lease?.spec?.holderIdentity, "");
  const b = elector(leases, clock, "host-b_2_bb");
  assert(await b.tryAcquireOrRenew(), "a released Lease has no holder");
  // b dies without releasing; the next agent of its host knows b's identity from the lock.
  const successor = elector(leases, clock, "host-b_3_cc", ["host-b_2_bb"]);
  assert(await successor.tryAcquireOrRenew());
  const stranger = elector(leases, clock, "host-c_4_dd");
  assertEquals(await stranger.tryAcquireOrRenew(), false);
});

Deno.test("leader election: two candidates racing for a missing Lease: one holds it", async () => {
  const leases = new MemoryLeases();
  const clock = new Clock();
  const results = await Promise.all(
    ["a", "b", "c"].map((id) => elector(leases, clock, `host-${id}_1_00`).tryAcquireOrRenew()),
  );
  assertEquals(results.filter(Boolean).length, 1);
});

Deno.test("leader election: an API server away for longer than the renew deadline is ridden out; the leader steps down only when told someone else holds the Lease", async () => {
  const leases = new MemoryLeases();
  const options = {
    namespace: "kube-node-lease",
    name: "vkedge-edge-1",
    leaseDurationMs: 1000,
    renewDeadlineMs: 600,
    retryPeriodMs: 100,
  };
  const a = new LeaderElector(leases, { ...options, identity: "host-a_1_aa" });
  assert(await a.tryAcquireOrRenew());
  leases.down = true;
  const stop = new AbortController();
  let outcome: unknown = "running";
  const renewing = a.renewWhileLeading(stop.signal).then(
    () => (outcome = "stopped"),
    (error) => (outcome = error),
  );
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assertEquals(outcome, "running", "no step-down while the API server is away");
  assertEquals(a.isLeader, true);
  leases.down = false;
  await new Promise((resolve) => setTimeout(resolve, 300));
  assertEquals(outcome, "running", "renewed again once it is back");
  // Someone else takes the Lease (as after a real expiry seen by another host).
  stop.abort();
  await renewing;
  const b = new LeaderElector(leases, { ...options, identity: "host-b_2_bb" });
  assertEquals(await b.tryAcquireOrRenew(), false, "b waits out the lease duration first");
  await new Promise((resolve) => setTimeout(resolve, 1100));
  assert(await b.tryAcquireOrRenew(), "b takes the expired Lease");
  const error = await assertRejects(
    () => a.renewWhileLeading(new AbortController().signal),
    LeadershipLostError,
  );
  assertEquals(error.message.includes("now held by host-b_2_bb"), true, error.message);
  assertEquals(a.isLeader, false);
});

Deno.test("runAsLeader: work starts only once leading, stops when the Lease is lost, and the loss is thrown", async () => {
  const leases = new MemoryLeases();
  const options = {
    namespace: "kube-node-lease",
    name: "vkedge-edge-1",
    leaseDurationMs: 1000,
    renewDeadlineMs: 600,
    retryPeriodMs: 100,
  };
  const holder = new LeaderElector(leases, { ...options, identity: "host-a_1_aa" });
  assert(await holder.tryAcquireOrRenew());
  const standby = new LeaderElector(leases, { ...options, identity: "host-b_2_bb" });
  const events: string[] = [];
  const stop = new AbortController();
  const run = runAsLeader(standby, async (signal) => {
    events.push("started");
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    events.push("stopped");
  }, stop.signal);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assertEquals(events, [], "no work while the holder's Lease is valid");
  // The holder never renews: the standby takes over once the duration has passed.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assertEquals(events, ["started"]);
  assertEquals(standby.isLeader, true);
  // Someone else takes the Lease by force: the leader notices on its next renewal.
  await leases.update({
    ...leases.lease!,
    spec: { ...leases.lease!.spec, holderIdentity: "host-c_3_cc" },
  });
  await assertRejects(() => run, LeadershipLostError, "now held by host-c_3_cc");
  assertEquals(events, ["started", "stopped"]);
});

Deno.test("runAsLeader: a clean stop releases the Lease after the work stopped", async () => {
  const leases = new MemoryLeases();
  const a = new LeaderElector(leases, {
    namespace: "kube-node-lease",
    name: "vkedge-edge-1",
    identity: "host-a_1_aa",
    leaseDurationMs: 1000,
    renewDeadlineMs: 600,
    retryPeriodMs: 100,
  });
  const stop = new AbortController();
  let holderWhileStopping: string | null | undefined;
  const run = runAsLeader(a, async (signal) => {
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    holderWhileStopping = leases.lease?.spec?.holderIdentity;
  }, stop.signal);
  await new Promise((resolve) => setTimeout(resolve, 150));
  stop.abort();
  await run;
  assertEquals(holderWhileStopping, "host-a_1_aa");
  assertEquals(leases.lease?.spec?.holderIdentity, "");
  assertEquals(leases.lease?.spec?.leaseDurationSeconds, 1);
});
