import { assertEquals, assertRejects } from "../../_harness/assert.ts";
import { RateLimiter, RequestDispatcher } from "../../../lib/kube/mod.ts";

/** Resolves after the pending timers and microtasks of `ms` milliseconds. */
function tick(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("critical requests never wait, not even with the bucket empty and a 429 pause on", async () => {
  const dispatcher = new RequestDispatcher({ qps: 1, burst: 1 });
  await dispatcher.admit("normal");
  dispatcher.throttled(60_000);
  const started = performance.now();
  for (let i = 0; i < 20; i++) (await dispatcher.admit("critical")).done();
  assertEquals(performance.now() - started < 100, true);
});

Deno.test("background requests wait while a normal request waits or runs, then go in order", async () => {
  const dispatcher = new RequestDispatcher({ qps: Infinity });
  const order: string[] = [];
  const status = await dispatcher.admit("normal");
  const events = [1, 2, 3].map((n) =>
    dispatcher.admit("background").then((turn) => {
      order.push(`event ${n}`);
      turn.done();
    })
  );
  await tick(20);
  assertEquals(order, [], "an event went while a status write was in flight");
  const second = await dispatcher.admit("normal");
  order.push("status 2");
  status.done();
  await tick(20);
  assertEquals(order, ["status 2"], "an event went while the second status write was in flight");
  second.done();
  await Promise.all(events);
  assertEquals(order, ["status 2", "event 1", "event 2", "event 3"]);
});

Deno.test("background requests run at most backgroundInFlight at once", async () => {
  const dispatcher = new RequestDispatcher({ qps: Infinity, backgroundInFlight: 2 });
  const admitted: number[] = [];
  const waiting = [1, 2, 3, 4].map((n) =>
    dispatcher.admit("background").then((turn) => {
      admitted.push(n);
      return turn;
    })
  );
  await tick(10);
  assertEquals(admitted, [1, 2]);
  (await waiting[0]).done();
  await tick(10);
  assertEquals(admitted, [1, 2, 3]);
  (await waiting[1]).done();
  (await waiting[2]).done();
  (await waiting[3]).done();
  assertEquals(admitted, [1, 2, 3, 4]);
});

Deno.test("a background request goes after backgroundMaxDelayMs even while normal work continues", async () => {
  const dispatcher = new RequestDispatcher({ qps: Infinity, backgroundMaxDelayMs: 50 });
  const busy = await dispatcher.admit("normal");
  const started = performance.now();
  const turn = await dispatcher.admit("background");
  const waited = performance.now() - started;
  assertEquals(waited >= 45 && waited < 1000, true, `waited ${waited} ms`);
  turn.done();
  busy.done();
});

Deno.test("an aborted background request leaves the queue and the others still go", async () => {
  const dispatcher = new RequestDispatcher({ qps: Infinity });
  const busy = await dispatcher.admit("normal");
  const stop = new AbortController();
  const first = dispatcher.admit("background", stop.signal);
  const second = dispatcher.admit("background");
  stop.abort(new Error("stopped"));
  await assertRejects(() => first, Error, "stopped");
  busy.done();
  (await second).done();
});

Deno.test("a 429 pauses normal and background requests for its Retry-After", async () => {
  const dispatcher = new RequestDispatcher({ qps: Infinity });
  dispatcher.throttled(150);
  const started = performance.now();
  (await dispatcher.admit("normal")).done();
  const waited = performance.now() - started;
  assertEquals(waited >= 140 && waited < 2000, true, `waited ${waited} ms`);
});

Deno.test("a 429 halves the rate once per pause; it grows back by a tenth of the ceiling a second", () => {
  let now = 0;
  const dispatcher = new RequestDispatcher({ qps: 100, burst: 100, now: () => now });
  dispatcher.throttled(1000);
  assertEquals(dispatcher.qps, 50);
  // More refusals of the same burst, before the pause is over: no further halving.
  dispatcher.throttled(1000);
  dispatcher.throttled(1000);
  assertEquals(dispatcher.qps, 50);
  now = 1000; // the pause ends
  assertEquals(dispatcher.qps, 50);
  now = 3000; // two seconds without a 429
  assertEquals(dispatcher.qps, 70);
  dispatcher.throttled(1000); // a new refusal after the pause: halved again
  assertEquals(dispatcher.qps, 35);
  now = 20_000;
  assertEquals(dispatcher.qps, 100);
  assertEquals(dispatcher.ceiling, 100);
});

Deno.test("repeated 429s never bring the rate below minQps", () => {
  let now = 0;
  const dispatcher = new RequestDispatcher({ qps: 8, now: () => now, minQps: 2 });
  for (let i = 0; i < 10; i++) {
    dispatcher.throttled(100);
    now += 100;
  }
  assertEquals(dispatcher.qps, 2);
});

Deno.test("normal requests take tokens of the shared bucket", async () => {
  const now = 0;
  const limiter = new RateLimiter({ qps: 10, burst: 2, now: () => now });
  const dispatcher = new RequestDispatcher({ limiter, now: () => now });
  (await dispatcher.admit("normal")).done();
  (await dispatcher.admit("normal")).done();
  // The bucket is empty now: the next token is 100 ms away.
  assertEquals(Math.round(limiter.reserve()), 100);
});

Deno.test("a normal request asked for later in the same turn as a background one goes first", async () => {
  const dispatcher = new RequestDispatcher({ qps: Infinity });
  const order: string[] = [];
  const event = dispatcher.admit("background").then((turn) => {
    order.push("event");
    turn.done();
  });
  await Promise.resolve(); // a few microtasks later: the status write its create queued
  const status = await dispatcher.admit("normal");
  order.push("status");
  await tick(10);
  assertEquals(order, ["status"]);
  status.done();
  await event;
  assertEquals(order, ["status", "event"]);
});
