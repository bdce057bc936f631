import { assert, assertEquals } from "../../_harness/assert.ts";
import { providerRelevant } from "../../../lib/pods/compare.ts";
import {
  decodePodSpec,
  descriptionPrefix,
  encodePodSpec,
  maxDescriptionLength,
  podFromVm,
} from "../../../providers/zstack/stored_spec.ts";
import { pod, uid, vm } from "./_mapping_fixtures.ts";

Deno.test("the remembered spec round-trips so a rebuilt pod equals the desired one", async () => {
  const desired = pod({
    tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" }],
  });
  const identity = { namespace: "default", name: "web", uid };
  const { description, partial } = await encodePodSpec(desired, identity);
  assertEquals(partial, false);
  assert(description.startsWith(descriptionPrefix));
  assert(description.length <= maxDescriptionLength);
  const stored = await decodePodSpec(description);
  const rebuilt = podFromVm(vm({ state: "Running", description }), {
    identity,
    stored,
    nodeName: "node-1",
  });
  assertEquals(providerRelevant(rebuilt), providerRelevant(desired));
  assertEquals(await decodePodSpec("set by an operator"), undefined);
});

Deno.test("a pod too large for the description drops last-applied-configuration, then all but name and image", async () => {
  const identity = { namespace: "default", name: "web", uid };
  const random = (n: number) =>
    Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16)).join("");
  const applied = pod({}, { "kubectl.kubernetes.io/last-applied-configuration": random(3000) });
  const first = await encodePodSpec(applied, identity);
  assertEquals(first.partial, true);
  const reduced = await decodePodSpec(first.description);
  assertEquals(reduced?.annotations, undefined);
  assertEquals(reduced?.containers[0].command, ["/usr/bin/server"]);
  const huge = pod({
    containers: [{
      name: "main",
      image: "zstack/ubuntu-22.04",
      env: [{ name: "X", value: random(4000) }],
    }],
  });
  const second = await encodePodSpec(huge, identity);
  assert(second.description.length <= maxDescriptionLength);
  assertEquals((await decodePodSpec(second.description))?.containers, [
    { name: "main", image: "zstack/ubuntu-22.04" },
  ]);
});
