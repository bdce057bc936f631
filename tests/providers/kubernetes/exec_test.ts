// The pods/exec URL and the exit code of a session's final status, as kubelets and kwok
// report it.

import { execUrl, exitCodeOf } from "../../../providers/kubernetes/exec.ts";
import { assertEquals } from "../../_harness/assert.ts";

const streams = { tty: false, stdout: new WritableStream(), stderr: new WritableStream() };

Deno.test("exec: the URL names the command, container and streams, over wss", () => {
  const url = execUrl(
    "https://10.0.0.1:6443",
    { namespace: "c-shop", pod: "web", container: "app" },
    { command: ["sh", "-c", "echo a b"], streams: { ...streams, stdin: new ReadableStream() } },
  );
  assertEquals(url.origin, "wss://10.0.0.1:6443");
  assertEquals(url.pathname, "/api/v1/namespaces/c-shop/pods/web/exec");
  assertEquals(url.searchParams.getAll("command"), ["sh", "-c", "echo a b"]);
  assertEquals(
    [...url.searchParams.keys()].filter((k) => k !== "command"),
    ["container", "stdin", "stdout", "stderr"],
  );
  const tty = execUrl("http://h:80", { namespace: "n", pod: "p", container: "c" }, {
    command: ["sh"],
    streams: { ...streams, tty: true },
  });
  assertEquals([tty.protocol, tty.searchParams.get("tty"), tty.searchParams.get("stderr")], [
    "ws:",
    "true",
    null,
  ]);
});

Deno.test("exec: exit codes from Success, NonZeroExitCode, a runtime's message, a missing command", () => {
  assertEquals(exitCodeOf({ status: "Success" }), 0);
  assertEquals(
    exitCodeOf({
      status: "Failure",
      reason: "NonZeroExitCode",
      message: "command terminated with non-zero exit code: error executing command [sh -c exit 3]",
      details: { causes: [{ reason: "ExitCode", message: "3" }] },
    }),
    3,
  );
  assertEquals(
    exitCodeOf({
      status: "Failure",
      reason: "InternalError",
      message: "error executing command in container: cmd wait: sh -c exit 4: exit status 4",
    }),
    4,
  );
  assertEquals(
    exitCodeOf({
      status: "Failure",
      message: 'cmd start: nosuch : exec: "nosuch": executable file not found in $PATH',
    }),
    127,
  );
  const other = exitCodeOf({ status: "Failure", message: "container not found" });
  assertEquals(other instanceof Error ? other.message : other, "container not found");
});
