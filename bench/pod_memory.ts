/**
 * Where the agent's memory goes with many pods: binds `--pods` mock pods (default 1000) to a
 * fresh node, starts vkedge with the mock's state file and `bench/_heap_probe.ts` preloaded,
 * waits until every pod is Running, then asks the probe for a V8 heap snapshot after a full
 * garbage collection. Prints peak RSS (`VmHWM`), RSS, the live heap and the snapshot's path;
 * the memory samples of the run are in `memory.jsonl` beside it. The agent runs with the V8
 * flags it ships with (lib/runtime_flags.ts) unless `--v8-flags` names others (`--v8-flags=`
 * for none); `--expose-gc` is always added.
 *
 *   deno run -A bench/pod_memory.ts [--pods=1000] [--v8-flags=…] [--no-state-file]
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { PODS } from "../lib/kube/mod.ts";
import { cluster, freshNamespace, kubectlResult, repoRoot } from "../tests/_harness/cluster.ts";
import { isRunning } from "../tests/_harness/pods.ts";
import { boundPod, inParallel, unlimitedClient } from "./_scale.ts";
import { processUsage } from "./_process_usage.ts";
import { rssMiB } from "./_common.ts";
import { AGENT_V8_FLAGS } from "../lib/runtime_flags.ts";

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

const { values } = parseArgs({
  options: {
    pods: { type: "string", default: "1000" },
    "v8-flags": { type: "string", default: AGENT_V8_FLAGS.join(",") },
    "no-state-file": { type: "boolean", default: false },
  },
});
const count = Number(values.pods);
const c = await cluster();
const kube = await unlimitedClient();
const namespace = await freshNamespace("pod-memory");
const nodeName = `pod-memory-${Date.now().toString(36)}`;
const dir = await Deno.makeTempDir({ prefix: `vkedge-${nodeName}-` });
const pods = kube.resource<Pod>(PODS, namespace);
await inParallel(
  Array.from({ length: count }, (_, i) => `p${i}`),
  50,
  async (name) => void await pods.create(boundPod(name, nodeName)),
);
const config = {
  capacity: { cpu: "4000", memory: "8Ti", pods: "5000" },
  ...(values["no-state-file"] ? {} : { stateFile: `${dir}/mock.json` }),
};
await Deno.writeTextFile(`${dir}/provider.json`, JSON.stringify(config));
const v8Flags = ["--expose-gc", ...values["v8-flags"].split(",").filter((flag) => flag !== "")];
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    `--v8-flags=${v8Flags.join(",")}`,
    "--preload",
    `${repoRoot}/bench/_heap_probe.ts`,
    Deno.env.get("VKEDGE_AGENT") ?? `${repoRoot}/mod.ts`,
    "--provider=mock",
    `--nodename=${nodeName}`,
    `--kubeconfig=${c.kubeconfig}`,
    "--address=127.0.0.1",
    "--node-ip=127.0.0.1",
    `--kubelet-port=${freePort()}`,
    "--log-level=info",
    `--lock-dir=${c.dir}/agent-locks`,
    `--provider-config=${dir}/provider.json`,
  ],
  env: {
    NO_COLOR: "1",
    VKEDGE_MEMORY_LOG: `${dir}/memory.jsonl`,
    VKEDGE_HEAP_SNAPSHOT_DIR: dir,
  },
  stdin: "null",
  stdout: "null",
  stderr: "piped",
}).spawn();
const stderr = child.stderr.pipeThrough(new TextDecoderStream());
let probeOutput = "";
const copied = stderr.pipeTo(
  new WritableStream({ write: (chunk) => void (probeOutput += chunk) }),
);
let exited = false;
child.status.then(() => exited = true);
const started = performance.now();
try {
  for (;;) {
    const running = (await pods.list()).items.filter(isRunning).length;
    if (running === count) break;
    if (exited) throw new Error("the agent exited before its pods were Running");
    if (performance.now() - started > 300_000) {
      throw new Error(`${running} of ${count} Running after 300 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const allRunning = (performance.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const before = { peak: processUsage(child.pid).peakRssMiB, rss: rssMiB(child.pid) };
  Deno.kill(child.pid, "SIGUSR2");
  while (!probeOutput.includes("snapshot ")) {
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  console.log(`${count} pods Running after ${allRunning.toFixed(2)} s`);
  console.log(
    `peak RSS ${before.peak.toFixed(0)} MiB, RSS ${before.rss.toFixed(0)} MiB before the snapshot`,
  );
  console.log(probeOutput.trim());
} catch (error) {
  await copied.catch(() => undefined);
  console.error(`agent output:\n${probeOutput}`);
  throw error;
} finally {
  try {
    child.kill("SIGTERM");
  } catch {
    // exited already
  }
  await child.status;
  kube.close();
  await kubectlResult(["delete", "namespace", namespace, "--wait=false"]);
  console.log(`agent folder: ${dir}`);
}
