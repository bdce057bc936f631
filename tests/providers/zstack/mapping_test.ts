import { assert, assertEquals } from "../../_harness/assert.ts";
import { podsEqual } from "../../../lib/pods/compare.ts";
import {
  decodePodSpec,
  encodePodSpec,
  podFromVm,
  podStatusFromVm,
  validatePod,
  vmUuidForPod,
} from "../../../providers/zstack/mapping.ts";
import { pod, since, vm } from "./_mapping_fixtures.ts";

Deno.test("the mapping gathers both directions: a pod, its VM's record and status, and back", async () => {
  const desired = pod();
  const { identity } = validatePod(desired);
  const uuid = await vmUuidForPod(identity.uid);
  const { description } = await encodePodSpec(desired, identity);
  const running = vm({ uuid, state: "Running", description });
  const rebuilt = podFromVm(running, {
    identity,
    stored: await decodePodSpec(running.description),
    nodeName: "node-1",
  });
  assert(podsEqual(rebuilt, { ...desired, spec: { ...desired.spec!, nodeName: "node-1" } }));
  const status = podStatusFromVm(running, { pod: rebuilt, stateSince: since });
  assertEquals([status.phase, status.podIP], ["Running", "10.0.0.5"]);
});
