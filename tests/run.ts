/**
 * Runs the whole test suite against one fresh control plane: builds (or
 * reuses) the control plane binaries, starts etcd, kube-apiserver,
 * kube-controller-manager and kube-scheduler, runs `deno test` with
 * `VKEDGE_TEST_CLUSTER_DIR` pointing at them, and stops them again, also on
 * Ctrl-C. Arguments are passed to `deno test` (default: the tests/ folder).
 * `VKEDGE_TEST_CLUSTER_DIR` and `VKEDGE_AGENT` move the control plane's folder and the
 * bundled agent elsewhere, so that two runs on one machine do not meet.
 *
 * @module
 */

import { repoRoot } from "./_harness/cluster.ts";
import { stopLowerCluster } from "./_harness/lower_cluster.ts";

// Overridable so that several runs (one per work tree or helper) can share a machine.
const clusterDir = Deno.env.get("VKEDGE_TEST_CLUSTER_DIR") ?? `${repoRoot}/.local/test-cluster`;

async function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<number> {
  const child = new Deno.Command(cmd, { args, env, cwd: repoRoot, stdin: "null" }).spawn();
  return (await child.status).code;
}

async function main(): Promise<number> {
  const build = new Deno.Command("bash", {
    args: [`${repoRoot}/tests/control_plane/build.sh`],
    stdout: "piped",
    stderr: "inherit",
  });
  const built = await build.output();
  if (built.code !== 0) {
    console.error("tests/run.ts: building the control plane failed");
    return built.code;
  }
  const bin = new TextDecoder().decode(built.stdout).trim();
  // The e2e tests run the single-file agent, as it is shipped.
  const bundle = Deno.env.get("VKEDGE_AGENT") ?? `${repoRoot}/dist/vkedge.js`;
  const bundled = await run(Deno.execPath(), ["bundle", "--quiet", "-o", bundle, "mod.ts"]);
  if (bundled !== 0) {
    console.error("tests/run.ts: deno bundle failed");
    return bundled;
  }
  const controlplane = `${bin}/controlplane`;
  // The kubernetes provider's tests start a lower cluster beside it (tests/_harness/lower_cluster.ts).
  const stop = async () => {
    await stopLowerCluster(`${clusterDir}-lower`);
    return await run(controlplane, ["down", "--dir", clusterDir]);
  };
  const onSignal = async () => {
    await stop();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const started = Date.now();
  try {
    const upCode = await run(controlplane, ["up", "--dir", clusterDir, "--bin", bin]);
    if (upCode !== 0) {
      console.error(`tests/run.ts: control plane did not start; logs in ${clusterDir}/logs`);
      return upCode;
    }
    console.error(`control plane up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const targets = Deno.args.length > 0 ? Deno.args : ["tests/"];
    const tests = new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", "--parallel", ...targets],
      env: {
        VKEDGE_TEST_CLUSTER_DIR: clusterDir,
        VKEDGE_AGENT: bundle,
        DENO_JOBS: Deno.env.get("DENO_JOBS") ?? "4",
      },
      cwd: repoRoot,
      stdin: "null",
      stdout: "piped",
    }).spawn();
    // Pass the output through, keeping the summary line for a plain closing line.
    let tail = "";
    const decoder = new TextDecoder();
    for await (const chunk of tests.stdout) {
      await Deno.stdout.write(chunk);
      tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4096);
    }
    const code = (await tests.status).code;
    const plain = tail.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "");
    const summary = [...plain.matchAll(/(\d+) passed.*?\| (\d+) failed/g)].at(-1);
    if (summary) console.log(`\n${summary[1]} passed, ${summary[2]} failed`);
    return code;
  } finally {
    await stop();
  }
}

Deno.exit(await main());
