import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { type BodySink, pipeBody, requestOf } from "../../../lib/kubelet_api/http_adapter.ts";

Deno.test("http adapter: an IncomingMessage becomes a Request with every header value", () => {
  const controller = new AbortController();
  const req = {
    method: "POST",
    url: "/exec/ns/pod/c?command=ls&command=-l",
    headers: {
      connection: "Upgrade",
      "x-stream-protocol-version": ["v4.channel.k8s.io", "channel.k8s.io"],
    },
  } as unknown as IncomingMessage;
  const request = requestOf(req, controller.signal);
  assert.equal(request.method, "POST");
  assert.equal(new URL(request.url).pathname, "/exec/ns/pod/c");
  assert.deepEqual(new URL(request.url).searchParams.getAll("command"), ["ls", "-l"]);
  assert.equal(
    request.headers.get("x-stream-protocol-version"),
    "v4.channel.k8s.io, channel.k8s.io",
  );
  controller.abort();
  assert.equal(request.signal.aborted, true);
});

function sink(options: { full: boolean }): BodySink & { chunks: string[]; drain(): void } {
  const listeners = new Set<() => void>();
  const chunks: string[] = [];
  return {
    chunks,
    write(chunk) {
      chunks.push(new TextDecoder().decode(chunk));
      return !options.full;
    },
    on(_event, listener) {
      listeners.add(listener);
    },
    off(_event, listener) {
      listeners.delete(listener);
    },
    drain() {
      for (const listener of [...listeners]) listener();
    },
  };
}

Deno.test("http adapter: a body is piped chunk by chunk, waiting for drain when the sink is full", async () => {
  const target = sink({ full: true });
  const body = ReadableStream.from(["a", "b"].map((text) => new TextEncoder().encode(text)));
  const piping = pipeBody(body, target, { signal: new AbortController().signal, what: "test" });
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(target.chunks, ["a"], "waits for drain before the next chunk");
  target.drain();
  await new Promise((resolve) => setTimeout(resolve, 20));
  target.drain();
  await piping;
  assert.deepEqual(target.chunks, ["a", "b"]);
});

Deno.test("http adapter: aborting stops an endless body and cancels it", async () => {
  const controller = new AbortController();
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    pull: (stream) =>
      new Promise((resolve) =>
        setTimeout(() => {
          if (!cancelled) stream.enqueue(new TextEncoder().encode("tick"));
          resolve();
        }, 5)
      ),
    cancel: () => void (cancelled = true),
  });
  const target = sink({ full: false });
  const piping = pipeBody(body, target, { signal: controller.signal, what: "test" });
  await new Promise((resolve) => setTimeout(resolve, 40));
  controller.abort();
  await piping;
  assert.ok(target.chunks.length > 0);
  assert.equal(cancelled, true);
});
