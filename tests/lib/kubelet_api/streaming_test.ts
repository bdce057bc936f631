import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { RouteTable } from "../../../lib/kubelet_api/routes.ts";
import { RstStatus } from "../../../lib/kubelet_api/spdy/frames.ts";
import { type StreamingOptions, streamingRoutes } from "../../../lib/kubelet_api/streaming.ts";
import { bareProvider, type Fixture, mockProvider, startServer } from "./_fixture.ts";
import { sendUpgrade } from "./_raw_http.ts";
import { SpdyTestClient, type TestStream } from "./_spdy_client.ts";
import { connectChannels } from "./_ws_client.ts";

const signal = new AbortController().signal;
const decoder = new TextDecoder();

const paths: Record<string, string[]> = {
  exec: ["/exec/ns/pod/c", "/exec/ns/pod/uid/c"],
  attach: ["/attach/ns/pod/c", "/attach/ns/pod/uid/c"],
  portForward: ["/portForward/ns/pod", "/portForward/ns/pod/uid"],
};

function webPod(): Pod {
  return {
    metadata: { namespace: "default", name: "web", uid: "uid-web" },
    spec: {
      hostname: "web-host",
      containers: [{
        name: "app",
        image: "nginx:1.27",
        env: [{ name: "GREETING", value: "hello" }],
        ports: [{ containerPort: 80 }, { containerPort: 8080 }],
      }],
    },
  };
}

/** A server over a mock provider running pod default/web (container app, ports 80 and 8080). */
async function serverWithPod(streaming?: Partial<StreamingOptions>): Promise<Fixture> {
  const provider = mockProvider({ logHeartbeatSeconds: 1 });
  await provider.createPod(webPod(), signal);
  return await startServer({
    provider,
    streaming: {
      timeouts: { idleTimeoutMs: 0, creationTimeoutMs: 2_000 },
      extendWebSockets: false,
      ...streaming,
    },
  });
}

function execPath(command: string[], query: Record<string, string> = { output: "1" }): string {
  const params = new URLSearchParams(query);
  for (const part of command) params.append("command", part);
  return `/exec/default/web/app?${params}`;
}

/** Opens the streams kubectl opens for exec (error first), per the query's flags. */
async function openExecStreams(
  client: SpdyTestClient,
  types: string[],
): Promise<Record<string, TestStream>> {
  const streams: Record<string, TestStream> = {};
  for (const type of ["error", ...types]) streams[type] = await client.open({ streamtype: type });
  return streams;
}

function status(stream: TestStream): Record<string, unknown> {
  return JSON.parse(stream.text());
}

Deno.test("streaming routes: the kubelet's paths, GET and POST, as upgrades; /run is a plain POST", () => {
  const routes = streamingRoutes(mockProvider());
  assert.deepEqual(routes.map((route) => route.name), ["exec", "attach", "portForward", "run"]);
  const table = new RouteTable(routes);
  for (const [name, examples] of Object.entries(paths)) {
    for (const path of examples) {
      for (const method of ["GET", "POST"]) {
        const resolution = table.resolve(method, path);
        assert.equal(resolution.kind === "found" && resolution.route.name, name, path);
        assert.ok(resolution.kind === "found" && resolution.route.upgrade, path);
      }
    }
  }
  const run = table.resolve("POST", "/run/ns/pod/c");
  assert.ok(run.kind === "found" && run.route.handle);
});

Deno.test("streaming: a provider without the capability gets a 501 Status naming it, before any switch", async () => {
  const api = await startServer({ provider: bareProvider() });
  try {
    const cases: Array<[string, string]> = [
      ["/exec/default/web/app?command=ls&output=1", "ExecInContainer: /exec"],
      ["/attach/default/web/app?output=1", "AttachToContainer: /attach"],
      ["/portForward/default/web", "PortForwarder: /portForward"],
    ];
    for (const [path, what] of cases) {
      const answer = await sendUpgrade(api.port, path);
      assert.equal(answer.status, 501, path);
      assert.equal(
        JSON.parse(answer.body).message,
        `provider "bare" does not implement ${what} is not available`,
      );
    }
  } finally {
    await api.close();
  }
});

Deno.test("streaming: unknown pods and containers, bad queries and protocols are refused before the switch", async () => {
  const api = await serverWithPod();
  try {
    const cases: Array<[string, number, RegExp, Array<[string, string]>?]> = [
      ["/exec/default/nope/app?command=ls&output=1", 404, /pod default\/nope not found/],
      [
        "/exec/default/web/db?command=ls&output=1",
        404,
        /container "db" not found in pod default\/web: expected one of "app"/,
      ],
      ["/exec/default/web/other-uid/app?command=ls&output=1", 404, /has UID uid-web/],
      ["/exec/default/web/app?command=ls", 400, /at least 1 of stdin, stdout, stderr/],
      ["/exec/default/web/app?output=1", 400, /expected a command/],
      [
        "/exec/default/web/app?command=ls&output=1",
        403,
        /unable to negotiate protocol: client supports \[v9.channel.k8s.io\]/,
        [["Upgrade", "SPDY/3.1"], ["X-Stream-Protocol-Version", "v9.channel.k8s.io"]],
      ],
    ];
    for (const [path, code, message, headers] of cases) {
      const answer = await sendUpgrade(api.port, path, headers ? { headers } : {});
      assert.equal(answer.status, code, `${path}: ${answer.body}`);
      assert.match(JSON.parse(answer.body).message, message);
    }
  } finally {
    await api.close();
  }
});

Deno.test("spdy exec: stdout of echo, a Success status on the error stream, then GOAWAY and the end", async () => {
  const api = await serverWithPod();
  try {
    const client = await SpdyTestClient.connect(api.port, execPath(["echo", "hi"]), {
      protocols: ["v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io"],
    });
    assert.equal(client.head.headers.get("x-stream-protocol-version"), "v4.channel.k8s.io");
    assert.equal(client.head.headers.get("upgrade"), "SPDY/3.1");
    const streams = await openExecStreams(client, ["stdout"]);
    await streams.error.closed();
    await streams.stdout.closed();
    assert.equal(streams.stdout.text(), "hi\n");
    assert.deepEqual(status(streams.error), { metadata: {}, status: "Success" });
    await client.waitEnded();
    assert.equal(client.goAway?.status, 0);
  } finally {
    await api.close();
  }
});

Deno.test("spdy exec: a non-zero exit is NonZeroExitCode with an ExitCode cause (v4), plain text (v1)", async () => {
  const api = await serverWithPod();
  try {
    const path = execPath(["sh", "-c", "echo oops >&2; exit 3"], { output: "1", error: "1" });
    const v4 = await SpdyTestClient.connect(api.port, path);
    const streams = await openExecStreams(v4, ["stdout", "stderr"]);
    await streams.error.closed();
    assert.deepEqual(status(streams.error), {
      metadata: {},
      status: "Failure",
      message:
        "command terminated with non-zero exit code: command 'sh -c echo oops >&2; exit 3' exited with 3",
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: "3" }] },
    });
    await v4.close();

    const v1 = await SpdyTestClient.connect(api.port, execPath(["exit", "4"]), {
      protocols: ["channel.k8s.io"],
    });
    assert.equal(v1.head.headers.get("x-stream-protocol-version"), "channel.k8s.io");
    const old = await openExecStreams(v1, ["stdout"]);
    await old.error.closed();
    assert.equal(
      old.error.text(),
      "command terminated with non-zero exit code: command 'exit 4' exited with 4",
    );
    await v1.close();
  } finally {
    await api.close();
  }
});

Deno.test("spdy exec: stdin through cat comes back byte for byte (512 KiB), ending at the client's FIN", async () => {
  const api = await serverWithPod();
  try {
    const client = await SpdyTestClient.connect(
      api.port,
      execPath(["cat"], { input: "1", output: "1", error: "1" }),
    );
    const streams = await openExecStreams(client, ["stdin", "stdout", "stderr"]);
    const data = crypto.getRandomValues(new Uint8Array(64 * 1024));
    const sent: Uint8Array[] = [];
    for (let index = 0; index < 8; index++) {
      const chunk = data.map((byte) => (byte + index) & 0xff);
      sent.push(chunk);
      await streams.stdin.write(chunk);
    }
    await streams.stdin.end();
    await streams.stdout.closed(10_000);
    assert.deepEqual(streams.stdout.bytes(), new Uint8Array(sent.flatMap((chunk) => [...chunk])));
    await streams.error.closed();
    assert.equal(status(streams.error).status, "Success");
    await client.close();
  } finally {
    await api.close();
  }
});

Deno.test("spdy exec: with a TTY the resize stream's size reaches the command", async () => {
  const api = await serverWithPod();
  try {
    const client = await SpdyTestClient.connect(
      api.port,
      execPath(["stty", "size"], { output: "1", tty: "1", error: "1" }),
    );
    const streams = await openExecStreams(client, ["stdout", "resize"]);
    await streams.resize.write('{"Width":132,"Height":43}\n');
    await streams.stdout.closed();
    assert.equal(streams.stdout.text(), "43 132\r\n");
    await client.close();
  } finally {
    await api.close();
  }
});

Deno.test("spdy exec: streams not opened within the creation timeout end the session with a message", async () => {
  const api = await serverWithPod({ timeouts: { idleTimeoutMs: 0, creationTimeoutMs: 300 } });
  try {
    const client = await SpdyTestClient.connect(api.port, execPath(["echo", "hi"]));
    const error = await client.open({ streamtype: "error" });
    await client.waitEnded(3_000);
    assert.match(String(status(error).message), /timed out waiting for client to create streams/);
  } finally {
    await api.close();
  }
});

Deno.test("spdy attach: the container's input is echoed on its output until the client leaves", async () => {
  const api = await serverWithPod();
  try {
    const client = await SpdyTestClient.connect(
      api.port,
      "/attach/default/web/app?input=1&output=1",
    );
    const streams = await openExecStreams(client, ["stdin", "stdout"]);
    await streams.stdin.write("typed line\n");
    await streams.stdout.until((stream) => stream.text().includes("typed line\n"));
    await streams.stdout.until((stream) => /heartbeat \d+/.test(stream.text()), 3_000);
    await client.close();
  } finally {
    await api.close();
  }
});

Deno.test("spdy port-forward: pairs by requestid, several at once, echo per declared port; others fail on the error stream", async () => {
  const api = await serverWithPod();
  try {
    const client = await SpdyTestClient.connect(api.port, "/portForward/default/web", {
      protocols: ["portforward.k8s.io"],
    });
    assert.equal(client.head.headers.get("x-stream-protocol-version"), "portforward.k8s.io");
    const connections = [];
    for (const [requestId, port] of [[0, 80], [1, 8080], [2, 80]]) {
      const headers = { port: String(port), requestid: String(requestId) };
      const error = await client.open({ ...headers, streamtype: "error" });
      await error.end();
      const data = await client.open({ ...headers, streamtype: "data" });
      connections.push({ error, data, text: `to ${port} #${requestId}` });
    }
    for (const each of connections) await each.data.write(each.text);
    for (const each of connections) await each.data.end();
    for (const each of connections) {
      await each.data.closed();
      assert.equal(each.data.text(), each.text);
      await each.error.closed();
      assert.equal(each.error.text(), "");
    }
    const refused = await client.open({ port: "81", requestid: "9", streamtype: "error" });
    await client.open({ port: "81", requestid: "9", streamtype: "data" });
    await refused.closed();
    assert.match(
      refused.text(),
      /^error forwarding port 81 to pod default\/web: connection refused: pod default\/web does not listen on port 81 \(the mock echoes on its declared containerPorts: 80, 8080\)$/,
    );
    const bad = await client.open({ port: "0", streamtype: "data" });
    await bad.until((stream) => stream.rstStatus === RstStatus.refusedStream);
    await client.close();
  } finally {
    await api.close();
  }
});

Deno.test("websocket v4 exec: channel 1 carries stdout after an empty ready message, channel 3 the status, then close 1000", async () => {
  const api = await serverWithPod();
  try {
    const client = await connectChannels(api.port, execPath(["hostname"]), {
      protocols: ["v4.channel.k8s.io"],
    });
    assert.equal(client.protocol, "v4.channel.k8s.io");
    assert.equal(await client.closed, 1000);
    assert.deepEqual(client.messages[0], { channel: 1, data: new Uint8Array(0) });
    assert.equal(decoder.decode(client.received(1)), "web-host\n");
    assert.deepEqual(JSON.parse(decoder.decode(client.received(3))), {
      metadata: {},
      status: "Success",
    });
  } finally {
    await api.close();
  }
});

Deno.test("websocket base64 exec: text messages, the exit code in the v4 status", async () => {
  const api = await serverWithPod();
  try {
    const client = await connectChannels(
      api.port,
      execPath(["sh", "-c", "echo $GREETING && exit 7"]),
      { protocols: ["v4.base64.channel.k8s.io"] },
    );
    await client.closed;
    assert.equal(decoder.decode(client.received(1)), "hello\n");
    const exit = JSON.parse(decoder.decode(client.received(3)));
    assert.equal(exit.reason, "NonZeroExitCode");
    assert.deepEqual(exit.details.causes, [{ reason: "ExitCode", message: "7" }]);
  } finally {
    await api.close();
  }
});

Deno.test("websocket v5 exec: refused unless WebSockets are extended; then [255, 0] closes stdin", async () => {
  const plain = await serverWithPod();
  try {
    await assert.rejects(
      connectChannels(plain.port, execPath(["cat"], { input: "1", output: "1" }), {
        protocols: ["v5.channel.k8s.io"],
      }),
      /upgrade refused: 400/,
    );
  } finally {
    await plain.close();
  }
  const extended = await serverWithPod({ extendWebSockets: true });
  try {
    const client = await connectChannels(
      extended.port,
      execPath(["cat"], { input: "1", output: "1" }),
      { protocols: ["v5.channel.k8s.io", "v4.channel.k8s.io"] },
    );
    assert.equal(client.protocol, "v5.channel.k8s.io");
    client.send(0, "through cat");
    client.ws.send(new Uint8Array([255, 0]));
    assert.equal(await client.closed, 1000);
    assert.equal(decoder.decode(client.received(1)), "through cat");
    assert.equal(JSON.parse(decoder.decode(client.received(3))).status, "Success");
  } finally {
    await extended.close();
  }
});

Deno.test("websocket port-forward: each port's channels start with the port, data echoes, errors on the odd channel", async () => {
  const api = await serverWithPod();
  try {
    const client = await connectChannels(api.port, "/portForward/default/web?port=8080&port=81", {
      protocols: ["v4.channel.k8s.io"],
    });
    client.send(0, "echo me");
    await new Promise((resolve) => setTimeout(resolve, 200));
    const first = (
      channel: number,
    ) => [...client.messages.find((message) => message.channel === channel)!.data];
    assert.deepEqual([first(0), first(1), first(2), first(3)], [
      [0x90, 0x1f],
      [0x90, 0x1f],
      [81, 0],
      [81, 0],
    ]);
    assert.equal(decoder.decode(client.received(0).subarray(2)), "echo me");
    assert.match(
      decoder.decode(client.received(3).subarray(2)),
      /error forwarding port 81 to pod default\/web: connection refused/,
    );
    client.ws.close();
    await client.closed;
  } finally {
    await api.close();
  }
});

Deno.test("run: POST /run answers with the command's output", async () => {
  const api = await serverWithPod();
  try {
    const client = api.client();
    const response = await fetch(`${api.url}/run/default/web/app?cmd=echo%20ran%20here`, {
      method: "POST",
      client,
    });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "ran here\n");
  } finally {
    await api.close();
  }
});
