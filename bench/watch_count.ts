/**
 * Counts the watches the agent holds, as the API server sees them: its
 * `apiserver_longrunning_requests{verb="WATCH"}` gauge, summed by resource, read before
 * the agent starts and again once it runs with 20 pods; the difference is the agent's.
 * Run it against a quiet control plane (`make cluster-up`), where nothing else opens or
 * closes watches meanwhile:
 *
 *   deno run -A bench/watch_count.ts [--pods=20]
 *
 * Prints a Markdown table; the README keeps the figures.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { kubectl, kubectlResult } from "../tests/_harness/cluster.ts";
import { startAgent, uniqueNodeName, waitForNodeReady } from "../tests/_harness/agent.ts";
import { apply, podManifest, waitRunning } from "../tests/_harness/pods.ts";

const { values } = parseArgs({ options: { pods: { type: "string", default: "20" } } });
const podCount = Number(values.pods);

/** Open watches by `resource[.group]`, from the API server's metrics. */
async function openWatches(): Promise<Map<string, number>> {
  const text = await kubectl(["get", "--raw", "/metrics"]);
  const watches = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith("apiserver_longrunning_requests{")) continue;
    const labels = Object.fromEntries(
      [...line.matchAll(/(\w+)="([^"]*)"/g)].map(([, name, value]) => [name, value]),
    );
    if (labels.verb !== "WATCH") continue;
    const resource = labels.group ? `${labels.resource}.${labels.group}` : labels.resource;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    watches.set(resource, (watches.get(resource) ?? 0) + value);
  }
  return watches;
}

async function settled(): Promise<Map<string, number>> {
  // Two equal readings a second apart: no watch is being opened or closed.
  let last = await openWatches();
  for (let attempt = 0; attempt < 20; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = await openWatches();
    if (JSON.stringify([...now]) === JSON.stringify([...last])) return now;
    last = now;
  }
  return last;
}

const before = await settled();
const nodeName = uniqueNodeName("watches");
const ns = `watches-${Date.now().toString(36)}`;
await kubectlResult(["create", "namespace", ns]);
const agent = await startAgent({ nodeName, extraArgs: ["--log-level=info", "--install-crds"] });
try {
  await waitForNodeReady(agent);
  for (let i = 0; i < podCount; i++) await apply(ns, podManifest(`p${i}`, nodeName));
  for (let i = 0; i < podCount; i++) await waitRunning(ns, `p${i}`);
  const after = await settled();
  const resources = [...new Set([...before.keys(), ...after.keys()])].sort();
  console.log(
    `\nwatches the agent holds (mock provider, ${podCount} pods), from apiserver_longrunning_requests\n`,
  );
  console.log("| resource | before the agent | with the agent | the agent's |");
  console.log("| --- | --- | --- | --- |");
  let total = 0;
  for (const resource of resources) {
    const delta = (after.get(resource) ?? 0) - (before.get(resource) ?? 0);
    total += delta;
    if (delta === 0) continue;
    console.log(
      `| ${resource} | ${before.get(resource) ?? 0} | ${after.get(resource) ?? 0} | ${delta} |`,
    );
  }
  console.log(`| all | | | ${total} |`);
} finally {
  await agent.stop();
  await kubectlResult(["delete", "namespace", ns, "--wait=false"]);
  await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
}
