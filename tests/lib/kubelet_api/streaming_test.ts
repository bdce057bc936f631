import assert from "node:assert/strict";
import { HttpError } from "../../../lib/kubelet_api/http_errors.ts";
import { RouteTable } from "../../../lib/kubelet_api/routes.ts";
import { streamingRoutes } from "../../../lib/kubelet_api/streaming.ts";
import type { Provider } from "../../../lib/provider.ts";
import { mockProvider } from "./_fixture.ts";

const paths: Record<string, string[]> = {
  exec: ["/exec/ns/pod/c", "/exec/ns/pod/uid/c"],
  attach: ["/attach/ns/pod/c", "/attach/ns/pod/uid/c"],
  portForward: ["/portForward/ns/pod", "/portForward/ns/pod/uid"],
  run: ["/run/ns/pod/c", "/run/ns/pod/uid/c"],
};

Deno.test("streaming routes: the kubelet's paths, GET and POST, each with a plain and an upgrade handler", () => {
  const routes = streamingRoutes(mockProvider());
  assert.deepEqual(routes.map((route) => route.name), ["exec", "attach", "portForward", "run"]);
  const table = new RouteTable(routes);
  for (const [name, examples] of Object.entries(paths)) {
    for (const path of examples) {
      for (const method of ["GET", "POST"]) {
        const resolution = table.resolve(method, path);
        assert.equal(resolution.kind === "found" && resolution.route.name, name, path);
      }
    }
  }
  for (const route of routes) assert.ok(route.handle && route.upgrade, route.name);
});

Deno.test("streaming routes: 501 says whether the provider lacks ExecInContainer or vkedge lacks streaming", async () => {
  const withExec = Object.assign(mockProvider(), { runInContainer: () => Promise.resolve() });
  const cases: Array<[Provider, RegExp]> = [
    [
      mockProvider(),
      /^provider "mock" does not implement ExecInContainer: \/exec is not available$/,
    ],
    [withExec, /^\/exec is not supported by the vkedge kubelet API yet/],
  ];
  for (const [provider, pattern] of cases) {
    const exec = streamingRoutes(provider)[0];
    for (const handler of [exec.handle, exec.upgrade]) {
      await assert.rejects(
        (handler as (context: never) => Promise<unknown>)({} as never),
        (error: unknown) =>
          error instanceof HttpError && error.status === 501 && pattern.test(error.message),
      );
    }
  }
});
