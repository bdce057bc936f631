// The ConfigMaps and Secrets a pod spec references, and the environment in its lower form.

import { referencedObjects } from "../../../providers/kubernetes/references.ts";
import { lowerEnv, upperEnv } from "../../../providers/kubernetes/env_refs.ts";
import { assertEquals } from "../../_harness/assert.ts";
import { MemoryCluster } from "./_backend.ts";

Deno.test("references: volumes, projected sources, env, envFrom and pull Secrets, each once", () => {
  const refs = referencedObjects({
    volumes: [
      { name: "a", configMap: { name: "cfg", optional: true } },
      { name: "b", secret: { secretName: "tls" } },
      {
        name: "c",
        projected: { sources: [{ configMap: { name: "extra" } }, { secret: { name: "tls" } }] },
      },
    ],
    containers: [{
      name: "app",
      env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "cfg", key: "x" } } }],
      envFrom: [{ secretRef: { name: "env", optional: true } }],
    }],
    imagePullSecrets: [{ name: "registry" }],
  });
  assertEquals(refs, [
    { kind: "ConfigMap", name: "cfg", optional: false },
    { kind: "ConfigMap", name: "extra", optional: false },
    { kind: "Secret", name: "env", optional: true },
    { kind: "Secret", name: "registry", optional: false },
    { kind: "Secret", name: "tls", optional: false },
  ]);
});

Deno.test("env: the last definition decides the origin; a value that no longer matches stays plain", () => {
  const cluster = new MemoryCluster();
  cluster.put({
    kind: "ConfigMap",
    metadata: { namespace: "ns", name: "cfg" },
    data: { A: "1", B: "2" },
  });
  const original = {
    name: "app",
    envFrom: [{ configMapRef: { name: "cfg" } }],
    env: [
      { name: "B", value: "overridden" },
      { name: "C", valueFrom: { configMapKeyRef: { name: "cfg", key: "A" } } },
    ],
  };
  const resolved = [
    { name: "A", value: "1" },
    { name: "B", value: "overridden" },
    { name: "C", value: "stale" },
  ];
  const lower = lowerEnv(resolved, original, "ns", cluster);
  assertEquals(lower, [
    { name: "A", valueFrom: { configMapKeyRef: { name: "cfg", key: "A" } } },
    { name: "B", value: "overridden" },
    { name: "C", value: "stale" },
  ]);
  assertEquals(upperEnv(lower, "ns", cluster), [
    { name: "A", value: "1" },
    { name: "B", value: "overridden" },
    { name: "C", value: "stale" },
  ]);
  assertEquals(lowerEnv(resolved, undefined, "ns", cluster), resolved);
});
