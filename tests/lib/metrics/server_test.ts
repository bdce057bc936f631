import { assertEquals, assertStringIncludes } from "../../_harness/assert.ts";
import { parsePrometheusText } from "../../_harness/prometheus.ts";
import { type AgentReadiness, counter, serveMetrics } from "../../../lib/metrics/mod.ts";

Deno.test("metrics endpoint: /metrics is Prometheus text of the registry, /healthz ok, /readyz follows readiness", async () => {
  const hits = counter({ name: "vkedge_test_server_hits_total", help: "Test hits." });
  hits.inc(3);
  let state: AgentReadiness = { ready: false, detail: "standby: the lease x is held by y" };
  const stop = new AbortController();
  const server = serveMetrics(
    { hostname: "127.0.0.1", port: 0, readiness: () => state },
    stop.signal,
  );
  const base = `http://127.0.0.1:${server.port}`;
  try {
    const metrics = await fetch(`${base}/metrics`);
    assertEquals(metrics.status, 200);
    assertStringIncludes(metrics.headers.get("content-type") ?? "", "text/plain; version=0.0.4");
    const families = parsePrometheusText(await metrics.text());
    assertEquals(families.get("vkedge_test_server_hits_total")?.samples[0].value, 3);
    const health = await fetch(`${base}/healthz`);
    assertEquals([health.status, await health.text()], [200, "ok\n"]);
    const standby = await fetch(`${base}/readyz`);
    assertEquals([standby.status, await standby.text()], [
      503,
      "standby: the lease x is held by y\n",
    ]);
    state = { ready: true, detail: "ready" };
    const ready = await fetch(`${base}/readyz`);
    assertEquals([ready.status, await ready.text()], [200, "ready\n"]);
    const other = await fetch(`${base}/pods`);
    assertEquals(other.status, 404);
    await other.body?.cancel();
    const post = await fetch(`${base}/metrics`, { method: "POST" });
    assertEquals(post.status, 405);
    await post.body?.cancel();
  } finally {
    stop.abort();
    await server.finished;
  }
});

Deno.test("metrics endpoint: an address in use is an error naming --metrics-addr", () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    let message = "";
    try {
      serveMetrics({
        hostname: "127.0.0.1",
        port: taken.addr.port,
        readiness: () => ({ ready: true, detail: "ready" }),
      }, AbortSignal.timeout(1000));
    } catch (error) {
      message = (error as Error).message;
    }
    assertStringIncludes(message, `--metrics-addr: cannot listen on 127.0.0.1:${taken.addr.port}`);
  } finally {
    taken.close();
  }
});
