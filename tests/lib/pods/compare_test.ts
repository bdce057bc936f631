import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { assertEquals } from "../../_harness/assert.ts";
import { isTerminal, podNeedsSync, podsEqual, statusEqual } from "../../../lib/pods/compare.ts";

function pod(overrides: Partial<Pod> = {}): Pod {
  return {
    metadata: { name: "p", namespace: "ns", uid: "u1", resourceVersion: "1", labels: { a: "1" } },
    spec: {
      containers: [{
        name: "c",
        image: "nginx",
        env: [{ name: "A", value: "1" }, { name: "B", value: "2" }],
      }],
    },
    status: { phase: "Running" },
    ...overrides,
  };
}

Deno.test("pods differing only in status, resourceVersion or env order are equal for the provider", () => {
  const a = pod();
  const b = pod({
    metadata: { ...a.metadata, resourceVersion: "9" },
    status: { phase: "Pending" },
    spec: {
      containers: [{
        name: "c",
        image: "nginx",
        env: [{ name: "B", value: "2" }, { name: "A", value: "1" }],
      }],
    },
  });
  assertEquals(podsEqual(a, b), true);
});

Deno.test("image, label, annotation or toleration changes need a provider update", () => {
  const a = pod();
  assertEquals(
    podsEqual(a, pod({ spec: { containers: [{ name: "c", image: "nginx:2" }] } })),
    false,
  );
  assertEquals(podsEqual(a, pod({ metadata: { ...a.metadata, labels: { a: "2" } } })), false);
  assertEquals(
    podsEqual(a, pod({ metadata: { ...a.metadata, annotations: { note: "x" } } })),
    false,
  );
  assertEquals(
    podsEqual(a, pod({ spec: { ...a.spec!, tolerations: [{ key: "k", operator: "Exists" }] } })),
    false,
  );
});

Deno.test("a deletion timestamp needs a sync even when the spec is the same", () => {
  const a = pod();
  const deleting = pod({ metadata: { ...a.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } });
  assertEquals(podNeedsSync(a, deleting), true);
  assertEquals(podNeedsSync(a, pod({ status: { phase: "Succeeded" } })), false);
});

Deno.test("Succeeded and Failed are terminal; status comparison ignores key order", () => {
  assertEquals(isTerminal(pod({ status: { phase: "Succeeded" } })), true);
  assertEquals(isTerminal(pod({ status: { phase: "Failed" } })), true);
  assertEquals(isTerminal(pod()), false);
  assertEquals(
    statusEqual({ phase: "Running", podIP: "1.2.3.4" }, { podIP: "1.2.3.4", phase: "Running" }),
    true,
  );
  assertEquals(statusEqual({ phase: "Running" }, { phase: "Pending" }), false);
});
