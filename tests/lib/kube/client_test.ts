import type { ConfigMap, Node } from "kubernetes-types/core/v1.d.ts";
import {
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertThrows,
} from "../../_harness/assert.ts";
import {
  CONFIG_MAPS,
  customResource,
  KubeClient,
  KubeNotFoundError,
  KubeTooManyRequestsError,
  KubeUnavailableError,
  LEASES,
  NODES,
  PODS,
} from "../../../lib/kube/mod.ts";

interface Seen {
  method: string;
  url: URL;
  headers: Headers;
  body: string;
}

/** A local HTTP server answering with `handler`, recording every request. */
async function withServer(
  handler: (request: Request, seen: Seen[]) => Response | Promise<Response>,
  fn: (server: string, seen: Seen[]) => Promise<void>,
): Promise<void> {
  const seen: Seen[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (request) => {
    seen.push({
      method: request.method,
      url: new URL(request.url),
      headers: request.headers,
      body: await request.text(),
    });
    return await handler(request, seen);
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    await server.shutdown();
  }
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function status(code: number, reason: string): Record<string, unknown> {
  return { kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message: reason };
}

function client(server: string, token?: string, tokenFile?: string): KubeClient {
  return new KubeClient(
    { server, namespace: "default", token, tokenFile, source: "test" },
    { qps: Infinity, retryInitialMs: 1, retryMaxMs: 5 },
  );
}

Deno.test("resource paths cover core, grouped, namespaced and cluster-scoped resources", () => {
  const c = client("http://127.0.0.1:1");
  assertEquals(
    c.resource(PODS, "ns").path({ name: "web", subresource: "log" }),
    "/api/v1/namespaces/ns/pods/web/log",
  );
  assertEquals(c.resource(PODS).path(), "/api/v1/pods");
  assertEquals(
    c.resource(NODES).path({ name: "n1", subresource: "proxy/stats/summary" }),
    "/api/v1/nodes/n1/proxy/stats/summary",
  );
  assertEquals(
    c.resource(LEASES, "kube-node-lease").path({ name: "n1" }),
    "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1",
  );
  const vms = customResource("vkedge.io", "v1alpha1", {
    plural: "virtualmachines",
    namespaced: true,
  });
  assertEquals(
    c.resource(vms, "ns").path(),
    "/apis/vkedge.io/v1alpha1/namespaces/ns/virtualmachines",
  );
  assertThrows(
    () => c.resource(NODES, "ns"),
    TypeError,
    'namespace: expected none for cluster-scoped nodes, found "ns"',
  );
  assertThrows(
    () => c.resource(PODS, "ns").path({ name: "a/b" }),
    TypeError,
    'name: expected a non-empty name without "/", found "a/b"',
  );
  c.close();
});

Deno.test("requests send User-Agent, Accept, the bearer token and list query parameters", async () => {
  await withServer(
    () =>
      json({
        kind: "ConfigMapList",
        metadata: { resourceVersion: "7" },
        items: [{ metadata: { name: "a" } }],
      }),
    async (server, seen) => {
      const c = client(server, "tok-123");
      const list = await c.resource<ConfigMap>(CONFIG_MAPS, "ns").list({
        labelSelector: "app=web",
        fieldSelector: "metadata.name=a",
        limit: 5,
      });
      assertEquals(list.items[0].metadata?.name, "a");
      assertEquals(list.metadata.resourceVersion, "7");
      const [request] = seen;
      assertEquals(request.url.pathname, "/api/v1/namespaces/ns/configmaps");
      assertEquals(request.url.searchParams.get("labelSelector"), "app=web");
      assertEquals(request.url.searchParams.get("fieldSelector"), "metadata.name=a");
      assertEquals(request.url.searchParams.get("limit"), "5");
      assertEquals(request.headers.get("authorization"), "Bearer tok-123");
      assertEquals(request.headers.get("accept"), "application/json");
      assertEquals(request.headers.get("user-agent")?.startsWith("vkedge/"), true);
      c.close();
    },
  );
});

Deno.test("a token file is read for requests and re-read after a 401", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/token`, "first\n");
    let calls = 0;
    await withServer(
      () => (++calls === 2
        ? json(status(401, "Unauthorized"), 401)
        : json({ metadata: { name: "n" } })),
      async (server, seen) => {
        const c = client(server, undefined, `${dir}/token`);
        const nodes = c.resource<Node>(NODES);
        await nodes.get("n");
        await Deno.writeTextFile(`${dir}/token`, "second\n");
        const error = await assertRejects(() => nodes.get("n"));
        assertEquals(error.message.includes("first"), false);
        await nodes.get("n");
        assertEquals(seen.map((s) => s.headers.get("authorization")), [
          "Bearer first",
          "Bearer first",
          "Bearer second",
        ]);
        c.close();
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GET is retried on 503 and network-level failures surface as KubeUnavailableError", async () => {
  let calls = 0;
  await withServer(
    () => (++calls < 3
      ? json(status(503, "ServiceUnavailable"), 503)
      : json({ metadata: { name: "a" } })),
    async (server, seen) => {
      const c = client(server);
      const cm = await c.resource<ConfigMap>(CONFIG_MAPS, "ns").get("a");
      assertEquals(cm.metadata?.name, "a");
      assertEquals(seen.length, 3);
      c.close();
    },
  );
  const unreachable = new KubeClient(
    { server: "http://127.0.0.1:1", namespace: "default", source: "test" },
    { maxRetries: 1, retryInitialMs: 1 },
  );
  const error = await assertRejects(
    () => unreachable.resource(NODES).get("n"),
    KubeUnavailableError,
  );
  assertEquals(error.httpCode, 0);
  unreachable.close();
});

Deno.test("POST is not retried on 503 but is retried on 429 honouring Retry-After", async () => {
  let calls = 0;
  await withServer(
    (request) => {
      calls++;
      if (request.url.endsWith("/fail")) return json(status(503, "ServiceUnavailable"), 503);
      return calls === 1
        ? json(status(429, "TooManyRequests"), 429, { "Retry-After": "0" })
        : json({ metadata: { name: "a" } }, 201);
    },
    async (server, seen) => {
      const c = client(server);
      const cms = c.resource<ConfigMap>(CONFIG_MAPS, "ns");
      const created = await cms.create({ metadata: { name: "a" } }, { fieldManager: "vkedge" });
      assertEquals(created.metadata?.name, "a");
      assertEquals(seen.length, 2);
      const body = JSON.parse(seen[1].body);
      assertEquals([body.apiVersion, body.kind], ["v1", "ConfigMap"]);
      assertEquals(seen[1].url.searchParams.get("fieldManager"), "vkedge");
      await assertRejects(() => cms.subresource("x", "fail").post({}), KubeUnavailableError);
      assertEquals(seen.length, 3);
      c.close();
    },
  );
});

Deno.test("429 that persists ends as KubeTooManyRequestsError with retryAfterSeconds", async () => {
  await withServer(
    () => json(status(429, "TooManyRequests"), 429, { "Retry-After": "0" }),
    async (server, seen) => {
      const c = new KubeClient(
        { server, namespace: "default", source: "test" },
        { qps: Infinity, maxRetries: 2, retryInitialMs: 1 },
      );
      const error = await assertRejects(() => c.resource(NODES).get("n"), KubeTooManyRequestsError);
      assertEquals(error.retryAfterSeconds, 0);
      assertEquals(seen.length, 3);
      c.close();
    },
  );
});

Deno.test("a 429 with Retry-After pauses the client's other requests and halves its rate; heartbeats go on", async () => {
  let refused = false;
  await withServer(
    (request) => {
      const url = new URL(request.url);
      if (url.pathname.endsWith("/configmaps/busy") && !refused) {
        refused = true;
        return json(status(429, "TooManyRequests"), 429, { "Retry-After": "1" });
      }
      return json({ metadata: { name: url.pathname.split("/").at(-1) } });
    },
    async (server, seen) => {
      const c = new KubeClient(
        { server, namespace: "default", source: "test" },
        { qps: 100, burst: 100, retryInitialMs: 1 },
      );
      const heartbeat = c.withPriority("critical");
      const started = performance.now();
      const busy = c.resource<ConfigMap>(CONFIG_MAPS, "ns").get("busy");
      await new Promise((resolve) => setTimeout(resolve, 100)); // the 429 has arrived
      assertEquals(c.dispatcher.qps, 50);
      const other = c.resource<ConfigMap>(CONFIG_MAPS, "ns").get("other").then(() =>
        performance.now() - started
      );
      const lease = await heartbeat.resource(LEASES, "kube-node-lease").get("n1").then(() =>
        performance.now() - started
      );
      await busy;
      const otherMs = await other;
      assertEquals(lease < 500, true, `the heartbeat waited ${lease} ms`);
      assertEquals(otherMs >= 900, true, `another request went after ${otherMs} ms`);
      const paths = seen.map((s) => s.url.pathname.split("/").at(-1));
      assertEquals(paths.slice(0, 2), ["busy", "n1"]);
      assertEquals(paths.slice(2).sort(), ["busy", "other"]);
      heartbeat.close();
      c.close();
    },
  );
});

Deno.test("listAll follows continue tokens with the asked page size", async () => {
  await withServer(
    (request) => {
      const url = new URL(request.url);
      const page = Number(url.searchParams.get("continue") ?? "0");
      return json({
        metadata: { resourceVersion: "9", continue: page < 2 ? String(page + 1) : undefined },
        items: [{ metadata: { name: `cm-${page}` } }],
      });
    },
    async (server, seen) => {
      const c = client(server);
      const all = await c.resource<ConfigMap>(CONFIG_MAPS, "ns").listAll({ limit: 1 });
      assertEquals(all.items.map((i) => i.metadata?.name), ["cm-0", "cm-1", "cm-2"]);
      assertEquals(all.metadata.resourceVersion, "9");
      assertEquals(all.metadata.continue, undefined);
      assertEquals(seen.map((s) => s.url.searchParams.get("limit")), ["1", "1", "1"]);
      c.close();
    },
  );
});

Deno.test("listAll falls back to one unpaged list when the continue token has expired", async () => {
  await withServer(
    (request) => {
      const url = new URL(request.url);
      if (url.searchParams.get("continue") !== null) {
        return json(status(410, "Expired"), 410);
      }
      if (url.searchParams.get("limit") !== null) {
        return json({
          metadata: { resourceVersion: "9", continue: "t" },
          items: [{ metadata: { name: "p0" } }],
        });
      }
      return json({
        metadata: { resourceVersion: "12" },
        items: [{ metadata: { name: "p0" } }, { metadata: { name: "p1" } }],
      });
    },
    async (server, seen) => {
      const c = client(server);
      const all = await c.resource<ConfigMap>(CONFIG_MAPS, "ns").listAll({ limit: 1 });
      assertEquals(all.items.map((i) => i.metadata?.name), ["p0", "p1"]);
      assertEquals(all.metadata.resourceVersion, "12");
      assertEquals(seen.length, 3);
      c.close();
    },
  );
});

Deno.test("patch sends the content type of each patch format", async () => {
  await withServer(() => json({ metadata: { name: "a" } }), async (server, seen) => {
    const c = client(server);
    const cms = c.resource<ConfigMap>(CONFIG_MAPS, "ns");
    await cms.patch("a", { data: { k: "v" } });
    await cms.patch("a", { data: { k: "v" } }, { type: "strategic" });
    await cms.patch("a", [{ op: "add", path: "/data/k", value: "v" }], { type: "json" });
    await cms.apply({ metadata: { name: "a" }, data: { k: "v" } }, {
      fieldManager: "m",
      force: true,
    });
    await cms.patchStatus("a", { status: {} });
    assertEquals(seen.map((s) => s.headers.get("content-type")), [
      "application/merge-patch+json",
      "application/strategic-merge-patch+json",
      "application/json-patch+json",
      "application/apply-patch+yaml",
      "application/merge-patch+json",
    ]);
    assertEquals(seen[3].url.searchParams.get("force"), "true");
    assertEquals(seen[3].url.searchParams.get("fieldManager"), "m");
    assertEquals(seen[4].url.pathname, "/api/v1/namespaces/ns/configmaps/a/status");
    await assertRejects(
      () => cms.patch("a", {}, { type: "json" }),
      TypeError,
      "expected a JSON patch array",
    );
    c.close();
  });
});

Deno.test("delete sends DeleteOptions with preconditions and returns the answer", async () => {
  await withServer(
    () => json({ kind: "Status", apiVersion: "v1", status: "Success" }),
    async (server, seen) => {
      const c = client(server);
      const result = await c.resource(PODS, "ns").delete("web", {
        gracePeriodSeconds: 0,
        propagationPolicy: "Background",
        preconditions: { uid: "u-1" },
      });
      assertEquals((result as { status?: string }).status, "Success");
      assertEquals(seen[0].method, "DELETE");
      assertEquals(JSON.parse(seen[0].body), {
        kind: "DeleteOptions",
        apiVersion: "v1",
        gracePeriodSeconds: 0,
        propagationPolicy: "Background",
        preconditions: { uid: "u-1" },
      });
      c.close();
    },
  );
});

Deno.test("watch streams events from a chunked response and stops on abort", async () => {
  const encoder = new TextEncoder();
  await withServer(
    () =>
      new Response(
        new ReadableStream({
          start(controller) {
            const event = JSON.stringify({
              type: "ADDED",
              object: { metadata: { name: "a", resourceVersion: "5" } },
            });
            controller.enqueue(encoder.encode(event.slice(0, 10)));
            controller.enqueue(encoder.encode(`${event.slice(10)}\n`));
          },
        }),
        { headers: { "content-type": "application/json" } },
      ),
    async (server, seen) => {
      const c = client(server);
      const controller = new AbortController();
      const stream = await c.resource<ConfigMap>(CONFIG_MAPS, "ns").watch({
        resourceVersion: "4",
        timeoutSeconds: 30,
        signal: controller.signal,
      });
      const names: string[] = [];
      for await (const event of stream) {
        names.push(`${event.type} ${event.object.metadata?.name}`);
        controller.abort();
      }
      assertEquals(names, ["ADDED a"]);
      const query = seen[0].url.searchParams;
      assertEquals(
        [
          query.get("watch"),
          query.get("allowWatchBookmarks"),
          query.get("resourceVersion"),
          query.get("timeoutSeconds"),
        ],
        ["1", "true", "4", "30"],
      );
      c.close();
    },
  );
});

Deno.test("an aborted request rejects with the signal's reason, not a retry", async () => {
  const hang = () =>
    new Promise<Response>((resolve) => setTimeout(() => resolve(new Response("late")), 200));
  await withServer(hang, async (server, seen) => {
    const c = client(server);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("caller gave up")), 20);
    await assertRejects(
      () => c.resource(NODES).get("n", { signal: controller.signal }),
      Error,
      "caller gave up",
    );
    assertEquals(seen.length, 1);
    c.close();
  });
});

Deno.test("error messages carry the server's Status, never the Authorization header", async () => {
  await withServer(() => json(status(404, "NotFound"), 404), async (server) => {
    const c = client(server, "super-secret");
    const error = await assertRejects(() => c.resource(NODES).get("n"), KubeNotFoundError);
    assertInstanceOf(error, KubeNotFoundError);
    assertEquals(JSON.stringify(error.status).includes("super-secret"), false);
    assertEquals(error.message.includes("super-secret"), false);
    c.close();
  });
});
