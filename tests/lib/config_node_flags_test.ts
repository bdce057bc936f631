import { assertEquals, assertStringIncludes, assertThrows } from "../_harness/assert.ts";
import { ConfigError, parseCommandLine } from "../../lib/config.ts";

function config(args: string[]) {
  const command = parseCommandLine(["--provider=mock", ...args], {});
  if (command.kind !== "run") throw new Error("expected a run command");
  return command.config;
}

Deno.test("--node-labels, --register-with-taints and --max-pods parse as the kubelet spells them", () => {
  const parsed = config([
    "--node-labels=zone=edge-a,node.kubernetes.io/instance-type=small,tier=",
    "--register-with-taints=dedicated=edge:NoSchedule,gpu:NoExecute",
    "--max-pods=30",
  ]);
  assertEquals(parsed.nodeLabels, {
    zone: "edge-a",
    "node.kubernetes.io/instance-type": "small",
    tier: "",
  });
  assertEquals(parsed.registerWithTaints, [
    { key: "dedicated", value: "edge", effect: "NoSchedule" },
    { key: "gpu", effect: "NoExecute" },
  ]);
  assertEquals(parsed.maxPods, 30);
});

Deno.test("labels a kubelet may not set and malformed taints are refused naming the flag", () => {
  const labels = assertThrows(
    () => config(["--node-labels=node-role.kubernetes.io/master="]),
    ConfigError,
  );
  assertStringIncludes(labels.message, "--node-labels: expected no kubernetes.io or k8s.io key");
  assertStringIncludes(labels.message, 'found "node-role.kubernetes.io/master="');
  const taints = assertThrows(() => config(["--register-with-taints=a=b:Sometimes"]), ConfigError);
  assertStringIncludes(
    taints.message,
    "--register-with-taints: expected taints like key=value:Effect",
  );
  assertThrows(() => config(["--max-pods=-1"]), ConfigError, "--max-pods");
});

Deno.test("boolean flags take =true and =false as Go's flag package does", () => {
  assertEquals(config(["--disable-taint=false"]).taint.enabled, true);
  assertEquals(config(["--disable-taint=true"]).taint.enabled, false);
  assertEquals(config(["--anonymous-auth=1"]).anonymousAuth, true);
  assertEquals(config(["--install-crds=FALSE"]).installCrds, false);
  assertThrows(
    () => config(["--anonymous-auth=maybe"]),
    ConfigError,
    '--anonymous-auth: expected true or false, found "maybe"',
  );
});

Deno.test("--os takes upstream's Linux and Windows in any case; the Node says linux or windows", () => {
  assertEquals(config([]).operatingSystem, "linux");
  assertEquals(config(["--os=Linux"]).operatingSystem, "linux");
  assertEquals(config(["--os=WINDOWS"]).operatingSystem, "windows");
  assertThrows(() => config(["--os=darwin"]), ConfigError, "--os: expected Linux or Windows");
});
