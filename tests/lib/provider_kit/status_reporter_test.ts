import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { assertEquals } from "../../_harness/assert.ts";
import { CallbackSet, PodStatusReporter, pollPodStatus } from "../../../lib/provider_kit/mod.ts";

function pod(name: string, phase: string, uid = `uid-${name}`): Pod {
  return { metadata: { namespace: "ns", name, uid }, status: { phase, conditions: [] } };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("status reporter: passes on a status once, again when it or the UID changes", async () => {
  const reporter = new PodStatusReporter();
  const seen: string[] = [];
  const stop = new AbortController();
  reporter.subscribe(stop.signal, (p) => seen.push(`${p.metadata?.name} ${p.status?.phase}`));
  assertEquals(reporter.subscribed, true);
  assertEquals(reporter.report(pod("a", "Pending")), true);
  assertEquals(reporter.report(pod("a", "Pending")), false);
  // Key order does not make a change.
  assertEquals(
    reporter.report({
      metadata: pod("a", "x").metadata,
      status: { conditions: [], phase: "Pending" },
    }),
    false,
  );
  assertEquals(reporter.report(pod("a", "Running")), true);
  assertEquals(reporter.report(pod("a", "Running", "uid-new")), true);
  reporter.forget("ns/a");
  assertEquals(reporter.report(pod("a", "Running", "uid-new")), true);
  await tick();
  assertEquals(seen, ["a Pending", "a Running", "a Running", "a Running"]);
  stop.abort();
  reporter.report(pod("b", "Running"));
  await tick();
  assertEquals(seen.length, 4);
  assertEquals(reporter.subscribed, false);
});

Deno.test("callback set: each callback gets its own copy, later, and a throwing one harms no other", async () => {
  const set = new CallbackSet<{ n: number }>("test");
  const stop = new AbortController();
  const got: number[] = [];
  set.add(stop.signal, () => {
    throw new Error("callback bug");
  });
  set.add(stop.signal, (value) => {
    value.n++;
    got.push(value.n);
  });
  set.add(stop.signal, (value) => got.push(value.n));
  const value = { n: 1 };
  set.emit(value);
  assertEquals(got, [], "not called synchronously");
  await tick();
  assertEquals(got.sort(), [1, 2]);
  assertEquals(value.n, 1, "the emitted value is not changed by callbacks");
  set.add(AbortSignal.abort(), () => got.push(99));
  assertEquals(set.size, 3);
});

Deno.test("status poller: one list per interval, only changes reported, failures survived", async () => {
  const reporter = new PodStatusReporter();
  const seen: string[] = [];
  const stop = new AbortController();
  reporter.subscribe(stop.signal, (p) => seen.push(`${p.metadata?.name} ${p.status?.phase}`));
  let lists = 0;
  const phases = ["Pending", "Pending", "fail", "Running", "Running"];
  const polling = pollPodStatus({
    intervalMs: 5,
    what: "test pods",
    reporter,
    signal: stop.signal,
    list: () => {
      const phase = phases[Math.min(lists++, phases.length - 1)];
      if (phase === "fail") return Promise.reject(new Error("backend down"));
      return Promise.resolve([pod("a", phase)]);
    },
  });
  while (lists < 6) await new Promise((resolve) => setTimeout(resolve, 5));
  stop.abort();
  await polling;
  assertEquals(seen, ["a Pending", "a Running"]);
});
