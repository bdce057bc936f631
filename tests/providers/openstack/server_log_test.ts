import { overlap, ServerLog } from "../../../providers/openstack/server_log.ts";
import { streamLogLines } from "../../../lib/provider_kit/mod.ts";
import { assertEquals } from "../../_harness/assert.ts";

Deno.test("console output read again adds only its new lines, whatever part of the console it shows", async () => {
  const log = new ServerLog({ capacity: 100, ended: () => true, now: () => 0 });
  log.append(new Date(1000), "server x ACTIVE");
  assertEquals(log.mergeConsole("boot\nlogin:\n", new Date(2000)), 2);
  assertEquals(log.mergeConsole("boot\nlogin:\n", new Date(3000)), 0);
  assertEquals(log.mergeConsole("login:\nhello\n", new Date(4000)), 1);
  assertEquals(log.mergeConsole("hello\n", new Date(5000)), 0);
  const text = await new Response(streamLogLines(log, {}, new AbortController().signal)).text();
  assertEquals(text, "[vkedge] 1970-01-01T00:00:01Z server x ACTIVE\nboot\nlogin:\nhello\n");
  assertEquals(overlap(["a", "b", "c"], ["b", "c", "d"]), 2);
  assertEquals(overlap(["a"], ["b"]), 0);
});
