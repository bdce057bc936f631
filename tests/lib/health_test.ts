import { assertEquals } from "../_harness/assert.ts";
import { AgentHealth } from "../../lib/health.ts";
import { handleMetricsRequest } from "../../lib/metrics/server.ts";

Deno.test("healthz says ok while every check passes, and names the failing one with its reason", () => {
  const health = new AgentHealth();
  const state: { providerDown?: string } = {};
  health.register("apiserver", () => undefined);
  health.register("provider", () => state.providerDown);
  assertEquals(health.healthz(), { healthy: true, text: "ok" });
  state.providerDown = "provider mock did not answer its health check: down";
  assertEquals(health.healthz(), {
    healthy: false,
    text: "[-]provider failed: provider mock did not answer its health check: down\ncheck failed",
  });
  assertEquals(
    health.healthz({ verbose: true }).text.split("\n")[0],
    "[+]apiserver ok",
  );
});

Deno.test("readyz waits for the controllers and stops serving when the agent stops", () => {
  const health = new AgentHealth();
  assertEquals(health.readyz().healthy, false);
  assertEquals(
    health.readyz().text,
    "[-]serving failed: controllers are still starting\ncheck failed",
  );
  health.markReady();
  assertEquals(health.readyz(), { healthy: true, text: "ok" });
  health.markStopping();
  assertEquals(health.readyz().text, "[-]serving failed: shutting down\ncheck failed");
});

Deno.test("the metrics endpoint's /healthz reports the same checks; /livez only that the process answers", async () => {
  const health = new AgentHealth();
  health.register("provider", () => "provider mock did not answer its health check: down");
  const ask = (path: string) =>
    handleMetricsRequest(
      new Request(`http://127.0.0.1${path}`),
      () => ({ ready: true, detail: "ready" }),
      () => health.healthz(),
    );
  const healthz = await ask("/healthz");
  assertEquals([healthz.status, await healthz.text()], [
    500,
    "[-]provider failed: provider mock did not answer its health check: down\ncheck failed\n",
  ]);
  const livez = await ask("/livez");
  assertEquals([livez.status, await livez.text()], [200, "ok\n"]);
});
