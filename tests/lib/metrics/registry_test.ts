import { assertEquals, assertThrows } from "../../_harness/assert.ts";
import { parsePrometheusText, sampleValue } from "../../_harness/prometheus.ts";
import {
  counter,
  gauge,
  histogram,
  metricsRegistry,
  prometheusTextContentType,
  renderMetrics,
} from "../../../lib/metrics/mod.ts";

function uniqueName(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
}

Deno.test("asking for a metric name again returns the registered metric; another type is refused", () => {
  const name = uniqueName("test_things_total");
  const first = counter({ name, help: "Things.", labelNames: ["kind"] });
  assertEquals(counter({ name, help: "Things.", labelNames: ["kind"] }), first);
  assertEquals(metricsRegistry.getSingleMetric(name), first);
  assertThrows(
    () => gauge({ name, help: "Things." }),
    TypeError,
    `metric ${name}: expected a Gauge, found another type registered`,
  );
});

Deno.test("the agent's registry renders counters, gauges and histograms that parse strictly", async () => {
  const names = {
    requests: uniqueName("test_requests_total"),
    depth: uniqueName("test_depth"),
    latency: uniqueName("test_latency_seconds"),
  };
  const requests = counter({ name: names.requests, help: "Requests.", labelNames: ["code"] });
  const depth = gauge({ name: names.depth, help: "Depth." });
  const latency = histogram({
    name: names.latency,
    help: "Latency.",
    labelNames: ["verb"],
    buckets: [0.1, 1],
  });
  requests.inc({ code: "200" }, 3);
  requests.inc({ code: "error" });
  depth.set(7);
  latency.observe({ verb: "GET" }, 0.05);
  latency.observe({ verb: "GET" }, 0.5);
  latency.observe({ verb: "GET" }, 5);

  const families = parsePrometheusText(await renderMetrics());
  assertEquals(families.get(names.requests)?.type, "counter");
  assertEquals(families.get(names.latency)?.type, "histogram");
  assertEquals(sampleValue(families, names.requests, { code: "200" }), 3);
  assertEquals(sampleValue(families, names.requests, { code: "error" }), 1);
  assertEquals(sampleValue(families, names.depth), 7);
  const bucket = (le: string) =>
    sampleValue(families, `${names.latency}_bucket`, { verb: "GET", le });
  assertEquals([bucket("0.1"), bucket("1"), bucket("+Inf")], [1, 2, 3]);
  assertEquals(sampleValue(families, `${names.latency}_count`, { verb: "GET" }), 3);
  assertEquals(sampleValue(families, `${names.latency}_sum`, { verb: "GET" }), 5.55);
  assertEquals(prometheusTextContentType, "text/plain; version=0.0.4; charset=utf-8");
});

Deno.test("a gauge's collect sets its values at each scrape", async () => {
  let current = 1;
  const name = uniqueName("test_live");
  gauge({
    name,
    help: "Read when scraped.",
    labelNames: ["name"],
    collect(live) {
      live.reset();
      live.set({ name: "q" }, current);
    },
  });
  assertEquals(sampleValue(parsePrometheusText(await renderMetrics()), name, { name: "q" }), 1);
  current = 5;
  assertEquals(sampleValue(parsePrometheusText(await renderMetrics()), name, { name: "q" }), 5);
});
