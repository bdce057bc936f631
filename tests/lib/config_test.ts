import { assertEquals, assertStringIncludes, assertThrows } from "../_harness/assert.ts";
import { ConfigError, parseCommandLine } from "../../lib/config.ts";
import { formatDuration, parseDuration } from "../../lib/duration.ts";

Deno.test("flags fall back to the upstream environment variables", () => {
  const command = parseCommandLine(["--provider=mock"], {
    DEFAULT_NODE_NAME: "edge-7",
    VKUBELET_POD_IP: "10.1.2.3",
    KUBELET_PORT: "10255",
    VKUBELET_TAINT_KEY: "example.com/vm",
    VKUBELET_TAINT_VALUE: "yes",
    VKUBELET_TAINT_EFFECT: "NoExecute",
  });
  if (command.kind !== "run") throw new Error("expected a run command");
  const config = command.config;
  assertEquals(config.nodeName, "edge-7");
  assertEquals(config.nodeIp, "10.1.2.3");
  assertEquals(config.kubeletPort, 10255);
  assertEquals(config.taint, {
    enabled: true,
    key: "example.com/vm",
    value: "yes",
    effect: "NoExecute",
  });
});

Deno.test("flags win over the environment and defaults are the kubelet's", () => {
  const command = parseCommandLine(["--provider=mock", "--nodename=a", "--disable-taint"], {
    DEFAULT_NODE_NAME: "b",
  });
  if (command.kind !== "run") throw new Error("expected a run command");
  assertEquals(command.config.nodeName, "a");
  assertEquals(command.config.taint.enabled, false);
  assertEquals(command.config.kubeletPort, 10250);
  assertEquals(command.config.fullResyncPeriodMs, 60_000);
  assertEquals(command.config.podSyncWorkers, 10);
  assertEquals(command.config.anonymousAuth, false);
});

Deno.test("every bad flag is reported at once with the expected form", () => {
  const error = assertThrows(
    () => parseCommandLine(["--provider=mock", "--kubelet-port=0", "--log-level=loud"], {}),
    ConfigError,
  );
  assertStringIncludes(
    error.message,
    '--kubelet-port (or $KUBELET_PORT): expected an integer from 1 to 65535, found "0"',
  );
  assertStringIncludes(error.message, "--log-level: expected one of trace, debug, info");
});

Deno.test("--tls-cert without --tls-key is refused", () => {
  assertThrows(
    () => parseCommandLine(["--provider=mock", "--tls-cert=/a.crt"], {}),
    ConfigError,
    "give both or neither",
  );
});

Deno.test("Go-style durations parse and format", () => {
  assertEquals(parseDuration("1m30s"), 90_000);
  assertEquals(parseDuration("250ms"), 250);
  assertEquals(parseDuration("2h"), 7_200_000);
  assertEquals(parseDuration("0"), 0);
  assertEquals(parseDuration("1.5s"), 1500);
  assertEquals(parseDuration("5"), undefined);
  assertEquals(parseDuration("1x"), undefined);
  assertEquals(parseDuration(""), undefined);
  assertEquals(formatDuration(90_000), "1m30s");
  assertEquals(formatDuration(500), "500ms");
});

Deno.test("streaming flags: the kubelet's 4h idle and 30s creation timeouts, WebSockets not extended by default", () => {
  const defaults = parseCommandLine(["--provider=mock"], {});
  if (defaults.kind !== "run") throw new Error("expected a run command");
  assertEquals(defaults.config.streamIdleTimeoutMs, 4 * 60 * 60 * 1000);
  assertEquals(defaults.config.streamCreationTimeoutMs, 30_000);
  assertEquals(defaults.config.extendWebSocketsToKubelet, false);
  const set = parseCommandLine([
    "--provider=mock",
    "--stream-idle-timeout=5m",
    "--stream-creation-timeout=2s",
    "--extend-websockets-to-kubelet",
  ], {});
  if (set.kind !== "run") throw new Error("expected a run command");
  assertEquals(set.config.streamIdleTimeoutMs, 300_000);
  assertEquals(set.config.streamCreationTimeoutMs, 2_000);
  assertEquals(set.config.extendWebSocketsToKubelet, true);
  const error = assertThrows(
    () => parseCommandLine(["--provider=mock", "--stream-idle-timeout=soon"], {}),
    ConfigError,
  );
  assertStringIncludes(
    error.message,
    '--stream-idle-timeout: expected a duration like 30s or 1m, found "soon"',
  );
});
