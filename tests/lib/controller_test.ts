import { assert, assertEquals, assertRejects, assertThrows } from "../_harness/assert.ts";
import { type Controller, ControllerManager, readiness } from "../../lib/controller.ts";
import { SharedInformerFactory } from "../../lib/kube/mod.ts";

const noSource = {
  resource: () => {
    throw new Error("no informer expected");
  },
};

/** A controller that becomes ready after `readyAfterMs` and may fail after `failAfterMs`. */
function fakeController(
  name: string,
  options: { readyAfterMs?: number; failAfterMs?: number } = {},
): Controller & { stopped: boolean } {
  const { ready, markReady } = readiness();
  const controller = {
    name,
    ready,
    stopped: false,
    async start(signal: AbortSignal): Promise<void> {
      setTimeout(markReady, options.readyAfterMs ?? 0);
      await new Promise<void>((resolve, reject) => {
        const timer = options.failAfterMs === undefined ? undefined : setTimeout(
          () => reject(new Error(`${name} broke`)),
          options.failAfterMs,
        );
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
      controller.stopped = true;
    },
  };
  return controller;
}

Deno.test("controller manager: ready once every controller is; the abort stops them all", async () => {
  const manager = new ControllerManager(new SharedInformerFactory(noSource));
  const fast = fakeController("fast");
  const slow = fakeController("slow", { readyAfterMs: 50 });
  manager.add(fast);
  manager.add(slow);
  assertEquals(manager.names, ["fast", "slow"]);
  const stop = new AbortController();
  const running = manager.run(stop.signal);
  let ready = false;
  void manager.ready.then(() => (ready = true));
  await fast.ready;
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert(!ready, "not ready while one controller is not");
  await manager.ready;
  stop.abort();
  await running;
  assert(fast.stopped && slow.stopped, "both stopped");
});

Deno.test("controller manager: one controller failing stops the others and run rejects with it", async () => {
  const manager = new ControllerManager(new SharedInformerFactory(noSource));
  const healthy = fakeController("healthy");
  manager.add(healthy);
  manager.add(fakeController("broken", { failAfterMs: 20 }));
  await assertRejects(() => manager.run(new AbortController().signal), Error, "broken broke");
  assert(healthy.stopped, "the healthy controller was stopped");
});

Deno.test("controller manager: two controllers of one name are refused", () => {
  const manager = new ControllerManager(new SharedInformerFactory(noSource));
  manager.add(fakeController("pods"));
  assertThrows(() => manager.add(fakeController("pods")), Error, 'controller "pods"');
});
