import { assert, assertEquals } from "../../_harness/assert.ts";
import { providerRelevant } from "../../../lib/pods/compare.ts";
import {
  WORKLOAD_NAME_ANNOTATION,
  WORKLOAD_UID_ANNOTATION,
  workloadUid,
} from "../../../lib/provider_kit/mod.ts";
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

Deno.test("a VM-Pod's record keeps its pod UID, so the rebuilt pod has it and the VirtualMachine annotation", async () => {
  const workload = "7a1e0c52-3f4b-4d9a-8e6c-1b2d3f4a5c6e";
  const annotations = { [WORKLOAD_UID_ANNOTATION]: workload, [WORKLOAD_NAME_ANNOTATION]: "db" };
  const vmPod = pod({}, annotations);
  const identity = { namespace: "default", name: "web", uid: workload };
  const stored = await decodePodSpec((await encodePodSpec(vmPod, identity)).description);
  assertEquals([stored?.uid, stored?.podUid], [workload, uid]);
  const rebuilt = podFromVm(vm({ state: "Running" }), { identity, stored, nodeName: "node-1" });
  assertEquals(rebuilt.metadata?.uid, uid);
  assertEquals(workloadUid(rebuilt), workload);

  // Cut down to name and image, the record still keeps the workload annotations.
  const huge = pod({
    containers: [{
      name: "main",
      image: "zstack/ubuntu-22.04",
      env: [{ name: "X", value: Array.from({ length: 200 }, () => crypto.randomUUID()).join("") }],
    }],
  }, annotations);
  const minimal = await decodePodSpec((await encodePodSpec(huge, identity)).description);
  assertEquals([minimal?.partial, minimal?.annotations], [true, annotations]);

  // Rebuilt from the tags alone (no record), the pod's UID is the workload UID.
  const bare = podFromVm(vm({ state: "Running" }), {
    identity,
    stored: undefined,
    nodeName: "node-1",
  });
  assertEquals([bare.metadata?.uid, workloadUid(bare)], [workload, workload]);
});

Deno.test("a plain pod's record has no separate pod UID and the rebuilt pod keeps its UID", async () => {
  const identity = { namespace: "default", name: "web", uid };
  const stored = await decodePodSpec((await encodePodSpec(pod(), identity)).description);
  assertEquals([stored?.uid, stored?.podUid], [uid, undefined]);
  const rebuilt = podFromVm(vm({ state: "Running" }), { identity, stored, nodeName: "node-1" });
  assertEquals(rebuilt.metadata?.uid, uid);
});
