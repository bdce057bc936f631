/**
 * The client, reflector and watch metrics against a real kube-apiserver: what the agent's
 * registry serves parses strictly and counts what happened.
 */

import type { ConfigMap } from "kubernetes-types/core/v1.d.ts";
import { assertEquals, assertRejects } from "../../_harness/assert.ts";
import { findSamples, parsePrometheusText } from "../../_harness/prometheus.ts";
import { CONFIG_MAPS, Informer, KubeNotFoundError } from "../../../lib/kube/mod.ts";
import { renderMetrics } from "../../../lib/metrics/mod.ts";
import { eventually, withNamespace } from "./_e2e.ts";

async function value(name: string, labels: Record<string, string>): Promise<number> {
  const samples = findSamples(parsePrometheusText(await renderMetrics()), name, labels);
  return samples.reduce((sum, sample) => sum + sample.value, 0);
}

Deno.test("an informer's list, watch and events are counted, and its watch is open only while it runs", async () => {
  await withNamespace("metrics", async (client, namespace) => {
    const name = `configmaps-${namespace}`;
    const configMaps = client.resource<ConfigMap>(CONFIG_MAPS, namespace);
    const watches = () => value("vkedge_kube_watches", { resource: "configmaps" });
    const lists = () =>
      value("vkedge_kube_requests_total", { verb: "LIST", resource: "configmaps", code: "200" });
    const watchesBefore = await watches();
    const listsBefore = await lists();

    const informer = new Informer<ConfigMap>(configMaps, { name });
    const controller = new AbortController();
    const running = informer.run(controller.signal);
    await informer.waitForSync(controller.signal);
    await eventually("the watch to open", async () => await watches() === watchesBefore + 1);
    assertEquals(await lists(), listsBefore + 1);

    await configMaps.create({ metadata: { name: "a" }, data: { v: "1" } });
    await configMaps.patch("a", { data: { v: "2" } });
    await configMaps.delete("a");
    await eventually("three events applied", async () => {
      const types = ["ADDED", "MODIFIED", "DELETED"];
      const counts = await Promise.all(
        types.map((type) => value("vkedge_reflector_events_total", { name, type })),
      );
      return counts.every((count) => count === 1);
    });
    assertEquals(await value("vkedge_reflector_lists_total", { name }), 1);
    assertEquals(await value("vkedge_reflector_watches_total", { name }), 1);
    await assertRejects(() => configMaps.get("missing"), KubeNotFoundError);
    assertEquals(
      await value("vkedge_kube_requests_total", {
        verb: "GET",
        resource: "configmaps",
        code: "404",
      }) >= 1,
      true,
    );

    controller.abort();
    await running;
    assertEquals(await watches(), watchesBefore);
  });
});
