import { assert, assertEquals } from "../_harness/assert.ts";
import { cloneJson } from "../../lib/clone_json.ts";

Deno.test("cloneJson copies a pod deeply: equal content, no shared object or array", () => {
  const pod = {
    metadata: { name: "web", labels: { app: "web" } },
    spec: { containers: [{ name: "app", env: [{ name: "A", value: "1" }] }] },
    status: { phase: "Running", podIP: null, ready: true, restarts: 0 },
  };
  const copy = cloneJson(pod);
  assertEquals(copy, pod);
  assert(copy.metadata.labels !== pod.metadata.labels);
  assert(copy.spec.containers[0].env !== pod.spec.containers[0].env);
  copy.spec.containers[0].env[0].value = "2";
  assertEquals(pod.spec.containers[0].env[0].value, "1");
  assertEquals(cloneJson("text"), "text");
  assertEquals(cloneJson(null), null);
});
