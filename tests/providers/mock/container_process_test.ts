// The mock's containers driven by their command and args: the process's output is the log,
// its exit ends the run with its exit code, restartContainer starts the next run, and
// dialPod reaches the HTTP, gRPC and echo endpoint of a declared port.

import assert from "node:assert/strict";
import type { Container, Pod } from "kubernetes-types/core/v1.d.ts";
import { MockProvider, parseMockConfig } from "../../../providers/mock/mod.ts";
import { waitUntil } from "./_wait.ts";

function provider(stop: AbortController): MockProvider {
  return new MockProvider(parseMockConfig({}), {
    nodeName: "mock-node",
    operatingSystem: "linux",
    internalIp: "192.0.2.10",
    daemonPort: 10250,
    signal: stop.signal,
  });
}

function pod(name: string, container: Partial<Container>, annotations = {}): Pod {
  return {
    metadata: { namespace: "ns", name, uid: crypto.randomUUID(), annotations },
    spec: {
      restartPolicy: "Never",
      containers: [{ name: "app", image: "busybox", ...container }],
    },
  };
}

async function logOf(mock: MockProvider, name: string, previous = false): Promise<string> {
  const stream = await mock.getContainerLogs(
    { namespace: "ns", pod: name, container: "app" },
    { previous },
    new AbortController().signal,
  );
  return await new Response(stream).text();
}

Deno.test("mock container: sh -c output is the log and its exit code ends the run", async () => {
  const stop = new AbortController();
  const mock = provider(stop);
  try {
    await mock.createPod(
      pod("job", { command: ["sh", "-c"], args: ["echo starting; sleep 0.2; echo done; exit 3"] }),
      stop.signal,
    );
    const running = await mock.getPodStatus("ns", "job", stop.signal);
    assert.ok(running?.containerStatuses?.[0].state?.running, "running at first");
    await waitUntil(
      "the container ended",
      async () =>
        (await mock.getPodStatus("ns", "job", stop.signal))?.containerStatuses?.[0].state
          ?.terminated !== undefined,
    );
    const ended = await mock.getPodStatus("ns", "job", stop.signal);
    const terminated = ended?.containerStatuses?.[0].state?.terminated;
    assert.deepEqual([terminated?.exitCode, terminated?.reason], [3, "Error"]);
    assert.equal(ended?.containerStatuses?.[0].ready, false);
    assert.equal(await logOf(mock, "job"), "starting\ndone\n");
  } finally {
    stop.abort();
  }
});

Deno.test("mock container: restartContainer kills a running process (137) and runs it again", async () => {
  const stop = new AbortController();
  const mock = provider(stop);
  try {
    await mock.createPod(
      pod("loop", { command: ["/bin/sh", "-c", "while true; do echo tick; sleep 0.05; done"] }),
      stop.signal,
    );
    await waitUntil("a tick", async () => (await logOf(mock, "loop")).includes("tick"));
    await mock.restartContainer(
      { namespace: "ns", pod: "loop", container: "app" },
      { reason: "failed liveness probe" },
      stop.signal,
    );
    const status = (await mock.getPodStatus("ns", "loop", stop.signal))?.containerStatuses?.[0];
    assert.equal(status?.restartCount, 1);
    assert.ok(status?.state?.running, "running again");
    assert.deepEqual(
      [status?.lastState?.terminated?.exitCode, status?.lastState?.terminated?.reason],
      [137, "Error"],
    );
    assert.match(await logOf(mock, "loop", true), /^(tick\n)+$/);
  } finally {
    stop.abort();
  }
});

Deno.test("mock container: exec shares the run's files; a restart starts with none", async () => {
  const stop = new AbortController();
  const mock = provider(stop);
  const ref = { namespace: "ns", pod: "files", container: "app" };
  const exec = (command: string[]) =>
    mock.runInContainer(ref, { command, streams: { tty: false } }, stop.signal);
  try {
    await mock.createPod(
      pod("files", { command: ["sh", "-c", "touch /tmp/healthy; sleep infinity"] }),
      stop.signal,
    );
    await waitUntil("the file", async () => await exec(["cat", "/tmp/healthy"]) === 0);
    assert.equal(await exec(["rm", "/tmp/healthy"]), 0);
    assert.equal(await exec(["test", "-f", "/tmp/healthy"]), 1);
    await mock.restartContainer(ref, { reason: "test" }, stop.signal);
    await waitUntil("the file again", async () => await exec(["cat", "/tmp/healthy"]) === 0);
  } finally {
    stop.abort();
  }
});

Deno.test("mock dialPod: a declared port answers HTTP with the annotated status, refuses others", async () => {
  const stop = new AbortController();
  const mock = provider(stop);
  try {
    await mock.createPod(
      pod("web", { ports: [{ containerPort: 8080 }] }, { "mock.vkedge.io/http-status": "503" }),
      stop.signal,
    );
    const request = async () => {
      const stream = await mock.dialPod(
        { namespace: "ns", pod: "web" },
        { port: 8080 },
        stop.signal,
      );
      const writer = stream.writable.getWriter();
      await writer.write(new TextEncoder().encode("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
      return (await new Response(stream.readable).text()).split("\r\n")[0];
    };
    assert.equal(await request(), "HTTP/1.1 503 Error");
    const current = await mock.getPod("ns", "web", stop.signal);
    await mock.updatePod({
      ...current!,
      metadata: { ...current!.metadata, annotations: { "mock.vkedge.io/http-status": "200" } },
    }, stop.signal);
    assert.equal(await request(), "HTTP/1.1 200 OK");
    await assert.rejects(
      mock.dialPod({ namespace: "ns", pod: "web" }, { port: 9090 }, stop.signal),
      /connection refused: pod ns\/web does not listen on port 9090/,
    );
  } finally {
    stop.abort();
  }
});
