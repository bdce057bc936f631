import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { HttpError } from "../../../lib/kubelet_api/http_errors.ts";
import type { Route, UpgradeContext } from "../../../lib/kubelet_api/routes.ts";
import { bareProvider, makePod, mockProvider, startServer } from "./_fixture.ts";
import { RawConnection, sendUpgrade, writeUpgradeRequest } from "./_raw_http.ts";

const signal = new AbortController().signal;
const decoder = new TextDecoder();

/** A test-only upgrade route: switches to "echo" and sends back what it reads, prefixed by the user. */
function echoRoute(seen: UpgradeContext[]): Route {
  return {
    name: "echo",
    paths: ["/echo/:name"],
    methods: ["GET", "POST"],
    async upgrade(context) {
      seen.push(context);
      context.switchProtocols({ connection: "Upgrade", upgrade: "echo" });
      context.socket.write(`hello ${context.user?.name} from ${context.params.name}\n`);
      await new Promise<void>((resolve) => {
        context.socket.on("data", (chunk: Uint8Array) => context.socket.write(chunk));
        context.socket.once("end", () => resolve());
        context.signal.addEventListener("abort", () => resolve(), { once: true });
      });
    },
  };
}

interface Status {
  kind: string;
  apiVersion: string;
  status: string;
  message: string;
  reason?: string;
  code: number;
}

/**
 * The metav1.Status a refused upgrade carries (what client-go decodes), after checking the
 * framing: JSON, content-length, Connection: close, and the end of the connection.
 */
function statusOf(answer: { headers: Headers; closed: boolean; body: string }): Status {
  assert.equal(answer.headers.get("content-type"), "application/json");
  assert.equal(answer.headers.get("connection"), "close");
  assert.equal(
    Number(answer.headers.get("content-length")),
    new TextEncoder().encode(answer.body).length,
  );
  assert.ok(answer.closed, "the server ends the socket after the response");
  const status = JSON.parse(answer.body);
  assert.equal(status.kind, "Status");
  assert.equal(status.apiVersion, "v1");
  assert.equal(status.status, "Failure");
  return status;
}

Deno.test("upgrade: an anonymous upgrade request gets a 401 Status on the socket, and no authorization is asked", async () => {
  const api = await startServer();
  try {
    for (const path of ["/exec/default/web/app?command=ls", "/portForward/default/web"]) {
      const answer = await sendUpgrade(api.port, path, { who: "none" });
      assert.equal(answer.status, 401, path);
      assert.equal(answer.reason, "Unauthorized");
      assert.deepEqual(statusOf(answer), {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "Unauthorized",
        reason: "Unauthorized",
        code: 401,
      });
    }
    const badToken = await sendUpgrade(api.port, "/attach/default/web/app", {
      who: "none",
      token: "nope",
    });
    assert.equal(badToken.status, 401);
    const untrusted = await sendUpgrade(api.port, "/exec/default/web/app", { who: "stranger" });
    assert.equal(untrusted.status, 401);
    assert.equal(api.asked.length, 0);
  } finally {
    await api.close();
  }
});

Deno.test("upgrade: a user without rights gets 403 naming verb create for POST and get for GET on nodes/proxy", async () => {
  const api = await startServer();
  try {
    const post = await sendUpgrade(api.port, "/exec/default/web/app?command=ls", {
      who: "mallory",
    });
    assert.equal(post.status, 403);
    const postStatus = statusOf(post);
    assert.equal(
      postStatus.message,
      "Forbidden (user=mallory, verb=create, resource=nodes, subresource=proxy): RBAC: no rule for you",
    );
    assert.equal(postStatus.reason, "Forbidden");
    assert.equal(postStatus.code, 403);
    const get = await sendUpgrade(api.port, "/portForward/default/web", {
      who: "mallory",
      method: "GET",
      headers: [["Upgrade", "websocket"], ["Sec-WebSocket-Version", "13"]],
    });
    assert.equal(get.status, 403);
    assert.match(
      statusOf(get).message,
      /^Forbidden \(user=mallory, verb=get, resource=nodes, subresource=proxy\)/,
    );
    assert.deepEqual(
      api.asked.map((a) => [a.user, a.verb, a.resource, a.subresource, a.name]),
      [
        ["mallory", "create", "nodes", "proxy", "vk-test-node"],
        ["mallory", "get", "nodes", "proxy", "vk-test-node"],
      ],
    );
  } finally {
    await api.close();
  }
});

Deno.test("upgrade: exec, attach and portForward answer 501 on the socket when the provider lacks the capability", async () => {
  const api = await startServer({ provider: bareProvider() });
  try {
    const paths: Array<[string, string]> = [
      ["/exec/default/web/app?command=ls&output=1", "ExecInContainer"],
      ["/exec/default/web/uid-web/app?command=ls", "ExecInContainer"],
      ["/attach/default/web/app?output=1", "AttachToContainer"],
      ["/portForward/default/web", "PortForwarder"],
    ];
    for (const [path, capability] of paths) {
      const answer = await sendUpgrade(api.port, path);
      assert.equal(answer.status, 501, path);
      const name = new URL(path, "https://x").pathname.split("/")[1];
      const status = statusOf(answer);
      assert.equal(
        status.message,
        `provider "bare" does not implement ${capability}: /${name} is not available`,
      );
      assert.equal(status.code, 501);
      assert.equal(status.reason, undefined, "metav1 has no reason for 501");
    }
    const byToken = await sendUpgrade(api.port, "/exec/default/web/app", {
      who: "none",
      token: "good-token",
      method: "GET",
    });
    assert.equal(byToken.status, 501);
    assert.ok(api.asked.some((a) => a.user === "bob" && a.verb === "get"));
  } finally {
    await api.close();
  }
});

Deno.test("upgrade: a plain request to exec, attach or portForward is a 400 asking for an upgrade", async () => {
  const api = await startServer();
  try {
    for (const name of ["exec", "attach", "portForward"]) {
      const path = name === "portForward" ? "/portForward/default/web" : `/${name}/default/web/app`;
      const plain = await fetch(`${api.url}${path}`, { method: "POST", client: api.client() });
      assert.equal(plain.status, 400, path);
      assert.equal(
        await plain.text(),
        `${path} expects an upgrade request (Connection: Upgrade), found a plain POST\n`,
      );
    }
  } finally {
    await api.close();
  }
});

Deno.test("upgrade: unknown paths are 404 and other methods 405 on the socket, after authentication", async () => {
  const api = await startServer();
  try {
    const unknown = await sendUpgrade(api.port, "/nothing/here");
    assert.equal(unknown.status, 404);
    assert.deepEqual(
      [statusOf(unknown).message, statusOf(unknown).reason],
      ["404 request not found", "NotFound"],
    );
    const wrongMethod = await sendUpgrade(api.port, "/exec/default/web/app", { method: "PUT" });
    assert.equal(wrongMethod.status, 405);
    assert.equal(
      statusOf(wrongMethod).message,
      "method PUT not allowed on /exec/default/web/app: expected GET or POST",
    );
    const anonymous = await sendUpgrade(api.port, "/nothing/here", { who: "none" });
    assert.equal(anonymous.status, 401, "authentication comes before routing");
  } finally {
    await api.close();
  }
});

Deno.test("upgrade: plain routes answer an upgrade request as a plain one, then close", async () => {
  const api = await startServer();
  try {
    await api.provider.createPod(makePod("web", ["app"]), signal);
    const pods = await sendUpgrade(api.port, "/pods", {
      method: "GET",
      headers: [["Upgrade", "websocket"]],
    });
    assert.equal(pods.status, 200);
    assert.equal(pods.headers.get("connection"), "close");
    assert.equal(pods.closed, true);
    assert.deepEqual(JSON.parse(pods.body).items.map((p: Pod) => p.metadata?.name), ["web"]);
    const health = await sendUpgrade(api.port, "/healthz", { who: "none", method: "GET" });
    assert.equal(health.status, 200);
    assert.equal(health.body, "ok\n");
  } finally {
    await api.close();
  }
});

Deno.test("upgrade: a route registered in the table gets the socket after auth and can talk on it", async () => {
  const seen: UpgradeContext[] = [];
  const api = await startServer({ routes: [echoRoute(seen)] });
  try {
    const refused = await sendUpgrade(api.port, "/echo/one", { who: "none" });
    assert.equal(refused.status, 401);
    const denied = await sendUpgrade(api.port, "/echo/one", { who: "mallory" });
    assert.equal(denied.status, 403);
    assert.equal(seen.length, 0, "the handler never sees refused requests");

    const connection = await RawConnection.open(api.port, "alice");
    try {
      await writeUpgradeRequest(connection, "/echo/one%20two", {
        headers: [["Upgrade", "echo"]],
      });
      const head = await connection.readHead();
      assert.equal(head.status, 101);
      assert.equal(head.headers.get("upgrade"), "echo");
      const greeting = "hello alice from one two\n";
      assert.equal(decoder.decode(await connection.readBytes(greeting.length)), greeting);
      await connection.send("ping 1");
      assert.equal(decoder.decode(await connection.readBytes(6)), "ping 1");
      await connection.send("ping 2");
      assert.equal(decoder.decode(await connection.readBytes(6)), "ping 2");
    } finally {
      connection.close();
    }
    assert.equal(seen.length, 1);
    assert.equal(seen[0].user?.name, "alice");
    assert.deepEqual(seen[0].user?.groups, ["system:masters", "system:authenticated"]);
    assert.equal(seen[0].request.method, "POST");
    assert.equal(seen[0].request.headers.get("upgrade"), "echo");
    assert.ok(seen[0].head instanceof Uint8Array);

    const plain = await fetch(`${api.url}/echo/one`, { client: api.client() });
    assert.equal(plain.status, 400);
    assert.match(await plain.text(), /expects an upgrade request \(Connection: Upgrade\)/);
  } finally {
    await api.close();
  }
});

Deno.test("upgrade: close() ends an open upgraded socket and aborts its handler", async () => {
  const seen: UpgradeContext[] = [];
  const api = await startServer({ routes: [echoRoute(seen)] });
  const connection = await RawConnection.open(api.port, "alice");
  try {
    await writeUpgradeRequest(connection, "/echo/held", { headers: [["Upgrade", "echo"]] });
    assert.equal((await connection.readHead()).status, 101);
    await connection.readBytes("hello alice from held\n".length);
    const started = Date.now();
    await api.close();
    assert.ok(Date.now() - started < 3000, "close() does not wait for the client");
    assert.ok(seen[0].signal.aborted, "the handler's signal aborted");
    assert.ok(await connection.ended(3000), "the client sees the connection end");
  } finally {
    connection.close();
  }
});

Deno.test("upgrade: a handler error before switching protocols becomes a Status with its HTTP status", async () => {
  const routes: Route[] = [{
    name: "refuse",
    paths: ["/refuse"],
    methods: ["POST"],
    upgrade: () => Promise.reject(new HttpError(400, "missing X-Stream-Protocol-Version")),
  }, {
    name: "respond",
    paths: ["/respond"],
    methods: ["POST"],
    upgrade: (context) =>
      context.respond(
        new Response("no common protocol\n", {
          status: 403,
          headers: { "x-accepted-stream-protocol-versions": "v4.channel.k8s.io" },
        }),
      ),
  }];
  const api = await startServer({ routes, provider: mockProvider() });
  try {
    const refused = await sendUpgrade(api.port, "/refuse");
    assert.equal(refused.status, 400);
    assert.equal(statusOf(refused).message, "missing X-Stream-Protocol-Version");
    assert.equal(statusOf(refused).reason, "BadRequest");
    const responded = await sendUpgrade(api.port, "/respond");
    assert.equal(responded.status, 403);
    assert.equal(responded.headers.get("x-accepted-stream-protocol-versions"), "v4.channel.k8s.io");
    assert.equal(responded.body, "no common protocol\n");
    assert.ok(responded.closed);
  } finally {
    await api.close();
  }
});

Deno.test("upgrade: a client that hangs up mid-request or mid-stream leaves the server serving", async () => {
  const seen: UpgradeContext[] = [];
  const api = await startServer({ routes: [echoRoute(seen)] });
  try {
    const early = await RawConnection.open(api.port, "alice");
    await writeUpgradeRequest(early, "/exec/default/web/app");
    early.close();
    const streaming = await RawConnection.open(api.port, "alice");
    await writeUpgradeRequest(streaming, "/echo/gone", { headers: [["Upgrade", "echo"]] });
    assert.equal((await streaming.readHead()).status, 101);
    streaming.close();
    const deadline = Date.now() + 3000;
    while (!seen[0]?.signal.aborted && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(seen[0]?.signal.aborted, "the handler learns that its client left");
    const health = await api.get("/healthz", { who: "none" });
    assert.equal(health.status, 200);
    await health.body?.cancel();
  } finally {
    await api.close();
  }
});
