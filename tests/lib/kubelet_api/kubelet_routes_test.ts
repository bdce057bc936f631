import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { kubeletRoutes } from "../../../lib/kubelet_api/kubelet_routes.ts";
import { type RouteContext, RouteTable } from "../../../lib/kubelet_api/routes.ts";
import { mockProvider } from "./_fixture.ts";

function context(path: string, params: Record<string, string> = {}): RouteContext {
  const url = new URL(`https://kubelet${path}`);
  return { request: new Request(url), url, params, signal: new AbortController().signal };
}

Deno.test("kubelet routes: each kubelet path resolves to its route; only /healthz is public", () => {
  const table = new RouteTable(kubeletRoutes({ provider: mockProvider() }));
  const expected: Array<[string, string]> = [
    ["/healthz", "healthz"],
    ["/containerLogs/ns/pod/c", "containerLogs"],
    ["/pods", "pods"],
    ["/runningpods/", "runningpods"],
    ["/stats/summary", "statsSummary"],
    ["/metrics/resource", "metricsResource"],
    ["/exec/ns/pod/c", "exec"],
    ["/attach/ns/pod/c", "attach"],
    ["/portForward/ns/pod", "portForward"],
    ["/run/ns/pod/c", "run"],
  ];
  for (const [path, name] of expected) {
    const resolution = table.resolve(name === "run" ? "POST" : "GET", path);
    assert.equal(resolution.kind === "found" && resolution.route.name, name, path);
    assert.equal(table.isPublic(path), name === "healthz", path);
  }
  assert.deepEqual(table.resolve("POST", "/pods"), {
    kind: "methodNotAllowed",
    allowed: ["GET", "HEAD"],
  });
});

Deno.test("kubelet routes: /pods comes from listPods when given, /runningpods/ from the provider", async () => {
  const provider = mockProvider();
  const listed: Pod[] = [{ metadata: { name: "from-informer" } }];
  const routes = kubeletRoutes({ provider, listPods: () => Promise.resolve(listed) });
  const pods = routes.find((route) => route.name === "pods");
  const response = await pods!.handle!(context("/pods"));
  assert.deepEqual(await response.json(), {
    kind: "PodList",
    apiVersion: "v1",
    metadata: {},
    items: listed,
  });
  const running = routes.find((route) => route.name === "runningpods");
  const empty = await running!.handle!(context("/runningpods"));
  assert.deepEqual((await empty.json()).items, []);
  const health = routes.find((route) => route.name === "healthz");
  assert.equal(await (await health!.handle!(context("/healthz"))).text(), "ok\n");
});
