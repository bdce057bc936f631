import { assertEquals, assertRejects, assertThrows } from "../../_harness/assert.ts";
import { RateLimiter } from "../../../lib/kube/mod.ts";

Deno.test("RateLimiter defaults to client-go's qps 5 and burst 10", () => {
  const limiter = new RateLimiter();
  assertEquals([limiter.qps, limiter.burst], [5, 10]);
});

Deno.test("RateLimiter allows a burst, then spaces tokens by 1/qps", () => {
  let now = 0;
  const limiter = new RateLimiter({ qps: 10, burst: 3, now: () => now });
  assertEquals([limiter.reserve(), limiter.reserve(), limiter.reserve()], [0, 0, 0]);
  assertEquals(Math.round(limiter.reserve()), 100);
  assertEquals(Math.round(limiter.reserve()), 200);
  now = 1000;
  // 1 s later 10 tokens refilled, minus the 2 borrowed, capped at the burst.
  assertEquals(limiter.tryAcquire(), true);
  assertEquals(limiter.tryAcquire(), true);
  assertEquals(limiter.tryAcquire(), true);
  assertEquals(limiter.tryAcquire(), false);
});

Deno.test("RateLimiter.acquire waits for the next token", async () => {
  const limiter = new RateLimiter({ qps: 50, burst: 1 });
  await limiter.acquire();
  const started = performance.now();
  await limiter.acquire();
  const waited = performance.now() - started;
  assertEquals(waited >= 15, true, `waited ${waited} ms`);
});

Deno.test("RateLimiter.acquire rejects when the signal aborts and returns the token", async () => {
  let now = 0;
  const limiter = new RateLimiter({ qps: 1, burst: 1, now: () => now });
  await limiter.acquire();
  const controller = new AbortController();
  const waiting = limiter.acquire(controller.signal);
  controller.abort(new Error("stop"));
  await assertRejects(() => waiting, Error, "stop");
  now = 1000;
  assertEquals(limiter.tryAcquire(), true);
});

Deno.test("RateLimiter rejects invalid settings with the field name", () => {
  assertThrows(
    () => new RateLimiter({ qps: 0 }),
    RangeError,
    "qps: expected a number above 0, found 0",
  );
  assertThrows(
    () => new RateLimiter({ burst: 0.5 }),
    RangeError,
    "burst: expected an integer of at least 1, found 0.5",
  );
  assertEquals(new RateLimiter({ qps: Infinity }).reserve(), 0);
});
