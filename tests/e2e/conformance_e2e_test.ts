/**
 * The end-to-end suite virtual-kubelet publishes for providers
 * (github.com/virtual-kubelet/virtual-kubelet/test/e2e v1.14.1) passes
 * against vkedge with the mock provider. tests/conformance/run.sh puts the
 * kubelet API on an address of a veth pair of its own, since the API server
 * will not proxy to loopback addresses.
 */

import { assert, assertEquals } from "../_harness/assert.ts";
import { cluster, repoRoot } from "../_harness/cluster.ts";
import { agentEntry } from "../_harness/agent.ts";

Deno.test("virtual-kubelet's published e2e suite passes against vkedge with the mock provider", async () => {
  const c = await cluster();
  const out = await new Deno.Command("bash", {
    args: [`${repoRoot}/tests/conformance/run.sh`],
    env: {
      KUBECONFIG: c.kubeconfig,
      VKEDGE_AGENT: agentEntry(),
      DENO: Deno.execPath(),
    },
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (out.code !== 0) console.error(text);
  assertEquals(out.code, 0, "tests/conformance/run.sh failed (output above)");
  const passed = [...text.matchAll(/--- PASS: TestVirtualKubeletEndToEnd\/(\w+)/g)].map((m) =>
    m[1]
  );
  const skipped = [...text.matchAll(/--- SKIP: TestVirtualKubeletEndToEnd\/(\w+)/g)].map((m) =>
    m[1]
  );
  console.log(
    `upstream e2e: ${passed.length} passed (${passed.join(", ")}), ${skipped.length} skipped`,
  );
  assertEquals(skipped, [], "no upstream test may be skipped");
  assert(passed.length >= 9, `expected the 9 upstream tests to pass, saw ${passed.length}`);
});
