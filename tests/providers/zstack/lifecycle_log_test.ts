import { assertEquals } from "../../_harness/assert.ts";
import { streamLogLines } from "../../../lib/provider_kit/mod.ts";
import { LifecycleLog, logLine } from "../../../providers/zstack/lifecycle_log.ts";

const start = Date.parse("2026-11-25T10:00:00Z");

Deno.test("the log keeps the last lines, labelled with vkedge and their time", () => {
  const log = new LifecycleLog({ capacity: 3, ended: () => false });
  for (let index = 0; index < 5; index++) {
    log.append(new Date(start + index * 1000), `line ${index}`);
  }
  assertEquals([log.first(), log.end()], [2, 5]);
  assertEquals(log.line(2), {
    timeMs: start + 2000,
    text: "[vkedge] 2026-11-25T10:00:02Z line 2",
  });
  assertEquals(logLine(new Date(start + 1500), "x"), "[vkedge] 2026-11-25T10:00:01Z x");
});

Deno.test("a follower gets new lines as they come and stops when the pod is gone", async () => {
  let gone = false;
  const log = new LifecycleLog({ capacity: 10, ended: () => gone });
  log.append(new Date(start), "create requested");
  log.append(new Date(start + 1000), "VM Starting");
  const stream = streamLogLines(log, { follow: true, tail: 1 }, new AbortController().signal);
  const text = new Response(stream).text();
  await new Promise((resolve) => setTimeout(resolve, 10));
  log.append(new Date(start + 2000), "VM Running");
  await new Promise((resolve) => setTimeout(resolve, 10));
  gone = true;
  log.wake();
  assertEquals(
    await text,
    "[vkedge] 2026-11-25T10:00:01Z VM Starting\n[vkedge] 2026-11-25T10:00:02Z VM Running\n",
  );
});

Deno.test("a follower stops when its signal aborts, without more lines", async () => {
  const log = new LifecycleLog({ capacity: 10, ended: () => false });
  log.append(new Date(start), "VM Running");
  const stop = new AbortController();
  const text = new Response(streamLogLines(log, { follow: true }, stop.signal)).text();
  setTimeout(() => stop.abort(), 20);
  assertEquals(await text, "[vkedge] 2026-11-25T10:00:00Z VM Running\n");
});
