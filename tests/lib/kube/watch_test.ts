import type { ConfigMap } from "kubernetes-types/core/v1.d.ts";
import { assertEquals, assertInstanceOf, assertRejects } from "../../_harness/assert.ts";
import {
  KubeGoneError,
  KubeUnavailableError,
  parseWatchStream,
  type WatchEvent,
  WatchStream,
  watchWithResume,
} from "../../../lib/kube/mod.ts";
import { byteStream, configMap, FakeCollection, line } from "./_fakes.ts";

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

Deno.test("parseWatchStream parses events split across chunks mid-line", async () => {
  const text = line("ADDED", configMap("a", "1")) + line("MODIFIED", configMap("a", "2")) +
    line("BOOKMARK", { kind: "ConfigMap", metadata: { resourceVersion: "3" } }) +
    line("DELETED", configMap("a", "4")).trimEnd();
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += 7) chunks.push(text.slice(i, i + 7));
  const events = await collect(parseWatchStream<ConfigMap>(byteStream(chunks)));
  assertEquals(events.map((e) => [e.type, (e.object as ConfigMap).metadata?.resourceVersion]), [
    ["ADDED", "1"],
    ["MODIFIED", "2"],
    ["BOOKMARK", "3"],
    ["DELETED", "4"],
  ]);
});

Deno.test("parseWatchStream handles multi-byte characters split between chunks", async () => {
  const bytes = new TextEncoder().encode(line("ADDED", configMap("a", "1", "grüße ✓")));
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(i, i + 3));
      i += 3;
    },
  });
  const [event] = await collect(parseWatchStream<ConfigMap>(stream));
  assertEquals((event.object as ConfigMap).data?.value, "grüße ✓");
});

Deno.test("parseWatchStream rejects a line that is not a watch event", async () => {
  await assertRejects(
    () => collect(parseWatchStream(byteStream(['{"type":"ADDED"}\n']))),
    SyntaxError,
    'expected a watch event {type, object}, found "{\\"type\\":\\"ADDED\\"}"',
  );
  await assertRejects(
    () => collect(parseWatchStream(byteStream(["not json\n"]))),
    SyntaxError,
    "expected a JSON watch event per line",
  );
});

Deno.test("WatchStream throws KubeGoneError for an ERROR event with code 410", async () => {
  const stream = new WatchStream<ConfigMap>(
    byteStream([
      line("ADDED", configMap("a", "1")),
      line("ERROR", {
        kind: "Status",
        code: 410,
        reason: "Expired",
        message: "too old resource version: 1 (50)",
      }),
    ]),
  );
  const seen: WatchEvent<ConfigMap>[] = [];
  const error = await assertRejects(async () => {
    for await (const event of stream) seen.push(event);
  }, KubeGoneError);
  assertEquals(seen.length, 1);
  assertEquals(error.status.message, "too old resource version: 1 (50)");
});

Deno.test("WatchStream turns a dropped connection into KubeUnavailableError", async () => {
  const stream = new WatchStream<ConfigMap>(
    byteStream([line("ADDED", configMap("a", "1"))], { error: new TypeError("connection reset") }),
    { what: "watch configmaps" },
  );
  const error = await assertRejects(() => collect(stream), KubeUnavailableError);
  assertEquals(error.status.message, "watch configmaps: connection reset");
});

Deno.test("aborting the signal ends WatchStream iteration cleanly and cancels the body", async () => {
  const controller = new AbortController();
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode(line("ADDED", configMap("a", "1"))));
      controller.signal.addEventListener("abort", () => c.error(controller.signal.reason));
    },
  });
  const stream = new WatchStream<ConfigMap>(body, { signal: controller.signal });
  const seen: string[] = [];
  for await (const event of stream) {
    seen.push(event.type);
    controller.abort();
  }
  assertEquals(seen, ["ADDED"]);

  let cancelledOnBreak = false;
  let n = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(c) {
      c.enqueue(new TextEncoder().encode(line("ADDED", configMap(`cm-${n}`, String(++n)))));
    },
    cancel() {
      cancelledOnBreak = true;
    },
  });
  for await (const _ of new WatchStream<ConfigMap>(endless)) break;
  await new Promise((resolve) => setTimeout(resolve, 10));
  assertEquals(cancelledOnBreak, true);
});

Deno.test("aborting the signal ends parseWatchStream even if the body itself never ends", async () => {
  const controller = new AbortController();
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode(line("ADDED", configMap("a", "1")) + '{"type":"ADD'));
    },
  });
  const seen: string[] = [];
  setTimeout(() => controller.abort(), 20);
  for await (const event of parseWatchStream<ConfigMap>(body, { signal: controller.signal })) {
    seen.push(event.type);
  }
  assertEquals(seen, ["ADDED"]);
});

Deno.test("watchWithResume re-establishes from the last event or bookmark resourceVersion", async () => {
  const fake = new FakeCollection();
  fake.scripts.push(
    { lines: [line("ADDED", configMap("a", "11")), line("MODIFIED", configMap("a", "12"))] },
    {
      lines: [line("BOOKMARK", { kind: "ConfigMap", metadata: { resourceVersion: "15" } })],
      error: new TypeError("connection reset"),
    },
    { lines: [line("DELETED", configMap("a", "16"))] },
  );
  const controller = new AbortController();
  const seen: string[] = [];
  for await (
    const event of watchWithResume(fake, {
      resourceVersion: "10",
      signal: controller.signal,
      initialBackoffMs: 1,
      labelSelector: "app=x",
    })
  ) {
    seen.push(`${event.type}@${event.object.metadata?.resourceVersion}`);
    if (event.type === "DELETED") controller.abort();
  }
  assertEquals(seen, ["ADDED@11", "MODIFIED@12", "BOOKMARK@15", "DELETED@16"]);
  assertEquals(fake.watchCalls.map((c) => c.resourceVersion), ["10", "12", "15"]);
  assertEquals(
    fake.watchCalls.every((c) => c.allowWatchBookmarks && c.labelSelector === "app=x"),
    true,
  );
});

Deno.test("watchWithResume surfaces KubeGoneError from an HTTP 410 or an ERROR event", async () => {
  const http = new FakeCollection();
  http.scripts.push({ status: 410, reason: "Gone" });
  await assertRejects(
    () => collect(watchWithResume(http, { resourceVersion: "1" })),
    KubeGoneError,
  );

  const event = new FakeCollection();
  event.scripts.push({
    lines: [line("ERROR", { kind: "Status", code: 410, reason: "Expired", message: "too old" })],
  });
  const error = await assertRejects(
    () => collect(watchWithResume(event, { resourceVersion: "1" })),
    KubeGoneError,
  );
  assertInstanceOf(error, KubeGoneError);
});

Deno.test("watchWithResume retries failed establishment and stops quietly on abort", async () => {
  const fake = new FakeCollection();
  fake.scripts.push({ status: 503, reason: "ServiceUnavailable" }, {
    status: 403,
    reason: "Forbidden",
  });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const events = await collect(
    watchWithResume(fake, { resourceVersion: "5", signal: controller.signal, initialBackoffMs: 1 }),
  );
  assertEquals(events, []);
  assertEquals(fake.watchCalls.length, 3);
});
