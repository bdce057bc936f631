/**
 * "Refused" is not "unreachable": against the ZStack simulator, a wrong password gives the
 * node its own reason (ZstackAuthenticationFailed, not ProviderUnreachable), and the agent's
 * log never says the node is ready; a placement naming a zone that does not exist stops the
 * agent with status 2 and a message naming it and what exists, instead of registering a
 * Ready node with no capacity.
 */

import { assert, assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import { kubectlResult, waitFor } from "../_harness/cluster.ts";
import { nodeCondition, startAgent, uniqueNodeName } from "../_harness/agent.ts";
import { startZStackSim } from "../_harness/zstack.ts";

Deno.test({
  name:
    "zstack: a wrong password is an authentication failure with its own reason, and the log never says ready; an unknown zone exits 2 naming it",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const sim = await startZStackSim();
    const nodeName = uniqueNodeName("zs-refused");
    try {
      const wrong = `${sim.dir}/wrong-password`;
      await Deno.writeTextFile(wrong, "not-the-password\n", { mode: 0o600 });
      const config = await sim.writeProviderConfig({
        extra: { auth: { account: { name: "admin", passwordFile: wrong } } },
      });
      const agent = await startAgent({
        nodeName,
        provider: "zstack",
        extraArgs: [`--provider-config=${config}`, "--provider-ping-interval=1s"],
      });
      try {
        await waitFor(
          "ProviderAvailable=False",
          async () => (await nodeCondition(nodeName, "ProviderAvailable"))?.status === "False",
          {
            timeoutMs: 60_000,
          },
        );
        const condition = await nodeCondition(nodeName, "ProviderAvailable");
        assertEquals(condition?.reason, "ZstackAuthenticationFailed");
        assertStringIncludes(condition?.message ?? "", "refuses");
        await waitFor(
          "the start-up verdict in the log",
          async () => (await agent.output()).includes("is registered, but provider"),
          { timeoutMs: 30_000 },
        );
        const log = await agent.output();
        assert(!log.includes("is ready (provider"), "the log must not say the node is ready");
        assertStringIncludes(log, "refuses the login");
      } finally {
        await agent.stop();
        await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
      }

      const unknownZone = await sim.writeProviderConfig({
        extra: { placement: { zone: "zone-9" } },
      });
      const refused = await startAgent({
        nodeName: uniqueNodeName("zs-zone"),
        provider: "zstack",
        extraArgs: [`--provider-config=${unknownZone}`],
      });
      const code = await refused.child.status.then((s) => s.code);
      assertEquals(code, 2, "exit status 2 for bad input");
      const output = await refused.output();
      assertStringIncludes(output, "zone-9");
      assertStringIncludes(output, "zone-1", "names the zones that exist");
    } finally {
      await sim.stop();
    }
  },
});
