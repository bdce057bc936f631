import { assertEquals, assertRejects } from "../../_harness/assert.ts";
import { Limiter } from "../../../lib/provider_kit/limiter.ts";

Deno.test("the limiter hands a freed slot to the oldest waiter; an aborted waiter leaves the queue", async () => {
  const limiter = new Limiter(1);
  const never = new AbortController().signal;
  const release = await limiter.acquire(never);
  const order: string[] = [];
  const cancelled = new AbortController();
  const gaveUp = limiter.acquire(cancelled.signal);
  const first = limiter.acquire(never).then((done) => {
    order.push("first");
    return done;
  });
  const second = limiter.acquire(never).then((done) => {
    order.push("second");
    return done;
  });
  cancelled.abort(new Error("caller gone"));
  await assertRejects(() => gaveUp, Error, "caller gone");
  assertEquals(limiter.active, 1);
  release();
  release(); // a second call gives nothing back
  const releaseFirst = await first;
  assertEquals(order, ["first"]);
  releaseFirst();
  (await second)();
  assertEquals(order, ["first", "second"]);
  assertEquals(limiter.active, 0);
});
