/**
 * The agent's kubelet API lets in only callers the cluster vouches for: a
 * client certificate of the cluster's published client CA, or a bearer token
 * the API server accepts, each authorised by SubjectAccessReview.
 */

import { assertEquals, assertStringIncludes } from "../_harness/assert.ts";
import { freshNamespace, kubectl, kubectlResult } from "../_harness/cluster.ts";
import { kubeletGet, startAgent, uniqueNodeName, waitForNodeReady } from "../_harness/agent.ts";

Deno.test("the kubelet API refuses anonymous and unauthorised callers and serves authorised ones", async () => {
  const nodeName = uniqueNodeName("vk-authz");
  const agent = await startAgent({ nodeName });
  try {
    await waitForNodeReady(agent);
    assertEquals((await kubeletGet(agent, "/healthz", { anonymous: true })).status, 200);
    const anonymous = await kubeletGet(agent, "/pods", { anonymous: true });
    assertEquals(anonymous.status, 401);

    const ns = await freshNamespace("authz");
    await kubectl(["create", "serviceaccount", "nobody", "-n", ns]);
    const nobody = (await kubectl(["create", "token", "nobody", "-n", ns])).trim();
    const denied = await kubeletGet(agent, "/stats/summary", { bearerToken: nobody });
    assertEquals(denied.status, 403);
    assertStringIncludes(await denied.text(), "resource=nodes, subresource=stats");

    await kubectl(["create", "serviceaccount", "monitor", "-n", ns]);
    await kubectl([
      "create",
      "clusterrole",
      `${ns}-stats`,
      "--verb=get",
      "--resource=nodes/stats",
      `--resource-name=${nodeName}`,
    ]);
    await kubectl([
      "create",
      "clusterrolebinding",
      `${ns}-stats`,
      `--clusterrole=${ns}-stats`,
      `--serviceaccount=${ns}:monitor`,
    ]);
    const monitor = (await kubectl(["create", "token", "monitor", "-n", ns])).trim();
    const allowed = await kubeletGet(agent, "/stats/summary", { bearerToken: monitor });
    assertEquals(allowed.status, 200);
    const summary = await allowed.json() as { node: { nodeName: string } };
    assertEquals(summary.node.nodeName, nodeName);
    // The same token gets no further than its role.
    assertEquals((await kubeletGet(agent, "/pods", { bearerToken: monitor })).status, 403);

    const admin = await kubeletGet(agent, "/pods");
    assertEquals(admin.status, 200);
    await kubectlResult(["delete", "clusterrole,clusterrolebinding", `${ns}-stats`]);
  } finally {
    await agent.stop();
    await kubectlResult(["delete", "node", nodeName, "--wait=false"]);
  }
});
