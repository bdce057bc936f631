import { assertEquals } from "../../_harness/assert.ts";
import {
  formatLogTimestamp,
  type LogLine,
  type LogLineSource,
  streamLogLines,
} from "../../../lib/provider_kit/mod.ts";

/** A ring of lines one second apart from 2030-01-01T00:00:00Z; `push` adds and wakes readers. */
class Ring implements LogLineSource {
  lines: LogLine[] = [];
  dropped = 0;
  done = false;
  now?: () => number;
  #waiters: (() => void)[] = [];

  constructor(count: number) {
    for (let i = 0; i < count; i++) this.push();
  }

  push(): void {
    const index = this.dropped + this.lines.length;
    this.lines.push({
      timeMs: Date.parse("2030-01-01T00:00:00Z") + index * 1000,
      text: `line ${index}`,
    });
    for (const wake of this.#waiters.splice(0)) wake();
  }

  drop(count: number): void {
    this.lines.splice(0, count);
    this.dropped += count;
  }

  end(): number {
    return this.dropped + this.lines.length;
  }
  first(): number {
    return this.dropped;
  }
  line(index: number): LogLine {
    return this.lines[index - this.dropped];
  }
  ended(): boolean {
    return this.done;
  }
  changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
  }
}

const signal = new AbortController().signal;

async function read(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

Deno.test("log stream: tail, sinceTime, sinceSeconds, limitBytes and timestamps", async () => {
  const ring = new Ring(5);
  assertEquals(
    await read(streamLogLines(ring, {}, signal)),
    "line 0\nline 1\nline 2\nline 3\nline 4\n",
  );
  assertEquals(await read(streamLogLines(ring, { tail: 2 }, signal)), "line 3\nline 4\n");
  assertEquals(await read(streamLogLines(ring, { tail: 0 }, signal)), "");
  const since = new Date("2030-01-01T00:00:02.500Z");
  assertEquals(await read(streamLogLines(ring, { sinceTime: since }, signal)), "line 3\nline 4\n");
  ring.now = () => Date.parse("2030-01-01T00:00:05Z");
  assertEquals(
    await read(streamLogLines(ring, { sinceSeconds: 2 }, signal)),
    "line 3\nline 4\n",
  );
  assertEquals(await read(streamLogLines(ring, { limitBytes: 9 }, signal)), "line 0\nli");
  assertEquals(
    await read(streamLogLines(ring, { timestamps: true, tail: 1 }, signal)),
    "2030-01-01T00:00:04.000000000Z line 4\n",
  );
  assertEquals(
    formatLogTimestamp(Date.parse("2030-01-01T00:00:00.123Z")),
    "2030-01-01T00:00:00.123000000Z",
  );
});

Deno.test("log stream: follow streams new lines, skips dropped ones and ends with the source", async () => {
  const ring = new Ring(1);
  const reader = streamLogLines(ring, { follow: true }, signal).getReader();
  const decoder = new TextDecoder();
  assertEquals(decoder.decode((await reader.read()).value), "line 0\n");
  setTimeout(() => ring.push(), 10);
  assertEquals(decoder.decode((await reader.read()).value), "line 1\n");
  // Lines dropped from the ring while the reader waited are skipped, not replayed.
  setTimeout(() => {
    ring.push();
    ring.push();
    ring.drop(3);
    ring.push();
  }, 10);
  // Lines 0 to 2 were dropped: line 2, never read, is skipped.
  assertEquals(decoder.decode((await reader.read()).value), "line 3\n");
  assertEquals(decoder.decode((await reader.read()).value), "line 4\n");
  setTimeout(() => {
    ring.done = true;
    ring.push();
  }, 10);
  assertEquals(decoder.decode((await reader.read()).value), "line 5\n");
  assertEquals((await reader.read()).done, true);
});

Deno.test("log stream: following from a future sinceTime shows only lines from then on", async () => {
  const ring = new Ring(2);
  const reader = streamLogLines(ring, {
    follow: true,
    sinceTime: new Date("2030-01-01T00:00:03Z"),
  }, signal).getReader();
  setTimeout(() => {
    ring.push(); // line 2, before the bound
    ring.push(); // line 3, at it
  }, 10);
  assertEquals(new TextDecoder().decode((await reader.read()).value), "line 3\n");
  await reader.cancel();
});

Deno.test("log stream: a followed stream ends when the signal aborts or the reader cancels", async () => {
  const ring = new Ring(1);
  const stop = new AbortController();
  const stream = streamLogLines(ring, { follow: true }, stop.signal);
  setTimeout(() => stop.abort(), 20);
  assertEquals(await read(stream), "line 0\n");
  const cancelled = streamLogLines(new Ring(0), { follow: true }, signal);
  await cancelled.cancel();
});
