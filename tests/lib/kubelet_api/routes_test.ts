import assert from "node:assert/strict";
import { type Route, routeRefusal, RouteTable } from "../../../lib/kubelet_api/routes.ts";

function route(
  name: string,
  paths: string[],
  methods: string[],
  extra: Partial<Route> = {},
): Route {
  return {
    name,
    paths,
    methods,
    handle: () => Promise.resolve(new Response(name)),
    ...extra,
  };
}

const table = new RouteTable([
  route("health", ["/healthz"], ["GET", "HEAD"], { public: true }),
  route("logs", ["/containerLogs/:namespace/:pod/:container"], ["GET", "HEAD"]),
  route("exec", ["/exec/:namespace/:pod/:container", "/exec/:namespace/:pod/:uid/:container"], [
    "GET",
    "POST",
  ]),
  route("summary", ["/stats/summary"], ["GET"]),
  route("shadowed", ["/stats/summary"], ["GET", "DELETE"]),
]);

Deno.test("routes match literal segments and capture decoded parameters", () => {
  const logs = table.resolve("GET", "/containerLogs/kube-system/my%20pod/app");
  assert.equal(logs.kind, "found");
  assert.equal(logs.kind === "found" && logs.route.name, "logs");
  assert.deepEqual(logs.kind === "found" && logs.params, {
    namespace: "kube-system",
    pod: "my pod",
    container: "app",
  });
  const withUid = table.resolve("POST", "/exec/ns/pod/uid-1/c");
  assert.deepEqual(withUid.kind === "found" && withUid.params, {
    namespace: "ns",
    pod: "pod",
    uid: "uid-1",
    container: "c",
  });
  assert.equal(
    table.resolve("GET", "/stats/summary/").kind,
    "found",
    "a trailing slash is ignored",
  );
});

Deno.test("routes: earlier entries win, and the segment count must match", () => {
  const summary = table.resolve("GET", "/stats/summary");
  assert.equal(summary.kind === "found" && summary.route.name, "summary");
  const deleted = table.resolve("DELETE", "/stats/summary");
  assert.equal(deleted.kind === "found" && deleted.route.name, "shadowed");
  assert.deepEqual(table.resolve("GET", "/exec/ns/pod"), { kind: "notFound" });
  assert.deepEqual(table.resolve("GET", "/exec/ns/pod/uid/c/extra"), { kind: "notFound" });
  assert.deepEqual(table.resolve("GET", "/stats"), { kind: "notFound" });
});

Deno.test("routes: a known path with another method is 405 naming the allowed methods", () => {
  const resolution = table.resolve("PUT", "/exec/ns/pod/c");
  assert.deepEqual(resolution, { kind: "methodNotAllowed", allowed: ["GET", "POST"] });
  assert.deepEqual(routeRefusal(resolution, { method: "PUT", path: "/exec/ns/pod/c" }), {
    status: 405,
    message: "method PUT not allowed on /exec/ns/pod/c: expected GET or POST",
  });
  const logs = routeRefusal(
    { kind: "methodNotAllowed", allowed: ["GET", "HEAD"] },
    { method: "POST", path: "/containerLogs/a/b/c" },
  );
  assert.equal(logs.message, "method POST not allowed on /containerLogs/a/b/c: expected GET");
});

Deno.test("routes: unknown paths are 404 and undecodable ones 400, with the kubelet's texts", () => {
  assert.deepEqual(routeRefusal({ kind: "notFound" }, { method: "GET", path: "/nothing" }), {
    status: 404,
    message: "404 request not found",
  });
  const malformed = table.resolve("GET", "/containerLogs/ns/%E0%A4%A/c");
  assert.equal(malformed.kind, "malformed");
  if (malformed.kind !== "malformed") throw new Error("expected malformed");
  const refusal = routeRefusal(malformed, { method: "GET", path: "/containerLogs/ns/%E0%A4%A/c" });
  assert.equal(refusal.status, 400);
  assert.match(refusal.message, /malformed path .*: expected valid percent-encoding/);
});

Deno.test("routes: public routes are known by path, whatever the method", () => {
  assert.equal(table.isPublic("/healthz"), true);
  assert.equal(table.isPublic("/healthz/"), true);
  assert.equal(table.isPublic("/stats/summary"), false);
  assert.equal(table.isPublic("/nothing"), false);
});

Deno.test("routes: a route without handlers or with a relative path is refused at construction", () => {
  assert.throws(
    () => new RouteTable([{ name: "empty", paths: ["/x"], methods: ["GET"] }]),
    /route empty: expected a plain or an upgrade handler, found none/,
  );
  assert.throws(
    () => new RouteTable([route("relative", ["x/y"], ["GET"])]),
    /route relative: expected a path starting with "\/", found "x\/y"/,
  );
});
