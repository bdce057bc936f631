/**
 * The agent started while the API server is away, on a control plane of the test's own
 * whose API server is stopped (`controlplane apiserver-stop`): it retries for as long as
 * `--startup-timeout` allows, whether it reads the kubelet clients' CA from the cluster or
 * from `--client-ca`; when the server comes back in time the node becomes Ready, and when
 * it does not the agent exits 1 with a message naming the server URL and the cause.
 */

import { assert, assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import { waitFor } from "../_harness/cluster.ts";
import {
  type AgentProcess,
  startAgent,
  uniqueNodeName,
  waitForNodeReady,
} from "../_harness/agent.ts";
import { type PrivateCluster, withPrivateCluster } from "../_harness/private_cluster.ts";

/** The two ways the agent gets the CA of kubelet clients. */
function variants(c: PrivateCluster): { name: string; args: string[] }[] {
  return [
    { name: "published-ca", args: [] },
    { name: "client-ca", args: [`--client-ca=${c.caFile}`] },
  ];
}

/** One agent per variant, with `--startup-timeout`; `exited` says whether it ended. */
async function startAll(
  c: PrivateCluster,
  startupTimeout: string,
): Promise<{ name: string; agent: AgentProcess; exited: () => boolean }[]> {
  return await Promise.all(
    variants(c).map(async ({ name, args }) => {
      const agent = await startAgent({
        nodeName: uniqueNodeName(`startup-${name}`),
        cluster: c,
        extraArgs: [`--startup-timeout=${startupTimeout}`, ...args],
      });
      let ended = false;
      agent.child.status.then(() => ended = true);
      return { name, agent, exited: () => ended };
    }),
  );
}

/** Lines in which the agent said it retries against the unreachable server. */
async function retryLines(agent: AgentProcess): Promise<string[]> {
  return (await agent.output()).split("\n").filter((line) =>
    /\[WRN\]/.test(line) &&
    /retrying|cannot update node|cannot renew lease|cannot read the lease/.test(line) &&
    line.includes("Connection refused")
  );
}

Deno.test("start-up with the API server down: retries within --startup-timeout, becomes Ready when it returns in time, else exits 1 naming the server URL and the cause (with and without --client-ca)", async (t) => {
  await withPrivateCluster("vkedge-apiserver-startup", async (c) => {
    await c.stopApiServer();

    await t.step("gives up after --startup-timeout=15s with the URL and the cause", async () => {
      const started = Date.now();
      const agents = await startAll(c, "15s");
      try {
        for (const { name, agent } of agents) {
          await agent.child.status;
          const seconds = (Date.now() - started) / 1000;
          const code = await agent.stop();
          const output = await agent.output();
          assertEquals(code, 1, `${name}: exit status\n${output.slice(-2000)}`);
          assert(
            seconds >= 15,
            `${name}: retried for the whole timeout, exited after ${seconds} s`,
          );
          assert(seconds < 45, `${name}: gave up soon after the timeout, not after ${seconds} s`);
          const last = output.trim().split("\n").at(-1) ?? "";
          assertStringIncludes(last, "vkedge: not ready within --startup-timeout=15s");
          assertStringIncludes(last, `the API server ${c.server} is unavailable`);
          assertStringIncludes(last, "Connection refused");
          assert((await retryLines(agent)).length >= 1, `${name}: logged its retries`);
        }
      } finally {
        for (const { agent } of agents) await agent.kill();
      }
    });

    await t.step("becomes Ready when the server returns within --startup-timeout", async () => {
      const agents = await startAll(c, "120s");
      try {
        for (const { name, agent } of agents) {
          await waitFor(`${name}: retries logged`, async () => {
            // The lease election logs its retry once per distinct error; others each time.
            return (await retryLines(agent)).length >= 1;
          }, { timeoutMs: 30_000, intervalMs: 500 });
        }
        // Long enough for the kubelet API (published CA) to have failed at once before.
        await new Promise((resolve) => setTimeout(resolve, 10_000));
        assertEquals(
          agents.filter(({ exited }) => exited()).map(({ name }) => name),
          [],
          "no agent gave up while the server was away",
        );
        await c.startApiServer();
        for (const { name, agent } of agents) {
          await waitForNodeReady(agent, 90_000);
          await waitFor(`${name}: says ready`, async () => {
            return (await agent.output()).includes("is ready (provider");
          }, { timeoutMs: 30_000 });
        }
        for (const { name, agent } of agents) {
          assertEquals(await agent.stop(), 0, `${name}: a clean stop`);
        }
      } finally {
        for (const { agent } of agents) await agent.kill();
      }
    });
  });
});
