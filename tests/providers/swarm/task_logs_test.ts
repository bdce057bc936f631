// Log and exec helpers: Engine timestamps in the kubelet's form, since bounds, and the
// exit code of a command that cannot be found.

import { assertEquals } from "../../_harness/assert.ts";
import { kubeletTimestamp, sinceOf, splitTimestamp } from "../../../providers/swarm/task_logs.ts";
import { execExitCode } from "../../../providers/swarm/task_exec.ts";

Deno.test("Engine timestamps get nine fractional digits; a line without one keeps its text", () => {
  assertEquals(kubeletTimestamp("2026-12-01T11:14:50.6020541Z"), "2026-12-01T11:14:50.602054100Z");
  assertEquals(kubeletTimestamp("2026-12-01T11:14:50Z"), "2026-12-01T11:14:50.000000000Z");
  assertEquals(splitTimestamp("2026-12-01T11:14:50.5Z hello world"), {
    timestamp: "2026-12-01T11:14:50.500000000Z",
    text: "hello world",
  });
  assertEquals(splitTimestamp("no stamp here"), { text: "no stamp here" });
});

Deno.test("since is sinceTime, else now minus sinceSeconds, in Unix seconds", () => {
  assertEquals(sinceOf({ sinceTime: new Date(1_500) }, () => 0), 1.5);
  assertEquals(sinceOf({ sinceSeconds: 2 }, () => 10_000), 8);
  assertEquals(sinceOf({}, () => 0), undefined);
});

Deno.test("exec exit codes: 126 'not found' is 127 as in a shell, others pass through", () => {
  assertEquals(
    execExitCode(126, 'OCI runtime exec failed: exec: "nope": executable file not found in $PATH'),
    127,
  );
  assertEquals(execExitCode(126, "permission denied"), 126);
  assertEquals(execExitCode(3, ""), 3);
  assertEquals(execExitCode(null, ""), 1);
});
