import assert from "node:assert/strict";
import { streamLogLines } from "../../../lib/provider_kit/mod.ts";
import { syntheticLogLines } from "../../../providers/mock/synthetic_logs.ts";
import type { ContainerInstance } from "../../../providers/mock/state_file.ts";

const start = Date.parse("2030-01-01T00:00:00Z");
const prefix = "mock: container app of pod default/web";

function instance(fields: Partial<ContainerInstance> = {}): ContainerInstance {
  return {
    image: "nginx:1.27",
    imageId: "sha256:0",
    containerId: "mock://uid-web/app",
    startedAt: start,
    ...fields,
  };
}

function linesOf(run: ContainerInstance, now: number, gone = new AbortController().signal) {
  const source = syntheticLogLines(run, {
    container: "app",
    pod: "default/web",
    heartbeatMs: 10_000,
    now: () => now,
    gone,
  });
  const lines = [];
  for (let index = source.first(); index < source.end(); index++) lines.push(source.line(index));
  return { source, lines };
}

Deno.test("a running container's log is its start line and one heartbeat per interval so far", () => {
  const { source, lines } = linesOf(instance(), start + 35_000);
  assert.deepEqual(lines, [
    { timeMs: start, text: `${prefix} started from image nginx:1.27` },
    { timeMs: start + 10_000, text: `${prefix} heartbeat 1, up 10s` },
    { timeMs: start + 20_000, text: `${prefix} heartbeat 2, up 20s` },
    { timeMs: start + 30_000, text: `${prefix} heartbeat 3, up 30s` },
  ]);
  assert.equal(source.ended(), false);
});

Deno.test("a finished run ends with a line that says how, at its finishing time", () => {
  const completed = linesOf(instance({ finishedAt: start + 12_000 }), start + 99_000);
  assert.equal(completed.lines.length, 3);
  assert.deepEqual(completed.lines[2], {
    timeMs: start + 12_000,
    text: `${prefix} completed with exit code 0`,
  });
  assert.equal(completed.source.ended(), true);

  const terminated = linesOf(
    instance({ finishedAt: start + 5_000, exitMessage: "deleted with its pod" }),
    start + 99_000,
  );
  assert.deepEqual(terminated.lines.map((line) => line.text), [
    `${prefix} started from image nginx:1.27`,
    `${prefix} terminated: deleted with its pod`,
  ]);
});

Deno.test("a log whose pod is gone ends, and a wait for the next heartbeat ends with it", async () => {
  const gone = new AbortController();
  const now = Date.now();
  const { source } = linesOf(instance({ startedAt: now }), now, gone.signal);
  const waiting = source.changed(new AbortController().signal);
  gone.abort();
  await waiting;
  assert.equal(source.ended(), true);
});

Deno.test("through the kit's stream, since and tail pick whole lines of the synthetic log", async () => {
  const now = start + 55_000;
  const source = syntheticLogLines(instance({ finishedAt: now }), {
    container: "app",
    pod: "default/web",
    heartbeatMs: 10_000,
    now: () => now,
    gone: new AbortController().signal,
  });
  const signal = new AbortController().signal;
  const since = await new Response(
    streamLogLines(source, { sinceSeconds: 15 }, signal),
  ).text();
  assert.deepEqual(since.trimEnd().split("\n"), [
    `${prefix} heartbeat 4, up 40s`,
    `${prefix} heartbeat 5, up 50s`,
    `${prefix} completed with exit code 0`,
  ]);
  const tail = await new Response(streamLogLines(source, { tail: 1, timestamps: true }, signal))
    .text();
  assert.equal(tail, `2030-01-01T00:00:55.000000000Z ${prefix} completed with exit code 0\n`);
});
