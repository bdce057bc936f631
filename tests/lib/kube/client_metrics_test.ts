import { assertEquals, assertRejects } from "../../_harness/assert.ts";
import { parsePrometheusText, sampleValue } from "../../_harness/prometheus.ts";
import { describeRequest, resourceLabel } from "../../../lib/kube/client_metrics.ts";
import {
  customResource,
  KubeClient,
  KubeNotFoundError,
  KubeUnavailableError,
  LEASES,
  PODS,
  type ResourceDescriptor,
} from "../../../lib/kube/mod.ts";
import { renderMetrics } from "../../../lib/metrics/mod.ts";

/** A resource of its own per test, so that counts of other tests do not mix in. */
function uniqueResource(): ResourceDescriptor {
  return customResource("metrics.test", "v1", {
    plural: `widgets${crypto.randomUUID().slice(0, 8)}`,
    namespaced: true,
    kind: "Widget",
  });
}

async function scrape() {
  return parsePrometheusText(await renderMetrics());
}

async function value(name: string, labels: Record<string, string>): Promise<number> {
  const families = await scrape();
  try {
    return sampleValue(families, name, labels);
  } catch {
    return 0;
  }
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

async function withServer(
  handler: (request: Request) => Response | Promise<Response>,
  fn: (server: string) => Promise<void>,
): Promise<void> {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, handler);
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

function client(server: string, maxRetries = 5): KubeClient {
  return new KubeClient(
    { server, namespace: "default", source: "test" },
    { qps: Infinity, retryInitialMs: 1, retryMaxMs: 2, maxRetries },
  );
}

/** A watch response that sends `lines` and stays open until the client goes away. */
function watchResponse(lines: string[]): Response {
  const encoder = new TextEncoder();
  return new Response(
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const line of lines) controller.enqueue(encoder.encode(line));
      },
    }),
    { headers: { "content-type": "application/json" } },
  );
}

function event(type: string, resourceVersion: string): string {
  return `${JSON.stringify({ type, object: { metadata: { name: "w", resourceVersion } } })}\n`;
}

Deno.test("requests are described by the API server's verbs and plural[.group][/subresource]", () => {
  const cases: [Parameters<typeof describeRequest>[0], string, string][] = [
    [{ method: "GET", path: "/api/v1/namespaces/ns/pods/web" }, "GET", "pods"],
    [{ method: "GET", path: "/api/v1/pods" }, "LIST", "pods"],
    [{ method: "GET", path: "/api/v1/pods", query: { watch: 1 } }, "WATCH", "pods"],
    [{ method: "GET", path: "/api/v1/namespaces/ns/pods/web/log" }, "GET", "pods/log"],
    [{ method: "PUT", path: "/api/v1/namespaces/ns/pods/web/status" }, "PUT", "pods/status"],
    [{ method: "POST", path: "/api/v1/namespaces/ns/pods" }, "POST", "pods"],
    [
      { method: "PATCH", path: "/apis/coordination.k8s.io/v1/namespaces/n/leases/l" },
      "PATCH",
      "leases.coordination.k8s.io",
    ],
    [
      {
        method: "PATCH",
        path: "/apis/coordination.k8s.io/v1/namespaces/n/leases/l",
        contentType: "application/apply-patch+yaml",
      },
      "APPLY",
      "leases.coordination.k8s.io",
    ],
    [{ method: "DELETE", path: "/api/v1/namespaces/ns/pods/web" }, "DELETE", "pods"],
    [{ method: "DELETE", path: "/api/v1/namespaces/ns/pods" }, "DELETECOLLECTION", "pods"],
    [{ method: "GET", path: "/api/v1/namespaces/ns" }, "GET", "namespaces"],
    [{ method: "GET", path: "/api/v1/namespaces" }, "LIST", "namespaces"],
    [{ method: "PUT", path: "/api/v1/namespaces/ns/finalize" }, "PUT", "namespaces/finalize"],
    [{ method: "GET", path: "/api/v1/nodes/n1/proxy/stats/summary" }, "GET", "nodes/proxy"],
    [{ method: "GET", path: "/version" }, "GET", "other"],
    [{ method: "GET", path: "/apis/apps/v1" }, "GET", "other"],
  ];
  for (const [request, verb, resource] of cases) {
    assertEquals(describeRequest(request), { verb, resource }, request.path);
  }
  assertEquals(resourceLabel(PODS), "pods");
  assertEquals(resourceLabel(LEASES), "leases.coordination.k8s.io");
});

Deno.test("every attempt is counted by verb, resource and code; retries by the failure's code", async () => {
  const widgets = uniqueResource();
  const resource = resourceLabel(widgets);
  let gets = 0;
  await withServer((request) => {
    const url = new URL(request.url);
    if (url.pathname.endsWith("/missing")) return json({ kind: "Status", code: 404 }, 404);
    if (request.method === "POST") return json({ metadata: { name: "w" } }, 201);
    if (url.pathname.endsWith("/flaky") && ++gets < 3) {
      return json({ kind: "Status", code: 503, reason: "ServiceUnavailable" }, 503);
    }
    return json({ metadata: { name: "w" }, items: [] });
  }, async (server) => {
    const c = client(server);
    const rc = c.resource(widgets, "ns");
    const waitsBefore = sampleValue(await scrape(), "vkedge_kube_rate_limiter_wait_seconds_count");
    await rc.get("flaky");
    await rc.list();
    await rc.create({ metadata: { name: "w" } });
    await assertRejects(() => rc.get("missing"), KubeNotFoundError);
    c.close();
    const families = await scrape();
    const count = (verb: string, code: string) =>
      sampleValue(families, "vkedge_kube_requests_total", { verb, resource, code });
    assertEquals(count("GET", "503"), 2);
    assertEquals(count("GET", "200"), 1);
    assertEquals(count("GET", "404"), 1);
    assertEquals(count("LIST", "200"), 1);
    assertEquals(count("POST", "201"), 1);
    assertEquals(
      sampleValue(families, "vkedge_kube_request_retries_total", {
        verb: "GET",
        resource,
        code: "503",
      }),
      2,
    );
    assertEquals(
      sampleValue(families, "vkedge_kube_request_duration_seconds_count", {
        verb: "GET",
        resource,
      }),
      4,
    );
    assertEquals(
      sampleValue(families, "vkedge_kube_rate_limiter_wait_seconds_count") - waitsBefore >= 6,
      true,
    );
  });
});

Deno.test("a request that gets no answer is counted with code error", async () => {
  const widgets = uniqueResource();
  const resource = resourceLabel(widgets);
  const unreachable = client("http://127.0.0.1:1", 1);
  await assertRejects(() => unreachable.resource(widgets, "ns").get("w"), KubeUnavailableError);
  unreachable.close();
  const families = await scrape();
  assertEquals(
    sampleValue(families, "vkedge_kube_requests_total", { verb: "GET", resource, code: "error" }),
    2,
  );
  assertEquals(
    sampleValue(families, "vkedge_kube_request_retries_total", {
      verb: "GET",
      resource,
      code: "error",
    }),
    1,
  );
});

Deno.test("vkedge_kube_watches counts a watch from its response until close, end, break or abort", async () => {
  const widgets = uniqueResource();
  const resource = resourceLabel(widgets);
  const open = () => value("vkedge_kube_watches", { resource });
  let finite = false;
  await withServer(
    () =>
      finite
        ? new Response(event("ADDED", "1") + event("DELETED", "2"))
        : watchResponse([event("ADDED", "1")]),
    async (server) => {
      const c = client(server);
      const rc = c.resource(widgets, "ns");
      assertEquals(await open(), 0);

      const closed = await rc.watch();
      assertEquals(await open(), 1);
      const second = await rc.watch();
      assertEquals(await open(), 2);
      closed.close();
      assertEquals(await open(), 1);

      for await (const _ of second) break;
      assertEquals(await open(), 0);

      const controller = new AbortController();
      await rc.watch({ signal: controller.signal });
      assertEquals(await open(), 1);
      controller.abort();
      assertEquals(await open(), 0);

      finite = true;
      const ending = await rc.watch();
      assertEquals(await open(), 1);
      const types: string[] = [];
      for await (const e of ending) types.push(e.type);
      assertEquals(types, ["ADDED", "DELETED"]);
      assertEquals(await open(), 0);
      c.close();
    },
  );
});

Deno.test("watch events are counted by resource and type", async () => {
  const widgets = uniqueResource();
  const resource = resourceLabel(widgets);
  await withServer(
    () =>
      new Response(
        event("ADDED", "1") + event("MODIFIED", "2") + event("MODIFIED", "3") +
          `${
            JSON.stringify({ type: "BOOKMARK", object: { metadata: { resourceVersion: "4" } } })
          }\n`,
      ),
    async (server) => {
      const c = client(server);
      for await (const _ of await c.resource(widgets, "ns").watch()) {
        // Drain the stream.
      }
      c.close();
      const families = await scrape();
      const count = (type: string) =>
        sampleValue(families, "vkedge_kube_watch_events_total", { resource, type });
      assertEquals([count("ADDED"), count("MODIFIED"), count("BOOKMARK")], [1, 2, 1]);
    },
  );
});
