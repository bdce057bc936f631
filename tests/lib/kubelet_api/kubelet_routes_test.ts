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

Deno.test("kubelet routes: /pods and /runningpods/ serve pods as the API server holds them, never resolved Secret values", async () => {
  const provider = mockProvider();
  const signal = new AbortController().signal;
  const apiPod = (name: string): Pod => ({
    metadata: { name, namespace: "ns", uid: `uid-${name}` },
    spec: {
      containers: [{
        name: "c",
        image: "nginx",
        env: [{ name: "PASSWORD", valueFrom: { secretKeyRef: { name: "s", key: "password" } } }],
      }],
    },
  });
  // The provider runs the pods with the environment the agent resolved.
  for (const name of ["known", "orphan"]) {
    const pod = apiPod(name);
    pod.spec!.containers[0].env = [{ name: "PASSWORD", value: "hunter2-resolved" }];
    await provider.createPod(pod, signal);
  }
  const routes = kubeletRoutes({ provider, apiPods: () => [apiPod("known")] });
  const serve = async (name: string, path: string) => {
    const route = routes.find((r) => r.name === name);
    return await (await route!.handle!(context(path))).text();
  };
  const pods = JSON.parse(await serve("pods", "/pods"));
  assert.equal(pods.kind, "PodList");
  assert.deepEqual(pods.items, [apiPod("known")]);
  const running = await serve("runningpods", "/runningpods");
  assert.equal(running.includes("hunter2-resolved"), false, running);
  const items = JSON.parse(running).items as Pod[];
  assert.deepEqual(items.map((p) => p.metadata?.name).sort(), ["known", "orphan"]);
  const known = items.find((p) => p.metadata?.name === "known")!;
  assert.deepEqual(known.spec?.containers[0].env?.[0].valueFrom, {
    secretKeyRef: { name: "s", key: "password" },
  });
  const orphan = items.find((p) => p.metadata?.name === "orphan")!;
  assert.deepEqual(orphan.spec?.containers, [{ name: "c", image: "nginx" }]);
  const health = routes.find((route) => route.name === "healthz");
  assert.equal(await (await health!.handle!(context("/healthz"))).text(), "ok\n");
});

Deno.test("kubelet routes: without the API server's pods, /pods shows the provider's reduced to names and images", async () => {
  const provider = mockProvider();
  const signal = new AbortController().signal;
  await provider.createPod({
    metadata: { name: "p", namespace: "ns", uid: "u" },
    spec: {
      containers: [{ name: "c", image: "busybox", env: [{ name: "K", value: "v-secret" }] }],
    },
  }, signal);
  const route = kubeletRoutes({ provider }).find((r) => r.name === "pods");
  const body = await (await route!.handle!(context("/pods"))).text();
  assert.equal(body.includes("v-secret"), false, body);
  assert.deepEqual(JSON.parse(body).items[0].spec, {
    containers: [{ name: "c", image: "busybox" }],
  });
});
