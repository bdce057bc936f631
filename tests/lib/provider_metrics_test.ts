import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { assert, assertEquals, assertRejects } from "../_harness/assert.ts";
import { parsePrometheusText, sampleValue } from "../_harness/prometheus.ts";
import { renderMetrics } from "../../lib/metrics/mod.ts";
import {
  hasContainerLogs,
  hasLifecycleBelow,
  hasPodNotifier,
  hasVirtualMachinePower,
  NotFoundError,
  UnavailableError,
} from "../../lib/provider.ts";
import { instrumentProvider, outcomeOf } from "../../lib/provider_metrics.ts";
import { parseMockConfig } from "../../providers/mock/config.ts";
import { MockProvider } from "../../providers/mock/mock_provider.ts";

const signal = new AbortController().signal;

function pod(name: string): Pod {
  return {
    metadata: { name, namespace: "metrics-test", uid: `uid-${name}` },
    spec: { containers: [{ name: "c", image: "nginx" }] },
  };
}

async function count(method: string, outcome: string): Promise<number> {
  const families = parsePrometheusText(await renderMetrics());
  try {
    return sampleValue(families, "vkedge_provider_requests_total", { method, outcome });
  } catch {
    return 0;
  }
}

Deno.test("instrumented provider: the same capabilities, the same answers, and every call counted by method and outcome", async () => {
  const mock = new MockProvider(parseMockConfig({}), {
    nodeName: "n",
    operatingSystem: "linux",
    internalIp: "127.0.0.1",
    daemonPort: 10250,
  });
  const provider = instrumentProvider(mock);
  assertEquals(provider.name, "mock");
  assertEquals(hasPodNotifier(provider), hasPodNotifier(mock));
  assertEquals(hasContainerLogs(provider), hasContainerLogs(mock));
  assertEquals(hasVirtualMachinePower(provider), hasVirtualMachinePower(mock));
  assertEquals(hasLifecycleBelow(provider), false);
  const below = instrumentProvider(
    Object.assign(Object.create(mock), { probesAndRestartsBelow: true as const }),
  );
  assertEquals(hasLifecycleBelow(below), true, "markers are read through");
  const before = {
    created: await count("createPod", "success"),
    missing: await count("deletePod", "not_found"),
  };
  await provider.createPod(pod("a"), signal);
  assertEquals((await provider.getPod("metrics-test", "a", signal))?.metadata?.uid, "uid-a");
  await assertRejects(() => provider.deletePod(pod("nope"), signal), NotFoundError);
  assertEquals(await count("createPod", "success"), before.created + 1);
  assertEquals(await count("deletePod", "not_found"), before.missing + 1);
  const families = parsePrometheusText(await renderMetrics());
  assert(
    sampleValue(families, "vkedge_provider_request_duration_seconds_count", {
      method: "createPod",
    }) >= 1,
  );
});

Deno.test("provider call outcomes: the contract error's kind, through causes, else error or aborted", () => {
  assertEquals(outcomeOf(new UnavailableError("down")), "unavailable");
  assertEquals(
    outcomeOf(new Error("wrapped", { cause: new NotFoundError("gone") })),
    "not_found",
  );
  assertEquals(outcomeOf(new Error("boom")), "error");
  const aborted = new AbortController();
  aborted.abort();
  assertEquals(outcomeOf(new Error("stopped"), aborted.signal), "aborted");
});
