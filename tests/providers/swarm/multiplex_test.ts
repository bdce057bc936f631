// The Engine's multiplexed stream, cut into frames whatever the chunking.

import { assertEquals, assertThrows } from "../../_harness/assert.ts";
import { demultiplex, FrameDecoder } from "../../../providers/swarm/multiplex.ts";

function frame(stream: number, text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  const bytes = new Uint8Array(8 + payload.length);
  bytes[0] = stream;
  new DataView(bytes.buffer).setUint32(4, payload.length);
  bytes.set(payload, 8);
  return bytes;
}

Deno.test("frames split anywhere, even inside the header, come out whole and in order", () => {
  const all = new Uint8Array([...frame(1, "hello\n"), ...frame(2, "oops\n"), ...frame(1, "")]);
  for (let cut = 0; cut <= all.length; cut++) {
    const decoder = new FrameDecoder();
    const frames = [...decoder.push(all.subarray(0, cut)), ...decoder.push(all.subarray(cut))];
    assertEquals(
      frames.map((f) => [f.stream, new TextDecoder().decode(f.bytes)]),
      [[1, "hello\n"], [2, "oops\n"], [1, ""]],
    );
    assertEquals(decoder.pendingBytes, 0);
  }
});

Deno.test("bytes that are no frame header are refused naming them", () => {
  assertThrows(
    () => new FrameDecoder().push(new TextEncoder().encode("HTTP/1.1 200 OK")),
    Error,
    "expected a multiplexed stream header",
  );
});

Deno.test("demultiplex reads a stream's frames", async () => {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(frame(1, "a"));
      controller.enqueue(frame(2, "b"));
      controller.close();
    },
  });
  const streams: number[] = [];
  for await (const f of demultiplex(stream)) streams.push(f.stream);
  assertEquals(streams, [1, 2]);
});
