import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { assertEquals } from "../../_harness/assert.ts";
import { evictionOf } from "../../../lib/provider_kit/mod.ts";

const pod = (reason: string, status = "True"): Pod => ({
  status: { conditions: [{ type: "DisruptionTarget", status, reason, message: "m" }] },
});

Deno.test("evictionOf: the taint manager's and the pod GC's deletions are evictions, a user's delete or a drain is not", () => {
  assertEquals(evictionOf(pod("DeletionByTaintManager")), {
    reason: "DeletionByTaintManager",
    message: "m",
  });
  assertEquals(evictionOf(pod("DeletionByPodGC"))?.reason, "DeletionByPodGC");
  assertEquals(evictionOf(pod("EvictionByEvictionAPI")), undefined);
  assertEquals(evictionOf(pod("DeletionByTaintManager", "False")), undefined);
  assertEquals(evictionOf({}), undefined);
});
