/**
 * `make bench`: every benchmark, each a process of its own on the control plane of `make
 * cluster-up`, their tables printed in a fixed order, then how long each took.
 *
 *   deno run -A bench/run.ts [name ...]   (names as in bench/, such as pod_scale)
 *
 * The benchmarks that read the API server's request counters for everyone (watches, the
 * API's limit, the restart, probe cost), the kubelet API's throughput and vkedge's part of
 * `pod_scale` run one after the other, alone on the machine. The others spend most of their
 * minutes waiting: the provider benchmarks (ZStack, Kubernetes, vSphere, Swarm, OpenStack)
 * in steady windows that only count an idle agent's calls, upstream virtual-kubelet's part
 * of `pod_scale` on its client held to 5 QPS (it prints the table of both, with vkedge's
 * rows from its own part).
 * So they start side by side and take turns on the machine (bench/_machine.ts): each
 * times its pods holding the machine alone and lets it go while it only waits and counts.
 * Their progress lines go to stderr with the benchmark's name in front; their tables come
 * out whole, in order.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** A benchmark run: its file in bench/, its arguments, and its name in the output. */
interface Bench {
  file: string;
  args?: string[];
  label?: string;
}

/** A folder for this run: the machine's lock file, vkedge's pod_scale results. */
const shared = await Deno.makeTempDir({ prefix: "vkedge-bench-run-" });
const scaleResults = `${shared}/pod_scale_vkedge.json`;

const ALONE: Bench[] = [
  { file: "watch_count" },
  { file: "pod_startup" },
  // vkedge's part of pod_scale; upstream's goes beside the provider benchmarks below.
  {
    file: "pod_scale",
    args: ["--agents=vkedge", `--save=${scaleResults}`],
    label: "pod_scale (vkedge)",
  },
  { file: "api_limit" },
  { file: "restart" },
  { file: "port_forward_throughput" },
  { file: "probe_cost" },
];
const SIDE_BY_SIDE: Bench[] = [
  {
    file: "pod_scale",
    args: ["--agents=virtual-kubelet", `--compare=${scaleResults}`],
    label: "pod_scale (virtual-kubelet, vkedge's rows from above)",
  },
  { file: "zstack_pod_startup" },
  { file: "kubernetes_pod_startup" },
  { file: "vsphere_pod_startup" },
  { file: "swarm_pod_startup" },
  { file: "openstack_pod_startup" },
];

const benchDir = fileURLToPath(new URL(".", import.meta.url));
const known = [...new Set([...ALONE, ...SIDE_BY_SIDE].map((bench) => bench.file))];
const chosen = Deno.args.length > 0 ? Deno.args : known;
for (const name of chosen) {
  if (!known.includes(name)) {
    console.error(`bench/run.ts: no benchmark "${name}": expected one of ${known.join(", ")}`);
    await Deno.remove(shared, { recursive: true });
    Deno.exit(2);
  }
}

interface Outcome {
  name: string;
  code: number;
  seconds: number;
}

const encoder = new TextEncoder();

function command(bench: Bench, env: Record<string, string>, piped: boolean): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${benchDir}${bench.file}.ts`, ...(bench.args ?? [])],
    cwd: `${benchDir}..`,
    env,
    stdin: "null",
    stdout: piped ? "piped" : "inherit",
    stderr: piped ? "piped" : "inherit",
  });
}

/** Copies `stream` to stderr line by line, each line after `[name] `. */
async function prefixLines(stream: ReadableStream<Uint8Array>, name: string): Promise<void> {
  let rest = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + text).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) await Deno.stderr.write(encoder.encode(`[${name}] ${line}\n`));
  }
  if (rest !== "") await Deno.stderr.write(encoder.encode(`[${name}] ${rest}\n`));
}

function labelOf(bench: Bench): string {
  return bench.label ?? bench.file;
}

async function runAlone(bench: Bench): Promise<Outcome> {
  console.log(`\n## bench/${bench.file}.ts${bench.label ? `: ${bench.label}` : ""}`);
  const started = performance.now();
  const { code } = await command(bench, {}, false).output();
  return { name: labelOf(bench), code, seconds: (performance.now() - started) / 1000 };
}

/** Starts `name` beside the others; resolves with its outcome and its whole stdout. */
async function runBeside(bench: Bench, lock: string): Promise<Outcome & { stdout: string }> {
  const started = performance.now();
  const child = command(bench, { VKEDGE_BENCH_MACHINE_LOCK: lock }, true).spawn();
  const [stdout, , status] = await Promise.all([
    new Response(child.stdout).text(),
    prefixLines(child.stderr, bench.file),
    child.status,
  ]);
  const name = labelOf(bench);
  return { name, code: status.code, seconds: (performance.now() - started) / 1000, stdout };
}

const started = performance.now();
const outcomes: Outcome[] = [];
try {
  for (const bench of ALONE.filter((bench) => chosen.includes(bench.file))) {
    outcomes.push(await runAlone(bench));
  }
  const beside = SIDE_BY_SIDE.filter((bench) => chosen.includes(bench.file));
  const runs = beside.map((bench) => runBeside(bench, `${shared}/machine.lock`));
  // Tables in the fixed order, each as soon as it and those before it are done.
  for (const [index, run] of runs.entries()) {
    const outcome = await run;
    const bench = beside[index];
    console.log(
      `\n## bench/${bench.file}.ts${bench.label ? `: ${bench.label}` : ""} (side by side)`,
    );
    await Deno.stdout.write(encoder.encode(outcome.stdout));
    outcomes.push(outcome);
  }
} finally {
  await Deno.remove(shared, { recursive: true }).catch(() => undefined);
}

const total = (performance.now() - started) / 1000;
console.log("\n## make bench\n");
console.log("| benchmark | exit code | wall time |");
console.log("| --- | --- | --- |");
for (const outcome of outcomes) {
  console.log(`| ${outcome.name} | ${outcome.code} | ${outcome.seconds.toFixed(0)} s |`);
}
console.log(`| all | | ${total.toFixed(0)} s (${(total / 60).toFixed(1)} min) |`);
const failed = outcomes.filter((outcome) => outcome.code !== 0).map((outcome) => outcome.name);
if (failed.length > 0) {
  console.error(`bench/run.ts: failed: ${failed.join(", ")}`);
  Deno.exit(1);
}
