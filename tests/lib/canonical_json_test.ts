import { assertEquals } from "../_harness/assert.ts";
import { canonicalJson } from "../../lib/canonical_json.ts";

/** The straightforward definition: JSON.stringify with every object rebuilt with sorted keys. */
function reference(value: unknown, omitUnset: boolean): string {
  const unset = (v: unknown) =>
    v === undefined || v === null || (Array.isArray(v) && v.length === 0);
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (!inner || typeof inner !== "object" || Array.isArray(inner)) return inner;
    const entries = Object.entries(inner as Record<string, unknown>)
      .filter(([, v]) => !omitUnset || !unset(v));
    return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}

const pod = {
  metadata: { name: "web", namespace: "ns", labels: { b: "2", a: "1" }, ownerReferences: [] },
  spec: {
    containers: [{
      name: "app",
      image: "nginx",
      env: [{ name: "Z", value: "1" }, { name: "A", valueFrom: { fieldRef: { fieldPath: "x" } } }],
      ports: [{ containerPort: 80, protocol: "TCP" }],
      resources: {},
      args: undefined,
    }],
    nodeName: null,
    'weird "key"': "\u2028\n",
  },
  status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }], podIP: "10.0.0.1" },
  numbers: [1, -0.5, 1e21, NaN],
  nested: [[], [null, undefined, { y: 1, x: [] }]],
};

Deno.test("canonicalJson sorts keys at every depth and writes what JSON.stringify writes", () => {
  assertEquals(canonicalJson(pod), reference(pod, false));
  assertEquals(canonicalJson({ b: 1, a: { d: 1, c: 2 } }), '{"a":{"c":2,"d":1},"b":1}');
});

Deno.test("canonicalJson with omitUnset leaves out null, undefined and empty lists, as the API server stores them", () => {
  assertEquals(canonicalJson(pod, { omitUnset: true }), reference(pod, true));
  assertEquals(
    canonicalJson({ a: null, b: [], c: undefined, d: 0, e: "" }, { omitUnset: true }),
    '{"d":0,"e":""}',
  );
});

Deno.test("objects with the same content in another key order give the same text", () => {
  assertEquals(
    canonicalJson({ x: 1, y: { p: 1, q: 2 } }),
    canonicalJson({ y: { q: 2, p: 1 }, x: 1 }),
  );
});
