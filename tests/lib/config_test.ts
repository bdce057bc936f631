import { assertEquals, assertStringIncludes, assertThrows } from "../_harness/assert.ts";
import {
  ConfigError,
  defaultLockDir,
  describeSettings,
  parseCommandLine,
} from "../../lib/config.ts";
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

Deno.test("single instance and metrics flags: defaults, and the version subcommand", () => {
  const command = parseCommandLine(["--provider=mock"], {}, { uid: 1000 });
  if (command.kind !== "run") throw new Error("expected a run command");
  assertEquals(command.config.lockDir, "/tmp/vkedge-1000");
  assertEquals(command.config.leaderElection, {
    enabled: true,
    namespace: "kube-node-lease",
    leaseDurationMs: 40_000,
    renewDeadlineMs: 30_000,
    retryPeriodMs: 10_000,
  });
  assertEquals(command.config.metricsAddress, undefined);
  assertEquals(parseCommandLine(["version"], {}), { kind: "version" });
  const set = parseCommandLine([
    "--provider=mock",
    "--leader-elect=false",
    "--metrics-addr=[::1]:10255",
    "--lock-dir=/var/run/x",
  ], {});
  if (set.kind !== "run") throw new Error("expected a run command");
  assertEquals(set.config.leaderElection.enabled, false);
  assertEquals(set.config.metricsAddress, { hostname: "::1", port: 10255 });
  assertEquals(set.config.lockDir, "/var/run/x");
});

Deno.test("the default lock folder: systemd's runtime folder, the user's, /run for root, else /tmp", () => {
  assertEquals(defaultLockDir({ RUNTIME_DIRECTORY: "/run/vkedge" }, 0), "/run/vkedge");
  assertEquals(
    defaultLockDir({ XDG_RUNTIME_DIR: "/run/user/1000" }, 1000),
    "/run/user/1000/vkedge",
  );
  assertEquals(defaultLockDir({}, 0), "/run/vkedge");
  assertEquals(defaultLockDir({}, 1000), "/tmp/vkedge-1000");
});

Deno.test("bad single instance and metrics flags are refused naming the flag", () => {
  assertThrows(
    () => parseCommandLine(["--provider=mock", "--metrics-addr=localhost"], {}),
    ConfigError,
    "--metrics-addr: expected an IP address and a port like 127.0.0.1:10255",
  );
  assertThrows(
    () => parseCommandLine(["--provider=mock", "--leader-elect=maybe"], {}),
    ConfigError,
    "--leader-elect: expected one of true, false",
  );
  assertThrows(
    () => parseCommandLine(["--provider=mock", "--leader-elect-renew-deadline=50s"], {}),
    ConfigError,
    "expected lease duration > renew deadline > 1.2 × retry period",
  );
});

Deno.test("the settings line names every effective setting and no secret", () => {
  const command = parseCommandLine(["--provider=zstack", "--provider-config=/etc/p.yaml"], {}, {
    uid: 0,
  });
  if (command.kind !== "run") throw new Error("expected a run command");
  const line = describeSettings(command.config);
  for (
    const word of [
      "kubelet-api=0.0.0.0:10250",
      "metrics-addr=off",
      "provider-config=/etc/p.yaml",
      "pod-sync-workers=10",
      "kube-api-qps=50",
      "lock-dir=/run/vkedge",
      "leader-elect=true",
      "leader-elect-lease-duration=40s",
      "taint=virtual-kubelet.io/provider=zstack:NoSchedule",
    ]
  ) {
    assertStringIncludes(line, word);
  }
});
