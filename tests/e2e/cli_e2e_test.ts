/**
 * Bad input on the command line, in the environment or in the provider
 * config makes the agent exit 2 with a message that names what was wrong.
 */

import { assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import { agentEntry } from "../_harness/agent.ts";

const lockDir = Deno.makeTempDirSync({ prefix: "vkedge-cli-locks-" });

async function runAgentCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", agentEntry(), ...args],
    // A lock folder of its own, so that runs beside this one never meet on node "vkedge".
    env: {
      NO_COLOR: "1",
      KUBECONFIG: "/nonexistent/kubeconfig",
      RUNTIME_DIRECTORY: lockDir,
      ...env,
    },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

Deno.test("--help lists the flags and the known providers and exits 0", async () => {
  const result = await runAgentCli(["--help"]);
  assertEquals(result.code, 0);
  for (
    const flag of ["--provider", "--nodename", "--kubelet-port", "--disable-taint", "--log-format"]
  ) {
    assertStringIncludes(result.stdout, flag);
  }
  assertStringIncludes(result.stdout, "mock");
});

Deno.test("--version prints the version", async () => {
  const result = await runAgentCli(["--version"]);
  assertEquals(result.code, 0);
  assertStringIncludes(result.stdout, "vkedge ");
});

const badInput: [string, string[], Record<string, string>, string][] = [
  ["a missing --provider", [], {}, "--provider is required"],
  [
    "an unknown provider",
    ["--provider=nope"],
    {},
    'unknown provider "nope": expected one of "kubernetes", "mock", "openstack", "swarm", "vsphere", "zstack"',
  ],
  ["an unknown flag", ["--provider=mock", "--frobnicate"], {}, "--frobnicate"],
  ["a port that is not a number", ["--provider=mock", "--kubelet-port=ten"], {}, "--kubelet-port"],
  ["a bad duration", ["--provider=mock", "--full-resync-period=soon"], {}, "--full-resync-period"],
  ["a bad taint effect in the environment", ["--provider=mock"], {
    VKUBELET_TAINT_EFFECT: "Sometimes",
  }, "VKUBELET_TAINT_EFFECT"],
  [
    "a node name that is not a DNS name",
    ["--provider=mock", "--nodename=My_Node"],
    {},
    "--nodename",
  ],
  [
    "a missing provider config file",
    ["--provider=mock", "--provider-config=/nonexistent.yaml"],
    {},
    "--provider-config: cannot read /nonexistent.yaml",
  ],
  [
    "a kubeconfig that does not exist",
    ["--provider=mock", "--kubeconfig=/nonexistent/kc"],
    {},
    "kubeconfig",
  ],
];

for (const [what, args, env, expected] of badInput) {
  Deno.test(`${what} exits 2 naming it`, async () => {
    const result = await runAgentCli(args, env);
    assertEquals(result.code, 2, result.stderr);
    assertStringIncludes(result.stderr, expected);
  });
}

Deno.test("a provider config with a bad field exits 2 naming the field", async () => {
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    await Deno.writeTextFile(file, "capacity:\n  cpu: lots\n");
    const kubeconfig = await Deno.makeTempFile();
    await Deno.writeTextFile(
      kubeconfig,
      "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n" +
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n" +
        "current-context: x\n",
    );
    const result = await runAgentCli(["--provider=mock", `--provider-config=${file}`], {
      KUBECONFIG: kubeconfig,
    });
    assertEquals(result.code, 2, result.stderr);
    assertStringIncludes(result.stderr, "capacity.cpu");
    await Deno.remove(kubeconfig);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("--startup-timeout ends an agent that cannot get ready with status 1 and says why", async () => {
  const kubeconfig = await Deno.makeTempFile();
  try {
    // Nothing listens on port 1: the API server is unreachable.
    await Deno.writeTextFile(
      kubeconfig,
      "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n" +
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n" +
        "current-context: x\n",
    );
    const result = await runAgentCli(["--provider=mock", "--startup-timeout=3s"], {
      KUBECONFIG: kubeconfig,
    });
    assertEquals(result.code, 1, result.stderr);
    assertStringIncludes(result.stderr, "not ready within --startup-timeout=3s");
  } finally {
    await Deno.remove(kubeconfig);
  }
});
