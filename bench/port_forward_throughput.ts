/**
 * Throughput of `kubectl port-forward` through the API server to the mock provider's echo
 * server, one connection at a time, against the same round trip on a direct loopback
 * connection to an echo server (the limit of this machine). Each run sends `--mib` MiB
 * while reading the echo back, and counts the time until the last byte returned; MiB/s is
 * per direction. Run it against the local control plane (`make cluster-up`):
 *
 *   deno run -A bench/port_forward_throughput.ts [--mib=64] [--runs=3]
 *
 * Prints a Markdown table (median of the runs); the README keeps the figures.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { freshNamespace, kubectlResult } from "../tests/_harness/cluster.ts";
import { startAgent, uniqueNodeName, waitForNodeReady } from "../tests/_harness/agent.ts";
import { apply, podManifest, waitRunning } from "../tests/_harness/pods.ts";
import {
  echoRoundTrip,
  patternBytes,
  type RoundTrip,
  startPortForward,
} from "../tests/_harness/streaming.ts";

const { values } = parseArgs({
  options: { mib: { type: "string", default: "64" }, runs: { type: "string", default: "3" } },
});
const mib = Number(values.mib);
const runs = Number(values.runs);
const data = patternBytes(mib * 1024 * 1024, 1);

function median(numbers: number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function measure(what: string, port: number): Promise<string> {
  const trips: RoundTrip[] = [];
  for (let run = 0; run < runs; run++) {
    const trip = await echoRoundTrip(port, data);
    if (!trip.exact) throw new Error(`${what}: ${trip.received} of ${trip.sent} bytes came back`);
    trips.push(trip);
  }
  const seconds = median(trips.map((trip) => trip.ms)) / 1000;
  return `| ${what} | ${mib} | ${seconds.toFixed(2)} | ${(mib / seconds).toFixed(0)} |`;
}

const rows: string[] = [];
const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const serving = (async () => {
  for await (const conn of listener) {
    void conn.readable.pipeTo(conn.writable, { preventClose: true })
      .then(() => conn.closeWrite())
      .catch(() => {});
  }
})();
rows.push(
  await measure("direct loopback TCP echo (the limit)", (listener.addr as Deno.NetAddr).port),
);

for (const extend of [false, true]) {
  const nodeName = uniqueNodeName("bench-pf");
  const agent = await startAgent({
    nodeName,
    extraArgs: ["--log-level=info", ...(extend ? ["--extend-websockets-to-kubelet"] : [])],
  });
  try {
    await waitForNodeReady(agent);
    const ns = await freshNamespace("bench-pf");
    await apply(
      ns,
      podManifest("echo", nodeName, {
        containers: [{ name: "app", image: "nginx:1.27", ports: [{ containerPort: 80 }] }],
      }),
    );
    await waitRunning(ns, "echo");
    const paths: Array<[string, Record<string, string>]> = extend
      ? [["kubectl WebSocket tunnel → agent (ExtendWebSocketsToKubelet)", {}]]
      : [
        ["kubectl WebSocket → API server → SPDY → agent", {}],
        ["kubectl SPDY → API server → SPDY → agent", { KUBECTL_PORT_FORWARD_WEBSOCKETS: "false" }],
      ];
    for (const [what, env] of paths) {
      const forward = await startPortForward(ns, "echo", [80], { env });
      try {
        rows.push(await measure(`port-forward, mock echo: ${what}`, forward.localPorts[0]));
      } finally {
        await forward.stop();
      }
    }
    await kubectlResult(["delete", "namespace", ns, "--wait=false"]);
  } finally {
    await agent.stop();
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
  }
}
listener.close();
await serving.catch(() => {});

console.log(`\nport-forward throughput, one connection, ${mib} MiB each way, median of ${runs}\n`);
console.log("| path | MiB each way | seconds | MiB/s each way |");
console.log("| --- | --- | --- | --- |");
for (const row of rows) console.log(row);
