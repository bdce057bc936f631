import type { ConfigMap } from "kubernetes-types/core/v1.d.ts";
import { assertEquals } from "../../_harness/assert.ts";
import { findSamples, parsePrometheusText, sampleValue } from "../../_harness/prometheus.ts";
import { type ListerWatcher, Reflector, Store } from "../../../lib/kube/mod.ts";
import { renderMetrics } from "../../../lib/metrics/mod.ts";
import { configMap, FakeCollection, line } from "./_fakes.ts";

async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function uniqueName(): string {
  return `test-${crypto.randomUUID().slice(0, 8)}`;
}

async function scrape() {
  return parsePrometheusText(await renderMetrics());
}

Deno.test("a reflector counts lists, relists after 410, watches, restarts and applied events", async () => {
  const name = uniqueName();
  const fake = new FakeCollection();
  fake.lists.push(
    ["10", [configMap("a", "5"), configMap("b", "6")]],
    ["30", [configMap("a", "25"), configMap("b", "6")]],
  );
  fake.scripts.push(
    {
      lines: [
        line("MODIFIED", configMap("a", "11")),
        line("ADDED", configMap("c", "12")),
        line("BOOKMARK", { kind: "ConfigMap", metadata: { resourceVersion: "20" } }),
      ],
    },
    { lines: [line("ERROR", { kind: "Status", code: 410, reason: "Expired", message: "old" })] },
    { lines: [line("DELETED", configMap("b", "31"))] },
  );
  const reflector = new Reflector<ConfigMap>(fake, new Store<ConfigMap>(), {
    name,
    initialBackoffMs: 1,
  });
  const controller = new AbortController();
  const running = reflector.run(controller.signal);
  await until(() => fake.watchCalls.length === 4);

  const families = await scrape();
  const count = (metric: string, labels: Record<string, string> = {}) =>
    sampleValue(families, metric, { name, ...labels });
  assertEquals(count("vkedge_reflector_lists_total"), 2);
  assertEquals(count("vkedge_reflector_relists_total"), 1);
  assertEquals(count("vkedge_reflector_watches_total"), 4);
  assertEquals(count("vkedge_reflector_watch_restarts_total"), 2);
  assertEquals(count("vkedge_reflector_failures_total"), 0);
  assertEquals(
    ["ADDED", "MODIFIED", "DELETED", "BOOKMARK"].map((type) =>
      count("vkedge_reflector_events_total", { type })
    ),
    [1, 1, 1, 1],
  );
  const age = count("vkedge_reflector_last_sync_age_seconds");
  assertEquals(age >= 0 && age < 5, true, `age ${age}`);

  controller.abort();
  await running;
  assertEquals(
    findSamples(await scrape(), "vkedge_reflector_last_sync_age_seconds", { name }),
    [],
  );
});

Deno.test("a reflector counts failed lists it retries", async () => {
  const name = uniqueName();
  const fake = new FakeCollection();
  let lists = 0;
  const flaky: ListerWatcher<ConfigMap> = {
    listAll: (options) =>
      ++lists === 1 ? Promise.reject(new Error("connection refused")) : fake.listAll(options),
    watch: (options) => fake.watch(options),
  };
  const reflector = new Reflector<ConfigMap>(flaky, new Store<ConfigMap>(), {
    name,
    initialBackoffMs: 1,
  });
  const controller = new AbortController();
  const running = reflector.run(controller.signal);
  assertEquals(await reflector.waitForSync(controller.signal), true);
  await until(() => fake.watchCalls.length === 1);
  const families = await scrape();
  assertEquals(sampleValue(families, "vkedge_reflector_failures_total", { name }), 1);
  assertEquals(sampleValue(families, "vkedge_reflector_lists_total", { name }), 1);
  assertEquals(sampleValue(families, "vkedge_reflector_watches_total", { name }), 1);
  assertEquals(sampleValue(families, "vkedge_reflector_watch_restarts_total", { name }), 0);
  controller.abort();
  await running;
});
